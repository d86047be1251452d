"""Screenshots of every screen of the desktop client, in Chinese and in English.

    .venv/bin/python scripts/screenshots.py OUT_DIR [--scale 1.5]

OUT_DIR is docs/screens for the committed set (docs/screens/README.md lists the files). Runs
on a virtual screen: under Xvfb (xcb) when `xvfb-run` is installed, else Qt's offscreen
platform; with --scale, Qt scales as a 125-150% desktop does, on a 1920x1080 screen. The data
is the demo's: an embedded HallServer seeded with the demo hall, two terminals and a supervisor
logged in at a third. Each screen is taken on its own: one that fails is reported and the
others are still taken; the exit code is then 1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication, QWidget

    from hallclient.demo import DemoTerminal
    from hallclient.ui.counter_window import CounterWindow
    from hallcore.domain.accounts import Account
    from hallcore.domain.text import Lang

LANGS: tuple[Lang, ...] = ("zh", "en")
HALL_NAME = ("广州供电局天河营业厅", "Tianhe Service Hall")
OTHER_ID = "440106199203154429"  # a valid resident ID card of nobody in the demo data
WAIT_S = 30.0


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


def _arguments(argv: list[str]) -> tuple[Path, str | None]:
    args = list(argv)
    scale = None
    if "--scale" in args:
        at = args.index("--scale")
        scale = args[at + 1]
        del args[at:at + 2]
    if len(args) != 1 or args[0].startswith("-"):
        raise SystemExit(__doc__)
    return Path(args[0]), scale


@dataclass
class Shots:
    """Where the screens go, and which of them failed."""

    app: QApplication
    out: Path
    failed: list[str]

    def settle(self, seconds: float = 0.8) -> None:
        """The event loop run for a while: layouts, paints, answers from the background."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.app.processEvents()
            time.sleep(0.02)

    def until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT_S
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {WAIT_S:g} s for {what}")
            self.app.processEvents()
            time.sleep(0.02)
        self.settle(0.3)

    def save(self, widget: QWidget, name: str, over: QWidget | None = None) -> None:
        """`widget` as drawn; `over`: a dialog drawn where it stands over `widget`, framed
        (the virtual screen has no window manager to draw its frame)."""
        from PySide6.QtCore import QRect
        from PySide6.QtGui import QColor, QPainter

        widget.show()
        self.settle()
        picture = widget.grab()
        if over is not None:
            at = over.mapToGlobal(over.rect().topLeft()) - widget.mapToGlobal(
                widget.rect().topLeft())
            painter = QPainter(picture)
            painter.drawPixmap(at, over.grab())
            painter.setPen(QColor("#606060"))
            painter.drawRect(QRect(at, over.size()).adjusted(-1, -1, 0, 0))
            painter.end()
        path = self.out / f"{name}.png"
        picture.save(str(path))
        # In 256 colours: a window's flat colours lose nothing visible, the file two thirds.
        from PIL import Image

        with Image.open(path) as image:
            small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        small.save(path, optimize=True)
        print(path)

    @contextmanager
    def screen(self, name: str) -> Iterator[None]:
        """One screen: a failure is said, and the next screen taken all the same."""
        try:
            yield
        except Exception:
            self.failed.append(name)
            print(f"FAILED {name}:\n{traceback.format_exc()}", file=sys.stderr)


def main() -> int:
    out, scale = _arguments(sys.argv[1:])
    _reexec_under_xvfb(scale)
    from PySide6.QtWidgets import QApplication

    from hallclient.demo import DEMO_SUPERVISOR, DemoWorld, start_demo_server
    from hallclient.demoday import simulate_day
    from hallclient.ui.app import server_views
    from hallclient.ui.background import collect_garbage_on_the_ui_thread
    from hallclient.ui.style import apply_style
    from hallcore.domain.business import BusinessKind
    from hallserver.seed import DEMO_SUPERVISOR_PASSWORD

    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    apply_style(app)
    collect_garbage_on_the_ui_thread(app)
    shots = Shots(app, out, [])
    with tempfile.TemporaryDirectory() as tmp:
        # The About box shows the data folder: the demo's, not that of whoever runs this.
        os.environ["HALLCLIENT_DATA_DIR"] = str(Path(tmp) / "HallClient")
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
        # A simulated morning at the next counter: the hall's work items, and the dashboard's
        # figures, read as the supervisor.
        simulate_day([colleague], 60, supervisor=(DEMO_SUPERVISOR, DEMO_SUPERVISOR_PASSWORD))
        terminal.engine.sync_once()
        supervisor = world.terminal("T03", "gz-th-01-s1", DEMO_SUPERVISOR_PASSWORD)
        views = server_views(terminal.engine.credentials, "GZ-TH-01")
        kpi_report = server_views(supervisor.engine.credentials, "GZ-TH-01")["kpi_report"]
        try:
            for row, lang in enumerate(LANGS):
                _screens(shots, lang, row, terminal, views, kpi_report)
        finally:
            terminal.close()
            colleague.close()
            supervisor.close()
            server.stop()
    if shots.failed:
        print(f"{len(shots.failed)} screens failed: {', '.join(shots.failed)}", file=sys.stderr)
        return 1
    return 0


def _screens(shots: Shots, lang: Lang, row: int, terminal: DemoTerminal,
             views: dict[str, Any], kpi_report: Any) -> None:
    """Every screen in `lang`; `row`: which search result to open (another account for each
    language)."""
    from hallclient.config import Settings
    from hallclient.receipts.history import receipt_history
    from hallclient.sync.engine import BootstrapProgress
    from hallclient.sync.worker import read_status
    from hallclient.ui.about import AboutDialog
    from hallclient.ui.dashboard import KpiDashboard
    from hallclient.ui.i18n import use_language
    from hallclient.ui.login_window import LoginWindow
    from hallclient.ui.rating import RatingWindow
    from hallclient.ui.receipt_history import ReceiptHistoryDialog
    from hallclient.ui.supervisor_dialog import SupervisorDialog
    from hallcore.domain.accounts import AccountStatus
    from hallcore.domain.business import BUSINESS_TYPES, BusinessKind
    from hallcore.domain.text import Text

    use_language(lang)
    hall = Text(*HALL_NAME)
    with shots.screen(f"login-first-run-{lang}"):
        shots.save(LoginWindow(Settings(), lambda *a: None), f"login-first-run-{lang}")
    with shots.screen(f"login-{lang}"):
        shots.save(LoginWindow(terminal.settings, lambda *a: None), f"login-{lang}")
    previews: list[QWidget] = []
    signing: list[QWidget] = []
    window = _counter_window(terminal, views, previews, signing, lang)
    try:
        with shots.screen(f"counter-empty-{lang}"):
            shots.until(lambda: window.work_items is None
                        or window.work_items.list.count() > 0, "the work items")
            shots.save(window, f"counter-empty-{lang}")
        with shots.screen(f"search-results-{lang}"):
            window.search.setText("陈")
            shots.until(lambda: window.search_panel.results.rowCount() > 1, "the results")
            shots.save(window, f"search-results-{lang}")
        active = _open(shots, window, row, AccountStatus.ACTIVE)
        for kind in BUSINESS_TYPES:
            name = f"form-{kind.value.replace('_', '-')}-{lang}"
            with shots.screen(name):
                if kind is BusinessKind.RESUME:
                    _open(shots, window, row, AccountStatus.SUSPENDED)
                elif active is not None:
                    window.search_panel.open_row(active)
                window.open_form(kind)
                shots.save(window, name)
        with shots.screen(f"refusal-{lang}"):
            window.search_panel.open_row(active if active is not None else 0)
            _submit(shots, window, BusinessKind.SUSPEND, {"applicant_id_number": OTHER_ID})
            shots.save(window, f"refusal-{lang}")
        with shots.screen(f"supervisor-sign-off-{lang}"):
            account = window.account
            assert account is not None and account.id_number is not None
            _submit(shots, window, BusinessKind.CLOSE,
                    {"applicant_id_number": account.id_number}, signing)
            dialog = next(d for d in window.findChildren(SupervisorDialog) if d.isVisible())
            shots.save(window, f"supervisor-sign-off-{lang}", over=dialog)
            dialog.reject()
        with shots.screen(f"customer-screen-{lang}"):
            window.search_panel.open_row(active if active is not None else 0)
            window.ticket_bar.field.setText("A023")
            window.open_form(BusinessKind.TRANSFER)
            window.card_read(_new_holders_card())
            shots.save(window, f"card-read-{lang}")
            view = window.form_views[BusinessKind.TRANSFER]
            view.fill({"new_holder_phone": "13922334455", "new_holder_sms_consent": True})
            view.submit()
            shots.until(lambda: bool(signing), "the customer's screen")
            shots.save(signing[-1], f"customer-screen-{lang}")
            signing[-1].confirm.click()
            shots.until(lambda: bool(previews), "the receipt")
            shots.save(previews[-1], f"receipt-signed-{lang}")
        with shots.screen(f"scan-dialog-{lang}"):
            window.open_form(BusinessKind.TRANSFER)
            window.form_host.scans.open_dialog()
            dialog = window.form_host.scans.dialog
            assert dialog is not None
            dialog.import_file(_id_card_picture(shots.out.parent / f".scan-{lang}.jpg"))
            shots.until(dialog.attach_button.isEnabled, "the imported picture")
            shots.save(dialog, f"scan-dialog-{lang}")
            dialog.attach_button.click()
            shots.save(window, f"scans-attached-{lang}")
            window.form_host.close_form()
        with shots.screen(f"receipt-preview-{lang}"):
            account = window.account
            assert account is not None and account.id_number is not None
            _submit(shots, window, BusinessKind.SUSPEND,
                    {"applicant_id_number": account.id_number})
            shots.until(lambda: bool(previews), "the receipt preview")
            window.status_bridge.changed.emit(read_status(terminal.cache, online=True))
            shots.save(window, f"counter-after-request-{lang}")
            shots.save(previews[-1], f"receipt-preview-{lang}")
        with shots.screen(f"rating-{lang}"):
            shots.save(RatingWindow("GZ-TH-01-T01-20261125-0001", window), f"rating-{lang}")
        with shots.screen(f"receipt-history-{lang}"):
            shots.save(ReceiptHistoryDialog(receipt_history(terminal.cache), window),
                       f"receipt-history-{lang}")
        with shots.screen(f"work-items-{lang}"):
            assert window.work_items is not None, "no work items panel: no server views"
            shots.save(window.work_items, f"work-items-{lang}")
        with shots.screen(f"tasks-conflict-offline-{lang}"):
            window.tasks_panel.list.setCurrentRow(0)
            window.tasks_panel.redo_button.click()  # the conflict, on the account as it is now
            window.status_bridge.changed.emit(read_status(
                terminal.cache, online=False, bootstrap=BootstrapProgress(41_000, 100_000)))
            shots.save(window, f"tasks-conflict-offline-{lang}")
            window.status_bridge.changed.emit(read_status(terminal.cache, online=True))
        with shots.screen(f"about-{lang}"):
            shots.save(AboutDialog(window), f"about-{lang}")
        with shots.screen(f"lock-screen-{lang}"):
            window.lock()
            assert window.lock_dialog is not None
            shots.save(window, f"lock-screen-{lang}", over=window.lock_dialog)
    finally:
        window.close()
    with shots.screen(f"kpi-dashboard-{lang}"):
        dashboard = KpiDashboard(kpi_report, hall=hall)
        dashboard.resize(1280, 720)
        dashboard.show()
        shots.until(lambda: dashboard.report is not None, "the KPI report")
        shots.save(dashboard, f"kpi-dashboard-{lang}")
        dashboard.close()


def _new_holders_card() -> Any:
    from datetime import date

    from hallclient.devices.idcard_sim import NEW_HOLDER, card_of, simulated_photo

    name, number, address = NEW_HOLDER
    return card_of(name, number, address, valid_until=date(2035, 6, 30), photo=simulated_photo())


def _id_card_picture(path: Path) -> Path:
    """A photographed ID card, as the document camera or a file would give it."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1600, 1100), "#d9d4c7")
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((260, 180, 1340, 860), 40, fill="#eef3f8", outline="#8aa4c0", width=6)
    draw.rectangle((1000, 300, 1260, 620), fill="#b8c4d0")
    for y in range(300, 760, 90):
        draw.rectangle((340, y, 900, y + 30), fill="#9aa8b8")
    image.save(path, "JPEG")
    return path


def _counter_window(terminal: DemoTerminal, views: dict[str, Any], previews: list[QWidget],
                    signing: list[QWidget], lang: Lang) -> CounterWindow:
    from hallclient.receipts.content import HallInfo
    from hallclient.samples import SAMPLE_SIGNATURE
    from hallclient.store.operations import OverrideNeeded, SignOff
    from hallclient.sync.worker import read_status
    from hallclient.ui.counter_window import CounterServices, CounterWindow
    from hallclient.ui.customer_screen import CustomerScreen
    from hallcore.domain.text import Text

    def not_here(_supervisor: str, _password: str, _needed: OverrideNeeded) -> SignOff:
        raise RuntimeError("the screenshots sign nothing off")

    def customer_signs(screen: CustomerScreen) -> None:
        # The customer's screen as a dialog on the clerk's, with the sample receipts'
        # signature on its pad; kept in `signing` for its shot, which then confirms it.
        screen.show()
        screen.pad.strokes = [list(stroke) for stroke in SAMPLE_SIGNATURE]
        screen.pad.changed.emit()
        screen.pad.update()
        signing.append(screen)

    window = CounterWindow(CounterServices(
        terminal.cache, terminal.identity, terminal.clerk,
        HallInfo("GZ-TH-01", Text(*HALL_NAME)), show_preview=previews.append,
        ask_rating=lambda _rating: None, ask_signature=customer_signs,
        check_password=lambda _password: None, approve=not_here, **views), lang=lang)
    window.status_bridge.changed.emit(read_status(terminal.cache, online=True))
    return window


def _open(shots: Shots, window: CounterWindow, row: int, status: Any) -> int | None:
    """Open the `row`-th account in `status` among those the search found; its row."""
    found = [n for n in range(window.search_panel.results.rowCount())
             if _result(window, n).status is status]
    if not found:
        return None
    chosen = found[min(row, len(found) - 1)]
    window.search_panel.open_row(chosen)
    shots.settle(0.3)
    return chosen


def _result(window: CounterWindow, row: int) -> Account:
    from hallclient.store.accounts import load_account

    number = window.search_panel.results.item(row, 0).text()
    with window.services.cache.read() as session:
        account = load_account(session, number)
    assert account is not None
    return account


def _submit(shots: Shots, window: CounterWindow, kind: Any, values: dict[str, str],
            signing: list[Any] | None = None) -> None:
    """The form of `kind` filled in with `values` and submitted, signed by the customer on
    `signing`'s next screen where the business asks it; until it is answered."""
    answered: list[bool] = []
    connection = window.request_finished.connect(lambda: answered.append(True))
    asked = len(signing) if signing is not None else 0
    try:
        window.open_form(kind)
        view = window.form_views[kind]
        view.fill(values)
        view.submit()
        if signing is not None:
            shots.until(lambda: len(signing) > asked, "the customer's screen")
            signing[-1].confirm.click()
        shots.until(lambda: bool(answered), "the answer to the request")
    finally:
        window.request_finished.disconnect(connection)


if __name__ == "__main__":
    sys.exit(main())
