"""The server dies, or loses its database connections, while a terminal pushes: the terminal
sees an unreachable server (never a wrong answer), and its next sync lands every operation
exactly once."""

import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from hallclient.store.models import AccountRow, OutboxRow
from hallclient.sync.api import ServerUnreachable
from hallserver.db import SERVER_SCHEMA, make_engine
from hallserver.embedded import EmbeddedServer, free_port
from hallserver.models import AccountRow as ServerAccount
from hallserver.models import OperationRow
from hallserver.seed import seed
from tests.support.counter import HALL, Counter, active_accounts, holder
from tests.support.server import PG_URL, empty_tables


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request, tmp_path):
    """The URL of a seeded server database, and an engine on it for the test to look."""
    if request.param == "sqlite":
        url = f"sqlite+pysqlite:///{tmp_path / 'server.sqlite3'}"
        engine = make_engine(url)
        SERVER_SCHEMA.upgrade(engine)
    else:
        url, engine = PG_URL, request.getfixturevalue("_postgres")
        empty_tables(engine)
    seed(engine, accounts=200, halls=1)
    yield url, engine
    if request.param == "sqlite":
        engine.dispose()


def serve(url, port):
    return subprocess.Popen(
        [sys.executable, "-m", "hallserver", "serve", "--db", url, "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_healthy(port, proc, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode())
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).is_success:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the server on port {port} did not come up")


def operations_on(engine):
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(OperationRow))


def suspend_and_resume(counter, accounts):
    """Each account suspended, then resumed: the second operation builds on the first."""
    for kind in ("suspend", "resume"):
        for a in accounts:
            counter.record(kind, a.number, holder(a))
    return 2 * len(accounts)


def outbox(counter):
    with counter.cache.read() as s:
        return {op.operation_id: op.state for op in s.scalars(select(OutboxRow))}


def assert_landed_once(counter, engine, accounts, per_account):
    """Every operation applied once on the server (`per_account` versions on for each account,
    back in supply), and the cache as the server has it."""
    ops = outbox(counter)
    assert set(ops.values()) == {"applied"}
    with counter.cache.read() as s:
        cached = {r.number: (r.version, r.status) for r in s.scalars(select(AccountRow))}
    with Session(engine) as s:
        assert set(s.scalars(select(OperationRow.operation_id))) == set(ops)
        on_server = {r.number: (r.version, r.status) for r in s.scalars(select(ServerAccount))}
    for a in accounts:
        assert on_server[a.number] == (a.version + per_account, "active")
    assert cached == on_server


def test_server_killed_mid_push_and_restarted_lands_every_operation_once(database, tmp_path):
    url, engine = database
    port = free_port()
    proc = serve(url, port)
    counter = Counter(tmp_path / "T01", f"http://127.0.0.1:{port}", HALL, "T01", "gz-th-01-c1")
    try:
        wait_healthy(port, proc)
        counter.login()
        counter.engine.sync_once()
        accounts = active_accounts(counter, 30)
        total = suspend_and_resume(counter, accounts)
        batch = 5
        counter.engine.push_batch = batch  # a request, and a server transaction, per 5

        failed: list[BaseException] = []

        def push() -> None:
            try:
                counter.engine.sync_once()
            except BaseException as exc:
                failed.append(exc)

        pushing = threading.Thread(target=push)
        pushing.start()
        while operations_on(engine) < total // 6 and pushing.is_alive():
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        pushing.join(30)
        landed = operations_on(engine)
        print(f"killed with {landed} of {total} operations stored")
        assert 0 < landed < total, f"the kill did not fall inside the push: {failed}"
        assert landed % batch == 0  # a batch is stored whole or not at all
        assert [type(e) for e in failed] == [ServerUnreachable], failed
        states = list(outbox(counter).values())
        # Answered batches are recorded; the rest (one stored but unanswered, maybe) waits.
        assert set(states) <= {"applied", "pending"}
        assert states.count("pending") >= total - landed

        proc = serve(url, port)
        wait_healthy(port, proc)
        summary = counter.engine.sync_once()
        waiting = states.count("pending")
        assert (summary.pushed, summary.applied, summary.pending) == (waiting, waiting, 0)
        assert operations_on(engine) == total
        assert_landed_once(counter, engine, accounts, 2)
    finally:
        counter.close()
        proc.kill()
        proc.wait()


class Recording(httpx.HTTPTransport):
    """Keeps the status of every answer the terminal got."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[tuple[str, int]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        self.answers.append((request.url.path, response.status_code))
        return response


SERVER_APP = "hallserver-under-fault"


class Terminator(threading.Thread):
    """Terminates the server's PostgreSQL connections, and only the server's (its application
    name picks them out, so other tests on the database are left alone), every `period`."""

    def __init__(self, engine, period):
        super().__init__(daemon=True)
        self.engine = engine
        self.period = period
        self.terminated = 0
        self.stopped = threading.Event()

    def terminate_all(self):
        with self.engine.connect() as conn:
            self.terminated += sum(conn.scalars(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = :name"),
                {"name": SERVER_APP}))

    def wait_all_gone(self, timeout=10):
        """Until the terminated backends have ended (pg_terminate_backend only signals them)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.engine.connect() as conn:
                if not conn.scalar(text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND application_name = :name"),
                        {"name": SERVER_APP}):
                    return
            time.sleep(0.02)
        raise AssertionError("terminated backends are still there")

    def run(self):
        while not self.stopped.wait(self.period):
            self.terminate_all()


@pytest.mark.postgres
def test_postgres_connections_killed_mid_push_give_5xx_and_each_operation_lands_once(
        _postgres, tmp_path):
    empty_tables(_postgres)
    seed(_postgres, accounts=200, halls=1)
    engine = make_engine(f"{PG_URL}?application_name={SERVER_APP}")
    server = EmbeddedServer(engine)
    server.start()
    answers = Recording()
    counter = Counter(tmp_path / "T01", server.url, HALL, "T01", "gz-th-01-c1",
                      transport=answers)
    terminator = Terminator(_postgres, period=0.2)
    try:
        counter.login()  # a new terminal: refused (403) until the supervisor's login approves it
        answers.answers.clear()
        counter.engine.sync_once()
        accounts = active_accounts(counter, 30)
        total = 0
        counter.engine.push_batch = 5
        terminator.start()
        failures = 0
        for _ in range(300):
            if failures == 3:
                break
            if set(outbox(counter).values()) <= {"applied"}:
                # More to push, so that pushes are in flight when connections are terminated.
                total += suspend_and_resume(counter, accounts)
            try:
                counter.engine.sync_once()
            except ServerUnreachable:
                failures += 1
        terminator.stopped.set()
        terminator.join()
        # PostgreSQL is back. The pool still holds connections terminated a moment ago: the
        # server finds them dead on its own (pre-ping), and the next round goes through.
        terminator.terminate_all()
        terminator.wait_all_gone()
        assert counter.engine.sync_once().pending == 0
        print(f"{terminator.terminated} connections terminated, {failures} rounds failed, "
              f"{total} operations")
        assert failures == 3
        assert any(path.endswith("/push") and status >= 500
                   for path, status in answers.answers)
        # Unreachable for a moment, never a wrong answer.
        assert {status for _path, status in answers.answers} <= {200, 500}
        assert operations_on(_postgres) == total
        assert_landed_once(counter, _postgres, accounts, total // len(accounts))
    finally:
        terminator.stopped.set()
        counter.close()
        server.stop()
        engine.dispose()
