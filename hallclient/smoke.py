"""`hallclient --smoke-test`: does this installation (the packaged app above all) start and have
everything it ships? Offscreen, in a temporary directory, touching nothing of the terminal's.

It renders the printer test receipts to a PDF with the embedded font and reads it back with
QtPdf, creates a cache (the client's Alembic migrations, read as files), opens the login window
in Chinese (Qt, its platform plugin, the translations) and the About box (the licence texts),
and loads every keyring backend the keyring library lists. Where the server extra is installed
(the packaged app, a developer's checkout), it also creates the demo's server database, as
`hallclient --demo` does; a counter PC without it is told, in the same line, that this part
was not checked.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import NoReturn

from hallclient import __version__
from hallclient.receipts.content import HallInfo
from hallclient.receipts.render import render_receipts
from hallclient.receipts.testpage import sample_receipts
from hallcore.domain.text import Text
from hallcore.extras import missing_server_modules

log = logging.getLogger(__name__)
# Every font of a receipt is a subset (six capitals and a plus) of the embedded font.
_FONT = re.compile(rb"/BaseFont\s*/([^\s/>\]]+)")
_EMBEDDED_FONT = re.compile(rb"[A-Z]{6}\+WenQuanYiMicroHei(-\d+)?")


class SmokeFailed(Exception):
    """A check failed; the message says which and what was found."""


def run_smoke_test() -> int:
    """Run every check; print one line saying what passed, or why it failed. Exit code 0/1."""
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="hallclient-smoke-") as tmp:
            done = [_receipts(Path(tmp)), _cache(Path(tmp)), _demo_server(Path(tmp)),
                    _login_window(), _about_box(), _keyring_backends()]
    except SmokeFailed as exc:
        return _failed(str(exc))
    except Exception as exc:  # a missing module or file of a broken installation: say which
        return _failed(f"{type(exc).__name__}: {exc}")
    summary = (f"HallClient {__version__} smoke test passed in "
               f"{time.perf_counter() - started:.1f} s: {'; '.join(done)}")
    log.info("%s", summary)
    print(summary)
    return 0


def _failed(reason: str) -> int:
    log.error("smoke test failed: %s", reason)
    print(f"HallClient {__version__} smoke test FAILED: {reason}", file=sys.stderr)
    return 1


def _application() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no window on anyone's screen
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        QApplication(sys.argv[:1])


def _login_window() -> str:
    _application()
    from PySide6.QtWidgets import QApplication

    from hallclient.config import Settings
    from hallclient.ui.i18n import use_language
    from hallclient.ui.login_window import LoginWindow

    def never(*_args: object) -> NoReturn:
        raise SmokeFailed("the smoke test logs nobody in")

    use_language("zh")
    window = LoginWindow(Settings(), never)
    try:
        window.show()
        QApplication.processEvents()
        if not window.isVisible():
            raise SmokeFailed("the login window did not show")
        if window.button.text() == "Log in":
            raise SmokeFailed("the login window is not in Chinese: translations not loaded")
        return f"login window shown ({window.windowTitle()}, {QApplication.platformName()})"
    finally:
        window.close()
        window.deleteLater()


def _receipts(tmp: Path) -> str:
    _application()
    from PySide6.QtPdf import QPdfDocument

    receipts = sample_receipts(HallInfo("SMOKE", Text("供电营业厅", "Service hall")), "T00",
                               datetime.now(UTC))
    pdf = render_receipts(receipts, layout="a4", lang="both")
    if not pdf.startswith(b"%PDF-"):
        raise SmokeFailed(f"the receipt is not a PDF (it starts {pdf[:8]!r})")
    fonts = _FONT.findall(pdf)
    if not fonts or not all(_EMBEDDED_FONT.fullmatch(f) for f in fonts) or (
            pdf.count(b"/FontFile2") != len(fonts)):
        raise SmokeFailed(f"the receipt's fonts are not the embedded WenQuanYi Micro Hei: "
                          f"{sorted({f.decode(errors='replace') for f in fonts})}")
    path = tmp / "receipts.pdf"
    path.write_bytes(pdf)
    document = QPdfDocument()
    error = document.load(str(path))
    if error != QPdfDocument.Error.None_ or document.pageCount() != len(receipts):
        raise SmokeFailed(f"QtPdf cannot read the receipts ({error.name}, "
                          f"{document.pageCount()} of {len(receipts)} pages)")
    return f"{len(receipts)} test receipts rendered ({len(pdf) // 1024} KB, font embedded)"


def _cache(tmp: Path) -> str:
    from hallclient.store.cache import head_revision, open_cache

    cache = open_cache(tmp / "cache.sqlite3")
    cache.close()
    return f"cache schema {head_revision()} created"


def _demo_server(tmp: Path) -> str:
    """The demo's server database, where the demo can run; which libraries are missing if not."""
    missing = missing_server_modules()
    if missing:
        return (f"demo server not checked: the server extra is not installed (no "
                f"{', '.join(missing)}); the counter does not need it")
    # The one import of the server here: its Alembic migrations, which the packaged app
    # carries for the demo as files (build.spec).
    from hallserver.db import SERVER_SCHEMA, make_engine

    server = make_engine(f"sqlite+pysqlite:///{tmp / 'hallserver.sqlite3'}")
    try:
        SERVER_SCHEMA.upgrade(server)
    finally:
        server.dispose()
    return f"demo server schema {SERVER_SCHEMA.head()} created"


def _about_box() -> str:
    from hallclient.ui.about import AboutDialog

    about = AboutDialog()
    try:
        for component in about.components:
            component.text()  # each licence text is there
        return f"about box with the licences of {len(about.components)} components"
    finally:
        about.deleteLater()


def _keyring_backends() -> str:
    # The keyring library finds its backends, the OS keyrings among them, by these entry
    # points: without them (metadata left out of a build) it never finds the OS keyring.
    found = entry_points(group="keyring.backends")
    wanted = {"win32": "Windows", "darwin": "macOS"}.get(sys.platform, "SecretService")
    if wanted not in found.names:
        raise SmokeFailed(f"the keyring backend {wanted} is missing (found: "
                          f"{', '.join(sorted(found.names)) or 'none'})")
    for backend in found:
        backend.load()
    return f"keyring backends {', '.join(sorted(found.names))}"
