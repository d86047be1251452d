"""A HallServer for a benchmark: a fresh database (SQLite file or PostgreSQL), seeded, and
`hallserver serve` in a process of its own, as in production."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import URL, make_url

from hallserver.db import SERVER_SCHEMA, make_engine
from hallserver.models import HallRow
from hallserver.seed import seed

API = "/api/v1"
SERVER_START_TIMEOUT = 60.0
SERVER_STOP_TIMEOUT = 20.0


# --- databases -------------------------------------------------------------------------------


def _database_name(url: URL) -> str:
    name = url.database or ""
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"not a PostgreSQL URL: {url.get_backend_name()}")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or name in ("postgres", "template0",
                                                                "template1"):
        raise ValueError(f"refusing to drop and create the database {name!r}")
    return name


def _on_admin_db(url: str, *statements: str) -> None:
    """Run statements on the server's `postgres` database, outside a transaction."""
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        admin.dispose()


def drop_database(url: str) -> None:
    """Drop a PostgreSQL database; a SQLite URL's file is left to its scratch directory."""
    if make_url(url).get_backend_name() == "postgresql":
        name = _database_name(make_url(url))
        _on_admin_db(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def recreate_database(url: str) -> None:
    """An empty database at `url`: PostgreSQL dropped and created, a SQLite file removed."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            for suffix in ("", "-wal", "-shm"):
                Path(parsed.database + suffix).unlink(missing_ok=True)
        return
    name = _database_name(parsed)
    _on_admin_db(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                 f'CREATE DATABASE "{name}"')


def sqlite_url(path: Path) -> str:
    return f"sqlite+pysqlite:///{path}"


@dataclass(frozen=True)
class Prepared:
    halls: list[tuple[str, str]]  # (hall id, district), by hall id
    seed_seconds: float
    accounts: int
    version: str  # the database server's version


def prepare_database(url: str, accounts: int, halls: int) -> Prepared:
    """A fresh, migrated, seeded database at `url`."""
    recreate_database(url)
    engine = make_engine(url)
    try:
        SERVER_SCHEMA.upgrade(engine)
        summary = seed(engine, accounts=accounts, halls=halls)
        with engine.connect() as conn:
            rows = conn.execute(select(HallRow.id, HallRow.district).order_by(HallRow.id)).all()
        version = database_version(engine)
    finally:
        engine.dispose()
    return Prepared([(hall, district) for hall, district in rows], summary.seconds,
                    summary.accounts, version)


def database_version(engine: Engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return f"PostgreSQL {conn.execute(text('SHOW server_version')).scalar_one()}"
        return f"SQLite {conn.execute(text('select sqlite_version()')).scalar_one()}"


# --- the server process ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def log_tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _wait_healthy(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.perf_counter() + SERVER_START_TIMEOUT
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log_tail(log)}")
        try:
            if httpx.get(f"{base_url}{API}/health", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer /health in {SERVER_START_TIMEOUT:.0f} s:\n"
                       f"{log_tail(log)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGINT (uvicorn's graceful stop, workers included); SIGKILL to its group if it hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(SERVER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(SERVER_STOP_TIMEOUT)


@contextmanager
def running_server(db_url: str, log: Path, *, workers: int = 1,
                   python_args: tuple[str, ...] = ()) -> Iterator[tuple[str, int]]:
    """`hallserver serve` on a free loopback port; yields its base URL and process id.

    `python_args` go before `-m hallserver` (e.g. a profiler's `-m cProfile -o FILE`)."""
    port = free_port()
    command = [sys.executable, *python_args, "-m", "hallserver", "serve", "--db", db_url,
               "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    env = {k: v for k, v in os.environ.items() if k != "HALLSERVER_SMS_LOG"}
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env,
                                   start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(process, base_url, log)
        yield base_url, process.pid
    finally:
        _stop(process)
