"""Bootstrap of a new terminal from a HallServer over loopback: accounts/s and the client's
peak memory.

A SQLite server database is seeded with one hall (its district holds every account) and served
by `hallserver serve` in a process of its own. An empty cache is bootstrapped through the real
sync engine in a child process, so that the peak RSS measured is the client's alone. Timed
from the first request until the bootstrap is done: the lookup and search indexes the
bootstrap builds at the end are included.

Raw limit, in the same run: the same rows, read from the server's database beforehand,
inserted with sqlite3's executemany in one transaction into a cache made by the same
migrations and opened with the same settings, as a bootstrap finds it while pages come in
(lookup indexes dropped, search index suspended): what storing the rows costs at the least. The
index-kept rate (every row through the search triggers) is in the notes.

    python -m bench.bootstrap [--quick]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from bench.common import BenchContext, Figure, peak_rss_mb
from hallclient.auth.login import online_login
from hallclient.auth.secrets import EphemeralKeyring, SecretStore
from hallclient.config import Settings
from hallclient.store.cache import open_cache
from hallclient.store.search import suspend_search_index
from hallclient.sync.api import ServerApi
from hallclient.sync.apply import drop_lookup_indexes
from hallclient.sync.engine import Credentials, SyncEngine
from hallcore.wire import ACCOUNT_ROW_FIELDS, COMMUNITY_ROW_FIELDS

# The server's modules are imported in run(), not here: the client's process imports this
# module too, and its memory is one of the figures.

AREA = "bootstrap"
ACCOUNTS = 1_000_000
QUICK_ACCOUNTS = 50_000
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


def bootstrap_client(server_url: str, directory: Path) -> ClientRun:
    """A terminal's first login and bootstrap into an empty cache; run in a child process."""
    settings = Settings(server_url=server_url, hall_id=HALL, terminal_id="B01",
                        installation_id="bench-installation")
    store = SecretStore(HALL, "B01", backend=EphemeralKeyring())
    api = ServerApi(server_url, timeout=120)
    # A new terminal: the hall's supervisor approves it by logging in, then the clerk.
    online_login(api, store, settings, f"{HALL.lower()}-s1", SUPERVISOR_PASSWORD)
    online_login(api, store, settings, f"{HALL.lower()}-c1", CLERK_PASSWORD)
    cache = open_cache(directory / "cache.sqlite3")
    engine = SyncEngine(cache, Credentials(api, store))
    started = time.perf_counter()
    received = engine.bootstrap()
    seconds = time.perf_counter() - started
    cache.close()
    api.close()
    return ClientRun(received, seconds, peak_rss_mb(),
                     (directory / "cache.sqlite3").stat().st_size / 2**20, engine.bootstrap_page)


def raw_insert_rate(server_db: Path, directory: Path, *, bare: bool) -> float:
    """Rows/s of the raw insert (module docstring) of the server's accounts: `bare`, into the
    accounts table as a bootstrap loads it; else with every index and trigger kept."""
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
            rows = source.execute(
                f"SELECT {', '.join(ACCOUNT_ROW_FIELDS)} FROM accounts ORDER BY number")
            spent, inserted = 0.0, 0
            target.execute("BEGIN")
            while chunk := rows.fetchmany(RAW_CHUNK):
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


def run(ctx: BenchContext) -> list[Figure]:
    from bench.servers import prepare_database, running_server, sqlite_url

    accounts = QUICK_ACCOUNTS if ctx.quick else ACCOUNTS
    work = ctx.scratch("bootstrap")
    server_db = work / "server.sqlite3"
    prepared = prepare_database(sqlite_url(server_db), accounts, halls=1)
    raw = raw_insert_rate(server_db, ctx.scratch("bootstrap/raw"), bare=True)
    kept = raw_insert_rate(server_db, ctx.scratch("bootstrap/kept"), bare=False)
    client_dir = ctx.scratch("bootstrap/client")
    (client_dir / "cache.sqlite3").unlink(missing_ok=True)
    with running_server(sqlite_url(server_db), work / "server.log") as (url, _pid), \
            ProcessPoolExecutor(1, mp_context=get_context("spawn")) as child:
        client = child.submit(bootstrap_client, url, client_dir).result()
    rate = client.accounts / client.seconds
    return [
        Figure(AREA, f"bootstrap of {client.accounts:,} accounts", rate, "accounts/s",
               raw=raw, raw_label="sqlite3 executemany of the same rows, one transaction, "
                                  "no index kept",
               goal=">= 50% of raw", met=rate >= raw / 2,
               notes=f"{client.seconds:.1f} s over loopback, pages of {client.page:,}, "
                     f"indexes built at the end included; {rate / raw:.0%} of raw; the same "
                     f"executemany with every index and search trigger kept: {kept:,.0f}/s; "
                     f"cache {client.cache_mb:.0f} MB"),
        Figure(AREA, "client peak memory during the bootstrap", client.peak_rss_mb, "MB",
               goal="< 300 MB", met=client.peak_rss_mb < 300,
               notes="peak RSS of the client's process (the server runs in its own)"),
        Figure(AREA, f"seeding the server with {prepared.accounts:,} accounts",
               prepared.seed_seconds, "s", notes="hallserver.seed into SQLite; no goal"),
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
