"""Bootstrap of a new terminal from a HallServer over loopback: accounts/s and peak memory.

    python -m bench.bootstrap --accounts 1000000

Seeds a SQLite server database with one hall (so its district holds every account), serves it
from an embedded server in this process, and bootstraps an empty client cache through the
real sync engine. Peak RSS is the whole process's (server and client together): an upper
bound of the client's.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from hallclient.auth.login import online_login
from hallclient.auth.secrets import EphemeralKeyring, SecretStore
from hallclient.config import Settings
from hallclient.store.cache import open_cache
from hallclient.sync.api import ServerApi
from hallclient.sync.engine import Credentials, SyncEngine
from hallserver.db import SERVER_SCHEMA, make_engine
from hallserver.embedded import EmbeddedServer
from hallserver.seed import DEMO_CLERK_PASSWORD, seed


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--page", type=int, default=2000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        engine = make_engine(f"sqlite+pysqlite:///{directory / 'server.sqlite3'}")
        SERVER_SCHEMA.upgrade(engine)
        started = time.perf_counter()
        seed(engine, accounts=args.accounts, halls=1)
        seeded = time.perf_counter() - started
        rss_after_seed = peak_rss_mb()
        server = EmbeddedServer(engine)
        server.start()
        settings = Settings(server_url=server.url, hall_id="GZ-TH-01", terminal_id="B01",
                            installation_id="bench-installation")
        store = SecretStore("GZ-TH-01", "B01", backend=EphemeralKeyring())
        api = ServerApi(server.url, timeout=60)
        online_login(api, store, settings, "gz-th-01-c1", DEMO_CLERK_PASSWORD)
        cache = open_cache(directory / "client" / "cache.sqlite3")
        sync = SyncEngine(cache, Credentials(api, store), page_size=args.page)
        started = time.perf_counter()
        received = sync.bootstrap()
        seconds = time.perf_counter() - started
        figures = {
            "accounts": received, "page": args.page, "seed_s": round(seeded, 1),
            "bootstrap_s": round(seconds, 1), "accounts_per_s": round(received / seconds),
            "peak_rss_mb_after_seed": round(rss_after_seed), "peak_rss_mb": round(peak_rss_mb()),
            "cache_mb": round((directory / "client" / "cache.sqlite3").stat().st_size / 2**20),
        }
        cache.close()
        api.close()
        server.stop()
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
