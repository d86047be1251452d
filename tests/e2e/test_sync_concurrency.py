"""Twenty terminals in five halls change the same accounts at once, on SQLite and PostgreSQL.

Real terminals (tests/support/counter.py: own cache, keyring and sync engine, logged in over HTTP)
record requests on the accounts their halls share, then all sync at the same moment. In every
round each hot account has exactly one winner: the server's version moves on once, its state is
the winner's change; every other request on that base version is a conflict, and each one is a
task on the terminal that recorded it.
"""

import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hallclient.store.models import OutboxRow
from hallclient.store.tasks import open_tasks
from hallserver.embedded import EmbeddedServer
from hallserver.models import OperationRow
from hallserver.seed import seed
from tests.support.counter import Counter, active_accounts, cached_accounts, holder, server_accounts

# seed(halls=24) gives each of the 8 demo districts 3 halls; five of them, in two districts.
HALLS = {"GZ-TH-01": "GZ-TH", "GZ-TH-02": "GZ-TH", "GZ-TH-03": "GZ-TH",
         "GZ-YX-01": "GZ-YX", "GZ-YX-02": "GZ-YX"}
TERMINALS_PER_HALL = 4
HOT_ACCOUNTS = 3  # per district, changed by every terminal of the district in every round
ROUNDS = 3


@pytest.fixture
def live_server(server_engine):
    seed(server_engine, accounts=400, halls=24)
    live = EmbeddedServer(server_engine)
    live.start()
    yield live
    live.stop()


@pytest.fixture
def terminals(tmp_path, live_server):
    made = [Counter(tmp_path / f"{hall}-T{i:02d}", live_server.url, hall, f"T{i:02d}",
                    f"{hall.lower()}-c{1 + i % 2}")
            for hall in HALLS for i in range(1, TERMINALS_PER_HALL + 1)]
    try:
        for t in made:
            t.login()
        yield made
    finally:
        for t in made:
            t.close()


def name(counter):
    return f"{counter.hall_id}-{counter.terminal_id}"


def all_at_once(terminals):
    """Every terminal syncs in its own thread, all starting at the same moment. The server
    answers every one of them: contention is no excuse for an error or a timeout."""
    start = threading.Barrier(len(terminals))

    def sync(counter):
        start.wait()
        return counter.engine.sync_once()

    with ThreadPoolExecutor(len(terminals)) as pool:
        return list(pool.map(sync, terminals))


def record_round(terminals, hot, round_no):
    """Each terminal records one request on each hot account of its district: a phone change
    (a number of its own) or, every other terminal, a suspension or resumption. Returns the
    operations by account: (terminal, operation id, kind, payload)."""
    recorded = defaultdict(list)
    for index, t in enumerate(terminals):
        for a_index, number in enumerate(hot[HALLS[t.hall_id]]):
            account = t.account(number)
            if index % 2 == 0:
                kind = "contact_change"
                payload = {**holder(account),
                           "phone": f"139{round_no:02d}{index:02d}{a_index:04d}"}
            else:
                kind = "suspend" if account.status.value == "active" else "resume"
                payload = holder(account)
            op = t.record(kind, number, payload)
            recorded[number].append((t, op.operation_id, kind, payload))
    return recorded


def expected_after(state, kind, payload):
    """An account's (phone, status, version) after the winner's request."""
    phone, status, version = state
    if kind == "contact_change":
        phone = payload["phone"]
    else:
        status = "suspended" if kind == "suspend" else "active"
    return phone, status, version + 1


def outcomes(server, operation_ids):
    with Session(server.engine) as s:
        return dict(s.execute(select(OperationRow.operation_id, OperationRow.outcome)
                              .where(OperationRow.operation_id.in_(operation_ids))).all())


def test_twenty_terminals_in_five_halls_one_winner_per_conflict_losers_become_tasks(
        terminals, live_server):
    for t in terminals:
        t.engine.sync_once()
    hot = {district: [a.number for a in active_accounts(
        next(t for t in terminals if HALLS[t.hall_id] == district), HOT_ACCOUNTS)]
        for district in set(HALLS.values())}
    conflicts_of = defaultdict(dict)  # terminal's name → its operations that lost → what asked
    for round_no in range(ROUNDS):
        before = {d: server_accounts(live_server.engine, d) for d in hot}
        recorded = record_round(terminals, hot, round_no)
        assert [summary.pending for summary in all_at_once(terminals)] == [0] * len(terminals)
        for district, numbers in hot.items():
            after = server_accounts(live_server.engine, district)
            for number in numbers:
                ops = recorded[number]
                told = outcomes(live_server, [op_id for _, op_id, _, _ in ops])
                winners = [op for op in ops if told[op[1]] == "applied"]
                assert len(winners) == 1, (round_no, number, sorted(told.values()))
                assert sorted(told.values()) == ["applied"] + ["conflict"] * (len(ops) - 1)
                _, _, kind, payload = winners[0]
                state = before[district][number]
                assert (after[number]["phone"], after[number]["status"].value,
                        after[number]["version"]) == expected_after(
                    (state["phone"], state["status"].value, state["version"]), kind, payload)
                for t, op_id, op_kind, op_payload in ops:
                    if told[op_id] == "conflict":
                        conflicts_of[name(t)][op_id] = (number, op_kind, op_payload.get("phone"))
        for t in terminals:  # everyone pulls the winners' changes before the next round
            t.engine.sync_once()

    expected_conflicts = ROUNDS * sum(
        (sum(HALLS[t.hall_id] == d for t in terminals) - 1) * len(numbers)
        for d, numbers in hot.items())
    assert sum(len(ops) for ops in conflicts_of.values()) == expected_conflicts
    for t in terminals:
        with t.cache.read() as s:
            states = {op.operation_id: op.state for op in s.scalars(select(OutboxRow))}
        assert set(states.values()) <= {"applied", "conflict"}
        assert {op_id for op_id, state in states.items() if state == "conflict"} == set(
            conflicts_of[name(t)])
        # Every request that lost is a task on the terminal that took it; nothing else is.
        tasks = open_tasks(t.cache)
        assert {task.kind for task in tasks} <= {"conflict"}
        assert sorted((task.account_number, task.business.value, task.asked.get("phone"))
                      for task in tasks) == sorted(conflicts_of[name(t)].values())
        assert cached_accounts(t.cache) == server_accounts(live_server.engine,
                                                           HALLS[t.hall_id])
