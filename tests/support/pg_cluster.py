"""A PostgreSQL primary of the test's own (initdb) and its streaming replica, made as an operator
makes one: `pg_basebackup -R` from the primary, then started as a hot standby. Both on free
loopback ports, in a temporary directory, stopped and removed when the test is done. A cluster
of its own rather than a replica of the shared server at 5432: pg_basebackup copies a whole
cluster, with every database the other tests and benchmarks keep there.

PostgreSQL refuses to run as root: run by root (CI, a container), every PostgreSQL program
runs as the `postgres` user. Where the server programs are missing the test is skipped, except
in CI (`CI` set), where it fails."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from hallserver.embedded import free_port

DATABASE = "hall"
_WAIT = 30.0  # seconds a replica gets to replay what it was sent


def _server_programs() -> Path:
    """The directory of initdb, pg_ctl and pg_basebackup (Debian keeps them off the PATH)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda path: int(path.parent.parent.name)
                   if path.parent.parent.name.isdigit() else 0)
    initdb = found[-1] if found else shutil.which("initdb")
    if initdb is None:
        why = "PostgreSQL's server programs are not installed (Debian: apt-get install postgresql)"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    return Path(initdb).parent


def _as_owner(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@dataclass
class Cluster:
    """One PostgreSQL server: its data directory, port and log."""

    programs: Path
    data: Path
    port: int

    @property
    def log(self) -> Path:
        return self.data.parent / f"{self.data.name}.log"

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def run(self, program: str, *args: str) -> None:
        done = subprocess.run(_as_owner([str(self.programs / program), *args]),
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{program}: {done.stderr}\n{self._log_tail()}"

    def start(self) -> None:
        options = (f"-c port={self.port} -c listen_addresses=127.0.0.1 "
                   f"-c unix_socket_directories={self.data.parent} -c fsync=off")
        self.run("pg_ctl", "start", "-w", "-D", str(self.data), "-l", str(self.log),
                 "-o", options)

    def stop(self) -> None:
        self.run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data))

    def _log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


@dataclass
class Topology:
    primary: Cluster
    replica: Cluster
    primary_engine: Engine  # the test's own view of each, as an operator's psql
    replica_engine: Engine

    def caught_up(self) -> None:
        """Wait until the replica has replayed everything the primary has written so far."""
        with self.primary_engine.connect() as conn:
            written = conn.execute(text("SELECT pg_current_wal_lsn()")).scalar_one()
        deadline = time.monotonic() + _WAIT
        while True:
            with self.replica_engine.connect() as conn:
                behind = conn.execute(text(
                    "SELECT pg_wal_lsn_diff(CAST(:lsn AS pg_lsn), pg_last_wal_replay_lsn())"),
                    {"lsn": written}).scalar_one()
            if behind <= 0:
                return
            assert time.monotonic() < deadline, f"the replica is {behind} bytes behind"
            time.sleep(0.02)

    def pause_replay(self) -> None:
        self._replay("pg_wal_replay_pause()", "paused")

    def resume_replay(self) -> None:
        self._replay("pg_wal_replay_resume()", "not paused")

    def _replay(self, call: str, state: str) -> None:
        deadline = time.monotonic() + _WAIT
        with self.replica_engine.connect() as conn:
            conn.execute(text(f"SELECT {call}"))
            while conn.execute(text("SELECT pg_get_wal_replay_pause_state()")
                               ).scalar_one() != state:
                assert time.monotonic() < deadline, f"replay not {state}"
                time.sleep(0.02)


@contextmanager
def primary_and_replica() -> Iterator[Topology]:
    """A new primary with an empty database DATABASE, and its streaming replica."""
    programs = _server_programs()
    root = Path(tempfile.mkdtemp(prefix="hall-replica-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
    primary = Cluster(programs, root / "primary", free_port())
    replica = Cluster(programs, root / "replica", free_port())
    started: list[Cluster] = []
    engines: list[Engine] = []
    try:
        # initdb's pg_hba.conf trusts 127.0.0.1, replication connections included; its
        # wal_level (replica) and max_wal_senders (10) allow a streaming replica as they are.
        primary.run("initdb", "-D", str(primary.data), "-U", "postgres", "--auth=trust",
                    "-E", "UTF8", "--no-locale", "--no-sync")
        primary.start()
        started.append(primary)
        admin = create_engine(primary.url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {DATABASE}"))
        admin.dispose()
        # -R: standby.signal and primary_conninfo, as an operator makes a replica.
        replica.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U",
                    "postgres", "-D", str(replica.data), "-R", "-X", "stream", "-c", "fast",
                    "--no-sync")
        replica.start()
        started.append(replica)
        # pre_ping: the replica is stopped and started again by some tests.
        engines += [create_engine(primary.url(), pool_pre_ping=True),
                    create_engine(replica.url(), pool_pre_ping=True)]
        yield Topology(primary, replica, *engines)
    finally:
        for engine in engines:
            engine.dispose()
        for cluster in reversed(started):
            if (cluster.data / "postmaster.pid").exists():
                cluster.run("pg_ctl", "stop", "-w", "-m", "immediate", "-D", str(cluster.data))
        shutil.rmtree(root, ignore_errors=True)
