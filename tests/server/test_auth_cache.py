"""A verified caller is kept in memory (hallserver/auth_cache.py): a request does not read the
database to know who calls, and a change of access reaches the cache at once: in this process
when the change commits, from another process by PostgreSQL's NOTIFY; otherwise within the
stated hold."""

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from hallcore.wire import Role
from hallserver.app import create_app
from hallserver.auth_cache import ACCESS_CHANGES, HOLD_UNHEARD, CallerCache
from hallserver.context import Caller
from hallserver.models import TokenRow
from hallserver.seed import seed
from tests.support.server import Terminal
from tests.support.statements import reads_of

HALL = "GZ-TH-01"
CALLER = Caller(clerk="gz-th-01-c1", role=Role.CLERK, hall_id=HALL, terminal_id="T01",
                district="440106")


def listening(callers: CallerCache) -> bool:
    """Whether the cache's listener connects (on PostgreSQL), waited for up to 10 s."""
    deadline = time.monotonic() + 10
    while not callers.listening and time.monotonic() < deadline:
        time.sleep(0.01)
    return callers.listening


@pytest.fixture
def hall(server_engine):
    """A client of a seeded server and a logged-in terminal whose caller is in the cache (on
    PostgreSQL, remembered since the listener connected)."""
    seed(server_engine, accounts=10, halls=1)
    with TestClient(create_app(server_engine)) as client:
        terminal = Terminal(client, HALL, "T01")
        terminal.login("gz-th-01-c1")
        assert terminal.get("/changes").status_code == 200
        if server_engine.dialect.name == "postgresql":
            assert listening(client.app.state.callers)
            assert terminal.get("/changes").status_code == 200
        yield client, terminal


def test_a_caller_is_read_from_the_database_once(hall, server_engine):
    _, terminal = hall
    terminal.token = terminal.login("gz-th-01-c1").json()["access_token"]  # a new token
    with reads_of(server_engine, "tokens") as reads:
        for _ in range(5):
            assert terminal.get("/changes").status_code == 200
    assert len(reads) == 1


def test_a_change_written_around_hallserver_counts_after_the_hold(hall, server_engine):
    """A write the session events do not see (another process on SQLite, psql): the caller
    is believed for the hold, no longer."""
    client, terminal = hall
    now = [1000.0]
    client.app.state.callers = CallerCache(server_engine, listen=False, clock=lambda: now[0])
    assert terminal.get("/changes").status_code == 200
    with server_engine.begin() as conn:  # Core, outside any ORM session
        conn.execute(update(TokenRow.__table__).values(revoked=True))
    assert terminal.get("/changes").status_code == 200
    now[0] += HOLD_UNHEARD
    assert terminal.get("/changes").status_code == 401


def test_a_caller_read_while_access_changed_is_not_believed(server_engine):
    callers = CallerCache(server_engine, listen=False)
    expires, now = datetime.now(UTC) + timedelta(minutes=30), datetime.now(UTC)
    before = callers.epoch()
    ACCESS_CHANGES.advance()  # committed while the caller was being read
    callers.remember("read-before", CALLER, expires, before)
    callers.remember("read-after", CALLER, expires, callers.epoch())
    assert callers.get("read-before", now) is None
    assert callers.get("read-after", now) == CALLER
    assert callers.get("read-after", expires) is None  # the token's own expiry


# NOTIFY is PostgreSQL's; where none is heard, the hold ends a session (the second test).
@pytest.mark.parametrize("server_engine", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
def test_a_retirement_by_another_process_ends_the_session_at_once(hall, server_engine):
    _, terminal = hall
    with reads_of(server_engine, "tokens") as reads:
        assert terminal.get("/changes").status_code == 200
    assert reads == []
    before = ACCESS_CHANGES.value
    url = server_engine.url.render_as_string(hide_password=False)
    subprocess.run([sys.executable, "-m", "hallserver", "terminals", "retire", "--db", url,
                    HALL, "T01"], check=True, capture_output=True, timeout=60)
    assert ACCESS_CHANGES.wait_beyond(before, timeout=10)
    refused = terminal.get("/changes")
    assert refused.status_code == 403 and refused.json()["code"] == "terminal_retired"
