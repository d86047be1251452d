"""Push of 10,000 operations made offline: from the start of the sync to an empty outbox.

A HallServer (`hallserver serve`, its own process) on SQLite and on PostgreSQL, seeded with one
hall whose district holds every account. A terminal logs in and bootstraps through the
client's own code, then, offline, records one request on each of 10,000 distinct accounts
with `record_operation` as the counter does (contact changes, suspensions, resumptions,
renames, transfers, new connections: the first the account's state allows). The network
returns: `SyncEngine.push` delivers the outbox in the engine's own batches; timed until the
outbox is empty. The pull that follows in the same `sync_once` (the accounts changed, coming
back) is timed apart.

Raw limit, on the same database in the same run: the operation rows the server stored, copied
into the operations table again (new ids) by one executemany in one transaction: what writing
those rows costs with no HTTP, no rules and no per-operation transaction.

    python -m bench.push [--ops 10000] [--backend sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bench.common import BenchContext, Figure
from bench.server import process_tree_seconds
from bench.servers import drop_database, prepare_database, running_server, sqlite_url
from hallclient.auth.login import online_login, terminal_identity
from hallclient.auth.secrets import EphemeralKeyring, SecretStore
from hallclient.config import Settings
from hallclient.samples import sample_signature
from hallclient.store.accounts import account_from_row
from hallclient.store.cache import Cache, open_cache
from hallclient.store.models import AccountRow
from hallclient.store.operations import (
    OverrideNeeded,
    RequestRefused,
    TerminalIdentity,
    record_operation,
)
from hallclient.sync.api import ServerApi
from hallclient.sync.engine import Credentials, SyncEngine, SyncSummary, pending_count
from hallcore.domain.accounts import Account
from hallcore.domain.business import BusinessKind, PayloadInvalid
from hallserver.db import make_engine
from hallserver.models import OperationRow
from hallserver.seed import DEMO_CLERK_PASSWORD, DEMO_SUPERVISOR_PASSWORD

AREA = "push"
GOAL_S_PER_10K = 5.0
HALL = "GZ-TH-01"
CLERK = "gz-th-01-c1"
SUPERVISOR = "gz-th-01-s1"
# Every account is tried in this order, starting at a different kind for each, so the mix
# spreads over the business types; the first the account's state allows is recorded.
KINDS = (BusinessKind.CONTACT_CHANGE, BusinessKind.SUSPEND, BusinessKind.RENAME,
         BusinessKind.TRANSFER, BusinessKind.RESUME)
NEW_CONNECTION_EVERY = 50  # one request in 50 opens a new account


@dataclass(frozen=True)
class PushRun:
    backend: str
    database: str
    ops: int
    kinds: dict[str, int]
    push_s: float
    push_server_cpu_s: float  # the server process's CPU time during the push
    push_client_cpu_s: float  # this process's (the terminal's) CPU time during the push
    pull_s: float
    pushed: int
    applied: int
    pending_after: int
    raw_s: float


def _payload(kind: BusinessKind, account: Account, n: int) -> dict[str, Any]:
    holder = {"applicant_id_type": account.id_type, "applicant_id_number": account.id_number}
    if kind is BusinessKind.CONTACT_CHANGE:
        return {**holder, "phone": f"139{n:08d}"}
    if kind is BusinessKind.RENAME:
        return {**holder, "new_name": "陈伟明" if account.holder_name != "陈伟明" else "陈伟"}
    if kind is BusinessKind.TRANSFER:
        return {"new_holder_name": "林晓燕", "new_holder_id_type": "resident_id",
                "new_holder_id_number": "440106199203154429",
                "new_holder_phone": f"138{n:08d}", "new_holder_sms_consent": True}
    return holder  # suspend, resume


NEW_CONNECTION = {
    "applicant_name": "陈志明", "applicant_id_type": "resident_id",
    "applicant_id_number": "440106198506123019", "phone": "13800138000",
    "supply_address": "广州市天河区天河路385号太古汇公寓12栋1803房", "sms_consent": True}


def _accounts(cache: Cache) -> Iterator[Account]:
    with cache.read() as session:
        rows = session.scalars(select(AccountRow).order_by(AccountRow.number)).all()
        accounts = [account_from_row(r) for r in rows]
    yield from accounts


def record_offline(cache: Cache, terminal: TerminalIdentity, ops: int) -> dict[str, int]:
    """`ops` requests recorded offline, each on an account of its own (new connections
    aside); returns how many of each business type."""
    online_only = frozenset(BusinessKind(k) for k in Settings().online_only)
    kinds: dict[str, int] = {}

    def record(kind: BusinessKind, number: str | None, payload: dict[str, Any]) -> bool:
        try:
            record_operation(cache, terminal, clerk=CLERK, kind=kind, account_number=number,
                             raw_payload=payload, now=datetime.now(UTC), online=False,
                             online_only=online_only,
                             customer_signature=sample_signature(kind))
        except (RequestRefused, OverrideNeeded, PayloadInvalid):
            return False
        kinds[kind.value] = kinds.get(kind.value, 0) + 1
        return True

    made = 0
    for n, account in enumerate(_accounts(cache)):
        if made == ops:
            break
        if made % NEW_CONNECTION_EVERY == NEW_CONNECTION_EVERY - 1:
            made += record(BusinessKind.NEW_CONNECTION, None, NEW_CONNECTION)
        if made == ops:
            break
        for i in range(len(KINDS)):
            kind = KINDS[(n + i) % len(KINDS)]
            if record(kind, account.number, _payload(kind, account, n)):
                made += 1
                break
    if made < ops:
        raise RuntimeError(f"only {made} requests could be recorded; seed more accounts")
    return kinds


def raw_insert_seconds(db_url: str, ops: int) -> float:
    """The server's stored operation rows written again, new ids, by one executemany in one
    transaction; removed afterwards (not timed)."""
    engine = make_engine(db_url)
    table = OperationRow.metadata.tables[OperationRow.__tablename__]
    try:
        with Session(engine) as session:
            rows = [dict(r._mapping) for r in session.execute(select(table).limit(ops))]
        suffix = "-RAW"
        for row in rows:
            row["operation_id"] = str(uuid.uuid4())
            row["receipt_no"] = row["receipt_no"] + suffix
        started = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(table.insert(), rows)
        seconds = time.perf_counter() - started
        with engine.begin() as conn:
            conn.execute(delete(table).where(table.c.receipt_no.like(f"%{suffix}")))
        return seconds
    finally:
        engine.dispose()


def push_run(db_url: str, backend: str, ops: int, work: Path, *, accounts: int | None = None,
             server_python_args: tuple[str, ...] = ()) -> PushRun:
    """Seed, serve, bootstrap a terminal, record `ops` requests offline, push them."""
    prepared = prepare_database(db_url, accounts or ops + ops // 5 + 200, halls=1)
    hall, _district = prepared.halls[0]
    assert hall == HALL
    with running_server(db_url, work / "server.log",
                        python_args=server_python_args) as (url, pid):
        settings = Settings(server_url=url, hall_id=HALL, terminal_id="P01",
                            installation_id=uuid.uuid4().hex)
        store = SecretStore(HALL, "P01", backend=EphemeralKeyring())
        api = ServerApi(url, timeout=120)
        cache = open_cache(work / "client" / "cache.sqlite3")
        try:
            # A new terminal: the hall's supervisor approves it by logging in, then the clerk.
            online_login(api, store, settings, SUPERVISOR, DEMO_SUPERVISOR_PASSWORD)
            online_login(api, store, settings, CLERK, DEMO_CLERK_PASSWORD)
            engine = SyncEngine(cache, Credentials(api, store))
            engine.sync_once()
            kinds = record_offline(cache, terminal_identity(settings, store), ops)
            summary = SyncSummary()
            started, server_cpu = time.perf_counter(), process_tree_seconds(pid)
            client_cpu = time.process_time()
            engine.bootstrap()  # what sync_once does first: nothing to do here
            engine.push(summary)
            push_s = time.perf_counter() - started
            push_server_cpu_s = process_tree_seconds(pid) - server_cpu
            push_client_cpu_s = time.process_time() - client_cpu
            with cache.read() as session:
                pending_after = pending_count(session)
            started = time.perf_counter()
            engine.sync_once()
            pull_s = time.perf_counter() - started
        finally:
            cache.close()
            api.close()
    server = make_engine(db_url)
    try:
        with Session(server) as session:
            stored = session.scalar(select(func.count()).select_from(OperationRow)) or 0
    finally:
        server.dispose()
    if stored != ops:
        raise RuntimeError(f"the server stored {stored} operations, {ops} were pushed")
    return PushRun(backend, prepared.version, ops, kinds, push_s, push_server_cpu_s,
                   push_client_cpu_s, pull_s, summary.pushed, summary.applied, pending_after,
                   raw_insert_seconds(db_url, ops))


def figures(result: PushRun) -> list[Figure]:
    goal_s = GOAL_S_PER_10K * result.ops / 10_000
    scaled = "" if result.ops == 10_000 else f" ({GOAL_S_PER_10K:g} s per 10,000, scaled)"
    mix = ", ".join(f"{k} {n}" for k, n in sorted(result.kinds.items()))
    return [
        Figure(AREA, f"push {result.ops:,} offline ops, {result.backend}", result.push_s, "s",
               raw=result.raw_s,
               raw_label="the same rows: one executemany, one transaction",
               goal=f"< {goal_s:g} s{scaled}", met=result.push_s < goal_s,
               notes=f"{result.database}; {result.ops / result.push_s:.0f} ops/s; server CPU "
                     f"{result.push_server_cpu_s:.2f} s "
                     f"({result.push_server_cpu_s / result.ops * 1000:.2f} ms per op), terminal "
                     f"CPU {result.push_client_cpu_s:.2f} s; applied "
                     f"{result.applied} of {result.pushed}, pending after "
                     f"{result.pending_after}; {mix}"),
        Figure(AREA, f"pull of the changed accounts after the push, {result.backend}",
               result.pull_s, "s", notes="the rest of the same sync_once, no goal"),
    ]


def run_backend(ctx: BenchContext, backend: str, ops: int) -> PushRun:
    work = ctx.scratch(f"push-{backend}")
    if backend == "sqlite":
        return push_run(sqlite_url(work / "server.sqlite3"), backend, ops, work)
    db_url = ctx.pg_database("push")
    try:
        return push_run(db_url, backend, ops, work)
    finally:
        drop_database(db_url)


def run(ctx: BenchContext) -> list[Figure]:
    ops = 1_000 if ctx.quick else 10_000
    out: list[Figure] = []
    for backend in ("sqlite", "postgresql"):
        out += figures(run_backend(ctx, backend, ops))
    return out


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else "")
    parser.add_argument("--ops", type=int, default=10_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), action="append")
    parser.add_argument("--pg-url", help="PostgreSQL server and database whose name, + _push, "
                                         "the run's database takes (default: hall_bench's)")
    parser.add_argument("--profile-server", type=Path,
                        help="run the server under cProfile, its stats into this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ctx = BenchContext(quick=False, work_dir=Path(tmp),
                           **({"pg_url": args.pg_url} if args.pg_url else {}))
        for backend in args.backend or ("sqlite", "postgresql"):
            if args.profile_server:
                work = ctx.scratch(f"push-{backend}")
                url = (sqlite_url(work / "server.sqlite3") if backend == "sqlite"
                       else ctx.pg_database("push"))
                python_args = ("-m", "cProfile", "-o", f"{args.profile_server}.{backend}")
                result = push_run(url, backend, args.ops, work,
                                  server_python_args=python_args)
                if backend != "sqlite":
                    drop_database(url)
            else:
                result = run_backend(ctx, backend, args.ops)
            for figure in figures(result):
                print(f"{figure.name}: {figure.value:.2f} {figure.unit}"
                      + (f" (raw {figure.raw:.3f} s)" if figure.raw is not None else "")
                      + f"  {figure.notes}")


if __name__ == "__main__":
    main()
