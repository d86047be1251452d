"""Changes in a blink: a pull that waits is answered at its district's next change (woken by
LISTEN/NOTIFY on PostgreSQL, by the cursor poll on SQLite), or empty when its wait ends; a
stream brings each change as it happens; a plain pull answers as before. Claims ("being
changed at hall X") reach the other terminals of the district with their pulls, never another
district's. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

import hallserver.changes as changes_module
from hallcore.wire import Role
from hallserver.app import create_app
from hallserver.changes import PullRequest, WaitingPulls
from hallserver.context import Caller
from hallserver.db import make_engine
from hallserver.models import AccountClaimRow
from hallserver.seed import seed
from tests.support.server import Terminal, holder_of, logged_in

OTHER_DISTRICT_HALL = "GZ-YX-01"


@pytest.fixture
def seeded(server_engine: Engine) -> Engine:
    seed(server_engine, accounts=40, halls=2)  # GZ-TH-01 and GZ-YX-01, a district each
    return server_engine


@pytest.fixture
def second_engine(seeded: Engine) -> Iterator[Engine]:
    """Another server process's engine on the same database."""
    engine = make_engine(seeded.url.render_as_string(hide_password=False))
    yield engine
    engine.dispose()


@pytest.fixture
def apps(seeded: Engine, second_engine: Engine) -> Iterator[tuple[TestClient, TestClient]]:
    """Two server processes (apps with engines of their own) on one database."""
    with TestClient(create_app(seeded)) as first, \
            TestClient(create_app(second_engine)) as second:
        yield first, second


def _cursor(terminal: Terminal) -> int:
    cursor: int = terminal.get("/changes", after=0, limit=5000).json()["next_cursor"]
    return cursor


def _waiting(client: TestClient, district: str) -> bool:
    return district in client.app.state.waiting_pulls.waits._waiters


def _pull_in_background(terminal: Terminal, **params: Any) -> tuple[threading.Thread,
                                                                     dict[str, Any]]:
    answer: dict[str, Any] = {}

    def pull() -> None:
        answer["page"] = terminal.get("/changes", **params).json()

    thread = threading.Thread(target=pull)
    thread.start()
    while not _waiting(terminal.client, "GZ-TH"):
        thread.join(0.01)
    return thread, answer


def _suspend(terminal: Terminal, account: dict[str, Any]) -> None:
    [result] = terminal.push(terminal.operation("suspend", holder_of(account), account=account))
    assert result["outcome"] == "applied", result


def test_a_waiting_pull_is_answered_with_another_terminals_change(apps):
    first, second = apps
    pusher = logged_in(first, "GZ-TH-01", "T01", "gz-th-01-c1")
    waiter = logged_in(second, "GZ-TH-01", "T02", "gz-th-01-c2")
    account = next(a for a in pusher.all_accounts() if a["status"] == "active"
                   and a["id_number"] and not a["arrears_fen"])
    cursor = _cursor(waiter)
    thread, answer = _pull_in_background(waiter, after=cursor, wait=30)
    _suspend(pusher, account)
    thread.join()
    page = answer["page"]
    assert [a["number"] for a in page["accounts"]] == [account["number"]]
    assert page["accounts"][0]["status"] == "suspended"
    assert page["next_cursor"] > cursor and page["wait_max"] == 30


def test_a_wait_with_nothing_new_ends_in_an_empty_page(apps):
    _, second = apps
    waiter = logged_in(second, "GZ-TH-01", "T02", "gz-th-01-c2")
    cursor = _cursor(waiter)
    page = waiter.get("/changes", after=cursor, wait=1, claims_after=0).json()
    assert page["accounts"] == [] and page["claims"] == []
    assert page["next_cursor"] == cursor and page["more"] is False
    assert page["terminal"]["server_identity"]


def test_a_plain_pull_pages_as_before_and_carries_no_claims(apps):
    first, _ = apps
    t = logged_in(first, "GZ-TH-01", "T01", "gz-th-01-c1")
    page = t.get("/changes", after=0, limit=7).json()
    assert len(page["accounts"]) == 7 and page["more"] is True
    seqs = [a["seq"] for a in page["accounts"]]
    assert seqs == sorted(seqs) and page["next_cursor"] == seqs[-1]
    assert all(a["number"].startswith("10") for a in page["accounts"])  # its district's
    rest = t.get("/changes", after=page["next_cursor"], limit=5000).json()
    assert rest["more"] is False and len(rest["accounts"]) == 20 - 7
    assert page["claims"] == [] and page["claims_cursor"] == 0


def test_a_claim_reaches_the_districts_other_terminals_and_no_other_district(apps):
    first, second = apps
    claimer = logged_in(first, "GZ-TH-01", "T01", "gz-th-01-c1")
    colleague = logged_in(second, "GZ-TH-01", "T02", "gz-th-01-c2")
    stranger = logged_in(second, OTHER_DISTRICT_HALL, "T01", "gz-yx-01-c1")
    number = claimer.all_accounts()[0]["number"]
    thread, answer = _pull_in_background(colleague, after=_cursor(colleague), wait=30,
                                         claims_after=0)
    claimed = claimer.client.put(f"/api/v1/accounts/{number}/claim", headers=claimer.headers)
    assert claimed.status_code == 200, claimed.text
    thread.join()
    [claim] = answer["page"]["claims"]
    assert claim["account_number"] == number and claim["hall_id"] == "GZ-TH-01"
    assert claim["terminal_id"] == "T01" and claim["hall_name"].endswith("营业厅")
    assert claim["released"] is False
    assert set(claim) == {"account_number", "hall_id", "terminal_id", "hall_name", "since",
                          "expires_at", "released"}  # no clerk in it
    seen = answer["page"]["claims_cursor"]
    assert stranger.get("/changes", claims_after=0).json()["claims"] == []
    # Released: the next pull after the cursor says so.
    assert claimer.client.delete(f"/api/v1/accounts/{number}/claim",
                                 headers=claimer.headers).status_code == 204
    [released] = colleague.get("/changes", claims_after=seen).json()["claims"]
    assert released["account_number"] == number and released["released"] is True
    # A terminal starting afresh is not told of a released claim.
    assert colleague.get("/changes", claims_after=0).json()["claims"] == []


def test_another_districts_account_is_not_found_for_a_claim(apps):
    first, _ = apps
    claimer = logged_in(first, "GZ-TH-01", "T01", "gz-th-01-c1")
    stranger = logged_in(first, OTHER_DISTRICT_HALL, "T01", "gz-yx-01-c1")
    theirs = stranger.all_accounts()[0]["number"]
    for number in (theirs, "1099999999"):
        for method in ("PUT", "DELETE"):
            answer = claimer.client.request(method, f"/api/v1/accounts/{number}/claim",
                                            headers=claimer.headers)
            assert answer.status_code == 404 and answer.json()["code"] == "account_not_found"


def test_a_claim_lasts_until_it_expires_and_a_renewal_keeps_its_start(apps, seeded):
    first, _ = apps
    claimer = logged_in(first, "GZ-TH-01", "T01", "gz-th-01-c1")
    colleague = logged_in(first, "GZ-TH-01", "T02", "gz-th-01-c2")
    number = claimer.all_accounts()[0]["number"]
    url = f"/api/v1/accounts/{number}/claim"
    made = claimer.client.put(url, headers=claimer.headers).json()
    renewed = claimer.client.put(url, headers=claimer.headers).json()
    assert renewed["since"] == made["since"] and renewed["expires_at"] >= made["expires_at"]
    since = datetime.fromisoformat(made["since"])
    assert datetime.fromisoformat(made["expires_at"]) - since == timedelta(minutes=15)
    [standing] = colleague.get("/changes", claims_after=0).json()["claims"]
    assert standing["account_number"] == number
    with seeded.begin() as conn:  # fifteen minutes without a renewal
        conn.execute(update(AccountClaimRow).values(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert colleague.get("/changes", claims_after=0).json()["claims"] == []


def test_a_terminal_holds_one_claim_its_next_releases_the_one_before(apps):
    # A counter has one form open at a time: a terminal claiming account after account (a
    # hostile one, or one that lost its DELETEs) stands for one of them, not for all.
    first, _ = apps
    claimer = logged_in(first, "GZ-TH-01", "T01", "gz-th-01-c1")
    colleague = logged_in(first, "GZ-TH-01", "T02", "gz-th-01-c2")
    numbers = [a["number"] for a in claimer.all_accounts()[:3]]

    def claim(number: str) -> None:
        answer = claimer.client.put(f"/api/v1/accounts/{number}/claim", headers=claimer.headers)
        assert answer.status_code == 200, answer.text

    claim(numbers[0])
    seen = colleague.get("/changes", claims_after=0).json()["claims_cursor"]
    for number in numbers[1:]:
        claim(number)
    [standing] = colleague.get("/changes", claims_after=0).json()["claims"]
    assert standing["account_number"] == numbers[-1]
    events = colleague.get("/changes", claims_after=seen).json()["claims"]
    assert [(e["account_number"], e["released"]) for e in events] == [
        (numbers[0], True), (numbers[1], True), (numbers[2], False)]


async def _allowed() -> bool:
    return True


def test_a_stream_ends_at_its_next_heartbeat_once_its_caller_is_no_longer_allowed(
        seeded, monkeypatch):
    # A logout, a revoked token or a retired terminal: the stream must not go on for minutes.
    monkeypatch.setattr(changes_module, "HEARTBEAT_SECONDS", 0.05)
    caller = Caller(clerk="gz-th-01-c2", role=Role.CLERK, hall_id="GZ-TH-01",
                    terminal_id="T02", district="GZ-TH")
    pulls = WaitingPulls(seeded, listen=False)
    allowed = [True, True, False]

    async def still_allowed() -> bool:
        return allowed.pop(0)

    async def follow() -> list[bytes]:
        try:
            return [event async for event in pulls.stream_changes(
                seeded, PullRequest(caller, 10**6, None, 100), still_allowed)]
        finally:
            pulls.close()

    assert asyncio.run(follow()) == [b": waiting\n\n"] * 2
    assert allowed == []


@pytest.mark.parametrize("listen", [True, False], ids=["listening", "polling"])
def test_a_stream_brings_each_change_and_claim_as_it_happens(apps, second_engine, listen):
    """The stream of changes (server-sent events) of another server process than the one
    the change was made at: a page for the account changed, then one for the claim made;
    woken by LISTEN on PostgreSQL, or by reading the cursors (SQLite, PgBouncer)."""
    first, _ = apps
    pusher = logged_in(first, "GZ-TH-01", "T01", "gz-th-01-c1")
    account = next(a for a in pusher.all_accounts() if a["status"] == "active"
                   and a["id_number"] and not a["arrears_fen"])
    cursor = _cursor(pusher)
    caller = Caller(clerk="gz-th-01-c2", role=Role.CLERK, hall_id="GZ-TH-01",
                    terminal_id="T02", district="GZ-TH")
    pulls = WaitingPulls(second_engine, listen=listen)

    async def next_page(stream: AsyncIterator[bytes], make_change: Callable[[], object]
                        ) -> dict[str, Any]:
        event = asyncio.create_task(anext(stream))
        while "GZ-TH" not in pulls.waits._waiters:  # the stream waits for its district
            await asyncio.sleep(0.01)
        await asyncio.to_thread(make_change)
        data = await event
        assert data.startswith(b"data: ") and data.endswith(b"\n\n")
        page: dict[str, Any] = json.loads(data[6:])
        return page

    async def follow() -> tuple[dict[str, Any], dict[str, Any]]:
        stream = pulls.stream_changes(second_engine, PullRequest(caller, cursor, 0, 100),
                                      _allowed)
        try:
            changed = await next_page(stream, lambda: _suspend(pusher, account))
            claimed = await next_page(stream, lambda: pusher.client.put(
                f"/api/v1/accounts/{account['number']}/claim", headers=pusher.headers))
        finally:
            await stream.aclose()
            pulls.close()
        return changed, claimed

    changed, claimed = asyncio.run(follow())
    assert [a["number"] for a in changed["accounts"]] == [account["number"]]
    assert changed["claims"] == [] and changed["terminal"]["server_identity"]
    assert claimed["accounts"] == []
    assert [c["account_number"] for c in claimed["claims"]] == [account["number"]]
