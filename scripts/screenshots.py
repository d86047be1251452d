"""Screenshots of each screen of the desktop client, in Chinese and in English.

    .venv/bin/python scripts/screenshots.py [OUT_DIR]      (default: /tmp/hallclient-screens)

Runs on a virtual screen: under Xvfb (xcb) when `xvfb-run` is installed, else Qt's offscreen
platform. The PNGs are written outside the repository, to be looked at, not committed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _reexec_under_xvfb() -> None:
    if os.environ.get("HALLCLIENT_SCREENS_CHILD") or not shutil.which("xvfb-run"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        return
    env = {**os.environ, "HALLCLIENT_SCREENS_CHILD": "1", "QT_QPA_PLATFORM": "xcb"}
    sys.exit(subprocess.call(["xvfb-run", "-a", "-s", "-screen 0 1280x800x24",
                              sys.executable, *sys.argv], env=env))


def main() -> None:
    _reexec_under_xvfb()
    from PySide6.QtWidgets import QApplication, QWidget

    from hallclient.config import Settings
    from hallclient.demo import DemoWorld, start_demo_server
    from hallclient.domain.business import BusinessKind
    from hallclient.domain.text import Text
    from hallclient.receipts.content import HallInfo
    from hallclient.ui.counter_window import CounterServices, CounterWindow
    from hallclient.ui.login_window import LoginWindow

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/hallclient-screens")
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])

    def settle() -> None:
        for _ in range(40):
            app.processEvents()
            time.sleep(0.02)

    def shoot(widget: QWidget, name: str) -> None:
        widget.show()
        settle()
        widget.grab().save(str(out / f"{name}.png"))
        print(out / f"{name}.png")

    with tempfile.TemporaryDirectory() as tmp:
        server, engine, _ = start_demo_server(Path(tmp))
        world = DemoWorld(Path(tmp), server, engine, [], "zh")
        terminal = world.terminal("T01", "gz-th-01-c1")
        terminal.engine.sync_once()
        for row, lang in enumerate(("zh", "en")):
            shoot(LoginWindow(Settings(), lambda *a: None, lang=lang), f"login-first-run-{lang}")
            previews = []
            window = CounterWindow(CounterServices(
                terminal.cache, terminal.identity, terminal.clerk,
                HallInfo("GZ-TH-01", Text("广州供电局天河营业厅", "Tianhe Service Hall")),
                show_preview=previews.append), lang=lang)
            window.search.setText("陈")
            settle()
            window.results.setCurrentRow(row)  # another account for each language
            window.open_form(BusinessKind.TRANSFER)
            shoot(window, f"counter-transfer-{lang}")
            window.open_form(BusinessKind.SUSPEND)
            view = window.form_views[BusinessKind.SUSPEND]
            view.fill({"applicant_id_number": window.account.id_number if window.account
                       else ""})
            view.submit()
            shoot(window, f"counter-after-suspend-{lang}")
            if previews:
                shoot(previews[0], f"receipt-preview-{lang}")
            window.close()
        terminal.close()
        server.stop()


if __name__ == "__main__":
    main()
