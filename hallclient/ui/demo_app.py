"""`hallclient --demo` with a screen: the counter window over an embedded server.

The same demo world as the text demo (hallclient/demo.py): an embedded HallServer with seeded
accounts, terminal T01 logged in and bootstrapped, the sync worker running. A demo-only
button cuts and restores the network (it stops and starts the embedded server), so the
offline flow can be tried: take a request offline, print its receipt, bring the network
back and watch the status turn green. The counter's devices are simulated: an ID card reader
on a pseudo-terminal (a demo button lays its cards: two holders, a new holder, an expired card,
a rare name) and the hall's queue system with customers waiting (F12 calls the next ticket).
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from PySide6.QtWidgets import QApplication, QPushButton, QWidget

from hallclient.auth.approval import approve
from hallclient.demo import DEMO_SUPERVISOR, HALL, DemoWorld, start_demo_server
from hallclient.demoday import simulate_day
from hallclient.devices.idcard_sim import SimulatedReader, demo_cards
from hallclient.devices.queue import QueueSystem
from hallclient.devices.queue_sim import QueueSim
from hallclient.receipts.content import HallInfo
from hallclient.sync.claims import ClaimBoard
from hallclient.sync.worker import Backoff, SyncWorker
from hallclient.ui.app import server_views
from hallclient.ui.background import collect_garbage_on_the_ui_thread
from hallclient.ui.counter_window import CounterServices, CounterWindow
from hallclient.ui.i18n import follow_language
from hallclient.ui.style import apply_style
from hallcore.domain.business import BusinessKind
from hallcore.domain.text import Lang, Text
from hallserver.embedded import EmbeddedServer
from hallserver.seed import DEMO_SUPERVISOR_PASSWORD


class NetworkSwitch(QPushButton):
    """Demo only: cuts and restores the network by stopping and starting the server."""

    def __init__(self, server: EmbeddedServer, worker: SyncWorker, parent: QWidget) -> None:
        super().__init__(parent)
        self.server = server
        self.worker = worker
        self.cut = False
        self.clicked.connect(self.toggle)
        follow_language(self, self.retranslate)

    def retranslate(self) -> None:
        self.setText(self.tr("Demo: restore the network") if self.cut else
                     self.tr("Demo: cut the network"))

    def toggle(self) -> None:
        if self.cut:
            self.server.start()
        else:
            self.server.stop()
        self.cut = not self.cut
        self.retranslate()
        self.worker.wake()


class CardButton(QPushButton):
    """Demo only: lays the next demo card on the simulated ID card reader."""

    def __init__(self, reader: SimulatedReader, parent: QWidget) -> None:
        super().__init__(parent)
        self.reader = reader
        self.clicked.connect(self.lay)
        follow_language(self, self.retranslate)

    def retranslate(self) -> None:
        self.setText(self.tr("Demo: lay card {n} of {count} on the reader").format(
            n=self.reader.laid % len(self.reader.cards) + 1, count=len(self.reader.cards)))

    def lay(self) -> None:
        self.reader.lay_next()
        self.retranslate()


DEMO_DAY_CUSTOMERS = 30
DEMO_QUEUE = 20  # customers waiting with tickets when the demo opens: F12 calls them


def demo_queue() -> QueueSim:
    """The hall's queue system, simulated: customers who took their tickets over the last
    hour, oldest first."""
    queue = QueueSim().start()
    for waited in range(DEMO_QUEUE, 0, -1):
        queue.take_ticket(timedelta(minutes=3 * waited))
    return queue


def run_gui_demo(*, lang: Lang = "zh") -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    apply_style(app)
    collect_garbage_on_the_ui_thread(app)
    with tempfile.TemporaryDirectory(prefix="hallclient-demo-") as tmp:
        directory = Path(tmp)
        server, server_engine, _seconds = start_demo_server(directory)
        world = DemoWorld(directory, server, server_engine, [], lang)
        terminal = world.terminal("T01", "gz-th-01-c1")
        # The morning at the next counter, so the dashboard (Ctrl+D) has a day to show; the
        # supervisor's session reads it (the report is for supervisors).
        colleague = world.terminal("T02", "gz-th-01-c2")
        supervisor = world.terminal("T03", DEMO_SUPERVISOR, DEMO_SUPERVISOR_PASSWORD)
        try:
            simulate_day([colleague], DEMO_DAY_CUSTOMERS,
                         supervisor=(DEMO_SUPERVISOR, DEMO_SUPERVISOR_PASSWORD))
            terminal.engine.sync_once()  # bootstrap before the window opens (about 0.5 s)
            claims = ClaimBoard(terminal.engine.api, HALL, terminal.identity.terminal_id)
            worker = SyncWorker(terminal.engine, interval=5,
                                backoff=Backoff(base=1, cap=5), claims=claims)
            # The simulated ID card reader, with holders of the accounts just downloaded.
            reader = SimulatedReader(demo_cards(terminal.accounts(), date.today()))
            queue = demo_queue()
            window = CounterWindow(CounterServices(
                terminal.cache, terminal.identity, terminal.clerk,
                HallInfo(HALL, Text("广州供电局天河营业厅（演示）", "Tianhe Service Hall (demo)")),
                online=lambda: worker.online is not False,
                online_only=frozenset(BusinessKind(k) for k in terminal.settings.online_only),
                on_recorded=worker.wake,
                approve=lambda supervisor, password, needed: approve(
                    terminal.engine.credentials, terminal.engine.credentials.secrets,
                    supervisor, password, datetime.now(UTC),
                    operation_id=needed.operation_id, kind=needed.kind,
                    account_number=needed.account_number),
                **{**server_views(terminal.engine.credentials, HALL),
                   "kpi_report": server_views(supervisor.engine.credentials, HALL)[
                       "kpi_report"]}, card_reader=reader, queue=QueueSystem(queue.url, 1),
                claims=claims),
                lang=lang)
            worker.subscribe(window.status_bridge.changed.emit)
            window.statusBar().addWidget(NetworkSwitch(server, worker, window))
            window.statusBar().addWidget(CardButton(reader, window))
            worker.start()
            window.show()
            code = app.exec()
            worker.stop()
            reader.shut_down()
            queue.stop()
        finally:
            for counter in (terminal, colleague, supervisor):
                counter.close()
            server.stop()
            server_engine.dispose()
    return int(code)
