"""Moving a terminal: the server address, hall and terminal id are set at the first run and
changed later only by a supervisor's online login, never under operations still to be sent."""

from dataclasses import replace
from datetime import UTC, datetime

import keyring
import pytest
from sqlalchemy import func, select

from hallclient.auth.login import LoginRefused, terminal_identity
from hallclient.auth.secrets import EphemeralKeyring
from hallclient.config import Settings, load_settings
from hallclient.store.accounts import account_from_row
from hallclient.store.cache import open_cache
from hallclient.store.models import AccountRow, AuditRow, SyncStateRow
from hallclient.store.operations import record_operation
from hallclient.sync.engine import Credentials, SyncEngine
from hallclient.ui.app import TerminalSession, log_in_terminal
from hallcore.domain.business import BusinessKind
from hallserver.seed import DEMO_SUPERVISOR_PASSWORD
from tests.support.counter import holder
from tests.support.factories import NEW_CONNECTION


@pytest.fixture
def terminal(server, tmp_path, monkeypatch):
    """A terminal set up at its first run (GZ-TH-01 / T01) and synced once."""
    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(tmp_path / "data"))
    keys = EphemeralKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: keys)
    cache = open_cache(tmp_path / "cache.sqlite3")
    first = Settings(server_url=server.url, hall_id="GZ-TH-01", terminal_id="T01",
                     installation_id="i" * 32)
    session = TerminalSession()
    # A new terminal: the hall's supervisor approves it by logging in there first.
    log_in_terminal(session, first, "gz-th-01-s1", DEMO_SUPERVISOR_PASSWORD, cache)
    log_in_terminal(session, first, "gz-th-01-c1", "demo-clerk", cache)
    SyncEngine(cache, Credentials(session.api, session.store)).sync_once()
    yield cache, first, session
    cache.close()


def login(settings, clerk, password, cache):
    session = TerminalSession()
    log_in_terminal(session, settings, clerk, password, cache)
    return session


def test_a_clerk_cannot_change_the_terminal_settings(terminal):
    cache, first, _ = terminal
    moved = replace(first, terminal_id="T09")
    # The server refuses the clerk at a terminal id no supervisor approved.
    with pytest.raises(LoginRefused, match="not approved yet"):
        login(moved, "gz-th-01-c1", "demo-clerk", cache)
    assert load_settings() == first
    with cache.read() as s:  # the terminal's own trail has the logins, not the password
        entries = s.execute(select(AuditRow.action, AuditRow.clerk, AuditRow.detail)
                            .order_by(AuditRow.id)).all()
    assert [(action, clerk) for action, clerk, _ in entries] == [
        ("login", "gz-th-01-s1"), ("login", "gz-th-01-c1"), ("login_refused", "gz-th-01-c1")]
    assert "not approved yet" in entries[2].detail["reason"]
    assert "demo-clerk" not in str(entries)


def test_a_supervisor_changes_the_terminal_id_and_it_is_audited(terminal):
    cache, first, _ = terminal
    moved = replace(first, terminal_id="T09")
    login(moved, "gz-th-01-s1", DEMO_SUPERVISOR_PASSWORD, cache)
    assert load_settings().terminal_id == "T09"
    with cache.read() as s:
        entry = s.scalars(select(AuditRow).where(AuditRow.action == "terminal_moved")).one()
        assert entry.clerk == "gz-th-01-s1"
        assert entry.detail == {"terminal_id": {"from": "T01", "to": "T09"}}
        assert s.scalar(select(func.count()).select_from(AccountRow)) > 0  # same district


def test_no_move_while_operations_wait_to_be_sent(terminal):
    cache, first, session = terminal
    with cache.read() as s:
        account = account_from_row(s.scalars(select(AccountRow).where(
            AccountRow.status == "active", AccountRow.id_number.is_not(None))).first())
    record_operation(cache, terminal_identity(first, session.store), clerk="gz-th-01-c1",
                     kind=BusinessKind.SUSPEND, account_number=account.number,
                     raw_payload=holder(account), now=datetime.now(UTC))
    with pytest.raises(LoginRefused, match="1 operations made here are still waiting"):
        login(replace(first, hall_id="GZ-YX-01"), "gz-yx-01-s1", DEMO_SUPERVISOR_PASSWORD,
              cache)
    assert load_settings() == first


def test_a_move_to_another_hall_forgets_the_old_district_and_bootstraps_the_new(terminal):
    cache, first, _ = terminal
    with cache.read() as s:
        old = set(s.scalars(select(AccountRow.number)))
    moved = replace(first, hall_id="GZ-YX-01")
    session = login(moved, "gz-yx-01-s1", DEMO_SUPERVISOR_PASSWORD, cache)
    with cache.read() as s:
        assert s.scalar(select(func.count()).select_from(AccountRow)) == 0
    SyncEngine(cache, Credentials(session.api, session.store)).sync_once()
    with cache.read() as s:
        new = set(s.scalars(select(AccountRow.number)))
    assert new and not new & old
    assert load_settings().hall_id == "GZ-YX-01"


def test_the_login_window_shows_the_terminal_settings_on_a_supervisors_request(qtbot,
                                                                              english):
    from hallclient.ui.login_window import LoginWindow

    w = LoginWindow(Settings(hall_id="GZ-TH-01", terminal_id="T01", installation_id="x" * 32),
                    lambda *a: None)
    qtbot.addWidget(w)
    w.show()
    assert not w.terminal.isVisible() and "GZ-TH-01 / T01" in w.terminal_summary.text()
    w.move_button.click()
    assert w.server.isVisible() and w.hall.isVisible() and w.terminal.isVisible()
    assert "supervisor" in w.message.text()


def test_a_login_on_a_new_cache_knows_the_last_receipt_number_before_any_sync(
        terminal, tmp_path):
    cache, first, session = terminal
    with cache.read() as s:
        account = account_from_row(s.scalars(select(AccountRow).where(
            AccountRow.status == "active", AccountRow.id_number.is_not(None),
            AccountRow.arrears_fen == 0)).first())
    done = record_operation(cache, terminal_identity(first, session.store),
                            clerk="gz-th-01-c1", kind=BusinessKind.SUSPEND,
                            account_number=account.number, raw_payload=holder(account),
                            now=datetime.now(UTC))
    SyncEngine(cache, Credentials(session.api, session.store)).sync_once()
    # The cache is lost; the clerk logs in on a new, empty one and serves at once.
    fresh = open_cache(tmp_path / "new-cache.sqlite3")
    try:
        again = login(first, "gz-th-01-c1", "demo-clerk", fresh)
        with fresh.read() as s:
            assert s.get(SyncStateRow, 1).server_last_receipt == done.receipt_no
        # A new connection needs no cached account: its number follows the server's last.
        made = record_operation(fresh, terminal_identity(first, again.store),
                                clerk="gz-th-01-c1", kind=BusinessKind.NEW_CONNECTION,
                                account_number=None, raw_payload=NEW_CONNECTION,
                                now=datetime.now(UTC))
        assert made.receipt_no == done.receipt_no[:-4] + "0002"
    finally:
        fresh.close()
