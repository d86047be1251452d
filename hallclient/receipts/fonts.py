"""Receipt text in the font chain (`hallclient.receipts.chain`) with reportlab.

reportlab sets a string in one font, so text is cut into runs, each in the first font of the
chain that has its characters (`runs`), and drawn and measured run by run. Which font that is
comes from `hallcore.domain.printable`, generated from these fonts, so a big font is read only
when a text needs it: the common receipt never loads one. The same table is the validators'
rule on the server, which has no fonts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from hallclient.receipts.chain import CHAIN, PRIMARY, ChainFont, font_path
from hallclient.resources import resources_dir
from hallcore.domain.printable import chain_font

__all__ = ["CHAIN", "PRIMARY", "draw_string", "load_primary", "pdf_font", "runs",
           "string_width"]

log = logging.getLogger(__name__)


# Loading a font reads the whole file (0.1–0.3 s, up to 50 MB): once, and only when needed.
_LOADING = threading.Lock()
_LOADED: dict[ChainFont, TTFont | None] = {}


def _loaded(font: ChainFont) -> TTFont | None:
    """`font` registered with reportlab; None where it is not installed (logged once)."""
    with _LOADING:
        if font not in _LOADED:
            path = font_path(font)
            if path is None:
                if font is PRIMARY:
                    raise FileNotFoundError(f"HallClient's receipt font {font.file} is missing; "
                                            "reinstall HallClient.")
                log.warning("receipt font %s is not installed: rare characters print blank "
                            "(install fonts-hanazono and fonts-babelstone-han, or put the file "
                            "into %s)", font.file, resources_dir() / "fonts")
                _LOADED[font] = None
            else:
                loaded = TTFont(font.pdf_name, str(path), subfontIndex=font.subfont)
                pdfmetrics.registerFont(loaded)
                _LOADED[font] = loaded
        return _LOADED[font]


def load_primary() -> str:
    """Register the chain's first font (the one every receipt uses); its reportlab name."""
    _loaded(PRIMARY)
    return PRIMARY.pdf_name


def pdf_font(ch: str) -> ChainFont:
    """The font of the chain that prints `ch`: the first with a glyph for it. A character that
    none has stays in the first font, which prints nothing for it (the validators refuse such
    characters in names and addresses)."""
    index = chain_font(ch)
    if index is None or index == 0:
        return PRIMARY
    font = CHAIN[index]
    loaded = _loaded(font)
    # A font of another version than the table was made from may lack the glyph.
    if loaded is None or ord(ch) not in loaded.face.charToGlyph:
        return PRIMARY
    return font


def runs(text: str) -> list[tuple[str, str]]:
    """`text` cut into (reportlab font name, run of text) where the font changes."""
    out: list[tuple[str, str]] = []
    for part in _same_font_parts(text):
        name = pdf_font(part[0]).pdf_name
        if out and out[-1][0] == name:
            out[-1] = (name, out[-1][1] + part)
        else:
            out.append((name, part))
    return out


def _same_font_parts(text: str) -> Iterator[str]:
    # Most text is in the first font whole: one look-up per character, no run building.
    start = 0
    for i, ch in enumerate(text):
        if chain_font(ch) not in (0, None):
            if i > start:
                yield text[start:i]
            yield ch
            start = i + 1
    if start < len(text):
        yield text[start:]


def string_width(text: str, size: float) -> float:
    """The width of `text` set in the chain at `size`."""
    return sum(pdfmetrics.stringWidth(run, name, size) for name, run in runs(text))


def draw_string(canvas: Canvas, x: float, y: float, text: str, size: float) -> None:
    """Draw `text` from `x`, each run in its font; the canvas is left in the first font."""
    for name, run in runs(text):
        canvas.setFont(name, size)
        canvas.drawString(x, y, run)
        x += pdfmetrics.stringWidth(run, name, size)
    canvas.setFont(PRIMARY.pdf_name, size)


_reportlab_to_unicode_cmap = ttfonts.makeToUnicodeCMap


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """reportlab's ToUnicode CMap of a font subset, with a character beyond the BMP written as
    its UTF-16 surrogate pair, as the PDF format wants: reportlab writes U+2C317 as <2C317>,
    which pdftotext (and copying from a viewer) reads as U+2C31 and a stray digit."""
    cmap: str = _reportlab_to_unicode_cmap(fontname, subset)
    for code, char in enumerate(subset):
        if char > 0xFFFF:
            utf16 = chr(char).encode("utf-16-be").hex().upper()
            cmap = cmap.replace(f"<{code:02X}> <{char:04X}>", f"<{code:02X}> <{utf16}>")
    return cmap


# Looked up by name when a PDF is saved, for every TrueType font of the process.
ttfonts.makeToUnicodeCMap = _to_unicode_cmap
