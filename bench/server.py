"""HallServer throughput with many counter terminals syncing at once, on local PostgreSQL
(the area "server" of `python -m bench`, and a standalone script).

What it measures. A fresh database (default `hall_bench`: dropped, created, migrated, seeded
with `--accounts` accounts and `--halls` halls) is served by `hallserver serve --workers N` in a
subprocess. `--terminals` simulated terminals (threads, one httpx connection each, spread
round-robin over the halls, registered as T001, T002, ...) log in and bootstrap their district
once (timed: one terminal alone first, then all of them at once). Then, for `--seconds`, each
terminal repeats: push a batch of 10 operations (suspend on 10 active accounts of its own
disjoint slice, with an ID on record and no arrears; the next round resumes them, always with
the version of the previous answer, so every operation should be applied), then one pull
(GET /changes after its cursor), again as soon as answered: the capacity, where latency is
terminals / throughput by construction. Then, for `--seconds` again, at a counter's pace: each
terminal pushes and pulls once every `--every` seconds on average (jittered), each push's latency
counted from when it was due. Reported for both: applied operations/s, push batches/s, pulls/s,
p50/p99 latency of a push batch and of a pull, CPU used by the server, PostgreSQL and the load
generator, and every non-applied outcome and HTTP error (both should be 0); and bootstrap time
and accounts/s.

Raw limits, same run, same load generator: the rate and p99 of `GET /health` (the same HTTP
stack and one database read) from as many terminals for a few seconds; and bare PostgreSQL
INSERT + COMMIT of one row each, from as many connections, beside the applied operations.

The load generator runs on the same machine as the server and the database and takes CPU from
them, so the figures are a lower bound for the server alone.

    python -m bench.server [--db-url URL] [--terminals 50] [--seconds 20] [--every 5]
        [--workers 2] [--accounts 50000] [--halls 8] [--json out.json] [--keep-db]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from bench.common import BenchContext, Figure, machine
from bench.common import percentile as nearest_rank
from bench.servers import (
    API,
    Prepared,
    drop_database,
    prepare_database,
    running_server,
)
from hallcore.domain.deadlines import HALL_TZ
from hallcore.receipt_numbers import format_receipt_no
from hallcore.signing import SigningKey, login_message, receipt_signature
from hallserver.seed import DEMO_CLERK_PASSWORD, DEMO_SUPERVISOR_PASSWORD

AREA = "server"
DEFAULT_DB_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/hall_bench_server"
BATCH = 10
BOOTSTRAP_PAGE = 2000
MAX_BOOTSTRAP_PAGES = 10_000
PULL_LIMIT = 1000
HTTP_TIMEOUT = 30.0
RAW_SECONDS = 5.0
_TICK = os.sysconf("SC_CLK_TCK")

Json = dict[str, Any]


# --- CPU accounting from /proc ----------------------------------------------------------------


@dataclass(frozen=True)
class ProcCpu:
    comm: str
    ppid: int
    seconds: float  # its own CPU time and that of its children that ended and were reaped


@dataclass(frozen=True)
class CpuSample:
    at: float
    machine_busy: float  # CPU seconds spent busy since boot, all cores
    processes: dict[int, ProcCpu]


def _proc_cpu(pid: int) -> ProcCpu | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1: raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2:].split()  # from field 3 (state) on
    ticks = sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    return ProcCpu(comm, int(fields[1]), ticks / _TICK)


def _machine_busy() -> float:
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(values) - values[3] - values[4]) / _TICK  # all but idle and iowait


def cpu_sample() -> CpuSample:
    processes = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (cpu := _proc_cpu(int(entry))) is not None:
            processes[int(entry)] = cpu
    return CpuSample(time.perf_counter(), _machine_busy(), processes)


def _tree(processes: dict[int, ProcCpu], root: int) -> set[int]:
    found, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, p in processes.items() if p.ppid == parent and pid not in found]
        found.update(children)
        frontier.extend(children)
    return found & processes.keys()


def process_tree_seconds(root: int) -> float:
    """CPU seconds used so far by process `root` and its descendants (reaped ones included)."""
    processes = cpu_sample().processes
    return sum(processes[pid].seconds for pid in _tree(processes, root))


def _postgres(processes: dict[int, ProcCpu]) -> set[int]:
    return {pid for pid, p in processes.items() if p.comm == "postgres"}


def cpu_usage(before: CpuSample, after: CpuSample, server_pid: int) -> Json:
    """Cores busy on average over the window (CPU seconds per second), by who used them.

    A group's use is its CPU time after minus before, each sample summing the group's live
    processes and the children they reaped, so a backend that ended in the window (a pool's
    overflow connection closed) is still counted. `postgres` is the whole PostgreSQL server,
    other databases' backends included; `other` is everything else on the machine (other
    users, the kernel's own work): when it is not near 0 the machine was not quiet.
    """
    window = after.at - before.at

    def cores(group: Callable[[dict[int, ProcCpu]], set[int]]) -> float:
        def total(sample: CpuSample) -> float:
            return sum(sample.processes[pid].seconds for pid in group(sample.processes))
        return round((total(after) - total(before)) / window, 2)

    used = {"server": cores(lambda procs: _tree(procs, server_pid)),
            "postgres": cores(_postgres),
            "load_generator": cores(lambda procs: {os.getpid()} & procs.keys())}
    machine = round((after.machine_busy - before.machine_busy) / window, 2)
    server = _tree(after.processes, server_pid)
    ours = server | _postgres(after.processes) | {os.getpid()}
    return {"machine": machine, **used, "other": round(machine - sum(used.values()), 2),
            "server_processes": _busiest(before, after, set(after.processes) - server,
                                         count=len(server)),
            "other_top": _busiest(before, after, ours)}


def _busiest(before: CpuSample, after: CpuSample, excluded: set[int], count: int = 3
             ) -> list[str]:
    """The processes outside `excluded` that used most CPU in the window, as 'name[pid] cores'."""
    window = after.at - before.at
    used = {pid: (p.seconds - before.processes[pid].seconds) / window
            for pid, p in after.processes.items()
            if pid in before.processes and pid not in excluded}
    top = sorted(used, key=used.__getitem__, reverse=True)[:count]
    return [f"{after.processes[pid].comm}[{pid}] {used[pid]:.2f}" for pid in top
            if used[pid] >= 0.01]


def pg_sessions(url: str) -> int:
    """Sessions ever opened on the database (PostgreSQL 14+), this one included."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(
                "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
            )).scalar_one())
    finally:
        engine.dispose()


# --- one terminal ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Seat:
    """Where a simulated terminal sits, and which slice of its district's accounts it owns."""

    terminal_id: str
    hall_id: str
    slot: int
    slots: int


def seat_terminals(count: int, halls: Sequence[tuple[str, str]]) -> list[Seat]:
    placed = [(f"T{i + 1:03d}", *halls[i % len(halls)]) for i in range(count)]
    per_district = Counter(district for _, _, district in placed)
    taken: Counter[str] = Counter()
    seats = []
    for terminal_id, hall_id, district in placed:
        seats.append(Seat(terminal_id, hall_id, taken[district], per_district[district]))
        taken[district] += 1
    return seats


def _eligible(account: Json) -> bool:
    """Suspension is certain to be applied: in supply, holder's ID on record, nothing owed."""
    return (account["status"] == "active" and bool(account["id_type"])
            and bool(account["id_number"]) and account["arrears_fen"] == 0)


@dataclass
class TerminalStats:
    push_latencies: list[float] = field(default_factory=list)
    pull_latencies: list[float] = field(default_factory=list)
    applied: int = 0
    pulled_accounts: int = 0
    not_applied: Counter[str] = field(default_factory=Counter)
    http_errors: Counter[str] = field(default_factory=Counter)


class SimTerminal:
    """A counter terminal as the server sees it: log in, bootstrap, push, pull."""

    def __init__(self, base_url: str, seat: Seat) -> None:
        self.seat = seat
        # A connection idle for uvicorn's keep-alive (5 s, httpx's too) may be closed by the
        # server as the terminal sends on it: not reused after 2 s.
        self.client = httpx.Client(base_url=base_url, timeout=HTTP_TIMEOUT,
                                   limits=httpx.Limits(keepalive_expiry=2.0))
        self.key = SigningKey.generate()
        self.installation_id = uuid.uuid4().hex
        self.receipts = 0
        self.cursor = 0
        self.accounts: dict[str, Json] = {}  # its own slice, as the server last answered
        self.stats = TerminalStats()

    def _login(self, clerk: str, password: str) -> httpx.Response:
        signed_at = datetime.now(UTC)
        return self.client.post(f"{API}/login", json={
            "clerk": clerk, "password": password, "hall_id": self.seat.hall_id,
            "terminal_id": self.seat.terminal_id, "installation_id": self.installation_id,
            "terminal_public_key": self.key.public_hex, "signed_at": signed_at.isoformat(),
            "terminal_proof": self.key.sign(login_message(
                self.seat.hall_id, self.seat.terminal_id, self.installation_id, clerk,
                signed_at))})

    def login(self) -> None:
        """A new terminal: the hall's supervisor logs in first (approving it), then the
        clerk."""
        hall = self.seat.hall_id.lower()
        self._login(f"{hall}-s1", DEMO_SUPERVISOR_PASSWORD).raise_for_status()
        response = self._login(f"{hall}-c1", DEMO_CLERK_PASSWORD)
        response.raise_for_status()
        self.client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def bootstrap(self) -> tuple[list[Json], int]:
        """Every account of the district, page by page, and the cursor to pull after."""
        accounts: list[Json] = []
        after: str | None = None
        cursor: int | None = None
        for _ in range(MAX_BOOTSTRAP_PAGES):
            params: Json = {"limit": BOOTSTRAP_PAGE, **({"after": after} if after else {})}
            response = self.client.get(f"{API}/bootstrap", params=params)
            response.raise_for_status()
            page = response.json()
            cursor = page["cursor"] if cursor is None else cursor
            accounts += page["accounts"]
            after = page["next_after"]
            if after is None:
                return accounts, cursor
        raise RuntimeError(f"bootstrap did not end after {MAX_BOOTSTRAP_PAGES} pages")

    def start(self) -> tuple[float, int]:
        """Bootstrap (timed) and take this terminal's slice; (seconds, accounts received)."""
        started = time.perf_counter()
        accounts, self.cursor = self.bootstrap()
        elapsed = time.perf_counter() - started
        eligible = [a for a in accounts if _eligible(a)]
        mine = eligible[self.seat.slot::self.seat.slots][:BATCH]
        if len(mine) < BATCH:
            raise RuntimeError(f"{self.seat.terminal_id}: only {len(mine)} eligible accounts "
                               "in its slice; seed more accounts or run fewer terminals")
        self.accounts = {a["number"]: a for a in mine}
        return elapsed, len(accounts)

    def operation(self, account: Json) -> Json:
        """Suspend an account in supply, resume a suspended one; signed like a real receipt."""
        self.receipts += 1
        op_id = str(uuid.uuid4())
        now = datetime.now(UTC)
        receipt_no = format_receipt_no(self.seat.hall_id, self.seat.terminal_id,
                                       now.astimezone(HALL_TZ).strftime("%Y%m%d"),
                                       self.receipts)
        return {
            "operation_id": op_id,
            "business_type": "suspend" if account["status"] == "active" else "resume",
            "account_number": account["number"], "base_version": account["version"],
            "payload": {"applicant_id_type": account["id_type"],
                        "applicant_id_number": account["id_number"]},
            "created_at": now.isoformat(),
            "clerk": f"{self.seat.hall_id.lower()}-c1", "receipt_no": receipt_no,
            "receipt_signature": receipt_signature(self.key, receipt_no, op_id),
        }

    def _request(self, method: str, path: str, latencies: list[float], *,
                 since: float | None = None, **kwargs: Any) -> Json | None:
        """The answer's JSON, its latency (from `since`, else from now) recorded; None (and
        counted) on an HTTP error."""
        started = time.perf_counter() if since is None else since
        try:
            response = self.client.request(method, f"{API}{path}", **kwargs)
        except httpx.HTTPError as exc:
            self.stats.http_errors[f"{path} {type(exc).__name__}"] += 1
            return None
        if response.status_code != 200:
            self.stats.http_errors[f"{path} {response.status_code}"] += 1
            return None
        latencies.append(time.perf_counter() - started)
        body: Json = response.json()
        return body

    def push(self, since: float | None = None) -> None:
        """Push a batch; its latency counted from `since` (when it was due), else from now."""
        ops = [self.operation(account) for account in self.accounts.values()]
        body = self._request("POST", "/push", self.stats.push_latencies, since=since,
                             json={"operations": ops})
        for result in body["results"] if body else ():
            if result["outcome"] == "applied":
                self.stats.applied += 1
            else:
                self.stats.not_applied[result["outcome"]] += 1
            account = result.get("account")
            if account and account["number"] in self.accounts:
                self.accounts[account["number"]] = account

    def pull(self) -> None:
        body = self._request("GET", "/changes", self.stats.pull_latencies,
                             params={"after": self.cursor, "limit": PULL_LIMIT})
        if body:
            self.cursor = body["next_cursor"]
            self.stats.pulled_accounts += len(body["accounts"])

    def run_until(self, deadline: float, every: float | None = None) -> TerminalStats:
        """Push and pull until `deadline`: again as soon as answered (a closed loop), or, with
        `every`, at a fixed rate: one push and one pull every `every` seconds on average (each
        pause drawn between half and one and a half of it, the first within it), each push's
        latency counted from when it was due, so a server that falls behind shows in it. The
        figures of this run only."""
        self.stats = TerminalStats()
        if every is None:
            while time.perf_counter() < deadline:
                self.push()
                self.pull()
            return self.stats
        jitter = random.Random(self.seat.terminal_id)
        due = time.perf_counter() + jitter.uniform(0, every)
        while due < deadline:
            time.sleep(max(0.0, due - time.perf_counter()))
            self.push(since=due)
            self.pull()
            due += every * jitter.uniform(0.5, 1.5)
        return self.stats


# --- the run ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0.0 for no values."""
    return nearest_rank(values, q) if values else 0.0


def bootstrap_all(pool: ThreadPoolExecutor, terminals: list[SimTerminal]) -> Json:
    """One terminal's bootstrap alone, then every terminal's at once."""
    started = time.perf_counter()
    solo_accounts = len(terminals[0].bootstrap()[0])
    solo = time.perf_counter() - started
    started = time.perf_counter()
    timings = list(pool.map(SimTerminal.start, terminals))
    wall = time.perf_counter() - started
    served = sum(n for _, n in timings)
    seconds = [s for s, _ in timings]
    return {
        "solo_accounts": solo_accounts, "solo_s": round(solo, 2),
        "solo_accounts_per_s": round(solo_accounts / solo),
        "all_terminals": len(terminals), "all_accounts": served, "all_wall_s": round(wall, 2),
        "all_accounts_per_s": round(served / wall),
        "per_terminal_p50_s": round(percentile(seconds, 50), 2),
        "per_terminal_max_s": round(max(seconds), 2),
    }


def load_figures(stats: list[TerminalStats], window: float) -> Json:
    pushes = [x for s in stats for x in s.push_latencies]
    pulls = [x for s in stats for x in s.pull_latencies]
    applied = sum(s.applied for s in stats)
    not_applied: Counter[str] = sum((s.not_applied for s in stats), Counter())
    errors: Counter[str] = sum((s.http_errors for s in stats), Counter())
    return {
        "window_s": round(window, 2),
        "applied_ops": applied, "ops_per_s": round(applied / window, 1),
        "push_batches": len(pushes), "push_batches_per_s": round(len(pushes) / window, 1),
        "pulls": len(pulls), "pulls_per_s": round(len(pulls) / window, 1),
        "push_p50_ms": round(percentile(pushes, 50) * 1000, 1),
        "push_p99_ms": round(percentile(pushes, 99) * 1000, 1),
        "pull_p50_ms": round(percentile(pulls, 50) * 1000, 1),
        "pull_p99_ms": round(percentile(pulls, 99) * 1000, 1),
        "pulled_accounts": sum(s.pulled_accounts for s in stats),
        "not_applied": dict(not_applied), "http_errors": dict(errors),
    }


def health_rate(base_url: str, terminals: int, seconds: float) -> Json:
    """Raw limit of the HTTP stack: GET /health (one database read) from `terminals` threads,
    one keep-alive connection each, for `seconds`."""
    latencies: list[list[float]] = [[] for _ in range(terminals)]
    errors = [0]
    deadline = time.perf_counter() + seconds

    def hammer(slot: int) -> None:
        with httpx.Client(base_url=base_url, timeout=HTTP_TIMEOUT) as client:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    ok = client.get(f"{API}/health").status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    latencies[slot].append(time.perf_counter() - started)
                else:
                    errors[0] += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=terminals) as pool:
        list(pool.map(hammer, range(terminals)))
    window = time.perf_counter() - started
    done = [x for slot in latencies for x in slot]
    return {"requests_per_s": round(len(done) / window, 1),
            "p50_ms": round(percentile(done, 50) * 1000, 1),
            "p99_ms": round(percentile(done, 99) * 1000, 1), "errors": errors[0]}


def insert_commit_rate(db_url: str, connections: int, seconds: float) -> float:
    """Raw limit of the database: a one-row INSERT and its COMMIT, over and over, from
    `connections` bare driver connections, into a table of its own (dropped after)."""
    engine = create_engine(db_url, poolclass=NullPool)
    counts = [0] * connections
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_commits (id bigserial PRIMARY KEY, "
                          "at timestamptz NOT NULL DEFAULT now(), payload text NOT NULL)"))
    barrier = threading.Barrier(connections)
    deadline = [0.0]

    def commit_loop(slot: int) -> None:
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            if barrier.wait() == 0:
                deadline[0] = time.perf_counter() + seconds
            barrier.wait()
            while time.perf_counter() < deadline[0]:
                cursor.execute("INSERT INTO bench_commits (payload) VALUES (%s)", ("x" * 200,))
                raw.commit()
                counts[slot] += 1
        finally:
            raw.close()

    try:
        with ThreadPoolExecutor(max_workers=connections) as pool:
            list(pool.map(commit_loop, range(connections)))
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE bench_commits"))
        engine.dispose()
    return round(sum(counts) / seconds, 1)


def _load(pool: ThreadPoolExecutor, terminals: list[SimTerminal], server_pid: int,
          seconds: float, every: float | None) -> Json:
    """Every terminal pushing and pulling for `seconds` (`SimTerminal.run_until`): the load
    figures and the CPU used."""
    before = cpu_sample()
    deadline = time.perf_counter() + seconds
    stats = list(pool.map(lambda t: t.run_until(deadline, every), terminals))
    after = cpu_sample()
    return {**load_figures(stats, after.at - before.at),
            "cpu_cores": cpu_usage(before, after, server_pid)}


def drive(base_url: str, server_pid: int, db_url: str, seats: list[Seat], seconds: float,
          every: float) -> Json:
    """Log in, bootstrap, then push and pull for `seconds` as fast as answered (the capacity),
    then for `seconds` again at a counter's pace, a push every `every` seconds per terminal;
    the figures."""
    terminals = [SimTerminal(base_url, seat) for seat in seats]
    try:
        with ThreadPoolExecutor(max_workers=len(terminals)) as pool:
            started = time.perf_counter()
            list(pool.map(SimTerminal.login, terminals))
            login_s = time.perf_counter() - started
            bootstrap = bootstrap_all(pool, terminals)
            sessions = pg_sessions(db_url)
            closed = _load(pool, terminals, server_pid, seconds, None)
            sessions = pg_sessions(db_url) - sessions - 1
            paced = _load(pool, terminals, server_pid, seconds, every)
    finally:
        for terminal in terminals:
            terminal.client.close()
    raw_seconds = min(RAW_SECONDS, seconds)
    return {"login_all_s": round(login_s, 2), "bootstrap": bootstrap,
            "load": closed, "cpu_cores": closed.pop("cpu_cores"),
            "paced": {"every_s": every, "offered_ops_per_s": round(len(seats) * BATCH / every, 1),
                      **paced},
            "db_sessions_opened": sessions,
            "raw": {"health": health_rate(base_url, len(seats), raw_seconds),
                    "insert_commit_per_s": insert_commit_rate(db_url, len(seats),
                                                              raw_seconds)}}


def _code_version() -> str:
    """The commit the server ran from, and the server/shared files changed since."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=Path(__file__).resolve().parents[1],
                              capture_output=True, text=True, check=False).stdout.rstrip()

    dirty = git("status", "--porcelain", "--", "hallserver", "hallclient").splitlines()
    changed = f" + uncommitted: {', '.join(line[3:] for line in dirty)}" if dirty else ""
    return f"{git('rev-parse', '--short', 'HEAD') or 'unknown'}{changed}"


@dataclass(frozen=True)
class Config:
    db_url: str = DEFAULT_DB_URL
    terminals: int = 50
    seconds: float = 20.0
    every: float = 5.0  # a terminal's pause between pushes in the paced run, on average
    workers: int = 2
    accounts: int = 50_000
    halls: int = 8
    keep_db: bool = False


QUICK = Config(terminals=10, seconds=5.0, accounts=8_000, halls=4)


def measure(config: Config, log: Path) -> Json:
    print(f"preparing {config.db_url}: {config.accounts:,} accounts, {config.halls} halls ...",
          file=sys.stderr, flush=True)
    try:
        prepared: Prepared = prepare_database(config.db_url, config.accounts, config.halls)
        with running_server(config.db_url, log, workers=config.workers) as (base_url, pid):
            print(f"server at {base_url} ({config.workers} workers, log {log}); "
                  f"{config.terminals} terminals for {config.seconds:g} s ...",
                  file=sys.stderr, flush=True)
            figures = drive(base_url, pid, config.db_url,
                            seat_terminals(config.terminals, prepared.halls), config.seconds,
                            config.every)
    finally:
        if not config.keep_db:
            drop_database(config.db_url)
    return {
        "date": datetime.now(UTC).date().isoformat(), "code": _code_version(),
        "machine": machine(), "postgres": prepared.version,
        "config": {"terminals": config.terminals, "seconds": config.seconds,
                   "every": config.every,
                   "workers": config.workers, "accounts": prepared.accounts,
                   "halls": config.halls, "batch": BATCH, "bootstrap_page": BOOTSTRAP_PAGE},
        "seed_s": round(prepared.seed_seconds, 1), "server_log": str(log), **figures,
    }


def figures(result: Json) -> list[Figure]:
    """The run as the figures of `python -m bench`, each beside its raw limit."""
    load, raw, cpu = result["load"], result["raw"], result["cpu_cores"]
    paced, pcpu = result["paced"], result["paced"]["cpu_cores"]
    paced_on = (f"a push of {BATCH} every {paced['every_s']:g} s each, jittered "
                f"({paced['offered_ops_per_s']:g} ops/s offered)")
    health = raw["health"]
    n = result["config"]["terminals"]
    on = f"{n} terminals, {result['config']['workers']} workers"
    health_label = f"GET /health, same {n} terminals"
    faults = (f"not applied {load['not_applied'] or 0}, HTTP errors "
              f"{load['http_errors'] or 0}")
    return [
        Figure(AREA, f"applied operations/s, {on}", load["ops_per_s"], "ops/s",
               raw=raw["insert_commit_per_s"],
               raw_label=f"bare INSERT + COMMIT/s from {n} connections",
               notes=f"{load['applied_ops']} applied in {load['window_s']} s; {faults}; "
                     f"{result['postgres']}"),
        Figure(AREA, f"pushes/s (batches of {BATCH}), {on}", load["push_batches_per_s"],
               "req/s", raw=health["requests_per_s"], raw_label=health_label,
               notes=f"p50 {load['push_p50_ms']} ms; CPU cores: server {cpu['server']}, "
                     f"postgres {cpu['postgres']}, load generator {cpu['load_generator']}, "
                     f"other {cpu['other']}"),
        Figure(AREA, f"pulls/s, {on}", load["pulls_per_s"], "req/s",
               raw=health["requests_per_s"], raw_label=health_label,
               notes=f"p50 {load['pull_p50_ms']} ms"),
        Figure(AREA, f"push p99, {on}, each pushing again as soon as answered",
               load["push_p99_ms"], "ms", raw=health["p99_ms"], raw_label=health_label,
               notes="a closed loop: its latency is terminals / throughput by construction"),
        Figure(AREA, f"push p99, {on}, {paced_on}", paced["push_p99_ms"], "ms",
               raw=health["p99_ms"], raw_label=health_label, goal="< 300 ms",
               met=paced["push_p99_ms"] < 300 and not paced["http_errors"],
               notes=f"p50 {paced['push_p50_ms']} ms, counted from when each push was due; "
                     f"{paced['ops_per_s']} ops/s applied; not applied "
                     f"{paced['not_applied'] or 0}, HTTP errors {paced['http_errors'] or 0}; "
                     f"CPU cores: server {pcpu['server']}, postgres {pcpu['postgres']}, "
                     f"load generator {pcpu['load_generator']}, other {pcpu['other']}"),
        Figure(AREA, f"pull p99, {on}", load["pull_p99_ms"], "ms", raw=health["p99_ms"],
               raw_label=health_label),
    ]


def run(ctx: BenchContext) -> list[Figure]:
    config = QUICK if ctx.quick else Config()
    config = Config(**{**config.__dict__, "db_url": ctx.pg_database("server")})
    result = measure(config, ctx.scratch("server") / "server.log")
    (ctx.scratch("server") / "server.json").write_text(json.dumps(result, indent=2))
    return figures(result)


def table(result: Json) -> str:
    boot, load, cpu, raw = result["bootstrap"], result["load"], result["cpu_cores"], result["raw"]
    paced, pcpu = result["paced"], result["paced"]["cpu_cores"]
    cfg = result["config"]
    rows = [
        ("terminals / workers / window", f"{cfg['terminals']} / {cfg['workers']} / "
                                         f"{load['window_s']} s"),
        ("applied operations/s", f"{load['ops_per_s']} ({load['applied_ops']} applied)"),
        ("push batches/s (10 ops)", str(load["push_batches_per_s"])),
        ("pulls/s", str(load["pulls_per_s"])),
        ("push batch p50 / p99", f"{load['push_p50_ms']} / {load['push_p99_ms']} ms"),
        ("pull p50 / p99", f"{load['pull_p50_ms']} / {load['pull_p99_ms']} ms"),
        ("not applied / HTTP errors", f"{load['not_applied'] or 0} / "
                                      f"{load['http_errors'] or 0}"),
        ("paced: a push every (each)", f"{paced['every_s']:g} s on average, "
                                       f"{paced['offered_ops_per_s']:g} ops/s offered"),
        ("paced: applied operations/s", f"{paced['ops_per_s']} ({paced['applied_ops']} applied)"),
        ("paced: push p50 / p99", f"{paced['push_p50_ms']} / {paced['push_p99_ms']} ms "
                                  "(from when due)"),
        ("paced: pull p50 / p99", f"{paced['pull_p50_ms']} / {paced['pull_p99_ms']} ms"),
        ("paced: not applied / HTTP errors", f"{paced['not_applied'] or 0} / "
                                             f"{paced['http_errors'] or 0}"),
        ("paced: CPU cores busy", f"machine {pcpu['machine']}, server {pcpu['server']}, "
                                  f"postgres {pcpu['postgres']}, load generator "
                                  f"{pcpu['load_generator']}, other {pcpu['other']}"),
        ("raw: GET /health/s, p50 / p99", f"{raw['health']['requests_per_s']}, "
                                          f"{raw['health']['p50_ms']} / "
                                          f"{raw['health']['p99_ms']} ms"),
        ("raw: INSERT + COMMIT/s", str(raw["insert_commit_per_s"])),
        ("bootstrap, 1 terminal alone", f"{boot['solo_accounts']} accounts in {boot['solo_s']} s "
                                        f"({boot['solo_accounts_per_s']}/s)"),
        ("bootstrap, all at once", f"{boot['all_accounts']} accounts in {boot['all_wall_s']} s "
                                   f"({boot['all_accounts_per_s']}/s); per terminal p50 "
                                   f"{boot['per_terminal_p50_s']} s, max "
                                   f"{boot['per_terminal_max_s']} s"),
        ("login, all terminals", f"{result['login_all_s']} s"),
        ("CPU cores busy", f"machine {cpu['machine']}, server {cpu['server']}, postgres "
                           f"{cpu['postgres']}, load generator {cpu['load_generator']}, "
                           f"other {cpu['other']}"),
        ("server processes", ", ".join(cpu["server_processes"]) or "-"),
        ("other CPU users", ", ".join(cpu["other_top"]) or "-"),
        ("PostgreSQL sessions opened", f"{result['db_sessions_opened']} during the window"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.server",
                                     description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--db-url", default=DEFAULT_DB_URL,
                        help="PostgreSQL database to drop, create and seed (default %(default)s)")
    parser.add_argument("--terminals", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="length of each of the two runs, as fast as answered and paced")
    parser.add_argument("--every", type=float, default=5.0,
                        help="paced run: seconds between a terminal's pushes, on average")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--halls", type=int, default=8)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--keep-db", action="store_true",
                        help="keep the database afterwards (default: drop it)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.terminals < 1 or args.seconds <= 0 or args.every <= 0 or args.workers < 1:
        raise SystemExit("--terminals and --workers must be at least 1, --seconds and --every "
                         "above 0")
    config = Config(args.db_url, args.terminals, args.seconds, args.every, args.workers,
                    args.accounts, args.halls, args.keep_db)
    log = Path(tempfile.gettempdir()) / f"hallserver-bench-{os.getpid()}.log"
    try:
        result = measure(config, log)
    except (httpx.HTTPError, RuntimeError, ValueError) as exc:
        # Login or bootstrap failed (the push/pull loop counts its errors instead).
        print(f"benchmark failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    faults = [result[run][kind] for run in ("load", "paced")
              for kind in ("not_applied", "http_errors")]
    return 1 if any(faults) else 0


if __name__ == "__main__":
    sys.exit(main())
