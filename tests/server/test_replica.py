"""The pulls and bootstrap pages read on a PostgreSQL streaming replica (hallserver/replica.py),
against a real one: a primary of the test's own and a hot standby made from it by
`pg_basebackup -R` (tests/support/pg_cluster.py). Pushes and logins stay on the primary; a
replica that lags, stops or is paused serves nothing and no terminal is given a cursor older
than its own.

The replica's checks run on a clock of the test's: a lag is made by pausing the replay and
moving the clock, never by waiting."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from hallserver.app import create_app
from hallserver.db import SERVER_SCHEMA, make_engine
from hallserver.identity import mark_restored
from hallserver.models import DistrictRow
from hallserver.replica import (
    APPLICATION_NAME,
    LAGGING,
    NOT_A_REPLICA,
    OTHER_DATABASE,
    UNREACHABLE,
    Replica,
    read_engine,
)
from hallserver.seed import seed
from hallserver.settings import SettingsError, load_settings
from tests.support.pg_cluster import Topology, primary_and_replica
from tests.support.server import Terminal, holder_of

HALL, DISTRICT = "GZ-TH-01", "GZ-TH"
PASSWORD = "s3cret"  # in URLs the settings must never repeat
MAX_LAG = 5
_TERMINALS = itertools.count(1)


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def topology() -> Iterator[Topology]:
    with primary_and_replica() as made:
        engine = make_engine(made.primary.url())
        SERVER_SCHEMA.upgrade(engine)
        seed(engine, accounts=60, halls=2)
        engine.dispose()
        made.caught_up()
        yield made


@dataclass
class Served:
    app: FastAPI
    replica: Replica
    clock: Clock
    terminal: Terminal

    def seq(self, where: str = "primary") -> int:
        engine = self.replica.engine if where == "replica" else self.app.state.engine
        with Session(engine) as session:
            return session.scalars(select(DistrictRow.last_seq)
                                   .where(DistrictRow.code == DISTRICT)).one()

    def serving(self, topology: Topology) -> None:
        """Check the replica once it has replayed all the primary wrote: it serves, 0 s behind
        (the primary may write a little more between the two: then again)."""
        for _ in range(20):
            topology.caught_up()
            self.clock.now += 1
            check = self.replica.check()
            if check.problem is None and check.lag == 0:
                return
        raise AssertionError(f"the replica does not serve: {check}")

    def change(self, account: dict[str, Any], address: str) -> None:
        """A push of the terminal's (to the primary): the account's mailing address."""
        [result] = self.terminal.push(self.terminal.operation(
            "contact_change", {**holder_of(account), "mailing_address": address},
            account=account))
        assert result["outcome"] == "applied", (result["reason"], result["field_errors"])

    def bootstrap_page(self, after: str | None = None, limit: int = 20) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, **({"after": after} if after else {})}
        answer = self.terminal.get("/bootstrap/rows", **params)
        assert answer.status_code == 200, answer.text
        page: dict[str, Any] = answer.json()
        return page


@pytest.fixture
def served(topology) -> Iterator[Served]:
    """The server's app with the replica set, its checks on the test's clock; a terminal of
    hall GZ-TH-01 logged in. The replica caught up and serving."""
    settings = load_settings(replica_db=topology.replica.url(), replica_max_lag=MAX_LAG,
                             metrics_allow="*")
    engine = make_engine(topology.primary.url())
    app = create_app(engine, settings)
    replica: Replica = app.state.replica
    clock = replica.clock = Clock()
    with TestClient(app) as client:
        # A terminal of each test's own: its receipt numbers start again at 1.
        terminal = Terminal(client, HALL, f"T{next(_TERMINALS):02d}")
        assert terminal.login("gz-th-01-c1").status_code == 200
        made = Served(app, replica, clock, terminal)
        made.serving(topology)
        yield made
    replica.engine.dispose()
    engine.dispose()


def reads(kind: str, source: str) -> float:
    return REGISTRY.get_sample_value("hallserver_replica_reads_total",
                                     {"kind": kind, "source": source}) or 0.0


def accounts_with_ids(served: Served) -> list[dict[str, Any]]:
    return [a for a in served.terminal.all_accounts()
            if a["status"] == "active" and a["id_number"]]


def test_a_push_reaches_the_replica_and_the_pulls_are_read_there(served, topology):
    [account, *_] = accounts_with_ids(served)
    cursor = served.seq()
    served.change(account, "天河路 1 号")
    served.serving(topology)
    assert served.seq("replica") == served.seq() == cursor + 1
    # A pull after the terminal's cursor: the replica holds it, and the change after it.
    assert read_engine(served.app.state, DISTRICT, cursor) is served.replica.engine
    assert read_engine(served.app.state, DISTRICT, cursor + 1) is served.replica.engine
    with served.replica.engine.connect() as conn:
        assert conn.execute(text("SELECT pg_is_in_recovery()")).scalar_one()
    replica_reads = reads("pull", "replica")
    page = served.terminal.get("/changes", after=cursor).json()
    assert reads("pull", "replica") == replica_reads + 1
    assert [a["number"] for a in page["accounts"]] == [account["number"]]
    assert page["next_cursor"] == cursor + 1


def test_bootstrap_pages_come_from_the_replica_and_its_cursor_loses_no_change(served, topology):
    accounts = accounts_with_ids(served)
    last = accounts[-1]
    assert last["number"] > served.bootstrap_page()["next_after"]  # on a later page of 20
    before = served.seq()
    topology.pause_replay()
    try:
        served.change(last, "越秀路 2 号")  # on the primary only
        replica_reads = reads("bootstrap", "replica")
        first = served.bootstrap_page()
        # Read on the replica: its cursor is the replica's sequence, not the primary's.
        assert first["cursor"] == before == served.seq() - 1
        assert reads("bootstrap", "replica") == replica_reads + 1
        with topology.replica_engine.connect() as conn:
            names = set(conn.execute(text("SELECT application_name FROM pg_stat_activity")
                                     ).scalars())
        assert APPLICATION_NAME in names
        # The replica has not the primary's sequence: a later page is read on the primary,
        # which has the change.
        primary_reads = reads("bootstrap", "primary")
        rest = served.bootstrap_page(after=first["next_after"], limit=100)
        assert reads("bootstrap", "primary") == primary_reads + 1
        [row] = [row for row in rest["rows"] if row[0] == last["number"]]
        assert "越秀路 2 号" in row
    finally:
        topology.resume_replay()
    # A pull after the bootstrap's cursor brings the change: nothing was lost between them.
    page = served.terminal.get("/changes", after=first["cursor"]).json()
    assert [a["number"] for a in page["accounts"]] == [last["number"]]
    assert page["accounts"][0]["mailing_address"] == "越秀路 2 号"
    assert page["next_cursor"] == before + 1
    # Caught up, the replica serves the later pages again.
    served.serving(topology)
    replica_reads = reads("bootstrap", "replica")
    again = served.bootstrap_page(after=first["next_after"], limit=100)
    assert reads("bootstrap", "replica") == replica_reads + 1
    assert again["rows"] == rest["rows"]


def test_a_lagging_replica_falls_back_and_no_cursor_goes_back(served, topology):
    state = served.app.state
    account = accounts_with_ids(served)[1]
    cursor = served.seq()
    topology.pause_replay()
    try:
        served.change(account, "海珠路 3 号")
        # The replica holds the terminal's cursor: it may answer (nothing newer), never older.
        assert read_engine(state, DISTRICT, cursor) is served.replica.engine
        page = served.terminal.get("/changes", after=cursor).json()
        assert page["next_cursor"] >= cursor
        # A terminal that has the change (from the primary) is not read on the replica.
        assert read_engine(state, DISTRICT, cursor + 1) is state.engine
        page = served.terminal.get("/changes", after=cursor + 1).json()
        assert page["next_cursor"] >= cursor + 1 and page["accounts"] == []
        # Ten seconds on, the replica still paused: further behind than the limit.
        served.clock.now += 2 * MAX_LAG
        check = served.replica.check()
        assert check.problem == LAGGING and check.lag is not None and check.lag >= 2 * MAX_LAG
        assert read_engine(state, DISTRICT, 0) is state.engine
        first = served.bootstrap_page()
        assert first["cursor"] == cursor + 1  # the primary's
        page = served.terminal.get("/changes", after=cursor).json()
        assert [a["number"] for a in page["accounts"]] == [account["number"]]
        assert page["next_cursor"] == cursor + 1
    finally:
        topology.resume_replay()
    served.serving(topology)
    assert read_engine(state, DISTRICT, cursor + 1) is served.replica.engine


def test_a_stopped_replica_falls_back_at_once_and_serves_again_once_back(served, topology):
    state = served.app.state
    cursor = served.seq()
    topology.replica.stop()
    try:
        # The last check said it serves: the page finds it gone and is read on the primary.
        assert served.replica.current().problem is None
        first = served.bootstrap_page()
        assert first["cursor"] == cursor and len(first["rows"]) == 20
        assert served.replica.current().problem == UNREACHABLE
        assert read_engine(state, DISTRICT, 0) is state.engine
        served.clock.now += 1
        assert served.replica.check().problem.startswith(UNREACHABLE)
        assert served.terminal.get("/changes", after=cursor).json()["next_cursor"] >= cursor
    finally:
        topology.replica.start()
    served.serving(topology)
    assert read_engine(state, DISTRICT, cursor) is served.replica.engine


def test_a_pull_that_finds_the_replica_stopped_is_answered_by_the_primary(served, topology):
    [account, *_] = accounts_with_ids(served)
    cursor = served.seq()
    served.change(account, "黄埔路 5 号")
    served.serving(topology)
    topology.replica.stop()
    try:
        # The last check said it serves: the pull is sent there, finds it gone, and is read
        # on the primary instead of failing.
        assert served.replica.current().problem is None
        primary_reads = reads("pull", "primary")
        answer = served.terminal.get("/changes", after=cursor)
        assert answer.status_code == 200, answer.text
        assert [a["number"] for a in answer.json()["accounts"]] == [account["number"]]
        assert served.replica.current().problem == UNREACHABLE
        served.terminal.get("/changes", after=cursor + 1)
        assert reads("pull", "primary") == primary_reads + 1
    finally:
        topology.replica.start()
    served.serving(topology)


def test_the_metrics_show_whether_the_replica_serves_and_its_lag(served, topology):
    served.bootstrap_page()
    metrics = served.terminal.client.get("/metrics").text
    assert "hallserver_replica_serving 1.0" in metrics
    assert "hallserver_replica_lag_seconds 0.0" in metrics
    assert 'hallserver_replica_reads_total{kind="bootstrap",source="replica"}' in metrics
    topology.replica.stop()
    try:
        served.clock.now += 1
        metrics = served.terminal.client.get("/metrics").text
        assert "hallserver_replica_serving 0.0" in metrics
        assert "hallserver_replica_lag_seconds" not in metrics
    finally:
        topology.replica.start()


def test_a_replica_of_a_database_restored_since_serves_nothing(served, topology):
    topology.pause_replay()
    try:
        with Session(served.app.state.engine) as session, session.begin():
            mark_restored(session)
        served.clock.now += 1
        assert served.replica.check().problem == OTHER_DATABASE
    finally:
        topology.resume_replay()
    served.serving(topology)


def test_a_database_that_is_not_a_replica_serves_nothing(topology):
    engine = create_engine(topology.primary.url())
    try:
        assert Replica(engine, engine, MAX_LAG).check().problem == NOT_A_REPLICA
    finally:
        engine.dispose()


def test_a_replica_is_refused_beside_sqlite_and_its_url_is_never_shown(tmp_path):
    engine = make_engine(f"sqlite+pysqlite:///{tmp_path / 'server.sqlite3'}")
    settings = load_settings(replica_db="postgresql+psycopg://hall:" + PASSWORD + "@10.0.0.13/hall")
    with pytest.raises(SettingsError, match="PostgreSQL") as refused:
        create_app(engine, settings)
    assert PASSWORD not in str(refused.value)
    with pytest.raises(SettingsError) as bad:
        load_settings(replica_db="mysql://hall:" + PASSWORD + "@10.0.0.13/hall")
    assert PASSWORD not in str(bad.value) and bad.value.env == "HALLSERVER_REPLICA_DB"
    assert PASSWORD not in repr(settings)


def test_serve_refuses_a_replica_beside_sqlite_in_a_line(tmp_path):
    url = f"sqlite+pysqlite:///{tmp_path / 'server.sqlite3'}"
    SERVER_SCHEMA.upgrade(make_engine(url))
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("HALLSERVER_")}
    env["HALLSERVER_REPLICA_DB"] = "postgresql+psycopg://hall:" + PASSWORD + "@127.0.0.1:9/hall"
    done = subprocess.run([sys.executable, "-m", "hallserver", "serve", "--db", url, "--port",
                           "9"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "HALLSERVER_REPLICA_DB" in done.stderr and "PostgreSQL" in done.stderr
    assert PASSWORD not in done.stderr and len(done.stderr.strip().splitlines()) == 1
