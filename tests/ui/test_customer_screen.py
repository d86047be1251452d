"""The customer's screen: the request to check, the signature pad (mouse, pen, touch), and
the counter's flow around it — signed, then recorded; declined, nothing recorded."""

from datetime import UTC, datetime

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QInputDevice, QPointingDevice, QTabletEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from hallclient.counter.customer_view import customer_view
from hallclient.receipts.content import HallInfo
from hallclient.store.accounts import account_from_row
from hallclient.store.models import AccountRow, OutboxRow, ReceiptRow
from hallclient.store.operations import TerminalIdentity
from hallclient.ui.counter_window import CounterServices, CounterWindow
from hallclient.ui.customer_screen import CustomerScreen, ScreenWatch
from hallclient.ui.message_bar import Severity
from hallcore.domain.accounts import AccountStatus
from hallcore.domain.business import BusinessKind
from hallcore.domain.text import Text
from hallcore.signing import image_sha256, signature_matches
from tests.support.counter import district_cache
from tests.support.customer_screen import customer_at_screen, decline, draw, sign
from tests.support.factories import OTHER_ID, TERMINAL_KEY, WEEKDAYS, account
from tests.support.signatures import STROKES, signature

TRANSFER = {"new_holder_name": "林晓燕", "new_holder_id_type": "resident_id",
            "new_holder_id_number": OTHER_ID, "new_holder_phone": "13922334455",
            "new_holder_sms_consent": True}


@pytest.fixture
def screen(qtbot):
    view = customer_view(BusinessKind.TRANSFER, account(), TRANSFER,
                         now=datetime(2026, 11, 25, 4, tzinfo=UTC), calendar=WEEKDAYS)
    s = CustomerScreen(view)
    qtbot.addWidget(s)
    s.said = []
    s.signed.connect(s.said.append)
    s.declined.connect(lambda: s.said.append("declined"))
    s.show()
    return s


def test_it_shows_the_request_masked(screen):
    text = screen.summary.text()
    assert "过户" in text and "林晓燕" in text and "1000000001" in text
    assert OTHER_ID not in text and "13922334455" not in text


def test_the_pad_records_the_mouse_strokes_and_the_confirm_gives_their_png(qtbot, screen):
    draw(screen.pad)
    assert screen.strokes == [list(stroke) for stroke in STROKES]
    QTest.mouseClick(screen.confirm, Qt.MouseButton.LeftButton)
    assert screen.said == [signature()] and not screen.isVisible()


def test_clear_starts_again(qtbot, screen):
    draw(screen.pad)
    QTest.mouseClick(screen.clear, Qt.MouseButton.LeftButton)
    assert screen.strokes == []
    QTest.mouseClick(screen.confirm, Qt.MouseButton.LeftButton)
    assert screen.said == [] and screen.isVisible()
    assert "还没有签名" in screen.problem.text() and "Nothing is signed" in screen.problem.text()
    draw(screen.pad)  # the customer signs: the refusal goes
    assert screen.problem.isHidden()


def test_a_tick_is_not_a_signature(qtbot, screen):
    draw(screen.pad, (((20.0, 20.0), (40.0, 25.0)),))
    QTest.mouseClick(screen.confirm, Qt.MouseButton.LeftButton)
    assert screen.said == [] and "签名过短" in screen.problem.text()


def test_a_pen_draws_on_the_pad(screen):
    pen = QPointingDevice("pen", 1, QInputDevice.DeviceType.Stylus,
                          QPointingDevice.PointerType.Pen, QInputDevice.Capability.Position,
                          1, 3)
    for kind, at in ((QEvent.Type.TabletPress, (30, 40)), (QEvent.Type.TabletMove, (90, 45)),
                     (QEvent.Type.TabletMove, (150, 60)), (QEvent.Type.TabletRelease,
                                                           (150, 60))):
        point = QPointF(*at)
        event = QTabletEvent(kind, pen, point, screen.pad.mapToGlobal(point), 0.5, 0, 0, 0, 0,
                             0, Qt.KeyboardModifier.NoModifier, Qt.MouseButton.LeftButton,
                             Qt.MouseButton.LeftButton)
        QApplication.sendEvent(screen.pad, event)
    assert screen.strokes == [[(30.0, 40.0), (90.0, 45.0), (150.0, 60.0)]]


def test_a_finger_draws_on_the_pad(qtbot, screen):
    qtbot.waitExposed(screen)
    # Through the window system, as a touch screen's events come.
    touch = QTest.touchEvent(screen.windowHandle(), QTest.createTouchDevice())

    def on_pad(x, y):
        return screen.pad.mapTo(screen, QPoint(x, y))

    touch.press(0, on_pad(30, 40)).commit()
    touch.move(0, on_pad(90, 45)).commit()
    touch.move(0, on_pad(150, 60)).commit()
    touch.release(0, on_pad(150, 60)).commit()
    QApplication.processEvents()
    assert screen.strokes == [[(30.0, 40.0), (90.0, 45.0), (150.0, 60.0)]]


def test_the_clerks_keyboard_signs_nothing(qtbot, screen):
    draw(screen.pad)
    for button in (screen.confirm, screen.clear, screen.decline):
        assert not (button.isDefault() or button.autoDefault())
        assert button.focusPolicy() == Qt.FocusPolicy.NoFocus
    for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
        QTest.keyClick(screen, key)
    assert screen.said == [] and screen.isVisible()
    QTest.keyClick(screen, Qt.Key.Key_Escape)  # as "Decline": nothing signed
    assert screen.said == ["declined"]


def test_an_unplugged_customer_screen_brings_the_window_to_the_clerk(qtbot, screen):
    lost = []
    here = QGuiApplication.primaryScreen()
    watch = ScreenWatch(screen, here)  # as if `here` were the customer's screen
    watch.lost.connect(lambda: lost.append(True))
    screen.showFullScreen()
    draw(screen.pad)
    watch.screen_removed(here)
    assert lost == [True] and not screen.isFullScreen() and screen.isVisible()
    assert screen.strokes  # what was drawn is kept


# --- the counter's flow --------------------------------------------------------------------


@pytest.fixture
def counter(qtbot, tmp_path):
    cache = district_cache(tmp_path / "cache.sqlite3")
    screens, previews, acts = [], [], {"act": None}

    def ask(screen):
        return customer_at_screen(screens, acts["act"])(screen)

    w = CounterWindow(CounterServices(
        cache, TerminalIdentity("GZ-TH-01", "T01", TERMINAL_KEY), "gz-th-01-c1",
        HallInfo("GZ-TH-01", Text("天河营业厅", "Tianhe Service Hall")),
        show_preview=previews.append, ask_rating=lambda _window: None, ask_signature=ask),
        lang="en")
    qtbot.addWidget(w)
    w.show()
    w.screens, w.previews, w.acts = screens, previews, acts
    with cache.read() as s:
        w.account = account_from_row(s.scalars(select(AccountRow).where(
            AccountRow.status == AccountStatus.ACTIVE.value, AccountRow.arrears_fen == 0,
            AccountRow.id_number.is_not(None))).first())
    w.open_form(BusinessKind.TRANSFER)
    w.form_views[BusinessKind.TRANSFER].fill(TRANSFER)
    yield w
    cache.close()


def outbox(window):
    with window.services.cache.read() as s:
        return s.execute(select(OutboxRow, ReceiptRow).join(
            ReceiptRow, ReceiptRow.operation_id == OutboxRow.operation_id)).all()


def test_the_customer_signs_then_the_request_is_recorded_with_the_signature(qtbot, counter):
    counter.acts["act"] = sign
    with qtbot.waitSignal(counter.request_finished):
        counter.form_views[BusinessKind.TRANSFER].submit()
    [screen] = counter.screens
    assert counter.account.number in screen.summary.text()
    [(op, receipt)] = outbox(counter)
    assert op.customer_signature == signature()
    assert signature_matches(TERMINAL_KEY.public_hex, receipt.receipt_no, op.operation_id,
                             receipt.signature, image_sha256(signature()))
    qtbot.waitUntil(lambda: len(counter.previews) == 1)  # the receipt, with the signature
    assert counter.previews[0].drawn.content.customer_signature == signature()


def test_a_customer_who_declines_leaves_nothing_recorded_and_the_form_filled(qtbot, counter):
    counter.acts["act"] = decline
    view = counter.form_views[BusinessKind.TRANSFER]
    with qtbot.waitSignal(counter.request_finished):
        view.submit()
    assert outbox(counter) == []
    assert counter.message.severity is Severity.REFUSED
    assert "did not sign" in counter.message.text()
    assert view.inputs["new_holder_name"].text() == "林晓燕" and view.isEnabled()
    assert counter.form_host.isEnabled()


def test_the_next_customer_ends_a_signature_still_being_given(qtbot, counter):
    counter.acts["act"] = lambda screen: screen.show_to_customer()  # the customer reads on
    counter.form_views[BusinessKind.TRANSFER].submit()
    [screen] = counter.screens
    assert not counter.form_host.isEnabled()  # nothing changes under the customer's eyes
    counter.next_customer()  # F12, which reaches the counter while the customer's own
    # screen shows the request (on a single screen, the request holds the window until the
    # customer signs or declines)
    assert not screen.isVisible() and outbox(counter) == []
    draw(screen.pad)
    QTest.mouseClick(screen.confirm, Qt.MouseButton.LeftButton)  # too late: nothing
    assert outbox(counter) == []


def test_the_clerk_is_told_when_the_customers_screen_goes(qtbot, counter):
    counter.acts["act"] = lambda screen: screen.show_to_customer()
    counter.form_views[BusinessKind.TRANSFER].submit()
    [screen] = counter.screens
    screen.moved_to_clerk.emit()
    assert counter.message.severity is Severity.WARNING
    assert "customer's screen" in counter.message.text()
    assert screen.isVisible() and outbox(counter) == []  # the customer signs here now
