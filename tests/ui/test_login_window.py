"""The login window against a live server (pytest-qt)."""

import uuid
from datetime import UTC, datetime

import keyring
from keyring.backends.fail import Keyring as NoKeyring

from hallclient.auth.login import log_in
from hallclient.auth.secrets import EphemeralKeyring, SecretStore
from hallclient.config import Settings
from hallclient.sync.api import ServerApi
from hallclient.ui.app import TerminalSession, log_in_terminal
from hallclient.ui.i18n import use_language
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


def test_wrong_password_is_said_and_the_clerk_may_try_again(qtbot, server):
    w = window_for(qtbot, real_login)
    fill(w, server.url, password="guess")
    w.submit()
    qtbot.waitUntil(lambda: w.button.isEnabled(), timeout=15_000)
    assert "wrong" in w.message.text() and w.password.text() == ""


def test_no_keyring_is_a_message_not_a_traceback(qtbot, server, monkeypatch, tmp_path):
    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(keyring, "get_keyring", lambda: NoKeyring())
    w = window_for(qtbot, lambda s, c, p, new: log_in_terminal(TerminalSession(), s, c, p,
                                                                 new_password=new))
    fill(w, server.url)
    w.submit()
    qtbot.waitUntil(lambda: w.button.isEnabled(), timeout=15_000)
    assert "No secure keyring" in w.message.text()


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
