"""The receipt's font chain, first to last, and where each font is installed; the receipts
(`hallclient.receipts.fonts`) and the windows (`hallclient.ui.style`) use the same chain.

WenQuanYi Micro Hei (shipped in hallclient/resources/fonts/) has the common characters, but 2
of the 6,592 of Extension A and none beyond, while names hold such characters (王𬌗䶮). The
Hanazono fonts (HanaMinA: Extension A, HanaMinB: Extensions B–F) and BabelStone Han (parts of
Extensions G and H, and what the others lack) follow it. They are 20–50 MB each, too big for
the repository: each is looked for in the resources folder (where the packaged app has them,
build.spec) and then in the system's font folders (./dev installs Debian's fonts-hanazono and
fonts-babelstone-han). Neither Qt nor reportlab is imported here.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from hallclient.resources import resources_dir
from hallcore.domain.printable import FONTS


@dataclass(frozen=True, slots=True)
class ChainFont:
    file: str  # its file name, in the resources' fonts folder or a system font folder
    family: str  # its family name, as Qt knows it
    pdf_name: str  # its name in reportlab's (process-wide) font registry
    subfont: int = 0  # the face of a font collection (.ttc)


CHAIN: tuple[ChainFont, ...] = (
    ChainFont("wqy-microhei.ttc", "WenQuanYi Micro Hei", "HallCJK"),
    ChainFont("HanaMinA.ttf", "HanaMinA", "HallHanaMinA"),
    ChainFont("HanaMinB.ttf", "HanaMinB", "HallHanaMinB"),
    ChainFont("BabelStoneHan.ttf", "BabelStone Han", "HallBabelStoneHan"),
)
PRIMARY = CHAIN[0]
# The table in hallcore numbers the fonts of this chain: the two must list the same files.
if tuple(font.file for font in CHAIN) != FONTS:
    raise ImportError("the font chain changed: run scripts/printable_ranges.py")


def system_font_dirs() -> list[Path]:
    """The folders where the system and the user install fonts, most specific first."""
    home = Path.home()
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        return [*([Path(local) / "Microsoft" / "Windows" / "Fonts"] if local else []),
                Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"]
    if sys.platform == "darwin":
        return [home / "Library" / "Fonts", Path("/Library/Fonts"), Path("/System/Library/Fonts")]
    data_home = os.environ.get("XDG_DATA_HOME") or str(home / ".local" / "share")
    data_dirs = os.environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share"
    return [Path(data_home) / "fonts", home / ".fonts",
            *(Path(d) / "fonts" for d in data_dirs.split(os.pathsep) if d)]


@cache
def font_path(font: ChainFont) -> Path | None:
    """Where `font` is: the client's resources first, then the system's font folders (Debian:
    /usr/share/fonts/truetype/<package>/); None where it is not installed."""
    shipped = resources_dir() / "fonts" / font.file
    if shipped.is_file():
        return shipped
    for folder in system_font_dirs():
        found = _find(folder, font.file)
        if found is not None:
            return found
    return None


def _find(folder: Path, name: str) -> Path | None:
    if (folder / name).is_file():
        return folder / name
    try:
        return next((p for p in sorted(folder.rglob(name)) if p.is_file()), None)
    except OSError:  # an unreadable folder is one without the font
        return None
