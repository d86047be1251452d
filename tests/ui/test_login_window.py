"""The login window against a live server (pytest-qt)."""

import logging
import uuid
from datetime import UTC, datetime

import keyring
from keyring.backends.fail import Keyring as NoKeyring
from PySide6.QtCore import Qt

from hallclient.auth.login import log_in
from hallclient.auth.secrets import EphemeralKeyring, SecretStore
from hallclient.config import Settings
from hallclient.sync.api import ServerApi
from hallclient.ui.app import TerminalSession, log_in_terminal
from hallclient.ui.i18n import current_language, use_language
from hallclient.ui.idle_lock import LockDialog
from hallclient.ui.login_window import LoginWindow
from hallserver.seed import DEMO_SUPERVISOR_PASSWORD


def window_for(qtbot, log_in_fn, settings=None):
    use_language("en")
    w = LoginWindow(settings or Settings(installation_id=uuid.uuid4().hex), log_in_fn)
    qtbot.addWidget(w)
    w.show()
    return w


def fill(w, server, clerk="gz-th-01-c1", password="demo-clerk"):
    w.server.setText(server)
    w.hall.setText("GZ-TH-01")
    w.terminal.setText("T07")
    w.clerk.setText(clerk)
    w.password.setText(password)


KEYRING = EphemeralKeyring()


def real_login(settings, clerk, password, new_password=None):
    store = SecretStore(settings.hall_id, settings.terminal_id, KEYRING)
    return log_in(ServerApi(settings.server_url), store, settings, clerk, password,
                  datetime.now(UTC), new_password)


def test_first_run_asks_for_server_hall_and_terminal(qtbot):
    w = window_for(qtbot, real_login)
    assert w.server.isVisible() and w.hall.isVisible() and w.terminal.isVisible()
    w.submit()
    assert w.message.text() == "Fill in every field"


def test_later_runs_ask_only_for_clerk_and_password(qtbot):
    w = window_for(qtbot, real_login, Settings(hall_id="GZ-TH-01", terminal_id="T07",
                                               installation_id="x" * 32))
    assert not w.hall.isVisible() and w.clerk.isVisible()


def test_login_online_emits_the_session(qtbot, server):
    w = window_for(qtbot, real_login)
    fill(w, server.url)
    w.submit()
    # A new terminal: the clerk is told it waits for a supervisor, who logs in there.
    qtbot.waitUntil(lambda: w.button.isEnabled(), timeout=15_000)
    assert "not approved yet" in w.message.text()
    fill(w, server.url, clerk="gz-th-01-s1", password=DEMO_SUPERVISOR_PASSWORD)
    with qtbot.waitSignal(w.logged_in, timeout=15_000) as signal:
        w.submit()
    session, settings = signal.args
    assert session.online and session.clerk == "gz-th-01-s1"
    assert settings.terminal_id == "T07" and w.password.text() == ""


def switch_language(qtbot, w):
    """Ctrl+L, as the clerk presses it in the login window."""
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    qtbot.keyClick(w.clerk, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)


def test_wrong_password_is_said_and_the_clerk_may_try_again(qtbot, server):
    w = window_for(qtbot, real_login)
    fill(w, server.url, password="guess")
    w.submit()
    qtbot.waitUntil(lambda: w.button.isEnabled(), timeout=15_000)
    assert "wrong" in w.message.text() and w.password.text() == ""
    switch_language(qtbot, w)  # the server's words, in the other language
    assert w.message.text() == "工号或密码不正确"


def test_no_keyring_is_a_fixed_sentence_and_the_log_names_it(qtbot, server, monkeypatch,
                                                             tmp_path, caplog):
    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(keyring, "get_keyring", lambda: NoKeyring())
    w = window_for(qtbot, lambda s, c, p, new: log_in_terminal(TerminalSession(), s, c, p,
                                                                 new_password=new))
    fill(w, server.url)
    with caplog.at_level(logging.WARNING):
        w.submit()
        qtbot.waitUntil(lambda: w.button.isEnabled(), timeout=15_000)
    assert w.message.text().startswith("The password could not be checked")
    assert "SecretStoreUnavailable" in caplog.text


def test_the_window_names_the_product_its_purpose_and_where_it_logs_in(qtbot):
    w = window_for(qtbot, real_login, Settings(
        server_url="https://hall.example.cn:8443", hall_id="GZ-TH-01", terminal_id="T07",
        installation_id="x" * 32))
    assert w.product.text() == "HallClient" and w.purpose.text() == "Service hall counter"
    where = w.terminal_summary.text()
    assert "GZ-TH-01 / T07" in where and "https://hall.example.cn:8443" in where
    assert w.terminal_summary.isVisible()


def test_the_language_button_and_ctrl_l_switch_every_window_and_what_was_said(qtbot):
    w = window_for(qtbot, real_login)
    lock = LockDialog("gz-th-01-c1", lambda password: None)  # another open window
    qtbot.addWidget(lock)
    assert w.language_button.text() == "中文 (Ctrl+L)"
    w.submit()
    assert w.message.text() == "Fill in every field"
    qtbot.mouseClick(w.language_button, Qt.MouseButton.LeftButton)
    assert current_language() == "zh"
    assert w.language_button.text() == "English (Ctrl+L)" and w.button.text() == "登录"
    assert w.message.text() == "请填写所有项目"
    assert lock.unlock_button.text() == "解锁"
    switch_language(qtbot, w)
    assert current_language() == "en"
    assert w.labels["password"].text() == "Password" and lock.unlock_button.text() == "Unlock"
    assert w.message.text() == "Fill in every field"


def test_a_one_time_password_asks_for_the_clerks_own_and_then_logs_in(qtbot, server):
    """An administrator's one-time password: the window asks for a new password twice (the
    same twice), the server refuses a weak one, and the clerk logs in with their own."""
    from sqlalchemy.orm import Session

    from hallserver.admin import reset_password

    with Session(server.engine) as session, session.begin():
        one_time = reset_password(session, "operator", "gz-th-01-s1", datetime.now(UTC))
    w = window_for(qtbot, real_login)
    fill(w, server.url, clerk="gz-th-01-s1", password=one_time)
    assert not w.new_password.isVisible()
    w.submit()
    qtbot.waitUntil(lambda: w.new_password.isVisible(), timeout=15_000)
    assert "one-time password" in w.message.text() and w.button.isEnabled()
    w.password.setText(one_time)
    w.new_password.setText("counter-2027")
    w.repeat_password.setText("counter-2028")
    w.submit()
    assert w.message.text() == "Type the same new password twice"
    w.password.setText(one_time)
    w.new_password.setText("short1")
    w.repeat_password.setText("short1")
    w.submit()
    qtbot.waitUntil(lambda: w.button.isEnabled(), timeout=15_000)
    assert "at least 8 characters" in w.message.text()
    w.password.setText(one_time)
    w.new_password.setText("counter-2027")
    w.repeat_password.setText("counter-2027")
    with qtbot.waitSignal(w.logged_in, timeout=15_000) as signal:
        w.submit()
    assert signal.args[0].online and signal.args[0].clerk == "gz-th-01-s1"
    again = window_for(qtbot, real_login)
    fill(again, server.url, clerk="gz-th-01-s1", password="counter-2027")
    with qtbot.waitSignal(again.logged_in, timeout=15_000):
        again.submit()
