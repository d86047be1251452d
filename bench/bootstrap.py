"""Bootstrap of a new terminal from a HallServer over loopback: accounts/s, the client's peak
memory, and the name and address index built after it in the background.

A SQLite server database is seeded with one hall (its district holds every account: 4,340,000,
Guangzhou's) and served by `hallserver serve` in a process of its own; the seeded database is
kept in the bench's cache directory (`BenchContext.kept`) and copied for each run. An empty
cache is bootstrapped through the real sync engine in a child process, so that the peak RSS
measured is the client's alone. Timed from the first request until the bootstrap is done (the
lookup indexes built at the end included: account, ID and phone searches work from then on).
Then the search index is built as the app builds it, in slices on a thread of its own, while
the child times name and address searches meanwhile (a partial index and a bounded scan).

Raw limit, in the same run: the same rows, read from the server's database beforehand,
inserted with sqlite3's executemany in one transaction into a cache made by the same
migrations and opened with the same settings, as a bootstrap finds it while pages come in
(lookup indexes dropped, search index suspended): what storing the rows costs at the least. The
index-kept rate (the first KEPT_ROWS rows through the search triggers) is in the notes.

    python -m bench.bootstrap [--quick]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from bench.common import BenchContext, Figure, peak_rss_mb, percentile
from hallclient.auth.login import online_login
from hallclient.auth.secrets import EphemeralKeyring, SecretStore
from hallclient.config import Settings
from hallclient.store.cache import open_cache
from hallclient.store.search import SCAN_ROWS, search_accounts, suspend_search_index
from hallclient.sync.api import ServerApi
from hallclient.sync.apply import drop_lookup_indexes
from hallclient.sync.engine import Credentials, SyncEngine
from hallcore.wire import ACCOUNT_ROW_FIELDS, COMMUNITY_ROW_FIELDS

# The server's modules are imported in run(), not here: the client's process imports this
# module too, and its memory is one of the figures.

AREA = "bootstrap"
ACCOUNTS = 4_340_000
QUICK_ACCOUNTS = 50_000
KEPT_ROWS = 100_000  # rows of the index-kept insert (all of them would take 20 minutes)
# Between rounds of searches while the search index is built.
SEARCH_EVERY_S = 2.0
HALL = "GZ-TH-01"
CLERK_PASSWORD = "demo-clerk"  # hallserver.seed's
SUPERVISOR_PASSWORD = "demo-super"  # hallserver.seed's
RAW_CHUNK = 10_000  # rows read from the server's database at a time (not timed)


@dataclass(frozen=True)
class ClientRun:
    accounts: int
    seconds: float
    peak_rss_mb: float
    cache_mb: float
    page: int
    first_lookup_ms: float  # an ID number searched once the bootstrap says done
    index_seconds: float  # the search index's build after it, in the background
    searches_ms: list[float]  # name and address searches while the index was built


def _fragments(cache_path: Path) -> list[str]:
    """A surname, a whole name and an address piece of the district's last account (the last
    the index reaches), and a name no account has (the bounded scan read in full)."""
    with closing(sqlite3.connect(cache_path)) as raw:
        name, address = raw.execute("SELECT holder_name, supply_address FROM accounts"
                                    " ORDER BY number DESC LIMIT 1").fetchone()
    return [name[0], name, address[-6:], "无此户名"]


def _search_while_building(cache_path: Path, engine: SyncEngine) -> tuple[float, list[float]]:
    """Build the search index on a thread as the app does; time searches meanwhile."""
    builder = threading.Thread(target=engine.build_search_index, name="search-index")
    fragments = _fragments(cache_path)
    started = time.perf_counter()
    builder.start()
    times: list[float] = []
    while builder.is_alive():
        for fragment in fragments:
            with engine.cache.read() as session:
                began = time.perf_counter()
                search_accounts(session, fragment)
                times.append((time.perf_counter() - began) * 1000)
        builder.join(SEARCH_EVERY_S)
    return time.perf_counter() - started, times


def bootstrap_client(server_url: str, directory: Path) -> ClientRun:
    """A terminal's first login and bootstrap into an empty cache, then its search index;
    run in a child process."""
    settings = Settings(server_url=server_url, hall_id=HALL, terminal_id="B01",
                        installation_id="bench-installation")
    store = SecretStore(HALL, "B01", backend=EphemeralKeyring())
    api = ServerApi(server_url, timeout=120)
    # A new terminal: the hall's supervisor approves it by logging in, then the clerk.
    online_login(api, store, settings, f"{HALL.lower()}-s1", SUPERVISOR_PASSWORD)
    online_login(api, store, settings, f"{HALL.lower()}-c1", CLERK_PASSWORD)
    path = directory / "cache.sqlite3"
    cache = open_cache(path)
    engine = SyncEngine(cache, Credentials(api, store))
    started = time.perf_counter()
    received = engine.bootstrap()
    seconds = time.perf_counter() - started
    with closing(sqlite3.connect(path)) as raw:
        (id_number,) = raw.execute("SELECT id_number FROM accounts WHERE id_number IS NOT NULL"
                                   " ORDER BY number DESC LIMIT 1").fetchone()
    with cache.read() as session:
        began = time.perf_counter()
        assert search_accounts(session, id_number)
        first_lookup_ms = (time.perf_counter() - began) * 1000
    index_seconds, searches = _search_while_building(path, engine)
    cache.close()
    api.close()
    return ClientRun(received, seconds, peak_rss_mb(), path.stat().st_size / 2**20,
                     engine.bootstrap_page, first_lookup_ms, index_seconds, searches)


def raw_insert_rate(server_db: Path, directory: Path, *, bare: bool,
                    rows: int | None = None) -> float:
    """Rows/s of the raw insert (module docstring) of the server's accounts (the first `rows`
    of them, or all): `bare`, into the accounts table as a bootstrap loads it; else with every
    index and trigger kept."""
    cache = open_cache(directory / "cache.sqlite3")
    if bare:
        with cache.write() as session:
            drop_lookup_indexes(session)
            suspend_search_index(session.connection())
    columns = ["server_seq" if field == "seq" else field for field in ACCOUNT_ROW_FIELDS]
    insert = (f"INSERT INTO accounts ({', '.join(columns)}) "
              f"VALUES ({', '.join('?' * len(columns))})")
    # The cache's own connection: the pragmas the app opens it with.
    connection = cache.engine.raw_connection()
    try:
        target = connection.driver_connection
        assert isinstance(target, sqlite3.Connection)
        with closing(sqlite3.connect(server_db)) as source:
            target.execute("BEGIN")
            community_columns = ", ".join(COMMUNITY_ROW_FIELDS)
            target.executemany(
                f"INSERT INTO communities ({community_columns}) VALUES (?, ?, ?, ?, ?)",
                source.execute(f"SELECT {community_columns} FROM communities"))
            target.execute("COMMIT")
            selected = source.execute(
                f"SELECT {', '.join(ACCOUNT_ROW_FIELDS)} FROM accounts ORDER BY number"
                " LIMIT ?", (-1 if rows is None else rows,))
            spent, inserted = 0.0, 0
            target.execute("BEGIN")
            while chunk := selected.fetchmany(RAW_CHUNK):
                started = time.perf_counter()
                target.executemany(insert, chunk)
                spent += time.perf_counter() - started
                inserted += len(chunk)
            started = time.perf_counter()
            target.execute("COMMIT")
            spent += time.perf_counter() - started
    finally:
        connection.close()
        cache.close()
    return inserted / spent


def seeded_server(ctx: BenchContext, accounts: int) -> tuple[Path, float]:
    """A copy, for this run, of the seeded server database kept between runs (made the first
    time); and the seconds its seeding took."""
    from bench.servers import prepare_database, sqlite_url
    from hallserver.db import SERVER_SCHEMA

    kept = ctx.kept("bootstrap") / f"server-{accounts}-{SERVER_SCHEMA.head()}.sqlite3"
    facts = kept.with_suffix(".json")
    if not (kept.exists() and facts.exists()):
        building = kept.with_suffix(".building")
        prepared = prepare_database(sqlite_url(building), accounts, halls=1)
        building.rename(kept)
        facts.write_text(json.dumps({"seed_seconds": prepared.seed_seconds}))
    copy = ctx.scratch("bootstrap") / "server.sqlite3"
    shutil.copyfile(kept, copy)
    return copy, float(json.loads(facts.read_text())["seed_seconds"])


def run(ctx: BenchContext) -> list[Figure]:
    from bench.servers import running_server, sqlite_url

    accounts = QUICK_ACCOUNTS if ctx.quick else ACCOUNTS
    server_db, seed_seconds = seeded_server(ctx, accounts)
    raw = raw_insert_rate(server_db, ctx.scratch("bootstrap/raw"), bare=True)
    kept = raw_insert_rate(server_db, ctx.scratch("bootstrap/kept"), bare=False,
                           rows=KEPT_ROWS)
    client_dir = ctx.scratch("bootstrap/client")
    (client_dir / "cache.sqlite3").unlink(missing_ok=True)
    with running_server(sqlite_url(server_db), server_db.with_suffix(".log")) as (url, _pid), \
            ProcessPoolExecutor(1, mp_context=get_context("spawn")) as child:
        client = child.submit(bootstrap_client, url, client_dir).result()
    rate = client.accounts / client.seconds
    searches = client.searches_ms
    return [
        Figure(AREA, f"bootstrap of {client.accounts:,} accounts", rate, "accounts/s",
               raw=raw, raw_label="sqlite3 executemany of the same rows, one transaction, "
                                  "no index kept",
               goal=">= 50% of raw", met=rate >= raw / 2,
               notes=f"{client.seconds:.1f} s over loopback, pages of {client.page:,}, "
                     f"lookup indexes built at the end included; {rate / raw:.0%} of raw; "
                     f"the same executemany with every index and search trigger kept: "
                     f"{kept:,.0f}/s ({KEPT_ROWS:,} rows); an ID number searched right after: "
                     f"{client.first_lookup_ms:.1f} ms; cache {client.cache_mb:.0f} MB"),
        Figure(AREA, f"{client.accounts:,} accounts into a new terminal", client.seconds / 60,
               "min", goal="< 8 min", met=client.seconds < 480,
               notes="the bootstrap above; the search index follows in the background"),
        Figure(AREA, "client peak memory during the bootstrap", client.peak_rss_mb, "MB",
               goal="< 300 MB", met=client.peak_rss_mb < 300,
               notes="peak RSS of the client's process (the server runs in its own), the "
                     "search index's build after it included"),
        Figure(AREA, "search index built in the background after the bootstrap",
               client.index_seconds, "s",
               notes="slices of 2,000 accounts a transaction, then its pieces merged; no "
                     "goal"),
        Figure(AREA, "name or address search while the search index is built, p99",
               percentile(searches, 99), "ms",
               notes=f"{len(searches)} searches (a surname, a whole name, an address piece of "
                     f"the last account, a name no account has): the index built so far, then "
                     f"at most {SCAN_ROWS:,} accounts after it scanned; p50 "
                     f"{percentile(searches, 50):.1f} ms, max {max(searches):.1f} ms"),
        Figure(AREA, f"seeding the server with {accounts:,} accounts",
               seed_seconds, "s", notes="hallserver.seed into SQLite, once: the database is "
                                        "kept for later runs; no goal"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else "")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_ACCOUNTS:,} accounts instead of {ACCOUNTS:,}")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for figure in run(BenchContext(quick=args.quick, work_dir=Path(tmp))):
            raw = (f" (raw {figure.raw:,.0f}: {figure.raw_label})"
                   if figure.raw is not None else "")
            goal = (f"  goal {figure.goal}: {'met' if figure.met else 'MISSED'}"
                    if figure.goal else "")
            print(f"{figure.name}: {figure.value:,.1f} {figure.unit}{raw}{goal}  {figure.notes}")


if __name__ == "__main__":
    main()
