"""The idle lock: after idle minutes the counter window hides the customer's data until the
clerk's password (checked against the local verifier, so offline too)."""

from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from hallclient.auth import offline
from hallclient.auth.secrets import EphemeralKeyring, SecretStore
from hallclient.receipts.content import HallInfo
from hallclient.store.operations import TerminalIdentity
from hallclient.ui.counter_window import CounterServices, CounterWindow
from hallclient.ui.idle_lock import IdleWatch
from hallcore.domain.text import Text
from tests.support.factories import TERMINAL_KEY

CLERK = "gz-th-01-c1"


def test_idle_fires_once_after_the_limit_and_input_starts_the_count_again(qtbot):
    now = [1000.0]
    watch = IdleWatch(minutes=5, clock=lambda: now[0])
    fired = []
    watch.idle.connect(lambda: fired.append(now[0]))
    now[0] += 299
    watch.check()
    assert fired == []
    now[0] += 1
    watch.check()
    watch.check()
    assert fired == [1300.0]
    target = QDialog()
    qtbot.addWidget(target)
    target.show()
    qtbot.keyClick(target, Qt.Key.Key_A)  # the clerk is back
    now[0] += 299
    watch.check()
    assert fired == [1300.0]
    now[0] += 1
    watch.check()
    assert fired == [1300.0, 1600.0]


@pytest.fixture
def window(qtbot, english, one_account_cache):
    store = SecretStore("GZ-TH-01", "T01", EphemeralKeyring())
    offline.remember(store, CLERK, "陈伟", "clerk", "demo-clerk", datetime.now(UTC))

    def check_password(password: str) -> None:
        offline.check(store, CLERK, password, datetime.now(UTC))

    w = CounterWindow(CounterServices(
        one_account_cache, TerminalIdentity("GZ-TH-01", "T01", TERMINAL_KEY), CLERK,
        HallInfo("GZ-TH-01", Text("天河营业厅", "Tianhe Service Hall")),
        check_password=check_password), lang="en")
    qtbot.addWidget(w)
    w.show()
    return w


def test_locked_window_hides_its_data_and_open_receipts_until_the_password(qtbot, window):
    receipt = QDialog(window)
    receipt.show()
    window.lock()
    lock = window.lock_dialog
    assert lock is not None and lock.isVisible()
    assert not window.central.isVisible() and not receipt.isVisible()
    qtbot.keyClick(lock, Qt.Key.Key_Escape)  # does not unlock
    assert lock.isVisible()
    qtbot.keyClicks(lock.password, "wrong")
    qtbot.keyClick(lock.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "wrong" in lock.message.text())
    assert not window.central.isVisible() and lock.password.text() == ""
    qtbot.keyClicks(lock.password, "demo-clerk")
    qtbot.keyClick(lock.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.central.isVisible())
    assert receipt.isVisible() and window.lock_dialog is None and not lock.isVisible()


def test_repeated_wrong_passwords_lock_the_clerk_out_and_logging_out_is_the_way(
        qtbot, window):
    window.lock()
    lock = window.lock_dialog
    for attempt in range(offline.MAX_FAILURES + 1):
        lock.password.setText(f"wrong-{attempt}")
        lock.unlock()
        qtbot.waitUntil(lambda: lock.unlock_button.isEnabled())
    assert "locked until" in lock.message.text()
    lock.password.setText("demo-clerk")  # even the right one, while locked out
    lock.unlock()
    qtbot.waitUntil(lambda: lock.unlock_button.isEnabled())
    assert not window.central.isVisible()
    with qtbot.waitSignal(window.logged_out):
        lock.logout_button.click()
    assert not window.isVisible()


def test_without_a_password_check_there_is_no_lock(qtbot, window):
    window.services.check_password = None
    window.lock()
    assert window.lock_dialog is None and window.central.isVisible()
