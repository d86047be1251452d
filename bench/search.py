"""Account search in a cache of 4,340,000 accounts (--quick: 50,000): p50/p99 of each kind of
query through the client's own `search_accounts`, beside the raw sqlite3 query on the same
file; and what the search index costs to keep (inserts with and without its triggers, a
rebuild, the file's size).

The cache is made by the client's migrations (`open_cache`) and filled with the demo data of
one Guangzhou district (`hallcore.demodata`) by raw executemany, the index suspended, then
rebuilt; it is kept in the bench's cache directory (`BenchContext.kept`) for the next run.
The queries are drawn from accounts of the cache: whole identifiers, a phone's last 8 digits,
a surname's character, a 2-character given name, a whole name, 2- and 3-to-8-character pieces
of supply addresses.
Raw, same file: a bare b-tree lookup for an identifier; for a fragment, the bare query of the
search index (every 3-character piece of a longer fragment intersected, each account checked
with LIKE), and, in the notes, the LIKE scan the search did before the index.

    python -m bench.search [--quick] [--work-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.schema import CreateIndex, DropIndex

from bench.common import BenchContext, Figure, percentile, time_calls
from hallclient.store.cache import head_revision, make_engine, open_cache
from hallclient.store.models import AccountRow
from hallclient.store.search import (
    rebuild_search_index,
    search_accounts,
    suspend_search_index,
)
from hallcore.db.account_columns import stored_values
from hallcore.demodata import DISTRICTS, District, accounts, communities
from hallcore.domain.accounts import Account

AREA = "search"
ACCOUNTS = 4_340_000  # Guangzhou's
QUICK_ACCOUNTS = 50_000
IDENTIFIER_GOAL_MS = 1.0
FRAGMENT_GOAL_MS = 5.0
PAGE = 2000  # accounts per transaction, as a bootstrap page
LIKE_SCANS = 20  # LIKE scans per kind of fragment: each reads the whole table
_ACCOUNTS = AccountRow.metadata.tables[AccountRow.__tablename__]
_PHONE_INDEX = "ix_accounts_phone_last4"
_COLUMNS = [column.name for column in _ACCOUNTS.columns]
_INSERT = (f"INSERT INTO accounts ({', '.join(_COLUMNS)}) "
           f"VALUES ({', '.join('?' * len(_COLUMNS))})")
# The same rows as one statement per page (a JSON array of rows).
_INSERT_PAGE = (f"INSERT INTO accounts ({', '.join(_COLUMNS)}) SELECT "
                + ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(_COLUMNS)))
                + " FROM json_each(?)")


def _row(account: Account) -> tuple[Any, ...]:
    values = {**stored_values(account), "server_seq": 1,
              "community_code": account.community.code if account.community else None}
    # As SQLite keeps a date (and JSON can carry it): ISO text.
    return tuple(value.isoformat() if isinstance(value, date) else value
                 for value in (values[column] for column in _COLUMNS))


def _pages(district: District, count: int) -> Iterator[list[tuple[Any, ...]]]:
    """The district's demo accounts as rows, PAGE at a time, with one community per 500."""
    homes = list(communities(district, max(1, count // 500)))
    page: list[tuple[Any, ...]] = []
    for account in accounts(district, count, homes):
        page.append(_row(account))
        if len(page) == PAGE:
            yield page
            page = []
    if page:
        yield page


def _store_communities(connection: Connection, district: District, count: int) -> None:
    connection.exec_driver_sql(
        "INSERT INTO communities (code, name, households, manager_name, manager_phone) "
        "VALUES (?, ?, ?, ?, ?)",
        [(c.code, c.name, c.households, c.manager_name, c.manager_phone)
         for c in communities(district, max(1, count // 500))])


def _size_mb(engine: Engine, path: Path) -> float:
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size / 2**20


@dataclass(frozen=True)
class Fixture:
    path: Path
    accounts: int
    build_s: float
    rebuild_s: float
    mb_before: float  # without the phone index and with the search index empty
    mb_phone_index: float
    mb_search_index: float


def fixture(ctx: BenchContext) -> Fixture:
    """The cache to search, built once per size and schema and kept in the work directory."""
    count = QUICK_ACCOUNTS if ctx.quick else ACCOUNTS
    path = ctx.kept("search") / f"cache-{count}-{head_revision()}.sqlite3"
    facts = path.with_suffix(".json")
    if path.exists() and facts.exists():
        return Fixture(path=path, **json.loads(facts.read_text()))
    building = path.with_suffix(".building")
    for stale in building.parent.glob(building.name + "*"):
        stale.unlink()
    started = time.perf_counter()
    open_cache(building).close()
    engine = make_engine(building)
    district = DISTRICTS[0]
    # As a bootstrap may: the index suspended, the lookup indexes dropped, rows appended; one
    # transaction.
    with engine.begin() as connection:
        suspend_search_index(connection)
        for index in _ACCOUNTS.indexes:
            connection.execute(DropIndex(index))
        _store_communities(connection, district, count)
        for page in _pages(district, count):
            connection.exec_driver_sql(_INSERT, page)
        for index in _ACCOUNTS.indexes:
            if index.name != _PHONE_INDEX:
                connection.execute(CreateIndex(index))
    before = _size_mb(engine, building)
    with engine.begin() as connection:
        connection.execute(CreateIndex(next(index for index in _ACCOUNTS.indexes
                                            if index.name == _PHONE_INDEX)))
    with_phone_index = _size_mb(engine, building)
    rebuild_started = time.perf_counter()
    with engine.begin() as connection:
        rebuild_search_index(connection)
    rebuild_s = time.perf_counter() - rebuild_started
    built = Fixture(path=path, accounts=count, build_s=time.perf_counter() - started,
                    rebuild_s=rebuild_s, mb_before=before,
                    mb_phone_index=with_phone_index - before,
                    mb_search_index=_size_mb(engine, building) - with_phone_index)
    engine.dispose()
    building.rename(path)
    facts.write_text(json.dumps({k: v for k, v in asdict(built).items() if k != "path"}))
    return built


def _timed_load(path: Path, count: int, store: Callable[[Connection, list[Any]], None],
                *, suspended: bool) -> tuple[float, float | None]:
    """Accounts/s of `count` accounts written a page per transaction into a new cache (the
    lookup indexes dropped, as a bootstrap does), and the seconds of a rebuild after a load
    with the index suspended."""
    open_cache(path).close()
    engine = make_engine(path)
    district = DISTRICTS[1]
    with engine.begin() as connection:
        if suspended:
            suspend_search_index(connection)
        for index in _ACCOUNTS.indexes:
            connection.execute(DropIndex(index))
        _store_communities(connection, district, count)
    pages = list(_pages(district, count))
    started = time.perf_counter()
    for page in pages:
        with engine.begin() as connection:
            store(connection, page)
    rate = count / (time.perf_counter() - started)
    rebuild_s = None
    if suspended:
        started = time.perf_counter()
        with engine.begin() as connection:
            rebuild_search_index(connection)
        rebuild_s = time.perf_counter() - started
    engine.dispose()
    return rate, rebuild_s


def _executemany(connection: Connection, page: list[Any]) -> None:
    connection.exec_driver_sql(_INSERT, page)


def _one_statement(connection: Connection, page: list[Any]) -> None:
    connection.exec_driver_sql(_INSERT_PAGE, (json.dumps(page, ensure_ascii=False),))


def index_cost(ctx: BenchContext, built: Fixture) -> list[Figure]:
    count = 10_000 if ctx.quick else 100_000
    scratch = Path(tempfile.mkdtemp(dir=ctx.scratch("search")))
    plain, rebuild_s = _timed_load(scratch / "plain.sqlite3", count, _executemany,
                                   suspended=True)
    kept, _ = _timed_load(scratch / "kept.sqlite3", count, _executemany, suspended=False)
    paged, _ = _timed_load(scratch / "paged.sqlite3", count, _one_statement, suspended=False)
    for leftover in scratch.iterdir():
        leftover.unlink()
    scratch.rmdir()
    assert rebuild_s is not None
    per_million = 1_000_000 / built.accounts
    loaded = (f"{count:,} accounts into a new cache, {PAGE:,} a transaction, lookup indexes "
              "dropped")
    return [
        Figure(AREA, "insert, search index kept by its triggers, executemany", kept,
               "accounts/s", raw=plain, raw_label="the same executemany, index suspended",
               notes=f"{loaded}; per 1M: {1e6 / kept:.0f} s against {1e6 / plain:.0f} s "
                     "(+ a rebuild)"),
        Figure(AREA, "insert, search index kept by its triggers, one statement a page", paged,
               "accounts/s", raw=plain, raw_label="executemany, index suspended",
               notes=f"{loaded}; INSERT … SELECT FROM json_each(page); per 1M: "
                     f"{1e6 / paged:.0f} s"),
        Figure(AREA, f"search index rebuild, {built.accounts:,} accounts", built.rebuild_s,
               "s", notes=f"per 1M: {built.rebuild_s * per_million:.0f} s; after {count:,} "
                          f"accounts: {rebuild_s:.1f} s"),
        Figure(AREA, f"cache file, {built.accounts:,} accounts, with the search indexes",
               built.mb_before + built.mb_phone_index + built.mb_search_index, "MB",
               raw=built.mb_before, raw_label="the same cache without them",
               notes=f"search index {built.mb_search_index:.0f} MB, phone's last digits "
                     f"{built.mb_phone_index:.0f} MB"),
    ]


@dataclass(frozen=True)
class Kind:
    name: str
    goal_ms: float
    queries: list[str]
    raw: Callable[[sqlite3.Connection, str], object]
    raw_label: str
    like_column: str | None = None  # the column a LIKE scan reads, for a fragment


def _lookup(column: str) -> Callable[[sqlite3.Connection, str], object]:
    def run(connection: sqlite3.Connection, value: str) -> object:
        return connection.execute(f"SELECT * FROM accounts WHERE {column} = ?",
                                  (value,)).fetchall()
    return run


def _index_query(field: str, column: str) -> Callable[[sqlite3.Connection, str], object]:
    """The bare query of the search index for a fragment of the name (n) or address (a)."""
    def token(piece: str) -> str:
        return f'"{field}{len(piece)}{piece.encode().hex()}"'

    def run(connection: sqlite3.Connection, fragment: str) -> object:
        if len(fragment) <= 3:
            return connection.execute(
                "SELECT printf('%010d', rowid) FROM account_search WHERE account_search "
                "MATCH ? ORDER BY rowid LIMIT 50", (token(fragment),)).fetchall()
        pieces = " AND ".join(sorted({token(fragment[i:i + 3])
                                      for i in range(len(fragment) - 2)}))
        return connection.execute(
            "SELECT a.number FROM account_search JOIN accounts AS a ON a.number = "
            "printf('%010d', account_search.rowid) WHERE account_search MATCH ? AND "
            f"a.{column} LIKE ? ORDER BY account_search.rowid LIMIT 50",
            (pieces, f"%{fragment}%")).fetchall()
    return run


def _piece(rng: random.Random, value: str, shortest: int, longest: int) -> str:
    length = rng.randint(shortest, min(longest, len(value)))
    start = rng.randrange(len(value) - length + 1)
    return value[start:start + length]


def kinds(connection: sqlite3.Connection, count: int, rng: random.Random) -> list[Kind]:
    """Each kind of query, drawn from `count` accounts of the cache."""
    highest = connection.execute("SELECT max(rowid) FROM accounts").fetchone()[0]
    sample = [connection.execute(
        "SELECT number, id_number, phone, holder_name, supply_address FROM accounts "
        "WHERE rowid >= ? ORDER BY rowid LIMIT 1", (rng.randint(1, highest),)).fetchone()
        for _ in range(count * 2)]
    numbers = [row[0] for row in sample][:count]
    ids = [row[1] for row in sample if row[1]][:count]
    phones = [row[2] for row in sample if row[2]][:count]
    # Chinese names: a 1-character surname and a 1- or 2-character given name.
    names = [row[3] for row in sample if len(row[3]) in (2, 3) and row[3].isalpha()
             and not row[3].isascii()]
    given = [name[1:] for name in names if len(name) == 3][:count]
    addresses = [row[4] for row in sample][:count]
    name_query = _index_query("n", "holder_name")
    address_query = _index_query("a", "supply_address")
    index_label = "the search index's bare query (longer fragments: every piece)"
    return [
        Kind("account number", IDENTIFIER_GOAL_MS, numbers, _lookup("number"),
             "b-tree lookup"),
        Kind("ID number", IDENTIFIER_GOAL_MS, ids, _lookup("id_number"), "b-tree lookup"),
        Kind("phone", IDENTIFIER_GOAL_MS, phones, _lookup("phone"), "b-tree lookup"),
        Kind("phone, last 8 digits", IDENTIFIER_GOAL_MS, [p[-8:] for p in phones],
             lambda c, digits: c.execute(
                 "SELECT * FROM accounts WHERE substr(phone, -4) = ? AND phone LIKE ?",
                 (digits[-4:], f"%{digits}")).fetchall(),
             "b-tree lookup of the last 4 digits"),
        Kind("surname, 1 character", FRAGMENT_GOAL_MS, [n[0] for n in names][:count],
             name_query, index_label, "holder_name"),
        Kind("given name, 2 characters", FRAGMENT_GOAL_MS, given, name_query, index_label,
             "holder_name"),
        Kind("whole name, 3 characters", FRAGMENT_GOAL_MS,
             [n for n in names if len(n) == 3][:count], name_query, index_label,
             "holder_name"),
        Kind("address, 2 characters", FRAGMENT_GOAL_MS,
             [_piece(rng, a, 2, 2) for a in addresses], address_query, index_label,
             "supply_address"),
        Kind("address, 3 to 8 characters", FRAGMENT_GOAL_MS,
             [_piece(rng, a, 3, 8) for a in addresses], address_query, index_label,
             "supply_address"),
    ]


def _like_scan(column: str) -> Callable[[sqlite3.Connection, str], object]:
    def run(connection: sqlite3.Connection, fragment: str) -> object:
        return connection.execute(
            f"SELECT number FROM accounts WHERE {column} LIKE ? ORDER BY number LIMIT 50",
            (f"%{fragment}%",)).fetchall()
    return run


def _each(call: Callable[[str], object], queries: Sequence[str]) -> list[float]:
    """Milliseconds of `call` on each query."""
    return [ms for query in queries for ms in time_calls(partial(call, query), 1)]


def _cpu_each(call: Callable[[str], object], queries: Sequence[str]) -> list[float]:
    """Milliseconds of this thread's CPU time of `call` on each query: what the search costs
    without the waits of a busy machine."""
    times = []
    for query in queries:
        started = time.thread_time()
        call(query)
        times.append((time.thread_time() - started) * 1000)
    return times


def search_figures(ctx: BenchContext, built: Fixture) -> list[Figure]:
    rng = random.Random(20261128)
    cache = open_cache(built.path)
    figures: list[Figure] = []
    with closing(sqlite3.connect(built.path)) as raw:
        for kind in kinds(raw, 100 if ctx.quick else 300, rng):
            def client(query: str) -> list[Account]:
                with cache.read() as session:
                    return search_accounts(session, query)

            _each(client, kind.queries[:10])  # the pages of the first lists read in
            mine = _each(client, kind.queries)
            cpu = _cpu_each(client, kind.queries)
            bare = _each(partial(kind.raw, raw), kind.queries)
            notes = (f"{len(kind.queries)} queries; CPU time p50 {percentile(cpu, 50):.2f}, "
                     f"p99 {percentile(cpu, 99):.2f} ms; load average "
                     f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
            if kind.like_column is not None:
                scans = _each(partial(_like_scan(kind.like_column), raw),
                              kind.queries[:LIKE_SCANS])
                notes += (f"; LIKE scan as before the index: p50 {percentile(scans, 50):.1f}, "
                          f"p99 {percentile(scans, 99):.1f} ms ({len(scans)} queries)")
            p99 = percentile(mine, 99)
            figures += [
                Figure(AREA, f"{kind.name}, p50", percentile(mine, 50), "ms",
                       raw=percentile(bare, 50), raw_label=kind.raw_label, notes=notes),
                Figure(AREA, f"{kind.name}, p99", p99, "ms", raw=percentile(bare, 99),
                       raw_label=kind.raw_label, goal=f"< {kind.goal_ms:g} ms",
                       met=p99 < kind.goal_ms, notes=notes),
            ]
    cache.close()
    return figures


def run(ctx: BenchContext) -> list[Figure]:
    built = fixture(ctx)
    return [
        Figure(AREA, f"build of the {built.accounts:,}-account cache", built.build_s, "s",
               notes="demo data, raw executemany, then the index rebuilt; kept for the next "
                     "run; no goal"),
        *search_figures(ctx, built),
        *index_cost(ctx, built),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else "")
    parser.add_argument("--quick", action="store_true", help="50,000 accounts")
    parser.add_argument("--work-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "hallclient-bench")
    args = parser.parse_args()
    for figure in run(BenchContext(quick=args.quick, work_dir=args.work_dir)):
        raw = f" (raw {figure.raw:.2f}: {figure.raw_label})" if figure.raw is not None else ""
        met = {True: " met", False: " MISSED", None: ""}[figure.met]
        print(f"{figure.name}: {figure.value:.2f} {figure.unit}{raw} {figure.goal}{met}"
              f"  {figure.notes}")


if __name__ == "__main__":
    main()
