"""The customer's queue ticket at the counter window: typed, or called from a (simulated) queue
system; every request of the visit carries it, the next customer starts without it, and a
queue system that fails is a message while a typed ticket still works."""

from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from hallclient.devices.queue import QueueSystem
from hallclient.devices.queue_sim import Mode, queue_sim
from hallclient.receipts.content import HallInfo
from hallclient.store.accounts import account_from_row
from hallclient.store.models import AccountRow, OutboxRow
from hallclient.store.operations import TerminalIdentity
from hallclient.ui.counter_window import CounterServices, CounterWindow
from hallcore.domain.accounts import AccountStatus
from hallcore.domain.deadlines import HALL_TZ
from hallcore.domain.text import Text
from tests.support.counter import district_cache
from tests.support.factories import TERMINAL_KEY

CTRL = Qt.KeyboardModifier.ControlModifier
NOW = datetime(2026, 12, 7, 9, 31, 40, tzinfo=HALL_TZ)


@pytest.fixture
def sim():
    with queue_sim(clock=lambda: NOW) as running:
        yield running


@pytest.fixture
def make_window(qtbot, tmp_path):
    caches = []

    def make(queue=None):
        cache = district_cache(tmp_path / f"cache{len(caches)}.sqlite3")
        caches.append(cache)
        w = CounterWindow(CounterServices(
            cache, TerminalIdentity("GZ-TH-01", "T01", TERMINAL_KEY), "gz-th-01-c1",
            HallInfo("GZ-TH-01", Text("天河营业厅", "Tianhe Service Hall")),
            show_preview=lambda _preview: None, ask_rating=lambda _window: None, queue=queue),
            lang="en")
        qtbot.addWidget(w)
        w.show()
        w.activateWindow()
        qtbot.waitUntil(w.isActiveWindow)
        w.search.setFocus()
        return w

    yield make
    for cache in caches:
        cache.close()


def press(qtbot, key, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(QApplication.focusWidget(), key, modifier)


def customers(window, n):
    with window.services.cache.read() as s:
        rows = s.scalars(select(AccountRow).where(
            AccountRow.status == AccountStatus.ACTIVE.value, AccountRow.id_number.is_not(None),
            AccountRow.arrears_fen == 0).limit(n)).all()
        return [account_from_row(r) for r in rows]


def suspend(qtbot, window, customer):
    """The clerk finds the account and takes a suspension for it, by keys."""
    press(qtbot, Qt.Key.Key_F, CTRL)
    press(qtbot, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(QApplication.focusWidget(), customer.number)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.account is not None
                    and window.account.number == customer.number)
    press(qtbot, Qt.Key.Key_F5)
    qtbot.keyClicks(QApplication.focusWidget(), customer.id_number)
    with qtbot.waitSignal(window.request_finished):
        press(qtbot, Qt.Key.Key_Return, CTRL)
    assert "Accepted, receipt" in window.message.text()


def outbox_tickets(window):
    with window.services.cache.read() as s:
        return [(r.ticket_no, r.ticket_source, r.ticket_issued_at, r.ticket_called_at)
                for r in s.scalars(select(OutboxRow).order_by(OutboxRow.seq))]


def test_a_typed_ticket_goes_with_every_request_of_the_visit_and_not_the_next(qtbot,
                                                                             make_window):
    window = make_window()
    assert window.ticket_bar.call_button.isHidden()  # no queue system here
    first, second = customers(window, 2)
    press(qtbot, Qt.Key.Key_F2)
    assert QApplication.focusWidget() is window.ticket_bar.field
    qtbot.keyClicks(window.ticket_bar.field, "a023")
    assert window.session.running  # the visit starts with its ticket
    press(qtbot, Qt.Key.Key_Return)
    assert QApplication.focusWidget() is window.search  # on to the customer's account
    suspend(qtbot, window, first)
    suspend(qtbot, window, second)  # the same customer's second request
    press(qtbot, Qt.Key.Key_F12)
    assert window.ticket_bar.field.text() == "" and window.ticket_bar.ticket() is None
    suspend(qtbot, window, customers(window, 3)[2])  # the next customer, without a ticket
    assert outbox_tickets(window) == [("A023", "typed", None, None)] * 2 + [
        (None, None, None, None)]


def test_a_scanned_ticket_keeps_its_issue_time(qtbot, make_window):
    window = make_window()
    press(qtbot, Qt.Key.Key_F2)
    qtbot.keyClicks(window.ticket_bar.field, "Q:A007:2026-12-07T09:02:00+08:00")
    press(qtbot, Qt.Key.Key_Return)
    suspend(qtbot, window, customers(window, 1)[0])
    assert outbox_tickets(window) == [
        ("A007", "scanned", datetime(2026, 12, 7, 9, 2, tzinfo=HALL_TZ), None)]


def test_what_is_not_a_ticket_is_refused_and_the_request_goes_without_it(qtbot, make_window):
    window = make_window()
    press(qtbot, Qt.Key.Key_F2)
    qtbot.keyClicks(window.ticket_bar.field, "A#23")
    press(qtbot, Qt.Key.Key_Return)
    assert window.message.text().startswith("A ticket number is letters and digits")
    assert QApplication.focusWidget() is window.ticket_bar.field  # to be corrected
    press(qtbot, Qt.Key.Key_A, CTRL)
    press(qtbot, Qt.Key.Key_Delete)
    press(qtbot, Qt.Key.Key_Return)  # no ticket after all: a customer is served without one
    assert QApplication.focusWidget() is window.search
    suspend(qtbot, window, customers(window, 1)[0])
    assert outbox_tickets(window) == [(None, None, None, None)]


def test_next_customer_calls_the_next_ticket_with_the_queue_systems_times(qtbot, make_window,
                                                                         sim):
    window = make_window(QueueSystem(sim.url, 4))
    first = sim.take_ticket(waited=timedelta(minutes=20))
    sim.take_ticket()
    press(qtbot, Qt.Key.Key_F12)
    qtbot.waitUntil(lambda: window.ticket_bar.field.text() == first.number)
    assert sim.calls == {4: 1}
    assert window.ticket_bar.times.text() == "09:11→09:31"
    assert window.ticket_bar.times.toolTip() == "Ticket issued at 09:11, called at 09:31"
    assert window.message.text() == f"Ticket {first.number} called to this counter."
    assert QApplication.focusWidget() is window.search
    suspend(qtbot, window, customers(window, 1)[0])
    assert outbox_tickets(window) == [(first.number, "queue", first.issued_at, NOW)]
    window.ticket_bar.call_button.click()  # the same as F12: the next one
    qtbot.waitUntil(lambda: window.ticket_bar.field.text() == "A002")
    assert window.account is None and sim.calls == {4: 2}
    window.ticket_bar.call_button.click()
    qtbot.waitUntil(lambda: window.message.text() == "Nobody is waiting in the queue.")
    assert window.ticket_bar.ticket() is None


@pytest.mark.parametrize(("mode", "said"), [
    (Mode.FAIL, "The queue system refused the call"),
    (Mode.GARBAGE, "The queue system's answer cannot be read"),
    (Mode.HANG, "The queue system did not answer in time"),
    (None, "The queue system cannot be reached"),  # not there at all
])
def test_a_queue_system_that_fails_is_a_message_and_a_typed_ticket_still_works(
        qtbot, make_window, sim, mode, said):
    sim.take_ticket()
    if mode is None:
        sim.stop()
    else:
        sim.mode = mode
    window = make_window(QueueSystem(sim.url, 1, timeout=0.3))
    press(qtbot, Qt.Key.Key_F12)
    qtbot.waitUntil(lambda: window.message.text() != "")
    assert window.message.text() == (
        f"{said}: type the ticket number, or serve the customer without one")
    assert QApplication.focusWidget() is window.ticket_bar.field
    assert window.ticket_bar.call_button.isEnabled()  # the clerk may try again
    qtbot.keyClicks(window.ticket_bar.field, "B012")
    press(qtbot, Qt.Key.Key_Return)
    suspend(qtbot, window, customers(window, 1)[0])
    assert outbox_tickets(window) == [("B012", "typed", None, None)]
