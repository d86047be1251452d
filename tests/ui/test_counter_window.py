"""The counter window driven as a clerk would: find, choose the business, fill, submit."""

import sqlite3
import subprocess
from contextlib import closing
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel
from sqlalchemy import select

from hallclient.receipts.content import HallInfo
from hallclient.store.accounts import save_account
from hallclient.store.models import AccountRow, OutboxRow, ReceiptRow
from hallclient.store.operations import TerminalIdentity
from hallclient.sync.worker import SyncStatus
from hallclient.ui.counter_window import CounterServices, CounterWindow
from hallclient.ui.message_bar import Severity
from hallcore.domain.accounts import AccountStatus
from hallcore.domain.business import BUSINESS_TYPES, BusinessKind
from hallcore.domain.text import Text
from hallcore.wire import Rating
from tests.support.counter import district_cache
from tests.support.customer_screen import customer_at_screen
from tests.support.factories import TERMINAL_KEY


@pytest.fixture
def window(qtbot, tmp_path):
    cache = district_cache(tmp_path / "cache.sqlite3")
    previews, ratings, screens = [], [], []
    online = {"now": True}
    services = CounterServices(
        cache, TerminalIdentity("GZ-TH-01", "T01", TERMINAL_KEY), "gz-th-01-c1",
        HallInfo("GZ-TH-01", Text("天河营业厅", "Tianhe Service Hall")),
        online=lambda: online["now"], show_preview=previews.append,
        ask_rating=ratings.append, ask_signature=customer_at_screen(screens))
    w = CounterWindow(services, lang="en")
    qtbot.addWidget(w)
    w.show()
    w.previews, w.ratings, w.online_switch = previews, ratings, online
    w.customer_screens = screens  # the customer signs where the business needs it
    yield w
    cache.close()


def find_one(qtbot, window, status=AccountStatus.ACTIVE):
    from hallclient.store.accounts import account_from_row
    from hallclient.store.models import AccountRow
    with window.services.cache.read() as s:
        row = s.scalars(select(AccountRow).where(
            AccountRow.status == status.value, AccountRow.id_number.is_not(None),
            AccountRow.arrears_fen == 0)).first()
        target = account_from_row(row)
    window.search.setFocus()
    qtbot.keyClicks(window.search, target.number)
    qtbot.keyClick(window.search, Qt.Key.Key_Return)  # the clerk opens it
    qtbot.waitUntil(lambda: window.account is not None and window.account.number == target.number)
    return target


def rating_offered(qtbot, window):
    """Waits for the rating step after a request: the clerk hands the receipt over, then
    turns the rating to the customer with F11."""
    qtbot.waitUntil(window.rate_button.isVisible)
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert window.ratings and window.rate_button.isHidden()


def test_the_account_opened_from_the_search_shows_its_data_masked(qtbot, window):
    target = find_one(qtbot, window)
    panel = window.account_panel.text()
    assert target.holder_name in panel
    assert target.id_number not in panel and target.id_number[:4] + "*" in panel


def test_the_account_panel_says_until_when_the_holders_id_is_valid(qtbot, window):
    target = find_one(qtbot, window)
    window.account_panel.show_account(replace(target, id_valid_until=date(2000, 1, 31)))
    assert "ID document expired on 2000-01-31" in window.account_panel.text()
    window.account_panel.show_account(replace(target, id_valid_until=date(2999, 1, 31)))
    assert "ID document valid until 2999-01-31" in window.account_panel.text()


def test_suspend_from_the_keyboard_records_it_and_shows_the_receipt(qtbot, window):
    target = find_one(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_F5)  # suspend
    view = window.form_views[BusinessKind.SUSPEND]
    assert view.values()["applicant_id_type"] == target.id_type.value  # from the account
    view.inputs["applicant_id_number"].setFocus()
    qtbot.keyClicks(view.inputs["applicant_id_number"], target.id_number)
    qtbot.keyClick(view.inputs["applicant_id_number"], Qt.Key.Key_Return)  # card reader
    with qtbot.waitSignal(window.request_finished):
        qtbot.keyClick(view.inputs["resume_on"], Qt.Key.Key_Return)  # last field: submit
    assert "Accepted, receipt GZ-TH-01-T01-" in window.message.text()
    assert window.account.status is AccountStatus.SUSPENDED
    qtbot.waitUntil(lambda: len(window.previews) == 1)  # rendered off the UI thread
    [preview] = window.previews
    assert preview.document.pageCount() == 1
    with window.services.cache.read() as s:
        assert s.scalars(select(OutboxRow.business_type)).all() == ["suspend"]
        assert s.scalars(select(ReceiptRow.content)).one()["kind"] == "suspend"


def test_a_business_the_account_does_not_allow_is_refused_before_the_form(qtbot, window):
    find_one(qtbot, window)  # in supply: it cannot be resumed
    resume = window.form_host.business_buttons[BusinessKind.RESUME]
    assert not resume.isEnabled() and resume.text().endswith("\nF6 · In supply")
    assert "Resumption of supply cannot be done while the account is in supply" in (
        resume.toolTip())
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_F6)  # its key still answers, with why
    assert window.form_host.kind is None
    assert "Resumption of supply cannot be done" in window.message.text()
    assert window.message.severity is Severity.REFUSED


def test_refusal_is_read_out_in_red_not_recorded_and_retranslated(qtbot, window):
    target = find_one(qtbot, window)
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_F4)  # rename
    view = window.form_views[BusinessKind.RENAME]
    view.fill({"applicant_id_number": target.id_number, "new_name": target.holder_name})
    with qtbot.waitSignal(window.request_finished):
        view.submit()
    assert "nothing to change" in window.message.text()
    assert window.message.severity is Severity.REFUSED and window.message.isVisible()
    assert window.previews == []
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert "无需更名" in window.message.text()
    qtbot.keyClick(view.inputs["new_name"], Qt.Key.Key_Backspace)  # the clerk corrects it
    assert window.message.text() == "" and window.message.isHidden()


def test_close_account_is_refused_offline(qtbot, window):
    target = find_one(qtbot, window)
    window.online_switch["now"] = False
    window.open_form(BusinessKind.CLOSE)
    assert window.form_host.kind is None  # said before anything is typed
    assert "only be done while the server can be reached" in window.message.text()
    close = window.form_host.business_buttons[BusinessKind.CLOSE]
    assert not close.isEnabled() and close.text().endswith("\nF7 · Needs the network")
    window.online_switch["now"] = True
    window.open_form(BusinessKind.CLOSE)
    assert window.form_host.kind is BusinessKind.CLOSE
    assert "needs a supervisor's sign-off" in window.message.text()
    assert window.message.severity is Severity.WARNING
    assert target.number == window.form_host.account_number


def test_sync_status_is_always_shown_and_the_language_switches_at_once(qtbot, window):
    window.status_bridge.changed.emit(SyncStatus(
        online=False, login_needed=False, pending=3, oldest_pending_at=None, open_tasks=1,
        last_pull_at=datetime(2026, 11, 25, 3, tzinfo=UTC), last_push_at=None))
    label = window.sync_status.label
    assert "offline" in label.text() and "pending 3" in label.text()
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert "离线" in label.text() and "待发 3 笔" in label.text()
    transfer = window.form_host.business_buttons[BusinessKind.TRANSFER]
    assert transfer.text() == "过户\nF3 · 须先选定账户" and not transfer.isEnabled()


def test_a_sync_status_change_follows_the_network_without_reading_the_calendar(
        qtbot, window, monkeypatch):
    """The status comes every few seconds: the buttons follow it with the calendar the window
    holds, read for each customer (a window left behind by a closed session reached for a
    cache that was gone)."""
    find_one(qtbot, window)
    calendar = window.calendar
    reads = []
    monkeypatch.setattr("hallclient.ui.counter_window.hall_calendar",
                        lambda cache: reads.append(cache) or 1 / 0)
    window.online_switch["now"] = False
    window.status_bridge.changed.emit(SyncStatus(
        online=False, login_needed=False, pending=0, oldest_pending_at=None, open_tasks=0,
        last_pull_at=None, last_push_at=None))
    close = window.form_host.business_buttons[BusinessKind.CLOSE]
    assert close.text().endswith("\nF7 · Needs the network") and reads == []
    assert window.calendar is calendar


def test_reprint_from_the_history_is_marked_as_a_copy_and_audited(qtbot, window, monkeypatch):
    from PySide6.QtWidgets import QDialog

    from hallclient.store.models import AuditRow

    target = find_one(qtbot, window)
    window.open_form(BusinessKind.SUSPEND)
    window.form_views[BusinessKind.SUSPEND].fill({"applicant_id_number": target.id_number})
    window.form_views[BusinessKind.SUSPEND].submit()
    qtbot.waitUntil(lambda: len(window.previews) == 1)
    monkeypatch.setattr(QDialog, "exec", lambda self: 1)  # the clerk picks the latest
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(window.previews) == 2)
    copy_text = subprocess.run(["pdftotext", "-", "-"], input=window.previews[1].pdf,
                               capture_output=True, check=True).stdout.decode()
    assert "COPY" in copy_text or "补打副本" in copy_text
    with window.services.cache.read() as s:
        assert s.scalars(select(AuditRow.action).where(AuditRow.action == "reprint")).all() == [
            "reprint"]
        assert s.scalars(select(ReceiptRow.copies_printed)).one() == 1


def test_account_panel_lists_its_operations_and_follows_their_sync_state(qtbot, window):
    target = find_one(qtbot, window)
    assert window.history_panel.list.count() == 0
    window.open_form(BusinessKind.SUSPEND)
    window.form_views[BusinessKind.SUSPEND].fill({"applicant_id_number": target.id_number})
    window.form_views[BusinessKind.SUSPEND].submit()
    rating_offered(qtbot, window)  # the account follows, then the rating step
    history = window.history_panel.list
    [line] = [history.item(i).text() for i in range(history.count())]
    assert "Suspension of supply" in line and "waiting to send" in line
    assert "GZ-TH-01-T01-" in line
    with window.services.cache.write() as s:  # the server has applied it
        s.scalars(select(OutboxRow)).one().state = "applied"
    window.status_bridge.changed.emit(SyncStatus(
        online=True, login_needed=False, pending=0, oldest_pending_at=None, open_tasks=0,
        last_pull_at=None, last_push_at=None))
    assert "synced" in window.history_panel.list.item(0).text()
    window.set_language("zh")
    assert "已同步" in window.history_panel.list.item(0).text()
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_F12)  # the next customer
    assert window.account is None and window.history_panel.list.count() == 0


def test_a_bootstrap_shows_its_progress_until_it_is_done(qtbot, window):
    from hallclient.sync.engine import BootstrapProgress

    def status(progress):
        return SyncStatus(online=True, login_needed=False, pending=0, oldest_pending_at=None,
                          open_tasks=0, last_pull_at=None, last_push_at=None,
                          bootstrap=progress)

    assert not window.sync_status.progress.isVisible()
    window.status_bridge.changed.emit(status(BootstrapProgress(received=400, total=1000)))
    bar = window.sync_status.progress
    assert bar.isVisible() and (bar.value(), bar.maximum()) == (400, 1000)
    assert bar.text() == "Loading accounts: 400 of 1000"
    window.status_bridge.changed.emit(status(BootstrapProgress(received=1200, total=None)))
    assert bar.isVisible() and bar.maximum() == 0  # busy: the size is not known
    window.status_bridge.changed.emit(status(None))
    assert not bar.isVisible()


def test_a_receipt_that_cannot_be_drawn_is_said_and_the_request_stays_recorded(
        qtbot, window, monkeypatch):
    import hallclient.counter.requests as module

    def broken(*args, **kwargs):
        raise OSError("font file unreadable")

    monkeypatch.setattr(module, "render_pdf", broken)
    target = find_one(qtbot, window)
    window.open_form(BusinessKind.SUSPEND)
    window.form_views[BusinessKind.SUSPEND].fill({"applicant_id_number": target.id_number})
    window.form_views[BusinessKind.SUSPEND].submit()
    qtbot.waitUntil(lambda: "could not be drawn" in window.message.text())
    assert "an unexpected error, written to the log" in window.message.text()
    assert "font file unreadable" not in window.message.text()  # a programmer's words
    assert window.previews == []
    assert "GZ-TH-01-T01-" in window.message.text() and "Ctrl+R" in window.message.text()
    with window.services.cache.read() as s:  # reprint (Ctrl+R) can draw it later
        assert s.scalars(select(ReceiptRow.receipt_no)).one().startswith("GZ-TH-01-T01-")


def test_a_business_shortcut_after_searching_puts_the_cursor_in_the_form(qtbot, window):
    target = find_one(qtbot, window)  # the cursor is in the search box
    qtbot.keyClick(window.search, Qt.Key.Key_F3)  # transfer
    view = window.form_views[BusinessKind.TRANSFER]
    qtbot.waitUntil(lambda: view.inputs["new_holder_name"].hasFocus())
    qtbot.keyClicks(window.focusWidget(), "Li Na")
    assert view.inputs["new_holder_name"].text() == "Li Na"
    assert window.search.text() == target.number
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_F5)  # suspend: ID type from the account
    suspend = window.form_views[BusinessKind.SUSPEND]
    qtbot.waitUntil(lambda: suspend.inputs["applicant_id_number"].hasFocus())


def test_after_a_request_the_form_is_empty_and_the_result_shows_the_account_as_it_is_now(
        qtbot, window):
    from tests.support.factories import OTHER_ID

    target = find_one(qtbot, window)
    window.open_form(BusinessKind.TRANSFER)
    view = window.form_views[BusinessKind.TRANSFER]
    view.fill({"new_holder_name": "林晓燕", "new_holder_id_number": OTHER_ID,
               "new_holder_phone": "13922334455", "new_holder_sms_consent": True})
    view.submit()
    rating_offered(qtbot, window)  # the account follows, then the rating step
    assert "Accepted" in window.message.text()
    assert view.inputs["new_holder_name"].text() == ""  # nothing left for the next customer
    results = window.search_panel.results
    [row] = [r for r in range(results.rowCount()) if results.item(r, 0).text() == target.number]
    assert results.item(row, 1).text() == "林晓燕"


# A close offline is refused before its form: test_close_account_is_refused_offline.
@pytest.mark.parametrize(("kind", "online"), [
    pytest.param(kind, online, id=f"{kind.value}-{'online' if online else 'offline'}")
    for kind in BusinessKind for online in (True, False)
    if online or kind is not BusinessKind.CLOSE])
def test_every_form_from_its_shortcut_bad_input_then_good(qtbot, window, kind, online):
    """Each business as a clerk does it: its key, a mistyped ID number (said beside the
    field, nothing recorded), then the request as it should be — online and offline."""
    from datetime import date
    from enum import Enum

    from hallclient.forms import FORMS
    from hallclient.samples import SAMPLE_ACCOUNT, sample_payload

    window.online_switch["now"] = online
    needs_account = kind is not BusinessKind.NEW_CONNECTION
    status = AccountStatus.SUSPENDED if kind is BusinessKind.RESUME else AccountStatus.ACTIVE
    target = find_one(qtbot, window, status) if needs_account else None
    qtbot.keyClick(window.focusWidget(), getattr(Qt.Key, f"Key_{FORMS[kind].shortcut}"))
    view = window.form_views[kind]
    assert window.form_host.stack.currentWidget() is view
    payload = {k: v.value if isinstance(v, Enum) else v
               for k, v in sample_payload(kind, target or SAMPLE_ACCOUNT, date.today()).items()}
    id_field = next(n for n in payload if n.endswith("id_number"))
    good_id = payload[id_field]
    view.fill({**payload, id_field: good_id[:-1] + ("0" if good_id[-1] != "0" else "1")})
    view.submit()
    assert view.errors[id_field].text(), "a mistyped ID number is said beside its field"
    view.fill({id_field: good_id})
    with qtbot.waitSignal(window.request_finished):
        view.submit()
    with window.services.cache.read() as s:
        recorded = s.scalars(select(OutboxRow.business_type)).all()
    if kind is BusinessKind.CLOSE:
        assert "supervisor must confirm" in window.message.text() and recorded == []
    else:
        assert "Accepted, receipt GZ-TH-01-T01-" in window.message.text()
        assert recorded == [kind.value]
        qtbot.waitUntil(lambda: len(window.previews) == 1)
    # The customer signed where the business asks it, before anything was recorded.
    assert len(window.customer_screens) == BUSINESS_TYPES[kind].customer_signs


def test_the_customer_rates_the_transaction_and_the_counter_says_how_it_went(qtbot, window):
    from hallclient.store.models import FeedbackRow
    from hallcore.wire import NotSettledReason

    target = find_one(qtbot, window)
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_F5)  # suspend
    view = window.form_views[BusinessKind.SUSPEND]
    view.fill({"applicant_id_number": target.id_number})
    view.settled.setChecked(False)  # the customer must bring a document later
    view.not_settled_reason.setCurrentIndex(
        view.not_settled_reason.findData(NotSettledReason.DOCUMENTS_MISSING))
    view.submit()
    rating_offered(qtbot, window)  # the account follows, then the rating step
    assert view.settled.isChecked()  # the next customer starts from "settled"
    [rating] = window.ratings
    rating.reason.setText("  快，谢谢  ")
    rating.buttons[Rating.BASICALLY_SATISFIED].click()
    with window.services.cache.read() as s:
        op = s.scalars(select(OutboxRow)).one()
        feedback = s.scalars(select(FeedbackRow)).one()
    assert (op.first_contact, op.not_settled_reason) == (False, "documents_missing")
    assert op.handling_seconds is not None and op.handling_seconds >= 0
    assert (feedback.operation_id, feedback.rating, feedback.reason, feedback.state) == (
        op.operation_id, "basically_satisfied", "快，谢谢", "pending")
    # Should the cache file be lost, the rating is not: the outbox backup written after it
    # (off the UI thread) holds it.
    from hallclient.store.outbox_backup import find_backups

    def backed_up() -> bool:
        backups = find_backups(window.services.cache.path.parent)
        if not backups:
            return False
        with closing(sqlite3.connect(backups[0])) as db:
            return db.execute("SELECT count(*) FROM feedback").fetchone()[0] == 1

    qtbot.waitUntil(backed_up, timeout=5000)


def test_the_account_history_shows_the_sms_the_customer_was_sent(qtbot, window):
    from hallcore.wire import AccountNotifications, NotificationWire

    sent_at = datetime(2026, 11, 25, 3, 5, tzinfo=UTC)  # 11:05 in the hall

    def notifications(number: str) -> AccountNotifications:
        with window.services.cache.read() as s:
            ids = s.scalars(select(OutboxRow.operation_id)).all()
        return AccountNotifications(account_number=number, items=[
            NotificationWire(operation_id=op, notice="accepted", state="sent",
                             queued_at=sent_at, sent_at=sent_at) for op in ids] + [
            NotificationWire(operation_id=op, notice="completed", state="pending",
                             queued_at=sent_at, sent_at=None) for op in ids])

    window.history_panel.notifications = notifications
    target = find_one(qtbot, window)
    window.open_form(BusinessKind.SUSPEND)
    window.form_views[BusinessKind.SUSPEND].fill({"applicant_id_number": target.id_number})
    window.form_views[BusinessKind.SUSPEND].submit()
    qtbot.waitUntil(lambda: window.history_panel.list.count() == 3)
    lines = [window.history_panel.list.item(i).text() for i in range(3)]
    assert "Suspension of supply" in lines[0]
    assert lines[1].strip() == "SMS “accepted” sent 11-25 11:05"
    assert lines[2].strip() == "SMS “completed” waiting to be sent"


def test_a_record_with_gaps_invites_the_clerk_to_complete_it(qtbot, window):
    from dataclasses import replace


    target = find_one(qtbot, window)
    with window.services.cache.write() as s:
        save_account(s, replace(target, mailing_address=None, sms_consent=False))
    window.search.clear()
    qtbot.keyClicks(window.search, target.number)
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.account_panel.complete_button.isVisible())
    window.account_panel.complete_button.click()
    assert window.form_host.stack.currentWidget() is window.form_views[BusinessKind.CONTACT_CHANGE]
    assert window.message.text() == "Ask the customer for: mailing address, SMS consent"


def test_a_customer_who_reads_english_gets_sms_in_english(qtbot, window):
    from hallclient.store.models import AccountRow

    target = find_one(qtbot, window)
    assert "SMS notices in Chinese" in window.account_panel.text()
    qtbot.keyClick(window, Qt.Key.Key_F8)
    view = window.form_views[BusinessKind.CONTACT_CHANGE]
    assert view.current["sms_language"].text() == "now: Chinese"  # beside the new value
    assert view.current["phone"].text() == f"now: {target.phone[:3]}****{target.phone[-4:]}"
    language = view.inputs["sms_language"]
    assert [language.itemText(i) for i in range(language.count())] == [
        "— keep current —", "Chinese", "English"]
    assert "sms_language" not in view.values()  # keep current: left as it is
    view.fill({"applicant_id_number": target.id_number})
    language.setFocus()
    qtbot.keyClick(language, Qt.Key.Key_End)
    view.submit()
    rating_offered(qtbot, window)  # the account follows, then the rating step
    assert "Accepted" in window.message.text()
    assert "SMS notices in English" in window.account_panel.text()
    with window.services.cache.read() as s:
        assert s.get(AccountRow, target.number).sms_language == "en"
        assert s.scalars(select(OutboxRow.payload)).one()["sms_language"] == "en"
        receipt = s.scalars(select(ReceiptRow.content)).one()
    assert "SMS language: Chinese → English" in str(receipt)


def test_a_receipt_drawn_after_its_window_is_deleted_reaches_nothing(
        qtbot, one_account_cache, monkeypatch):
    """The clerk logs out while a request's receipt is being drawn and the window is
    deleted: the recorded request and its receipt are dropped, never handed to the window
    that is gone."""
    import threading

    import shiboken6
    from PySide6.QtCore import QCoreApplication, QThreadPool

    import hallclient.counter.requests as module
    from tests.support.factories import account

    drawing, finish = threading.Event(), threading.Event()
    real_render = module.render_pdf

    def slow_render(*args, **kwargs):
        drawing.set()
        finish.wait(10)
        return real_render(*args, **kwargs)

    monkeypatch.setattr(module, "render_pdf", slow_render)
    previews = []
    window = CounterWindow(CounterServices(
        one_account_cache, TerminalIdentity("GZ-TH-01", "T01", TERMINAL_KEY), "gz-th-01-c1",
        HallInfo("GZ-TH-01", Text("天河营业厅", "Tianhe Service Hall")),
        show_preview=previews.append, ask_rating=lambda _window: None), lang="en")
    window.account = account()
    window.open_form(BusinessKind.SUSPEND)
    window.form_views[BusinessKind.SUSPEND].fill({"applicant_id_number": account().id_number})
    window.form_views[BusinessKind.SUSPEND].submit()
    qtbot.waitUntil(drawing.is_set)
    with qtbot.waitSignal(window.destroyed):
        window.deleteLater()
    finish.set()
    QThreadPool.globalInstance().waitForDone()
    QCoreApplication.sendPostedEvents()  # the drawn receipt comes back now
    assert not shiboken6.isValid(window) and previews == []


def test_a_supervisor_extends_the_offline_window_at_the_counter(window, qtbot):
    from hallclient.auth.approval import ApprovalRefused
    from hallclient.ui.supervisor_dialog import SupervisorDialog
    from hallcore.wire import TerminalFacts

    def extend(supervisor, password):
        if (supervisor, password) != ("gz-th-01-s1", "right"):
            raise ApprovalRefused("the supervisor's id or password is wrong")
        return TerminalFacts(server_identity="db", server_time=datetime.now(UTC),
                             last_receipt_no=None, offline_window_hours=144)

    woken = []
    window.services.extend_offline_window = extend
    window.services.on_recorded = lambda: woken.append(True)
    window.extend_offline_window()
    [dialog] = [w for w in window.findChildren(SupervisorDialog) if w.isVisible()]
    assert "offline window" in dialog.reason.text()
    dialog.supervisor.setText("gz-th-01-s1")
    dialog.password.setText("wrong")
    dialog.sign_off()
    qtbot.waitUntil(lambda: "wrong" in dialog.message.text(), timeout=5000)
    assert not woken and dialog.isVisible()
    dialog.password.setText("right")
    dialog.sign_off()
    qtbot.waitUntil(lambda: bool(woken), timeout=5000)
    assert "144 hours" in window.message.text() and not dialog.isVisible()


def test_the_header_shows_arrears_in_red_and_the_buttons_what_they_mean(qtbot, window):
    from hallclient.ui import palette

    with window.services.cache.write() as s:
        row = s.scalars(select(AccountRow).where(
            AccountRow.status == AccountStatus.ACTIVE.value)).first()
        row.arrears_fen = 12_345
        number = row.number
    window.search.setFocus()
    qtbot.keyClicks(window.search, number)
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.account is not None)
    header = window.account_panel
    assert header.arrears.text() == "Arrears ¥123.45"
    assert palette.REFUSED in header.arrears.styleSheet()
    assert header.status_chip.text() == "in supply"
    buttons = window.form_host.business_buttons
    assert not buttons[BusinessKind.CLOSE].isEnabled()
    assert buttons[BusinessKind.CLOSE].text().endswith("\nF7 · Owes ¥123.45")
    assert buttons[BusinessKind.TRANSFER].isEnabled()
    assert "take it on" in buttons[BusinessKind.TRANSFER].toolTip()
    qtbot.keyClick(window, Qt.Key.Key_F12)  # the next customer: nothing of this one
    assert header.arrears.isHidden() and not buttons[BusinessKind.TRANSFER].isEnabled()


def test_the_supervisor_sees_what_they_approve(qtbot, window):
    from hallclient.ui.supervisor_dialog import SupervisorDialog

    def approve(supervisor, password, needed):
        raise AssertionError("not signed in this test")

    window.services.approve = approve
    target = find_one(qtbot, window)
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_F7)  # close: a supervisor signs off
    view = window.form_views[BusinessKind.CLOSE]
    view.fill({"applicant_id_number": target.id_number})
    with qtbot.waitSignal(window.request_finished):
        view.submit()
    assert window.message.severity is Severity.WARNING  # a step to take, not a refusal
    [dialog] = [w for w in window.findChildren(SupervisorDialog) if w.isVisible()]
    assert dialog.subject is not None and dialog.subject.account_number == target.number
    shown = [label.text() for label in dialog.subject_box.findChildren(QLabel)]
    assert target.number in shown and target.holder_name in shown
    assert dialog.subject_box.title() == "Closing the account"
    assert target.id_number not in " ".join(shown)  # masked
    dialog.reject()


def test_a_long_form_scrolls_inside_a_small_screen_and_follows_the_cursor(qtbot, window):
    window.resize(1200, 450)  # smaller than any screen a hall has: the form must scroll
    qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_F9)  # the longest form
    view = window.form_views[BusinessKind.NEW_CONNECTION]
    qtbot.waitUntil(lambda: view.isAncestorOf(window.focusWidget()))
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert sum(error.isVisible() for error in view.errors.values()) >= 4  # said, each field
    assert window.height() <= 450  # the window did not grow past the screen
    first, submit = next(iter(view.inputs.values())), view.submit_button
    scrolled = window.form_host.scroller.verticalScrollBar()
    assert scrolled.maximum() > 0  # the form is taller than its room
    submit.setFocus()  # as Tab reaches it
    qtbot.waitUntil(lambda: scrolled.value() > 0)
    first.setFocus()
    qtbot.waitUntil(lambda: scrolled.value() == 0)


def test_a_sync_status_arriving_after_the_window_closed_reads_nothing(qtbot, window):
    # The sync worker stops after the window's event loop ended; a status it sent meanwhile
    # is delivered later (the next clerk's session), when this window's cache is closed.
    find_one(qtbot, window)
    window.close()
    window.services.cache.close()
    for suffix in ("", "-wal", "-shm"):  # as the demo's folder, removed at its end
        window.services.cache.path.with_name(
            window.services.cache.path.name + suffix).unlink(missing_ok=True)
    window.status_bridge.changed.emit(SyncStatus(
        online=True, login_needed=False, pending=0, oldest_pending_at=None, open_tasks=0,
        last_pull_at=None, last_push_at=None))
    QApplication.processEvents()
    assert "pending" not in window.sync_status.label.text()
