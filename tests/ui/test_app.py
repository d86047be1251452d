"""The desktop application as composed for a hall PC: login window → counter window with its
sync worker and idle lock → log out from the lock screen → the next clerk's login."""

import re

import keyring
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from sqlalchemy import select
from sqlalchemy.orm import Session

from hallclient.auth.secrets import EphemeralKeyring
from hallclient.ui.app import run_app
from hallclient.ui.counter_window import CounterWindow
from hallclient.ui.login_window import LoginWindow
from hallserver.models import TokenRow
from hallserver.seed import DEMO_SUPERVISOR_PASSWORD
from tests.support.timeouts import give_up_after

HAN = re.compile(r"[\u4e00-\u9fff]")


def shown(kind):
    return next((w for w in QApplication.topLevelWidgets()
                 if isinstance(w, kind) and w.isVisible()), None)


def test_a_clerk_logs_in_locks_logs_out_and_the_next_login_is_offered(
        qtbot, server, tmp_path, monkeypatch):
    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(keyring, "get_keyring", lambda: EphemeralKeyring())
    seen: dict[str, object] = {}
    steps = []  # each runs once, when the screen it needs is up; the event loops stay free

    def first_clerk_logs_in() -> bool:
        login = shown(LoginWindow)
        if login is None:
            return False
        login.server.setText(server.url)
        login.hall.setText("GZ-TH-01")
        login.terminal.setText("T05")
        login.clerk.setText("gz-th-01-c1")
        login.password.setText("demo-clerk")
        login.submit()
        return True

    def a_supervisor_approves_the_new_terminal_by_logging_in() -> bool:
        login = shown(LoginWindow)
        if login is None or "not approved yet" not in login.message.text():
            return False
        seen["refused"] = login.message.text()
        login.clerk.setText("gz-th-01-s1")
        login.password.setText(DEMO_SUPERVISOR_PASSWORD)
        login.submit()
        return True

    def window_syncs_then_locks_and_the_clerk_logs_out() -> bool:
        window = shown(CounterWindow)
        if window is None or "online" not in window.sync_status.label.text():
            return False
        seen["status"] = window.sync_status.label.text()
        window.lock()
        seen["hidden"] = not window.central.isVisible()
        window.lock_dialog.logout_button.click()
        return True

    def next_login_is_offered() -> bool:
        login = shown(LoginWindow)
        if login is None:
            return False
        seen["asks_terminal_again"] = login.terminal.isVisible()
        login.reject()  # nobody logs in: the application ends
        return True

    steps.extend([first_clerk_logs_in, a_supervisor_approves_the_new_terminal_by_logging_in,
                  window_syncs_then_locks_and_the_clerk_logs_out,
                  next_login_is_offered])

    def drive() -> None:
        if steps and steps[0]():
            steps.pop(0)
        if not steps:
            timer.stop()

    timer = QTimer(interval=100)
    timer.timeout.connect(drive)
    timer.start()

    def give_up() -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, LoginWindow):
                widget.reject()
            widget.close()

    try:
        with give_up_after(60, give_up):
            assert run_app(lang="en") == 0
    finally:
        timer.stop()  # its steps, left undone, are this test's failure alone
    assert [step.__name__ for step in steps] == []
    assert "pending 0" in seen["status"] and seen["hidden"] is True
    assert seen["asks_terminal_again"] is False  # hall and terminal were set at first run
    with Session(server.engine) as s:  # logging out ended the session on the server too
        tokens = s.scalars(select(TokenRow).where(TokenRow.terminal_id == "T05")).all()
    assert tokens and all(t.revoked for t in tokens)


def test_the_login_window_needs_neither_the_database_nor_the_network_libraries():
    # They load behind the login window (bench/startup.py: start-up beside a bare Qt window).
    import subprocess
    import sys

    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, hallclient.__main__, hallclient.ui.app; "
         "print(' '.join(sorted(m for m in ('sqlalchemy', 'httpx', 'reportlab', 'alembic', "
         "'keyring', 'pydantic') if m in sys.modules)))"],
        capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []


@pytest.mark.parametrize(("lang", "says"), [
    ("zh", "本机已有一个 HallClient 正在使用此缓存"), ("en", "HallClient is already running")])
def test_a_second_hallclient_on_the_same_cache_says_so_in_the_clerks_language_and_ends(
        qapp, tmp_path, monkeypatch, lang, says):
    from PySide6.QtWidgets import QMessageBox

    from hallclient.store.lock import CacheLock

    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(tmp_path))
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda _parent, _title, message: shown.append(
        message))
    with CacheLock(tmp_path / "cache.sqlite3"):
        assert run_app(lang=lang) == 2
    [message] = shown
    assert says in message and str(tmp_path) in message
    assert bool(HAN.search(message)) == (lang == "zh")


CHINESE_SETTINGS_ERROR = "终端设置文件 {path} 无法读取（JSON 格式有误：第 1 行第 2 列）"


@pytest.mark.parametrize(("lang", "says"), [
    ("zh", CHINESE_SETTINGS_ERROR),
    ("en", "The settings file {path} cannot be read (it is not valid JSON: an error at line 1, "
           "column 2). Fix it or delete it"),
    (None, CHINESE_SETTINGS_ERROR)])  # none asked for, none readable: after English, Chinese
def test_a_bad_settings_file_is_said_in_the_clerks_language_and_left_as_it_was(
        qapp, tmp_path, monkeypatch, lang, says):
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(tmp_path))
    settings = tmp_path / "settings.json"
    settings.write_text("{bad")
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda _parent, _title, message: shown.append(
        message))
    assert run_app(lang=lang) == 2
    [message] = shown
    assert says.format(path=settings) in message
    assert bool(HAN.search(message)) == (lang != "en")
    assert settings.read_text() == "{bad"
