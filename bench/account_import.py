"""Account import from the customer system's file (`hallserver accounts import`) on PostgreSQL:
4,340,000 accounts, the whole file in one transaction.

The file is what the customer system exports: every column of docs/ACCOUNT_IMPORT.md with its
Chinese header, UTF-8, the accounts of hallcore.demodata (8 districts, a community for every 300
accounts). The database (`<pg-url>_import`) is migrated and holds the districts, halls and
communities, no account. Timed, each in a fresh process, as the operator runs it:

1. the first import: every account new;
2. the same file again: nothing changes, nothing is written;
3. a file in which 1% of the accounts have a new phone: those updated, the rest unchanged.

The import's process reports its own peak memory and its worker processes' (the rows are
checked by one worker a core).

Raw limit, in the same run: a bare `COPY ... FROM STDIN (FORMAT csv, HEADER)` of the same file
into a table with the same columns (text, no index, no constraint): what PostgreSQL takes to
read the file at the least, with no check and no index.

SQLite (trials) is timed too, at 100,000 accounts, with its own raw limit: the same rows
inserted by one sqlite3 executemany into a bare table.

    python -m bench.account_import [--quick]
"""

from __future__ import annotations

import argparse
import csv
import resource
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path

from sqlalchemy import insert

from bench.common import BenchContext, Figure, peak_rss_mb
from bench.servers import database_version, drop_database, recreate_database, sqlite_url
from hallcore.demodata import DISTRICTS, communities
from hallcore.demodata import accounts as demo_accounts
from hallcore.domain.accounts import STATUS_LABELS, Account
from hallcore.domain.ids import DOC_TYPE_LABELS
from hallserver.account_import import COLUMNS, import_accounts
from hallserver.db import SERVER_SCHEMA, make_engine
from hallserver.models import CommunityRow
from hallserver.seed import ACCOUNTS_PER_COMMUNITY, seed

AREA = "account_import"
ACCOUNTS = 4_340_000
QUICK_ACCOUNTS = 100_000
SQLITE_ACCOUNTS = 100_000
GOAL_SECONDS = 300.0
CHANGED_EVERY = 100  # 1% of the accounts get a new phone in the third file
COPY_CHUNK = 2**20


def export_row(account: Account) -> list[str]:
    """The account as the customer system exports it, a cell per column of COLUMNS."""
    cells = {
        "number": account.number, "holder_name": account.holder_name,
        "id_type": DOC_TYPE_LABELS[account.id_type].zh if account.id_type else "",
        "id_number": account.id_number or "",
        "id_valid_until": account.id_valid_until.isoformat() if account.id_valid_until
        else "",
        "phone": account.phone or "", "supply_address": account.supply_address,
        "mailing_address": account.mailing_address or "",
        "status": STATUS_LABELS[account.status].zh, "district": account.district,
        "community_code": account.community.code if account.community else "",
        "arrears_fen": f"{account.arrears_fen // 100}.{account.arrears_fen % 100:02d}",
        "sms_consent": "是" if account.sms_consent else "否",
        "sms_language": account.sms_language,
    }
    return [cells[column.field] for column in COLUMNS]


def _shares(total: int) -> list[int]:
    base, extra = divmod(total, len(DISTRICTS))
    return [base + (1 if i < extra else 0) for i in range(len(DISTRICTS))]


def _all_accounts(total: int) -> Iterator[Account]:
    for district, share in zip(DISTRICTS, _shares(total), strict=True):
        made = list(communities(district, max(1, share // ACCOUNTS_PER_COMMUNITY)))
        yield from demo_accounts(district, share, made, first_serial=1)


def write_files(directory: Path, total: int) -> tuple[Path, Path]:
    """The customer system's file of `total` accounts, and the same with 1% of the phones new."""
    first, changed = directory / f"accounts-{total}.csv", directory / f"changed-{total}.csv"
    if first.exists() and changed.exists():
        return first, changed
    with first.open("w", encoding="utf-8", newline="") as a, \
            changed.open("w", encoding="utf-8", newline="") as b:
        out_a, out_b = csv.writer(a), csv.writer(b)
        header = [column.header for column in COLUMNS]
        out_a.writerow(header)
        out_b.writerow(header)
        phone = [column.field for column in COLUMNS].index("phone")
        for n, account in enumerate(_all_accounts(total)):
            row = export_row(account)
            out_a.writerow(row)
            if n % CHANGED_EVERY == 0:
                row[phone] = f"199{n % 10**8:08d}"
            out_b.writerow(row)
    return first, changed


def prepare(url: str, total: int) -> None:
    """A migrated database with the districts, halls and communities of the file; no account."""
    recreate_database(url)
    engine = make_engine(url)
    try:
        SERVER_SCHEMA.upgrade(engine)
        seed(engine, accounts=0, halls=len(DISTRICTS))  # one community each, the first
        with engine.begin() as conn:
            for district, share in zip(DISTRICTS, _shares(total), strict=True):
                more = list(communities(district, max(1, share // ACCOUNTS_PER_COMMUNITY)))[1:]
                if more:
                    conn.execute(insert(CommunityRow), [
                        {"code": c.code, "district": district.code, "name": c.name,
                         "households": c.households, "manager_name": c.manager_name,
                         "manager_phone": c.manager_phone} for c in more])
    finally:
        engine.dispose()


@dataclass(frozen=True)
class ImportRun:
    seconds: float
    read_seconds: float  # reading, checking and staging; the rest is the database's writes
    rows: int
    new: int
    changed: int
    unchanged: int
    rejected: int
    peak_rss_mb: float
    workers_peak_rss_mb: float


def run_import(url: str, path: Path) -> ImportRun:
    """One import, in a process of its own (its peak memory is a figure)."""
    engine = make_engine(url)
    started = time.perf_counter()
    summary = import_accounts(engine, path, exported_at=datetime.now(UTC) - timedelta(minutes=1),
                              actor="operator:bench")
    seconds = time.perf_counter() - started
    engine.dispose()
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return ImportRun(seconds, summary.read_seconds, summary.rows, summary.new, summary.changed,
                     summary.unchanged, summary.rejected, peak_rss_mb(), workers)


def _in_child(url: str, path: Path) -> ImportRun:
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as child:
        return child.submit(run_import, url, path).result()


def bare_copy_seconds(url: str, path: Path) -> float:
    """The raw limit (module docstring), through the same driver."""
    import psycopg

    columns = ", ".join(f"c{i} text" for i in range(len(COLUMNS)))
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        conn.execute("DROP TABLE IF EXISTS bare_copy")
        conn.execute(f"CREATE TABLE bare_copy ({columns})")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cursor, path.open("rb") as source, cursor.copy(
                "COPY bare_copy FROM STDIN (FORMAT csv, HEADER)") as copy:
            while chunk := source.read(COPY_CHUNK):
                copy.write(chunk)
        conn.commit()
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE bare_copy")
        conn.commit()
    return seconds


def bare_sqlite_seconds(directory: Path, path: Path) -> float:
    """SQLite's raw limit: the file's rows by one executemany into a bare table."""
    database = directory / "bare.sqlite3"
    database.unlink(missing_ok=True)
    with closing(sqlite3.connect(database)) as conn, path.open(encoding="utf-8",
                                                                newline="") as source:
        conn.execute(f"CREATE TABLE bare ({', '.join(f'c{i}' for i in range(len(COLUMNS)))})")
        rows = csv.reader(source)
        next(rows)
        started = time.perf_counter()
        conn.executemany(f"INSERT INTO bare VALUES ({', '.join('?' * len(COLUMNS))})", rows)
        conn.commit()
        return time.perf_counter() - started


def _figures_postgresql(ctx: BenchContext, total: int) -> list[Figure]:
    work = ctx.scratch("account_import")
    first, changed = write_files(work, total)
    url = ctx.pg_database("import")
    prepare(url, total)
    try:
        raw = bare_copy_seconds(url, first)
        runs = [_in_child(url, path) for path in (first, first, changed)]
        engine = make_engine(url)
        version = database_version(engine)
        engine.dispose()
    finally:
        drop_database(url)
    size = f"{first.stat().st_size / 2**20:,.0f} MB"
    first_run, again, some = runs
    raw_label = "bare COPY of the same file into a table of its columns, text, no index"
    return [
        Figure(AREA, f"import of {total:,} new accounts, postgresql", first_run.seconds, "s",
               raw=raw, raw_label=raw_label, goal=f"< {GOAL_SECONDS:.0f} s (4,340,000)",
               met=first_run.seconds < GOAL_SECONDS if total == ACCOUNTS else None,
               notes=f"{version}; file {size}; {first_run.rows / first_run.seconds:,.0f} "
                     f"rows/s; {first_run.new:,} new, {first_run.rejected:,} rejected; "
                     f"reading and checking {first_run.read_seconds:.0f} s, the database's "
                     f"comparison and writes {first_run.seconds - first_run.read_seconds:.0f} "
                     f"s; {first_run.seconds / raw:.1f}× the bare COPY"),
        Figure(AREA, "import of the same file again (nothing changes), postgresql",
               again.seconds, "s", raw=raw, raw_label=raw_label,
               notes=f"{again.unchanged:,} unchanged, {again.new + again.changed} written; "
                     f"reading and checking {again.read_seconds:.0f} s"),
        Figure(AREA, f"import with 1% of the accounts changed ({some.changed:,}), postgresql",
               some.seconds, "s", raw=raw, raw_label=raw_label,
               notes=f"{some.changed:,} changed, {some.unchanged:,} unchanged; reading and "
                     f"checking {some.read_seconds:.0f} s"),
        Figure(AREA, "peak memory of the import's process", max(r.peak_rss_mb for r in runs),
               "MB", notes="the worst of the three imports; each worker process (one a core) "
                           f"peaked at {max(r.workers_peak_rss_mb for r in runs):.0f} MB"),
    ]


def _figures_sqlite(ctx: BenchContext) -> list[Figure]:
    work = ctx.scratch("account_import/sqlite")
    first, _ = write_files(work, SQLITE_ACCOUNTS)
    url = sqlite_url(work / "server.sqlite3")
    prepare(url, SQLITE_ACCOUNTS)
    run = _in_child(url, first)
    raw = bare_sqlite_seconds(work, first)
    return [Figure(AREA, f"import of {SQLITE_ACCOUNTS:,} new accounts, sqlite", run.seconds, "s",
                   raw=raw, raw_label="sqlite3 executemany of the file's rows into a bare "
                                      "table, one transaction",
                   notes=f"trials only; {run.new:,} new; peak {run.peak_rss_mb:.0f} MB")]


def run(ctx: BenchContext) -> list[Figure]:
    return [*_figures_postgresql(ctx, QUICK_ACCOUNTS if ctx.quick else ACCOUNTS),
            *_figures_sqlite(ctx)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else "")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_ACCOUNTS:,} accounts instead of {ACCOUNTS:,}")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for figure in run(BenchContext(quick=args.quick, work_dir=Path(tmp))):
            raw = f" (raw {figure.raw:,.1f}: {figure.raw_label})" if figure.raw is not None \
                else ""
            goal = (f"  goal {figure.goal}: {'met' if figure.met else 'MISSED'}"
                    if figure.goal and figure.met is not None else "")
            print(f"{figure.name}: {figure.value:,.1f} {figure.unit}{raw}{goal}  {figure.notes}")


if __name__ == "__main__":
    main()
