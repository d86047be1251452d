"""A plain pull's glance (hallserver/glance.py): an empty pull answered by one statement on a
connection held for it, with exactly the page the ordinary read gives; news, a failed
connection or every glancing connection busy leave the pull to the ordinary read. PostgreSQL
only: on SQLite every pull is read the ordinary way."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text, update

from hallcore.wire import ChangesPage, Role
from hallserver.app import create_app
from hallserver.changes import PullRequest, read_changes
from hallserver.context import Caller
from hallserver.glance import GLANCE_CONNECTIONS, Glances
from hallserver.identity import mark_restored
from hallserver.models import TerminalRow
from hallserver.seed import seed
from tests.support.server import Terminal, holder_of, logged_in

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(_postgres: Engine) -> Engine:
    from tests.support.server import empty_tables

    empty_tables(_postgres)
    seed(_postgres, accounts=30, halls=2)
    return _postgres


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine)) as client:
        yield client


def _glances(client: TestClient) -> Glances:
    glances: Glances = client.app.state.glances[client.app.state.engine]
    return glances


def _caught_up(terminal: Terminal) -> dict[str, Any]:
    page: dict[str, Any] = terminal.get("/changes", after=0, limit=5000, claims_after=0).json()
    return page


def _without_clock(page: dict[str, Any]) -> dict[str, Any]:
    return {**page, "terminal": {**page["terminal"], "server_time": None}}


def test_an_empty_pull_is_answered_by_a_glance_as_the_ordinary_read_answers_it(client, engine):
    t = logged_in(client, "GZ-TH-01", "T01", "gz-th-01-c1")
    cursor = _caught_up(t)["next_cursor"]
    glances = _glances(client)
    now = datetime.now(UTC)
    caller = Caller(clerk="gz-th-01-c1", role=Role.CLERK, hall_id="GZ-TH-01", terminal_id="T01",
                    district="GZ-TH")
    glanced = glances.empty_page(caller.hall_id, caller.terminal_id, cursor,
                                 0, now)
    assert glanced is not None
    read = read_changes(engine, PullRequest(caller, cursor, 0, 1000))
    assert glanced.model_dump(mode="json") == {
        **read.model_dump(mode="json"),
        "terminal": {**read.terminal.model_dump(mode="json"),
                     "server_time": glanced.terminal.model_dump(mode="json")["server_time"]}}
    # Over the wire, the same page twice, from a connection held for it.
    glances.close()
    glances = _glances(client)
    client.app.state.glances[engine] = glances = Glances(engine)
    first = t.get("/changes", after=cursor, claims_after=0).json()
    assert _without_clock(first) == _without_clock(t.get("/changes", after=cursor,
                                                         claims_after=0).json())
    assert first["accounts"] == [] and first["next_cursor"] == cursor
    assert len(glances._idle) == 1


def test_a_glance_leaves_news_to_the_ordinary_read(client):
    pusher = logged_in(client, "GZ-TH-01", "T01", "gz-th-01-c1")
    puller = logged_in(client, "GZ-TH-01", "T02", "gz-th-01-c2")
    caught_up = _caught_up(puller)
    account = next(a for a in pusher.all_accounts() if a["status"] == "active"
                   and a["id_number"] and not a["arrears_fen"])
    [result] = pusher.push(pusher.operation("suspend", holder_of(account), account=account))
    assert result["outcome"] == "applied", result
    page = puller.get("/changes", after=caught_up["next_cursor"], claims_after=0).json()
    assert [a["number"] for a in page["accounts"]] == [account["number"]]
    claimed = pusher.client.put(f"/api/v1/accounts/{account['number']}/claim",
                                headers=pusher.headers)
    assert claimed.status_code == 200, claimed.text
    page = puller.get("/changes", after=page["next_cursor"],
                      claims_after=caught_up["claims_cursor"]).json()
    assert [c["account_number"] for c in page["claims"]] == [account["number"]]
    # Without a claims cursor, a claim is no news for this pull.
    assert puller.get("/changes", after=page["next_cursor"]).json()["claims"] == []


def test_what_the_server_knows_of_the_terminal_is_fresh_in_a_glanced_page(client, engine):
    t = logged_in(client, "GZ-TH-01", "T01", "gz-th-01-c1")
    cursor = _caught_up(t)["next_cursor"]
    before = t.get("/changes", after=cursor).json()["terminal"]
    with engine.begin() as conn:
        conn.execute(update(TerminalRow).where(TerminalRow.terminal_id == "T01")
                     .values(last_receipt_no="GZ-TH-01-T01-20261206-0042"))
    with engine.begin() as conn:
        from sqlalchemy.orm import Session

        with Session(bind=conn) as session:
            mark_restored(session)
    after = t.get("/changes", after=cursor).json()["terminal"]
    assert after["last_receipt_no"] == "GZ-TH-01-T01-20261206-0042"
    assert after["server_identity"] != before["server_identity"]


def test_a_failed_glancing_connection_costs_no_pull(client, engine):
    t = logged_in(client, "GZ-TH-01", "T01", "gz-th-01-c1")
    cursor = _caught_up(t)["next_cursor"]
    assert t.get("/changes", after=cursor).status_code == 200
    glances = _glances(client)
    [held] = glances._idle
    pid = held.connection.info.backend_pid
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        conn.commit()
    deadline = time.monotonic() + 10
    while pid in _backends(engine):  # pg_terminate_backend only signals the backend
        assert time.monotonic() < deadline
        time.sleep(0.05)
    answer = t.get("/changes", after=cursor)  # the glance fails: read the ordinary way
    assert answer.status_code == 200 and answer.json()["next_cursor"] == cursor
    assert held not in glances._idle
    assert t.get("/changes", after=cursor).status_code == 200  # a new glancing connection
    assert len(glances._idle) == 1 and glances._idle[0] is not held


def test_glancing_connections_are_few_and_closed_with_the_app(engine):
    with TestClient(create_app(engine)) as client:
        t = logged_in(client, "GZ-TH-01", "T01", "gz-th-01-c1")
        cursor = _caught_up(t)["next_cursor"]
        glances = _glances(client)
        taken = [glances._take() for _ in range(GLANCE_CONNECTIONS + 1)]
        assert taken[-1] is None  # all busy: the pull is read the ordinary way
        assert t.get("/changes", after=cursor).json()["next_cursor"] == cursor
        for held in taken[:-1]:
            assert held is not None
            glances._give(held)
        pids = {held.connection.info.backend_pid for held in glances._idle}
    assert len(pids) == GLANCE_CONNECTIONS
    deadline = time.monotonic() + 10
    while pids & _backends(engine):  # a backend ends a moment after its client closes
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _backends(engine: Engine) -> set[int]:
    with engine.connect() as conn:  # a transaction of its own: the statistics are read anew
        return set(conn.execute(text("SELECT pid FROM pg_stat_activity")).scalars())


def test_many_pulls_at_once_glance_in_turn_on_the_connections_there_are(client, engine):
    """Pulls beyond the glancing connections wait their turn on the event loop, as no more
    threads than connections: every one of them glanced, none read the ordinary way."""
    t = logged_in(client, "GZ-TH-01", "T01", "gz-th-01-c1")
    cursor = _caught_up(t)["next_cursor"]
    glances = _glances(client)

    async def many() -> list[ChangesPage | None]:
        return list(await asyncio.gather(*(
            glances.empty_page_soon("GZ-TH-01", "T01", cursor, 0)
            for _ in range(5 * GLANCE_CONNECTIONS))))

    pages = client.portal.call(many)  # on the app's own event loop
    assert all(page is not None and page.next_cursor == cursor for page in pages)
    assert 1 <= len(glances._idle) <= GLANCE_CONNECTIONS
