"""Exactly once through a network that drops, delays and cuts connections."""

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hallclient.store.models import AccountRow, OutboxRow
from hallclient.sync.api import ServerUnreachable
from hallserver.models import AccountRow as ServerAccount
from hallserver.models import OperationRow
from tests.counter import HALL, Counter, active_accounts, holder
from tests.netfault import FaultyProxy, random_faults

OPERATIONS = 120


def test_operations_land_exactly_once_through_a_faulty_network(tmp_path, server):
    direct = Counter(tmp_path / "boot", server.url, HALL, "T01", "gz-th-01-c1")
    direct.login()
    direct.engine.sync_once()
    accounts = active_accounts(direct, 30)
    # Each account suspended, resumed, suspended, resumed: every operation builds on the last.
    for round_no in range(OPERATIONS // len(accounts)):
        kind = "suspend" if round_no % 2 == 0 else "resume"
        for a in accounts:
            direct.record(kind, a.number, holder(a))
    direct.close()

    proxy = FaultyProxy(server.port, random_faults(7, {
        "pass": 0.5, "drop": 0.15, "delay": 0.15, "cut_response": 0.2}))
    proxy.start()
    # A new connection for every request, so that faults meet requests, not one long
    # keep-alive connection.
    one_shot = httpx.HTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))
    counter = Counter(tmp_path / "boot", proxy.url, HALL, "T01", "gz-th-01-c1",
                      keyring=direct.keyring, transport=one_shot)
    counter.settings = direct.settings
    counter.engine.push_batch = 7  # many round trips, so many of them meet a fault
    failures = 0
    try:
        for _ in range(300):
            try:
                if counter.engine.sync_once().pending == 0:
                    break
            except ServerUnreachable:
                failures += 1
        with counter.cache.read() as s:
            states = dict(s.execute(select(OutboxRow.state, func.count())
                                    .group_by(OutboxRow.state)).all())
            cached = {r.number: (r.version, r.status) for r in s.scalars(select(AccountRow))}
    finally:
        counter.close()
        proxy.stop()
    print(f"faults {proxy.counts}, sync rounds failed {failures}")
    assert failures > 0 and proxy.counts["cut_response"] > 0
    assert states == {"applied": OPERATIONS}
    with Session(server.engine) as s:
        assert s.scalar(select(func.count()).select_from(OperationRow)) == OPERATIONS
        for a in accounts:
            on_server = s.get(ServerAccount, a.number)
            # Four operations each, every one applied once: four versions on, resumed.
            assert (on_server.version, on_server.status) == (a.version + 4, "active")
        on_server_all = {r.number: (r.version, r.status) for r in s.scalars(
            select(ServerAccount).where(ServerAccount.district == "GZ-TH"))}
    assert cached == on_server_all
