"""One customer at a time at the counter, driven as a clerk types: every key goes to the widget
that has the keyboard focus, as under a real X server, so a result list that took the focus
would send the next digits into a form."""

import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit
from sqlalchemy import select

from hallclient.receipts.content import HallInfo
from hallclient.store.accounts import account_from_row
from hallclient.store.models import AccountRow, FeedbackRow, OutboxRow
from hallclient.store.operations import TerminalIdentity
from hallclient.store.search import search_accounts
from hallclient.ui.counter_window import CounterServices, CounterWindow
from hallcore.domain.accounts import AccountStatus
from hallcore.domain.business import BusinessKind
from hallcore.domain.text import Text
from tests.support.counter import district_cache
from tests.support.customer_screen import customer_at_screen
from tests.support.factories import OTHER_ID, TERMINAL_KEY
from tests.support.signatures import signature

CTRL = Qt.KeyboardModifier.ControlModifier


class Clock:
    """The window's clock, moved on by the test: handling times without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def window(qtbot, tmp_path, clock):
    cache = district_cache(tmp_path / "cache.sqlite3")
    ratings = []
    w = CounterWindow(CounterServices(
        cache, TerminalIdentity("GZ-TH-01", "T01", TERMINAL_KEY), "gz-th-01-c1",
        HallInfo("GZ-TH-01", Text("天河营业厅", "Tianhe Service Hall")),
        show_preview=lambda _preview: None, ask_rating=ratings.append, clock=clock,
        ask_signature=customer_at_screen([])), lang="en")
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    w.search.setFocus()
    w.ratings = ratings
    yield w
    cache.close()


@pytest.fixture
def two(window):
    """Two customers: active accounts with an ID number and a phone of their own."""
    with window.services.cache.read() as s:
        rows = s.scalars(select(AccountRow).where(
            AccountRow.status == AccountStatus.ACTIVE.value, AccountRow.id_number.is_not(None),
            AccountRow.phone.is_not(None), AccountRow.arrears_fen == 0)).all()
        found = [account_from_row(r) for r in rows]
        own = [a for a in found if [x.number for x in search_accounts(s, a.phone)] == [a.number]]
    return own[0], own[1]


def focused():
    widget = QApplication.focusWidget()
    assert widget is not None, "no widget has the keyboard focus"
    return widget


def type_(qtbot, text):
    qtbot.keyClicks(focused(), text)


def commit(text):
    """Chinese as an input method gives it to the focused field: one committed string (key
    clicks carry Latin text only)."""
    from PySide6.QtGui import QInputMethodEvent

    event = QInputMethodEvent("", [])
    event.setCommitString(text)
    QApplication.sendEvent(focused(), event)


def press(qtbot, key, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(focused(), key, modifier)


def shown_numbers(window):
    model = window.search_panel.results.model()
    return [str(model.index(r, 0).data()).split()[0] for r in range(model.rowCount())]


def wait_for_results(qtbot, window, query):
    """Until the results of `query` are on screen."""
    with window.services.cache.read() as s:
        expected = [a.number for a in search_accounts(s, query)]
    qtbot.waitUntil(lambda: shown_numbers(window) == expected)
    return expected


def search_again(qtbot, window, text):
    """Ctrl+F, everything in the box selected, typed over."""
    press(qtbot, Qt.Key.Key_F, CTRL)
    press(qtbot, Qt.Key.Key_A, CTRL)
    type_(qtbot, text)


def open_account(qtbot, window, number):
    search_again(qtbot, window, number)
    press(qtbot, Qt.Key.Key_Return)  # the clerk opens it
    qtbot.waitUntil(lambda: window.account is not None and window.account.number == number)


def screen_texts(window):
    return [w.text() for w in window.findChildren(QLineEdit)] + [
        w.text() for w in window.findChildren(QLabel) if w.isVisible()]


# --- 1. the search box keeps the keyboard ---------------------------------------------------

def test_typing_the_next_customers_phone_keeps_every_digit_in_the_search_box(
        qtbot, window, two):
    first, second = two
    open_account(qtbot, window, first.number)
    press(qtbot, Qt.Key.Key_F5)  # suspend, for the first customer
    id_field = window.form_views[BusinessKind.SUSPEND].inputs["applicant_id_number"]
    assert QApplication.focusWidget() is id_field
    search_again(qtbot, window, second.phone[:2])
    wait_for_results(qtbot, window, second.phone[:2])  # the results change as the clerk types
    type_(qtbot, second.phone[2:])
    assert QApplication.focusWidget() is window.search
    assert window.search.text() == second.phone and id_field.text() == ""
    wait_for_results(qtbot, window, second.phone)
    assert QApplication.focusWidget() is window.search
    assert window.account.number == first.number  # nothing chosen while typing


def test_a_phones_last_digits_open_no_account_until_the_clerk_chooses_it(qtbot, window, two):
    _, customer = two
    type_(qtbot, customer.phone[-6:])  # the digits a phone ends with: one account, not exact
    assert wait_for_results(qtbot, window, customer.phone[-6:]) == [customer.number]
    assert window.account is None and QApplication.focusWidget() is window.search
    assert window.search_panel.highlighted() is None
    press(qtbot, Qt.Key.Key_Return)  # nothing highlighted: into the results
    assert QApplication.focusWidget() is window.search_panel.results
    assert window.account is None
    press(qtbot, Qt.Key.Key_Return)  # the clerk opens it
    assert window.account.number == customer.number


def test_a_whole_id_number_is_highlighted_and_opened_on_enter(qtbot, window, two):
    _, customer = two
    type_(qtbot, customer.id_number)
    wait_for_results(qtbot, window, customer.id_number)
    assert window.search_panel.highlighted() == 0
    assert window.account is None and QApplication.focusWidget() is window.search
    press(qtbot, Qt.Key.Key_Return)
    assert window.account.number == customer.number
    assert QApplication.focusWidget() is window.search


def test_a_number_typed_and_entered_at_once_opens_its_account(qtbot, window, two):
    """A card reader types the number and Enter faster than the search runs."""
    _, customer = two
    type_(qtbot, customer.number)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.account is not None)
    assert window.account.number == customer.number


# --- 2. a form belongs to its account -------------------------------------------------------

def test_opening_another_account_closes_the_form_and_nothing_is_left_to_submit(
        qtbot, window, two):
    first, second = two
    open_account(qtbot, window, first.number)
    press(qtbot, Qt.Key.Key_F3)  # transfer, for the first customer
    type_(qtbot, "Li Na")
    press(qtbot, Qt.Key.Key_Return)
    type_(qtbot, OTHER_ID)
    open_account(qtbot, window, second.number)
    assert window.form_host.kind is None
    assert window.form_host.stack.currentWidget() is window.form_host.no_form
    transfer = window.form_views[BusinessKind.TRANSFER].inputs.values()
    assert [w.text() for w in transfer if isinstance(w, QLineEdit) and w.text()] == []
    assert not any("Li Na" in t or OTHER_ID in t for t in screen_texts(window))
    with qtbot.assertNotEmitted(window.form_host.submitted):
        press(qtbot, Qt.Key.Key_Return, CTRL)  # submit: there is nothing to submit
    with window.services.cache.read() as s:
        assert s.scalars(select(OutboxRow)).all() == []
    press(qtbot, Qt.Key.Key_F3)  # the transfer again: the second customer's, empty
    view = window.form_views[BusinessKind.TRANSFER]
    assert window.form_host.account_number == second.number
    assert QApplication.focusWidget() is view.inputs["new_holder_name"]
    assert view.inputs["new_holder_name"].text() == ""


def test_the_close_form_shows_the_next_customer_nothing_of_the_previous_one(qtbot, window, two):
    first, second = two
    open_account(qtbot, window, first.number)
    press(qtbot, Qt.Key.Key_F7)  # close the account
    type_(qtbot, first.id_number)  # the holder's ID card, read into the form
    assert any(first.id_number in t for t in screen_texts(window))
    open_account(qtbot, window, second.number)
    assert not any(first.id_number in t for t in screen_texts(window))
    press(qtbot, Qt.Key.Key_F7)
    close = window.form_views[BusinessKind.CLOSE]
    assert close.inputs["applicant_id_number"].text() == ""


def test_without_an_account_only_a_new_connection_can_be_chosen(qtbot, window):
    buttons = window.form_host.business_buttons
    assert [k for k, b in buttons.items() if b.isEnabled()] == [BusinessKind.NEW_CONNECTION]
    press(qtbot, Qt.Key.Key_F3)  # transfer: no account to transfer
    assert window.form_host.kind is None
    assert "Find and select the account first" in window.message.text()
    assert QApplication.focusWidget() is window.search
    press(qtbot, Qt.Key.Key_F9)  # a new connection needs none
    assert window.form_host.kind is BusinessKind.NEW_CONNECTION
    assert window.form_views[BusinessKind.NEW_CONNECTION].isAncestorOf(
        QApplication.focusWidget())


# --- 3. the customer's rating --------------------------------------------------------------

def suspend_for(qtbot, window, customer):
    open_account(qtbot, window, customer.number)
    press(qtbot, Qt.Key.Key_F5)
    type_(qtbot, customer.id_number)
    with qtbot.waitSignal(window.request_finished):
        press(qtbot, Qt.Key.Key_Return, CTRL)
    rated_before = len(window.ratings)
    qtbot.waitUntil(window.rate_button.isVisible)  # the receipt first, then the rating step
    assert len(window.ratings) == rated_before
    press(qtbot, Qt.Key.Key_F11)  # the clerk turns the rating to the customer
    assert len(window.ratings) == rated_before + 1


def test_the_rating_follows_the_receipt_and_is_a_step_of_its_own(qtbot, window, two):
    from hallclient.ui.receipt_preview import ReceiptPreview

    shown = []
    window.services.show_preview = lambda preview: (shown.append(preview), preview.open())
    open_account(qtbot, window, two[0].number)
    press(qtbot, Qt.Key.Key_F5)
    type_(qtbot, two[0].id_number)
    with qtbot.waitSignal(window.request_finished):
        press(qtbot, Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: bool(shown))
    [preview] = shown
    assert isinstance(preview, ReceiptPreview) and window.ratings == []
    qtbot.keyClick(preview, Qt.Key.Key_Escape)  # the receipt is handed over
    window.activateWindow()  # as the window manager does when a dialog closes
    qtbot.waitUntil(window.isActiveWindow)
    assert window.rate_button.isVisible() and window.ratings == []
    assert window.rate_button.text() == "Ask the customer to rate (F11)"
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert len(window.ratings) == 1 and window.rate_button.isHidden()
    qtbot.keyClick(window, Qt.Key.Key_F11)  # one rating per transaction
    assert len(window.ratings) == 1


def test_enter_in_the_rating_window_rates_nothing(qtbot, window, two):
    from hallcore.wire import Rating

    suspend_for(qtbot, window, two[0])
    [rating] = window.ratings
    rating.show_to_customer()
    rating.activateWindow()
    qtbot.waitUntil(rating.isActiveWindow)
    assert QApplication.focusWidget() is rating.reason
    for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
        press(qtbot, key)
    type_(qtbot, "ok")
    press(qtbot, Qt.Key.Key_Return)
    assert rating.isVisible()
    with window.services.cache.read() as s:
        assert s.scalars(select(FeedbackRow)).all() == []
    assert not any(b.isDefault() or b.autoDefault()
                   for b in [*rating.buttons.values(), rating.skip])
    qtbot.mouseClick(rating.buttons[Rating.DISSATISFIED], Qt.MouseButton.LeftButton)
    assert not rating.isVisible()
    with window.services.cache.read() as s:
        assert s.scalars(select(FeedbackRow.rating)).all() == ["dissatisfied"]


# --- 4. the customer's session -------------------------------------------------------------

def test_next_customer_leaves_nothing_of_the_previous_one_and_waits_in_the_search_box(
        qtbot, window, two):
    first, _ = two
    suspend_for(qtbot, window, first)
    assert "Accepted, receipt" in window.message.text()
    press(qtbot, Qt.Key.Key_F3)  # and a transfer, begun
    type_(qtbot, "Li Na")
    press(qtbot, Qt.Key.Key_F12)
    assert QApplication.focusWidget() is window.search
    assert window.search.text() == "" and shown_numbers(window) == []
    assert window.account is None and window.form_host.kind is None
    assert window.message.text() == "" and window.history_panel.list.count() == 0
    assert not any("Li Na" in t or first.holder_name in t for t in screen_texts(window))
    assert window.next_button.text() == "Next customer (F12)"
    open_account(qtbot, window, first.number)
    window.next_button.click()  # the same with the mouse
    assert window.account is None and QApplication.focusWidget() is window.search


def test_the_handling_time_runs_from_the_first_search_keystroke_to_the_submit(
        qtbot, window, two, clock):
    customer = two[0]
    type_(qtbot, customer.number[:1])  # the customer arrives and the clerk starts searching
    clock.now += 90  # finding the account, asking what they need, checking the ID card
    type_(qtbot, customer.number[1:])
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.account is not None)
    press(qtbot, Qt.Key.Key_F5)
    clock.now += 60
    type_(qtbot, customer.id_number)
    with qtbot.waitSignal(window.request_finished):
        press(qtbot, Qt.Key.Key_Return, CTRL)
    with window.services.cache.read() as s:
        assert s.scalars(select(OutboxRow.handling_seconds)).all() == [150]


def test_next_customer_starts_the_clock_and_a_rating_stops_it(qtbot, window, two, clock):
    from hallcore.wire import Rating

    first, second = two
    clock.now = 5000.0
    press(qtbot, Qt.Key.Key_F12)  # the clerk calls the customer to the counter
    clock.now += 40
    suspend_for(qtbot, window, first)
    window.ratings[0].buttons[Rating.SATISFIED].click()  # the visit is over
    clock.now += 600  # nobody at the counter
    suspend_for(qtbot, window, second)  # the next visit starts at its search
    with window.services.cache.read() as s:
        times = s.scalars(select(OutboxRow.handling_seconds).order_by(OutboxRow.seq)).all()
    assert times == [40, 0]


# --- 5. the results as a table -------------------------------------------------------------

def test_results_are_a_table_with_a_count_a_masked_id_and_an_empty_state(qtbot, window, two):
    prefix = two[0].number[:-2]  # the first digits of an account number: many accounts
    type_(qtbot, prefix)
    found = wait_for_results(qtbot, window, prefix)
    table, panel = window.search_panel.results, window.search_panel
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers == ["Account", "Holder", "Status", "ID (last 4)", "Address"]
    assert panel.count.text() == f"{len(found)} results" and len(found) > 1
    with window.services.cache.read() as s:
        ids = {a.number: a.id_number for a in search_accounts(s, prefix)}
    for row in range(table.rowCount()):
        id_cell = table.item(row, 3).text()
        full = ids[table.item(row, 0).text()]
        if full is None:
            assert id_cell == ""
            continue
        assert re.fullmatch(r"\*{4}[0-9X]{4}", id_cell) and id_cell.endswith(full[-4:])
        assert not any(full in table.item(row, c).text() for c in range(table.columnCount()))
    assert table.item(0, 2).text() in {"in supply", "suspended", "closed",
                                       "awaiting connection"}
    window.set_language("zh")
    assert panel.count.text() == f"{len(found)} 个结果"
    assert table.horizontalHeaderItem(3).text() == "证件尾号"
    search_again(qtbot, window, "zzqq")
    wait_for_results(qtbot, window, "zzqq")
    qtbot.waitUntil(lambda: panel.count.text() == "没有相符的账户")
    assert table.rowCount() == 0 and QApplication.focusWidget() is window.search


def test_the_keyboard_moves_between_the_search_box_and_the_results(qtbot, window, two):
    prefix = two[0].number[:-2]
    type_(qtbot, prefix)
    found = wait_for_results(qtbot, window, prefix)
    table = window.search_panel.results
    press(qtbot, Qt.Key.Key_Down)  # into the results, on the first row
    assert QApplication.focusWidget() is table and table.currentRow() == 0
    press(qtbot, Qt.Key.Key_Down)
    press(qtbot, Qt.Key.Key_Up)
    assert table.currentRow() == 0 and window.account is None  # moving opens nothing
    press(qtbot, Qt.Key.Key_Up)  # from the first row: back to the search box
    assert QApplication.focusWidget() is window.search
    press(qtbot, Qt.Key.Key_Down)
    press(qtbot, Qt.Key.Key_Down)
    press(qtbot, Qt.Key.Key_Return)  # the clerk opens the second account
    assert window.account.number == found[1]
    assert QApplication.focusWidget() is table


def test_a_request_ends_well_when_the_widget_focused_at_submit_is_gone(qtbot, window, two):
    """The cursor goes back only into the form: a widget of another window, focused when
    the request was submitted and deleted while it was recorded, is never touched."""
    import shiboken6
    from PySide6.QtWidgets import QLineEdit

    open_account(qtbot, window, two[0].number)
    press(qtbot, Qt.Key.Key_F5)
    type_(qtbot, two[0].id_number)
    other = QLineEdit()
    other.show()
    other.activateWindow()
    other.setFocus()
    qtbot.waitUntil(other.hasFocus)
    with qtbot.waitSignal(window.request_finished):
        window.form_views[BusinessKind.SUSPEND].submit()
        shiboken6.delete(other)
    assert "Accepted" in window.message.text()


def test_a_search_that_fails_is_said_in_words_never_in_its_own_text(qtbot, window, monkeypatch,
                                                                     caplog):
    import hallclient.ui.search_panel as module

    def broken(session, query):
        raise RuntimeError(f"no such column near {query!r}")  # a programmer's words

    monkeypatch.setattr(module, "search_accounts", broken)
    press(qtbot, Qt.Key.Key_F12)
    type_(qtbot, "13800138000")
    qtbot.waitUntil(lambda: window.message.text() != "")
    assert window.message.text() == "An unexpected error, written to the log"
    assert "13800138000" not in window.message.text() + caplog.text  # nor in the log
    assert "RuntimeError" in caplog.text
    assert QApplication.focusWidget() is window.search


def test_a_transfer_typed_as_a_clerk_types_it_asks_for_sms_consent(qtbot, window, two):
    """Point 10: the yes/no/not-asked choice is said, not a silent tri-state box; a transfer
    is not taken until the clerk has asked the new holder about SMS."""
    customer = two[0]
    press(qtbot, Qt.Key.Key_F12)
    open_account(qtbot, window, customer.number)
    press(qtbot, Qt.Key.Key_F3)
    view = window.form_views[BusinessKind.TRANSFER]
    commit("林晓燕")
    press(qtbot, Qt.Key.Key_Return)  # to the ID type (from the card)
    press(qtbot, Qt.Key.Key_Return)  # to the ID number
    type_(qtbot, OTHER_ID)
    press(qtbot, Qt.Key.Key_Return)  # to the phone
    type_(qtbot, "13922334455")
    press(qtbot, Qt.Key.Key_Return)  # to the SMS consent: not asked yet
    consent = view.inputs["new_holder_sms_consent"]
    assert focused() is consent and consent.currentText() == "— not asked —"
    press(qtbot, Qt.Key.Key_Return, CTRL)
    assert view.errors["new_holder_sms_consent"].text() == "Ask the customer, then choose"
    with window.services.cache.read() as s:
        assert s.scalars(select(OutboxRow)).all() == []  # nothing taken
    consent.setFocus()
    press(qtbot, Qt.Key.Key_Down)  # yes
    assert consent.currentText() == "Yes"
    with qtbot.waitSignal(window.request_finished):
        press(qtbot, Qt.Key.Key_Return, CTRL)
    with window.services.cache.read() as s:
        op = s.scalars(select(OutboxRow)).one()
    assert op.payload["new_holder_sms_consent"] is True
    assert op.customer_signature == signature()  # the new holder signed on their screen


def test_a_refusal_before_the_form_and_at_the_submit_as_a_clerk_meets_them(qtbot, window, two):
    """Point 5: the reason is there before anything is typed, in red at the form; a refusal
    at the submit goes once the clerk corrects the field; both follow Ctrl+L."""
    from hallclient.ui.message_bar import Severity

    customer = two[0]
    open_account(qtbot, window, customer.number)  # in supply
    press(qtbot, Qt.Key.Key_F6)  # resume: not for an account in supply
    assert window.form_host.kind is None and window.message.severity is Severity.REFUSED
    assert "cannot be done while the account is in supply" in window.message.text()
    press(qtbot, Qt.Key.Key_L, CTRL)
    assert "不能办理恢复用电" in window.message.text()
    press(qtbot, Qt.Key.Key_L, CTRL)
    press(qtbot, Qt.Key.Key_F4)  # rename: to the name already on record
    assert window.message.text() == ""
    type_(qtbot, customer.id_number)
    press(qtbot, Qt.Key.Key_Return)
    commit(customer.holder_name)
    with qtbot.waitSignal(window.request_finished):
        press(qtbot, Qt.Key.Key_Return, CTRL)
    assert "nothing to change" in window.message.text()
    assert focused() is window.form_views[BusinessKind.RENAME].inputs["new_name"]
    press(qtbot, Qt.Key.Key_Backspace)  # the clerk corrects it
    assert window.message.text() == ""


def test_the_next_customer_cannot_rate_the_previous_ones_request(qtbot, window, two):
    first, second = two
    open_account(qtbot, window, first.number)
    press(qtbot, Qt.Key.Key_F5)
    type_(qtbot, first.id_number)
    with qtbot.waitSignal(window.request_finished):
        press(qtbot, Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(window.rate_button.isVisible)  # the first customer's rating is due
    window.search.setFocus()
    open_account(qtbot, window, second.number)  # the clerk turns to the next one without F12
    assert window.rate_button.isHidden()
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert window.ratings == []  # nothing the second customer could rate for the first
