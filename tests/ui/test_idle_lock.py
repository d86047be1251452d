"""The idle lock: after idle minutes the counter window hides the customer's data until the
clerk's password (checked against the local verifier, so offline too); what the lock screen
says, in the clerk's language, whole."""

import logging
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication, QDialog

from hallclient.auth import offline
from hallclient.auth.secrets import EphemeralKeyring, SecretStore
from hallclient.receipts.content import HallInfo
from hallclient.store.operations import TerminalIdentity
from hallclient.ui.counter_window import CounterServices, CounterWindow
from hallclient.ui.i18n import current_language
from hallclient.ui.idle_lock import IdleWatch, LockDialog
from hallcore.domain.text import Text
from tests.support.factories import HOLDER_ID, TERMINAL_KEY

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


def test_after_an_input_the_watch_rests_and_never_locks_sooner_for_it(qtbot):
    """The application-wide filter runs Python for every event while it is on, each call
    waiting for Python's lock when a worker (printing) holds it: after an input it is off
    for a rest, and an input made meanwhile, unseen, still counts."""
    now = [1000.0]
    filtered = []

    class Watch(IdleWatch):
        def eventFilter(self, watched, event):
            filtered.append(event.type())
            return super().eventFilter(watched, event)

    watch = Watch(minutes=5, clock=lambda: now[0], resting_ms=100)
    fired = []
    watch.idle.connect(lambda: fired.append(now[0]))
    target = QDialog()
    qtbot.addWidget(target)
    target.show()
    qtbot.keyClick(target, Qt.Key.Key_A)
    assert filtered[-1] == QEvent.Type.KeyPress
    seen = len(filtered)  # its release not among them: the rest began with the press
    now[0] += 1
    qtbot.keyClick(target, Qt.Key.Key_B)  # during the rest
    target.resize(target.width() + 10, target.height())
    target.update()
    QApplication.processEvents()
    assert len(filtered) == seen  # neither the keys nor anything else came through Python
    now[0] += 1
    qtbot.wait(300)  # the rest is over at 1002
    now[0] = 1300.9  # 299.9 s after B
    watch.check()
    assert fired == []
    now[0] = 1302
    watch.check()
    assert fired == [1302]
    qtbot.keyClick(target, Qt.Key.Key_C)  # watched again
    assert filtered.count(QEvent.Type.KeyPress) == 2 and filtered[-1] == QEvent.Type.KeyPress


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
    assert lock.message.text().startswith("Not accepted")
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


class Refused(Exception):
    """A refusal carrying its reason in both languages, as the checks' refusals do."""

    def __init__(self, reason: Text) -> None:
        super().__init__(str(reason))
        self.reason = reason


TOO_MANY = Text("密码错误次数过多，请 15 分钟后再试",
                "too many wrong passwords: try again in 15 minutes")
LONG = Text("本终端的离线核验记录已超过 7 天：请在服务器连得上时重新登录一次，"
            "之后才能在这里离线解锁；如急需办理业务，请退出后由主管登录",
            "this terminal's offline check of your password is more than 7 days old: log in "
            "once while the server can be reached before unlocking here offline; if a customer "
            "is waiting, log out and let a supervisor log in")


def lock_screen(qtbot, check):
    lock = LockDialog(CLERK, check)
    qtbot.addWidget(lock)
    lock.show()
    lock.activateWindow()
    qtbot.waitUntil(lock.isActiveWindow)
    return lock


def type_password(qtbot, lock, password="wrong"):
    qtbot.keyClicks(lock.password, password)
    qtbot.keyClick(lock.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: lock.unlock_button.isEnabled())


def refusing(*reasons):
    said = list(reasons)

    def check(password):
        raise said.pop(0)
    return check


def test_the_lock_screen_says_a_refusal_in_the_clerks_language_and_again_after_ctrl_l(
        qtbot, english):
    lock = lock_screen(qtbot, refusing(Refused(TOO_MANY)))
    type_password(qtbot, lock)
    assert lock.message.text() == "Too many wrong passwords: try again in 15 minutes"
    qtbot.keyClick(lock.password, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert current_language() == "zh"
    assert lock.message.text() == TOO_MANY.zh
    assert lock.title.text() == f"已锁定：{CLERK}，请输入密码"


def test_a_fault_of_the_check_is_a_fixed_sentence_and_its_text_stays_out_of_the_log(
        qtbot, english, caplog):
    leak = f"keyring entry offline/{CLERK} unreadable near {HOLDER_ID}"
    lock = lock_screen(qtbot, refusing(OSError(leak)))
    with caplog.at_level(logging.WARNING):
        type_password(qtbot, lock)
    said = lock.message.text()
    assert said.startswith("The password could not be checked") and HOLDER_ID not in said
    assert "OSError" in caplog.text and HOLDER_ID not in caplog.text and CLERK not in caplog.text


def test_a_two_line_refusal_is_shown_whole_in_either_language(qtbot, english):
    lock = lock_screen(qtbot, refusing(Refused(TOO_MANY), Refused(LONG)))
    type_password(qtbot, lock)
    height = lock.height()
    type_password(qtbot, lock)
    label = lock.message.label
    assert label.heightForWidth(label.width()) >= 2 * label.fontMetrics().lineSpacing()
    qtbot.waitUntil(lambda: label.height() >= label.heightForWidth(label.width()))
    assert lock.height() > height  # the lock screen grew for it
    qtbot.keyClick(lock.password, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert label.text() == LONG.zh
    qtbot.waitUntil(lambda: label.height() >= label.heightForWidth(label.width()))
