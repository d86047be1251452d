"""Many requests at once: the same operation lands once; of conflicting ones exactly one wins."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hallserver.app import create_app
from hallserver.models import AccountRow, OperationRow
from hallserver.seed import seed
from tests.support.server import Terminal, holder_of

PARALLEL = 12


@pytest.fixture
def terminals(server_engine):
    seed(server_engine, accounts=100, halls=3)  # halls GZ-TH-01, GZ-YX-01, GZ-HZ-01...
    app = create_app(server_engine)
    with TestClient(app) as client:
        made = []
        for i in range(PARALLEL):
            t = Terminal(client, "GZ-TH-01", f"T{i:02d}")
            assert t.login("gz-th-01-c1").status_code == 200
            made.append(t)
        yield made


def suspendable(terminal):
    return next(a for a in terminal.all_accounts()
                if a["status"] == "active" and a["id_number"] and not a["arrears_fen"])


def test_same_operation_pushed_in_parallel_lands_once(terminals, server_engine):
    t = terminals[0]
    account = suspendable(t)
    op = t.operation("suspend", holder_of(account), account=account)
    with ThreadPoolExecutor(PARALLEL) as pool:
        results = list(pool.map(lambda _: t.push(op)[0], range(PARALLEL)))
    outcomes = sorted(r["outcome"] for r in results)
    assert outcomes == ["applied"] + ["duplicate"] * (PARALLEL - 1)
    assert {r["account"]["version"] for r in results} == {account["version"] + 1}
    with Session(server_engine) as s:
        assert s.scalar(select(func.count()).select_from(OperationRow)) == 1
        assert s.get(AccountRow, account["number"]).version == account["version"] + 1


def test_conflicting_operations_from_many_terminals_have_one_winner(terminals, server_engine):
    account = suspendable(terminals[0])
    ops = [(t, t.operation("suspend", holder_of(account), account=account)) for t in terminals]
    with ThreadPoolExecutor(PARALLEL) as pool:
        results = list(pool.map(lambda pair: pair[0].push(pair[1])[0], ops))
    outcomes = sorted(r["outcome"] for r in results)
    assert outcomes == ["applied"] + ["conflict"] * (PARALLEL - 1)
    losers = [r for r in results if r["outcome"] == "conflict"]
    assert all(r["account"]["status"] == "suspended" for r in losers)
    with Session(server_engine) as s:
        assert s.scalar(select(func.count()).select_from(OperationRow)) == PARALLEL
        assert s.get(AccountRow, account["number"]).version == account["version"] + 1


def test_parallel_changes_in_one_district_get_distinct_gapless_sequence(terminals):
    t0 = terminals[0]
    start = t0.get("/bootstrap", limit=1).json()["cursor"]
    accounts = [a for a in t0.all_accounts()
                if a["status"] == "active" and a["id_number"] and not a["arrears_fen"]][:PARALLEL]
    pairs = [(t, t.operation("suspend", holder_of(a), account=a))
             for t, a in zip(terminals, accounts, strict=False)]
    with ThreadPoolExecutor(PARALLEL) as pool:
        results = list(pool.map(lambda pair: pair[0].push(pair[1])[0], pairs))
    assert {r["outcome"] for r in results} == {"applied"}
    seqs = sorted(r["account"]["seq"] for r in results)
    assert seqs == list(range(start + 1, start + 1 + len(pairs)))
    pulled = t0.get("/changes", after=start).json()["accounts"]
    assert [a["seq"] for a in pulled] == seqs
