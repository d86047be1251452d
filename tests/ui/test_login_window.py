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


def real_login(settings, clerk, password):
    store = SecretStore(settings.hall_id, settings.terminal_id, EphemeralKeyring())
    return log_in(ServerApi(settings.server_url), store, settings, clerk, password,
                  datetime.now(UTC))


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
    w = window_for(qtbot, lambda s, c, p: log_in_terminal(TerminalSession(), s, c, p))
    fill(w, server.url)
    w.submit()
    qtbot.waitUntil(lambda: w.button.isEnabled(), timeout=15_000)
    assert "No secure keyring" in w.message.text()
