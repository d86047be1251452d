"""The counter's devices as a clerk meets them: a second screen that is a second X screen, a
card laid while the customer signs or with no form open, what the clerk reads while the
customer signs, and a ticket typed wrong, in full-width characters or while a call is out."""

import json
import os
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import httpx
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QLineEdit
from sqlalchemy import select

from hallclient.devices.camera import NO_CAMERA, CameraUnavailable, DocumentCamera
from hallclient.devices.idcard_sim import card_of
from hallclient.devices.queue import QueueSystem
from hallclient.receipts.content import HallInfo
from hallclient.store.accounts import account_from_row
from hallclient.store.models import AccountRow
from hallclient.store.operations import TerminalIdentity
from hallclient.ui.counter_window import CounterServices, CounterWindow
from hallclient.ui.message_bar import Severity
from hallclient.ui.scan_dialog import ScanDialog
from hallclient.ui.ticket_bar import TicketBar
from hallcore.domain.accounts import AccountStatus
from hallcore.domain.business import BusinessKind
from hallcore.domain.ids import make_resident_id
from hallcore.domain.text import Text
from hallcore.wire import ScanKind
from tests.support.counter import district_cache
from tests.support.factories import OTHER_ID, TERMINAL_KEY
from tests.support.idcard_sim import PHOTO

ROOT = Path(__file__).resolve().parents[2]

# Shows the customer's screen and the rating beside a clerk's window, on the screens the
# offscreen platform is given; prints the screen each opened on.
_ON_SCREENS = """
from datetime import UTC, datetime
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
from hallclient.counter.customer_view import customer_view
from hallclient.ui.customer_screen import CustomerScreen
from hallclient.ui.rating import RatingWindow
from hallcore.domain.business import BusinessKind
from tests.support.factories import OTHER_ID, WEEKDAYS, account
view = customer_view(BusinessKind.TRANSFER, account(), {
    "new_holder_name": "林晓燕", "new_holder_id_type": "resident_id",
    "new_holder_id_number": OTHER_ID, "new_holder_phone": "13922334455"},
                     now=datetime(2026, 11, 25, 4, tzinfo=UTC), calendar=WEEKDAYS)
for clerks in app.screens():
    clerk = QWidget()
    clerk.setScreen(clerks)
    clerk.show()
    screen, rating = CustomerScreen(view, clerk), RatingWindow("R-1", clerk)
    screen.show_to_customer()
    rating.show_to_customer()
    print(clerks.name(), screen.screen().name(), rating.screen().name())
    for window in (screen, rating, clerk):
        window.close()
"""


def _screen(name: str, width: int, height: int) -> dict[str, object]:
    return {"name": name, "x": 0, "y": 0, "width": width, "height": height,
            "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}


def test_the_customers_windows_open_on_the_screen_the_clerk_is_not_on(tmp_path):
    # Two X screens (Xvfb -screen 0 -screen 1, a second monitor as its own X screen) both start
    # at (0, 0): placed by geometry alone, the customer's windows opened over the clerk's.
    config = tmp_path / "screens.json"
    config.write_text(json.dumps({"screens": [_screen("clerk", 1280, 800),
                                              _screen("customer", 1024, 768)]}))
    shown = subprocess.run(
        [sys.executable, "-c", _ON_SCREENS], cwd=ROOT, capture_output=True, text=True,
        timeout=120, check=True,
        env={**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}"})
    assert shown.stdout.splitlines() == ["clerk customer customer",
                                         "customer clerk clerk"]



# --- a card, the customer signing ----------------------------------------------------------

TRANSFER = {"new_holder_name": "林晓燕", "new_holder_id_type": "resident_id",
            "new_holder_id_number": OTHER_ID, "new_holder_phone": "13922334455",
            "new_holder_sms_consent": True}
# Someone else's card: laid by the next customer in the line, or by mistake.
OTHER_CARD = card_of("张轩艳", make_resident_id("440106", date(1986, 1, 8), 863),
                     "广州市天河区环市东路368号", valid_until=date(2039, 2, 11), photo=PHOTO)


@pytest.fixture
def counter(qtbot, tmp_path):
    cache = district_cache(tmp_path / "cache.sqlite3")
    screens = []
    w = CounterWindow(CounterServices(
        cache, TerminalIdentity("GZ-TH-01", "T01", TERMINAL_KEY), "gz-th-01-c1",
        HallInfo("GZ-TH-01", Text("天河营业厅", "Tianhe Service Hall")),
        show_preview=lambda _preview: None, ask_rating=lambda _window: None,
        ask_signature=screens.append), lang="en")  # the customer reads, then signs or not
    qtbot.addWidget(w)
    w.show()
    w.screens = screens
    with cache.read() as s:
        w._show_account(account_from_row(s.scalars(select(AccountRow).where(
            AccountRow.status == AccountStatus.ACTIVE.value, AccountRow.arrears_fen == 0,
            AccountRow.id_number.is_not(None)).order_by(AccountRow.number)).first()))
    yield w
    w.close()
    cache.close()


def transfer_with_the_customer(window):
    """A transfer filled and submitted: the customer's screen shows it, not yet signed."""
    window.open_form(BusinessKind.TRANSFER)
    view = window.form_views[BusinessKind.TRANSFER]
    view.fill(TRANSFER)
    view.submit()
    assert len(window.screens) == 1
    return view


def test_the_clerk_reads_that_the_customer_is_checking_and_signing(counter):
    counter.message.say(Text("已受理", "Accepted, receipt 1"))  # the previous request's
    transfer_with_the_customer(counter)
    assert "signing" in counter.message.text() and "Accepted" not in counter.message.text()


def test_a_card_laid_while_the_customer_signs_changes_neither_the_request_nor_the_form(counter):
    view = transfer_with_the_customer(counter)
    before = view.values()
    counter.card_read(OTHER_CARD)
    assert view.values() == before  # what the customer reads is what stays on the form
    assert counter.card_panel.card is None or counter.card_panel.card.name != "张轩艳"
    assert "lay it again" in counter.message.text()
    [screen] = counter.screens
    screen.reject()  # the customer declines: the form keeps what they were shown
    assert view.values() == before


def test_a_card_with_no_form_open_says_that_it_searches(counter):
    counter.message.say(Text("已受理", "Accepted, receipt 1"))
    counter.card_read(OTHER_CARD)
    assert counter.search.text() == OTHER_CARD.id_number
    assert "searched" in counter.message.text() and "Accepted" not in counter.message.text()


# --- the ticket ----------------------------------------------------------------------------


@pytest.fixture
def ticket_bar(qtbot):
    bar = TicketBar(None)
    qtbot.addWidget(bar)
    bar.heard = []
    bar.said.connect(lambda words, severity: bar.heard.append(
        (words() if callable(words) else words.en, severity)))
    bar.entered.connect(lambda: bar.heard.append("entered"))
    beside = QLineEdit(bar)  # where the cursor goes next (the search box)
    bar.layout().addWidget(beside)
    bar.beside = beside
    bar.show()
    bar.activateWindow()
    qtbot.waitUntil(bar.isActiveWindow)
    bar.focus_field()
    return bar


def commit(field, text):
    """Text as an input method gives it (full-width digits come so): one committed string."""
    event = QInputMethodEvent("", [])
    event.setCommitString(text)
    QApplication.sendEvent(field, event)


def test_a_full_width_ticket_is_shown_and_said_as_it_is_recorded(qtbot, ticket_bar):
    commit(ticket_bar.field, "Ａ０１２")
    qtbot.keyClick(ticket_bar.field, Qt.Key.Key_Return)
    assert ticket_bar.field.text() == "A012" and ticket_bar.ticket().number == "A012"
    assert ticket_bar.heard == [("Ticket A012 is taken for this customer.", Severity.NOTE),
                                "entered"]


def test_a_corrected_ticket_takes_the_place_of_its_refusal(qtbot, ticket_bar):
    qtbot.keyClicks(ticket_bar.field, "A-?!")
    qtbot.keyClick(ticket_bar.field, Qt.Key.Key_Return)
    assert ticket_bar.heard[-1][1] is Severity.REFUSED
    ticket_bar.focus_field()
    qtbot.keyClicks(ticket_bar.field, "A12")
    qtbot.keyClick(ticket_bar.field, Qt.Key.Key_Return)
    assert ticket_bar.heard[-2:] == [("Ticket A12 is taken for this customer.", Severity.NOTE),
                                     "entered"]


def test_a_ticket_left_without_enter_is_checked_too(qtbot, ticket_bar):
    # The clerk types a wrong ticket and clicks into the search: without a word, the request
    # would go without a ticket while the field still showed one.
    qtbot.keyClicks(ticket_bar.field, "A-?!")
    ticket_bar.beside.setFocus(Qt.FocusReason.MouseFocusReason)
    assert [severity for _words, severity in ticket_bar.heard] == [Severity.REFUSED]
    assert ticket_bar.ticket() is None


def test_a_ticket_typed_while_the_queue_call_is_out_is_kept(qtbot):
    # The queue system answers slowly; meanwhile the customer at the counter shows their
    # ticket and the clerk types it. The answer must not put another number over it.
    answer = threading.Event()

    def slow_queue(_request):
        answer.wait(5)
        return httpx.Response(200, json={"number": "A031",
                                         "issued_at": "2026-12-07T09:00:00+08:00",
                                         "called_at": "2026-12-07T09:30:00+08:00"})

    bar = TicketBar(QueueSystem("http://queue.test", 3,
                                transport=httpx.MockTransport(slow_queue)))
    qtbot.addWidget(bar)
    heard = []
    bar.said.connect(lambda words, severity: heard.append(words() if callable(words)
                                                          else words.en))
    bar.call_next()
    bar.field.setFocus()
    qtbot.keyClicks(bar.field, "B17")
    answer.set()
    qtbot.waitUntil(lambda: not bar.calling)
    assert bar.field.text() == "B17" and bar.ticket().number == "B17"
    assert "A031" in heard[-1] and "B17" in heard[-1]


# --- a scan --------------------------------------------------------------------------------


def test_after_a_picture_is_imported_the_keyboard_attaches_it(qtbot, tmp_path):
    # The dialog is held still while the file is read: the keyboard's place must come back.
    path = tmp_path / "id.png"
    Image.new("RGB", (900, 600), "white").save(path)
    d = ScanDialog([ScanKind.ID_DOCUMENT], camera=_no_camera)
    qtbot.addWidget(d)
    d.show()
    d.activateWindow()
    qtbot.waitUntil(d.isActiveWindow)
    d.import_button.setFocus()
    d.import_file(path)
    qtbot.waitUntil(d.attach_button.isEnabled)
    focused = QApplication.focusWidget()
    assert focused is d.attach_button
    with qtbot.waitSignal(d.accepted):
        qtbot.keyClick(focused, Qt.Key.Key_Return)
    assert d.scan is not None and d.scan.kind is ScanKind.ID_DOCUMENT


def _no_camera() -> DocumentCamera:
    raise CameraUnavailable(NO_CAMERA)
