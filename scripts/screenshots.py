"""Screenshots of each screen of the desktop client, in Chinese and in English.

    .venv/bin/python scripts/screenshots.py [OUT_DIR] [--scale 1.5]
                                          (default: /tmp/hallclient-screens)

Runs on a virtual screen: under Xvfb (xcb) when `xvfb-run` is installed, else Qt's offscreen
platform. With --scale, Qt scales as a 125-150% desktop does, on a 1920x1080 screen. The PNGs
are written outside the repository, to be looked at, not committed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _reexec_under_xvfb(scale: str | None) -> None:
    if scale:
        os.environ["QT_SCALE_FACTOR"] = scale
    if os.environ.get("HALLCLIENT_SCREENS_CHILD") or not shutil.which("xvfb-run"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        return
    env = {**os.environ, "HALLCLIENT_SCREENS_CHILD": "1", "QT_QPA_PLATFORM": "xcb"}
    screen = "1920x1080x24" if scale else "1280x800x24"
    sys.exit(subprocess.call(["xvfb-run", "-a", "-s", f"-screen 0 {screen}",
                              sys.executable, *sys.argv], env=env))


def main() -> None:
    args = sys.argv[1:]
    scale = None
    if "--scale" in args:
        at = args.index("--scale")
        scale = args[at + 1]
        del args[at:at + 2]
    _reexec_under_xvfb(scale)
    from PySide6.QtWidgets import QApplication, QWidget

    from hallclient.config import Settings
    from hallclient.demo import DEMO_SUPERVISOR, DemoWorld, start_demo_server
    from hallclient.demoday import simulate_day
    from hallclient.receipts.content import HallInfo
    from hallclient.sync.engine import BootstrapProgress
    from hallclient.sync.worker import read_status
    from hallclient.ui.app import server_views
    from hallclient.ui.background import collect_garbage_on_the_ui_thread
    from hallclient.ui.counter_window import CounterServices, CounterWindow
    from hallclient.ui.dashboard import KpiDashboard
    from hallclient.ui.i18n import use_language
    from hallclient.ui.login_window import LoginWindow
    from hallcore.domain.business import BusinessKind
    from hallcore.domain.text import Text
    from hallserver.seed import DEMO_SUPERVISOR_PASSWORD

    out = Path(args[0] if args else "/tmp/hallclient-screens")
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    collect_garbage_on_the_ui_thread(app)

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
        colleague = world.terminal("T02", "gz-th-01-c2")
        terminal.engine.sync_once()
        colleague.engine.sync_once()
        # A live conflict for the tasks panel: T02 changes an account's contact details and
        # syncs; T01 had changed the same account's phone meanwhile.
        contested = terminal.accounts()[5]
        holder = {"applicant_id_type": contested.id_type,
                  "applicant_id_number": contested.id_number}
        colleague.record(BusinessKind.CONTACT_CHANGE, contested,
                         {**holder, "mailing_address": "广州市天河区体育西路103号"})
        colleague.engine.sync_once()
        terminal.record(BusinessKind.CONTACT_CHANGE, contested, {**holder, "phone": "13922223333"})
        terminal.engine.sync_once()
        # A simulated morning at the next counter for the dashboard, read as the supervisor.
        simulate_day([colleague], 60, supervisor=(DEMO_SUPERVISOR, DEMO_SUPERVISOR_PASSWORD))
        supervisor = world.terminal("T03", "gz-th-01-s1", DEMO_SUPERVISOR_PASSWORD)
        kpi_report = server_views(supervisor.engine.credentials, "GZ-TH-01")["kpi_report"]
        for row, lang in enumerate(("zh", "en")):
            use_language(lang)
            shoot(LoginWindow(Settings(), lambda *a: None), f"login-first-run-{lang}")
            previews, ratings = [], []
            window = CounterWindow(CounterServices(
                terminal.cache, terminal.identity, terminal.clerk,
                HallInfo("GZ-TH-01", Text("广州供电局天河营业厅", "Tianhe Service Hall")),
                show_preview=previews.append, ask_rating=ratings.append), lang=lang)
            window.status_bridge.changed.emit(read_status(terminal.cache, online=True))
            window.search.setText("陈")
            settle()
            window.search_panel.open_row(row)  # another account for each language
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
            window.tasks_panel.list.setCurrentRow(0)
            # The conflict reopened on the account as it is now.
            window.tasks_panel.redo_button.click()
            window.status_bridge.changed.emit(read_status(
                terminal.cache, online=False, bootstrap=BootstrapProgress(41_000, 100_000)))
            shoot(window, f"counter-conflict-redo-offline-bootstrapping-{lang}")
            window.close()
            dashboard = KpiDashboard(
                kpi_report, hall=Text("广州供电局天河营业厅", "Tianhe Service Hall"))
            dashboard.resize(1280, 720)
            dashboard.show()
            for _ in range(200):
                if dashboard.report is not None:
                    break
                settle()
            shoot(dashboard, f"dashboard-{lang}")
            dashboard.close()
        terminal.close()
        colleague.close()
        supervisor.close()
        server.stop()

if __name__ == "__main__":
    main()
