"""HallServer under an independent load generator: wrk (compiled, event-driven) against
`hallserver serve --workers 2` on PostgreSQL, each figure beside its raw limits from the same
run (the area "http_load" of `python -m bench`; bench/SERVER.md describes it).

Scenarios, each at 1, 50 and 1,000 connections: empty pulls (GET /changes after the
district's cursor), pulls with changes (after the cursor less 50), pushes of 10 operations
(suspensions, each account once, signed by its terminal's key; every answer read for the
outcome of each operation), and bootstrap pages (GET /bootstrap/rows). Measured: requests/s,
p50/p99 latency, answers that are not 2xx, and the CPU per request of the server's processes
and of PostgreSQL (from /proc). Raw limits: the same ASGI stack with no database
(bench/bare_app.py) under the same wrk load, and pgbench of the statements the server sends
for the pulls and the bootstrap page (bench/pgbench/*.sql).

    python -m bench.http_load [--quick] [--db-url URL] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from bench.bare_app import CONSTANT_PATH, running_bare_app
from bench.common import BenchContext, Figure, percentile
from bench.servers import API, drop_database, prepare_database, running_server
from hallcore.domain.deadlines import HALL_TZ
from hallcore.receipt_numbers import format_receipt_no
from hallcore.signing import SigningKey, login_message, receipt_signature
from hallcore.wire import ACCOUNT_ROW_FIELDS
from hallserver.db import DEFAULT_MAX_OVERFLOW, DEFAULT_POOL_SIZE
from hallserver.security import token_hash
from hallserver.seed import DEMO_CLERK_PASSWORD, DEMO_SUPERVISOR_PASSWORD

AREA = "http_load"
HERE = Path(__file__).resolve().parent
WRK_DIR = HERE / "wrk"
PGBENCH_DIR = HERE / "pgbench"
DEFAULT_DB_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/hall_bench_http_load"
CONNECTIONS = (1, 50, 1000)
WORKERS = 2
WRK_THREADS = 2
# Long enough that a slow answer is measured, not dropped as a wrk timeout.
WRK_TIMEOUT_S = 30
PUSH_BATCH = 10
CHANGES_BEHIND = 50  # changes a "pull with changes" asks for
BOOTSTRAP_ROWS = 1000  # accounts per bootstrap page asked for
PAGE_OF_ALL = 10_000  # pages the benchmark itself reads its seeded district with
# Pushes generated for one run: more than the server can answer in it (the accounts of the
# ones it did not send go back to the pool).
PUSHES_PER_S_CEILING = 400
# The server's database connections at most (`serve`'s defaults): pgbench opens no more.
SERVER_DB_CONNECTIONS = WORKERS * (DEFAULT_POOL_SIZE + DEFAULT_MAX_OVERFLOW)
WRK_MARK = "HALL_WRK_JSON "
# Before each run of a read scenario: wrk with the run's own requests, at up to
# WARM_UP_CONNECTIONS, for WARM_UP_S. Each token is then sent some ten times and so reaches each
# worker, which keeps its caller (hallserver/auth_cache.py) as it would for a terminal that
# pulls every 30 s; a run started cold measured each worker reading 1,000 callers.
WARM_UP_S = 6.0
WARM_UP_CONNECTIONS = 50
IDLE_PROBE_S = 0.3
IDLE_LIMIT_S = 60.0
TOOLS = {"wrk": "wrk", "pgbench": "postgresql-client"}  # command: its Debian package
_TICK = os.sysconf("SC_CLK_TCK")
_NUMBER, _STATUS, _VERSION = (ACCOUNT_ROW_FIELDS.index(name)
                              for name in ("number", "status", "version"))
_ID_TYPE, _ID_NUMBER, _ARREARS = (ACCOUNT_ROW_FIELDS.index(name)
                                  for name in ("id_type", "id_number", "arrears_fen"))

Json = dict[str, Any]


@dataclass(frozen=True)
class Config:
    db_url: str = DEFAULT_DB_URL
    accounts: int = 60_000
    halls: int = 8
    terminals: int = 50
    tokens: int = max(CONNECTIONS)  # distinct access tokens, one a connection
    seconds: float = 8.0  # each wrk run against HallServer
    raw_seconds: float = 4.0  # each run of the bare app and of pgbench


# Quick: 1,000 connections rotate over 100 tokens. A push at 1,000 connections needs 1,000
# pushes of accounts not pushed before at once: 10,000 accounts in supply with nothing owed.
QUICK = Config(accounts=25_000, halls=4, terminals=8, tokens=100, seconds=2.0,
               raw_seconds=1.0)


# --- the tools -------------------------------------------------------------------------------


def ensure_tools() -> dict[str, str]:
    """The path of wrk and pgbench; installed with apt-get when missing and this runs as root
    (as ./dev installs its system packages), else RuntimeError saying what to install."""
    missing = [command for command in TOOLS if shutil.which(command) is None]
    if missing and os.geteuid() == 0 and shutil.which("apt-get"):
        packages = [TOOLS[command] for command in missing]
        print(f"bench: installing {', '.join(packages)}", file=sys.stderr, flush=True)
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "-o", "DPkg::Lock::Timeout=300", "update", "-qq"],
                        ["apt-get", "-o", "DPkg::Lock::Timeout=300", "install", "-y", "-qq",
                         "--no-install-recommends", *packages]):
            subprocess.run(command, env=environment, check=False, capture_output=True)
    found = {command: shutil.which(command) for command in TOOLS}
    absent = sorted(command for command, path in found.items() if path is None)
    if absent:
        raise RuntimeError(f"{', '.join(absent)} not installed: this benchmark needs them "
                           f"(as root: apt-get install "
                           f"{' '.join(TOOLS[command] for command in absent)})")
    return {command: path for command, path in found.items() if path is not None}


# --- CPU from /proc --------------------------------------------------------------------------


@dataclass(frozen=True)
class Proc:
    ppid: int
    comm: str
    seconds: float  # user + system CPU of the process itself
    cmdline: str


def parse_stat(stat: str) -> tuple[int, str, float]:
    """(parent pid, command name, CPU seconds: utime + stime) from a /proc/<pid>/stat line."""
    comm = stat[stat.index("(") + 1: stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2:].split()  # from field 3 (state) on
    return int(fields[1]), comm, (int(fields[11]) + int(fields[12])) / _TICK


def processes() -> dict[int, Proc]:
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            ppid, comm, seconds = parse_stat(Path(f"/proc/{entry}/stat").read_text())
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, ValueError):
            continue  # it ended meanwhile
        found[int(entry)] = Proc(ppid, comm, seconds, cmdline.decode(errors="replace").strip())
    return found


def descendants(procs: dict[int, Proc], root: int) -> set[int]:
    """`root` and every process under it."""
    found, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = {pid for pid, p in procs.items() if p.ppid == parent} - found
        found |= children
        frontier.extend(children)
    return found & procs.keys()


# A backend's title: "postgres: 15/main: <user> <database> <host>(<port>) <state>", an
# autovacuum worker's "postgres: 15/main: autovacuum worker <database>".
_BACKEND = re.compile(r"^postgres: (?:[^:]+: )?(?:autovacuum worker (\S+)|\S+ (\S+) "
                      r"(?:\S+\(\d+\)|\[local\]))")


def postgres_pids(procs: dict[int, Proc], database: str) -> set[int]:
    """PostgreSQL's processes that work for `database`: its backends and the server's own
    (postmaster, WAL writer, checkpointer, ...); other databases' backends are not counted."""
    ours = set()
    for pid, proc in procs.items():
        if proc.comm != "postgres":
            continue
        backend = _BACKEND.match(proc.cmdline)
        if backend is None or database in backend.groups():
            ours.add(pid)
    return ours


def cpu_seconds(before: dict[int, Proc], after: dict[int, Proc], pids: set[int]) -> float:
    """CPU the processes `pids` (as found in `after`) used between the two samples; one that
    started in between counts from 0. One that ended in between is not counted (a pool's
    overflow connection closed): PostgreSQL's figure is a lower bound."""
    return sum(after[pid].seconds - (before[pid].seconds if pid in before else 0.0)
               for pid in pids if pid in after)


def machine_busy() -> float:
    """CPU seconds spent busy since boot, all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(values) - values[3] - values[4]) / _TICK  # all but idle and iowait


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Cpu:
    """CPU seconds used during one run, by whom; `load` the 1-minute load average after it."""

    window_s: float
    server: float
    postgres: float
    load_generator: float
    machine: float
    load: float

    @property
    def other(self) -> float:
        return self.machine - self.server - self.postgres - self.load_generator


@contextmanager
def measured_cpu(server_pid: int, database: str) -> Iterator[list[Cpu]]:
    """CPU used inside the block by the server's process tree, PostgreSQL for `database`, this
    process's children that ended in it (wrk) and the whole machine; appended to the list it
    yields when the block ends."""
    found: list[Cpu] = []
    before, busy, children = processes(), machine_busy(), children_cpu()
    started = time.perf_counter()
    yield found
    after = processes()
    window = time.perf_counter() - started
    found.append(Cpu(window, cpu_seconds(before, after, descendants(after, server_pid)),
                     cpu_seconds(before, after, postgres_pids(after, database)),
                     children_cpu() - children, machine_busy() - busy, os.getloadavg()[0]))


# --- wrk -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WrkRun:
    connections: int
    duration_s: float
    requests: int
    non_2xx: int
    socket_errors: int  # connect, read, write errors and timeouts
    p50_ms: float
    p99_ms: float
    made: list[int]  # requests each thread sent
    lines: list[int]  # request lines each thread had
    outcomes: dict[str, int]

    @property
    def per_s(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def wrapped(self) -> bool:
        """A thread sent some of its lines twice."""
        return any(made > lines for made, lines in zip(self.made, self.lines, strict=True))


def parse_wrk(output: str, connections: int) -> WrkRun:
    """The figures of requests.lua's done() line in wrk's output."""
    line = next((line for line in output.splitlines() if line.startswith(WRK_MARK)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no {WRK_MARK.strip()} line:\n{output[-2000:]}")
    data = json.loads(line[len(WRK_MARK):])
    errors = data["errors"]
    return WrkRun(
        connections=connections, duration_s=data["duration_us"] / 1e6,
        requests=data["requests"], non_2xx=errors["status"],
        socket_errors=errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
        p50_ms=data["latency_us"]["p50"] / 1000, p99_ms=data["latency_us"]["p99"] / 1000,
        made=[t["made"] for t in data["threads"]], lines=[t["lines"] for t in data["threads"]],
        outcomes=data["outcomes"])


def sent_lines(run: WrkRun) -> set[int]:
    """The request lines (0-based) a run sent: thread k of n has lines k, k + n, ..."""
    step = len(run.made)
    return {k + j * step for k, (made, lines) in enumerate(zip(run.made, run.lines, strict=True))
            for j in range(min(made, lines))}


def write_requests(path: Path, lines: Sequence[tuple[str, str, str, str]]) -> Path:
    """The request file requests.lua reads: method, path, token, body, tab-separated; the
    lines repeated to one a wrk thread at least."""
    if not lines:
        raise RuntimeError(f"no request to write to {path.name}")
    repeated = [lines[i % len(lines)] for i in range(max(len(lines), WRK_THREADS))]
    path.write_text("".join(f"{method}\t{target}\t{token}\t{body}\n"
                            for method, target, token, body in repeated))
    return path


def wrk(tool: str, base_url: str, requests: Path, connections: int, seconds: float,
        script: str = "requests.lua") -> WrkRun:
    """wrk's run of the lines of `requests` (whole seconds: wrk takes no fraction)."""
    threads = min(WRK_THREADS, connections)
    command = [tool, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
               f"--timeout={WRK_TIMEOUT_S}s", "-s", script, base_url, "--", str(requests),
               str(threads)]
    done = subprocess.run(command, cwd=WRK_DIR, capture_output=True, text=True, check=False,
                          timeout=seconds + 120)
    if done.returncode != 0:
        raise RuntimeError(f"wrk exited with {done.returncode}: {done.stderr[-2000:]}")
    return parse_wrk(done.stdout, connections)


# --- pgbench ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PgbenchRun:
    clients: int
    tps: float
    p50_ms: float
    p99_ms: float
    failed: int


def parse_pgbench(output: str, latencies_us: Sequence[float], clients: int) -> PgbenchRun:
    """pgbench's summary and its per-transaction log's latencies (third column, µs)."""
    tps = re.search(r"^tps = ([\d.]+)", output, re.MULTILINE)
    failed = re.search(r"^number of failed transactions: (\d+)", output, re.MULTILINE)
    if tps is None or not latencies_us:
        raise RuntimeError(f"pgbench gave no figures:\n{output[-2000:]}")
    return PgbenchRun(clients, float(tps[1]), percentile(latencies_us, 50) / 1000,
                      percentile(latencies_us, 99) / 1000, int(failed[1]) if failed else 0)


def pgbench(tool: str, db_url: str, script: str, clients: int, seconds: float,
            variables: dict[str, str], scratch: Path) -> PgbenchRun:
    url = make_url(db_url)
    prefix = scratch / f"pgbench-{Path(script).stem}-{clients}"
    for old in scratch.glob(f"{prefix.name}.*"):
        old.unlink()
    command = [tool, "-n", "-M", "prepared", "-f", str(PGBENCH_DIR / script),
               "-c", str(clients), "-j", str(min(WRK_THREADS, clients)), "-T", f"{seconds:g}",
               "-l", f"--log-prefix={prefix}", "-h", url.host or "127.0.0.1",
               "-p", str(url.port or 5432), "-U", url.username or "postgres",
               *[f"-D{name}={value}" for name, value in variables.items()], url.database or ""]
    environment = {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}
    done = subprocess.run(command, capture_output=True, text=True, check=False,
                          timeout=seconds + 120, env=environment)
    if done.returncode != 0:
        raise RuntimeError(f"pgbench exited with {done.returncode}: {done.stderr[-2000:]}")
    latencies = [float(line.split()[2]) for log in scratch.glob(f"{prefix.name}.*")
                 for line in log.read_text().splitlines() if line]
    return parse_pgbench(done.stdout, latencies, clients)


# --- terminals and the seeded districts --------------------------------------------------------


@dataclass
class Terminal:
    """A counter terminal logged in over HTTP: its key signs the operations it pushes."""

    hall_id: str
    terminal_id: str
    district: str = ""
    key: SigningKey = field(default_factory=SigningKey.generate)
    installation_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    refresh_token: str = ""
    receipts: int = 0

    def login(self, client: httpx.Client) -> str:
        """The hall's supervisor logs in first (approving this new terminal), then its clerk;
        the clerk's access token."""
        answer: Json = {}
        hall = self.hall_id.lower()
        for clerk, password in ((f"{hall}-s1", DEMO_SUPERVISOR_PASSWORD),
                                (f"{hall}-c1", DEMO_CLERK_PASSWORD)):
            signed_at = datetime.now(UTC)
            response = client.post(f"{API}/login", json={
                "clerk": clerk, "password": password, "hall_id": self.hall_id,
                "terminal_id": self.terminal_id, "installation_id": self.installation_id,
                "terminal_public_key": self.key.public_hex, "signed_at": signed_at.isoformat(),
                "terminal_proof": self.key.sign(login_message(
                    self.hall_id, self.terminal_id, self.installation_id, clerk, signed_at))})
            response.raise_for_status()
            answer = response.json()
        self.refresh_token, self.district = answer["refresh_token"], answer["district"]
        return str(answer["access_token"])

    def another_token(self, client: httpx.Client) -> str:
        """One more access token of this terminal's clerk (POST /refresh: no password)."""
        response = client.post(f"{API}/refresh", json={"refresh_token": self.refresh_token})
        response.raise_for_status()
        return str(response.json()["access_token"])

    def suspensions(self, accounts: Sequence[Sequence[Any]]) -> str:
        """A push body suspending each account (in supply, with its holder's ID and nothing
        owed: applied, unless another terminal changed it first), signed like real receipts."""
        now = datetime.now(UTC)
        day = now.astimezone(HALL_TZ).strftime("%Y%m%d")
        operations = []
        for account in accounts:
            self.receipts += 1
            op_id = str(uuid.uuid4())
            receipt_no = format_receipt_no(self.hall_id, self.terminal_id, day, self.receipts)
            operations.append({
                "operation_id": op_id, "business_type": "suspend",
                "account_number": account[_NUMBER], "base_version": account[_VERSION],
                "payload": {"applicant_id_type": account[_ID_TYPE],
                            "applicant_id_number": account[_ID_NUMBER]},
                "created_at": now.isoformat(), "clerk": f"{self.hall_id.lower()}-c1",
                "receipt_no": receipt_no,
                "receipt_signature": receipt_signature(self.key, receipt_no, op_id)})
        return json.dumps({"operations": operations}, separators=(",", ":"))


@dataclass
class District:
    code: str
    cursor: int
    first_number: int  # its first account number less one (numbers are consecutive)
    accounts: int
    communities: list[str]
    page_starts: list[str]  # `after` of each bootstrap page of BOOTSTRAP_ROWS
    eligible: deque[list[Any]]  # accounts a suspension will be applied to, not yet pushed


def read_district(client: httpx.Client, token: str) -> District:
    """The district of `token`'s terminal, read as a terminal bootstraps it (compact pages)."""
    rows: list[list[Any]] = []
    communities: set[str] = set()
    after: str | None = None
    cursor = None
    while True:
        response = client.get(f"{API}/bootstrap/rows", headers={
            "Authorization": f"Bearer {token}"}, params={
            "limit": PAGE_OF_ALL, **({"after": after} if after else {})})
        response.raise_for_status()
        page = response.json()
        cursor = page["cursor"] if cursor is None else cursor
        rows += page["rows"]
        communities |= {community[0] for community in page["communities"]}
        after = page["next_after"]
        if after is None:
            break
    code = rows[0][ACCOUNT_ROW_FIELDS.index("district")]
    numbers = [row[_NUMBER] for row in rows]
    eligible = deque(row for row in rows if row[_STATUS] == "active" and row[_ID_TYPE]
                     and row[_ID_NUMBER] and row[_ARREARS] == 0)
    return District(code, cursor, int(numbers[0]) - 1, len(rows), sorted(communities),
                    numbers[BOOTSTRAP_ROWS - 1::BOOTSTRAP_ROWS][:-1] or [numbers[0]], eligible)


@dataclass
class Fleet:
    """The logged-in terminals, one access token per connection (the first ones by
    terminal, round-robin over the halls), and their districts."""

    terminals: list[Terminal]
    tokens: list[tuple[str, Terminal]]
    districts: dict[str, District]

    def tokens_for(self, connections: int) -> list[tuple[str, Terminal]]:
        """As many tokens as connections, and at least one per district."""
        return self.tokens[:max(connections, len(self.districts))]


def log_in(base_url: str, halls: Sequence[str], terminals: int, tokens: int) -> Fleet:
    fleet = [Terminal(halls[i % len(halls)], f"T{i + 1:03d}") for i in range(terminals)]
    with httpx.Client(base_url=base_url, timeout=60.0) as client, \
            ThreadPoolExecutor(max_workers=8) as pool:
        first = list(pool.map(lambda t: t.login(client), fleet))
        more = list(pool.map(lambda i: fleet[i % terminals].another_token(client),
                             range(terminals, tokens)))
        by_district = {t.district: token for token, t in zip(first, fleet, strict=True)}
        districts = dict(zip(by_district, pool.map(lambda token: read_district(client, token),
                                                   by_district.values()), strict=True))
    pairs = list(zip(first, fleet, strict=True))
    pairs += [(token, fleet[i % terminals]) for i, token in enumerate(more, start=terminals)]
    return Fleet(fleet, pairs, districts)


# --- the scenarios ---------------------------------------------------------------------------


def pull_lines(fleet: Fleet, connections: int, behind: int) -> list[tuple[str, str, str, str]]:
    """A pull per token, after its district's cursor less `behind` changes."""
    return [("GET", f"{API}/changes?after={fleet.districts[t.district].cursor - behind}"
                    f"&limit=1000", token, "")
            for token, t in fleet.tokens_for(connections)]


def bootstrap_lines(fleet: Fleet, connections: int) -> list[tuple[str, str, str, str]]:
    """Each token in turn asks for a page of its district, the pages in turn."""
    lines = []
    tokens = fleet.tokens_for(connections)
    pages = max(len(d.page_starts) for d in fleet.districts.values())
    for i in range(max(len(tokens), pages)):
        token, terminal = tokens[i % len(tokens)]
        starts = fleet.districts[terminal.district].page_starts
        lines.append(("GET", f"{API}/bootstrap/rows?after={starts[i % len(starts)]}"
                             f"&limit={BOOTSTRAP_ROWS}", token, ""))
    return lines


@dataclass
class PushLines:
    lines: list[tuple[str, str, str, str]]
    accounts: list[tuple[str, list[list[Any]]]]  # each line's district and accounts

    def give_back(self, fleet: Fleet, sent: set[int]) -> None:
        """The accounts of lines not sent go back to their districts' pools, untouched."""
        for index, (district, accounts) in enumerate(self.accounts):
            if index not in sent:
                fleet.districts[district].eligible.extendleft(reversed(accounts))


def push_lines(fleet: Fleet, connections: int, count: int) -> PushLines:
    """Up to `count` pushes, the tokens in turn, each of PUSH_BATCH accounts not pushed
    before from its terminal's district."""
    made = PushLines([], [])
    tokens = fleet.tokens_for(connections)
    for i in range(count):
        token, terminal = tokens[i % len(tokens)]
        pool = fleet.districts[terminal.district].eligible
        if len(pool) < PUSH_BATCH:
            break
        accounts = [pool.popleft() for _ in range(PUSH_BATCH)]
        made.lines.append(("POST", f"{API}/push", token, terminal.suspensions(accounts)))
        made.accounts.append((terminal.district, accounts))
    return made


@dataclass(frozen=True)
class Measured:
    """One wrk run, the CPU it cost, and how long the server then took to go idle."""

    scenario: str
    run: WrkRun
    cpu: Cpu
    drain_s: float | None = None  # None: not waited for (the server was stopped instead)

    def per_request_ms(self, seconds: float) -> float:
        return seconds / self.run.requests * 1000 if self.run.requests else 0.0

    def as_json(self) -> Json:
        return {"scenario": self.scenario, **asdict(self.run), "per_s": self.run.per_s,
                "drain_s": self.drain_s, "cpu": {**asdict(self.cpu), "other": self.cpu.other}}


def tree_cpu(pid: int) -> float:
    procs = processes()
    return sum(procs[p].seconds for p in descendants(procs, pid))


def wait_idle(pid: int, limit_s: float) -> float:
    """Seconds until the process tree of `pid` uses under 10% of a core (it may still answer
    requests wrk gave up on: a closed connection does not stop its request), at most
    `limit_s`."""
    started = time.perf_counter()
    used = tree_cpu(pid)
    while time.perf_counter() - started < limit_s:
        time.sleep(IDLE_PROBE_S)
        now = tree_cpu(pid)
        if now - used < IDLE_PROBE_S * 0.1:
            break
        used = now
    return time.perf_counter() - started


def timed(tool: str, base_url: str, server_pid: int, database: str, scenario: str,
          requests: Path, connections: int, seconds: float, script: str = "requests.lua"
          ) -> Measured:
    with measured_cpu(server_pid, database) as cpu:
        run = wrk(tool, base_url, requests, connections, seconds, script)
    print(f"bench:   {scenario}, {connections} connections: {run.per_s:,.0f} req/s, p99 "
          f"{run.p99_ms:,.1f} ms, server {cpu[0].server:.2f} CPU s", file=sys.stderr,
          flush=True)
    return Measured(scenario, run, cpu[0])


def at_each_level(tool: str, base_url: str, pid: int, database: str, scenario: str,
                  write: Callable[[int], Path], seconds: float, script: str = "requests.lua",
                  after_run: Callable[[WrkRun], None] | None = None, *,
                  warm_up: bool = False) -> list[Measured]:
    """The scenario at each connection count, the server idle before each run: what it
    still answers of the previous run would be counted against this one. After the last
    (the most connections) it is not waited for: its server is stopped. With `warm_up`, each
    run's requests are first sent for WARM_UP_S, not measured (a push cannot be sent twice)."""
    found = []
    for connections in CONNECTIONS:
        requests = write(connections)
        if warm_up:
            wrk(tool, base_url, requests, min(connections, WARM_UP_CONNECTIONS), WARM_UP_S,
                script)
            wait_idle(pid, IDLE_LIMIT_S)
        measured = timed(tool, base_url, pid, database, scenario, requests, connections,
                         seconds, script)
        if after_run is not None:
            after_run(measured.run)
        if connections != CONNECTIONS[-1]:
            measured = replace(measured, drain_s=wait_idle(pid, IDLE_LIMIT_S))
        found.append(measured)
    return found


def _written(path: Path, lines_for: Callable[[Fleet, int], list[tuple[str, str, str, str]]],
             fleet: Fleet, connections: int) -> Path:
    return write_requests(path, lines_for(fleet, connections))


@contextmanager
def fresh_server(db_url: str, log: Path) -> Iterator[tuple[str, int]]:
    """`hallserver serve` for one scenario; killed at the end, with whatever it still had
    queued (1,000 connections leave seconds to minutes of requests nobody waits for)."""
    with running_server(db_url, log, workers=WORKERS) as (base_url, pid):
        yield base_url, pid
        os.killpg(pid, signal.SIGKILL)


def serve_scenarios(tools: dict[str, str], db_url: str, halls: Sequence[str], config: Config,
                    scratch: Path) -> tuple[Fleet, list[Measured]]:
    """Every scenario against HallServer, each on a server of its own: the terminals log in
    on the first."""
    database = make_url(db_url).database or ""
    tool = tools["wrk"]
    fleet: Fleet | None = None
    found: list[Measured] = []
    reads: list[tuple[str, Callable[[Fleet, int], list[tuple[str, str, str, str]]]]] = [
        ("empty pull", lambda f, c: pull_lines(f, c, 0)),
        (f"pull of {CHANGES_BEHIND} changes", lambda f, c: pull_lines(f, c, CHANGES_BEHIND)),
        (f"bootstrap page of {BOOTSTRAP_ROWS}", bootstrap_lines)]
    for number, (scenario, lines_for) in enumerate(reads):
        with fresh_server(db_url, scratch / f"server-{number}.log") as (base_url, pid):
            if fleet is None:
                fleet = log_in(base_url, halls, config.terminals, config.tokens)
            write = partial(_written, scratch / "requests.tsv", lines_for, fleet)
            found += at_each_level(tool, base_url, pid, database, scenario, write,
                                   config.seconds, warm_up=True)
    assert fleet is not None
    ready, pushes = fleet, PushLines([], [])

    def push_file(connections: int) -> Path:
        nonlocal pushes
        # Every connection sends one at once, then as many as answered.
        pushes = push_lines(ready, connections,
                            connections + int(PUSHES_PER_S_CEILING * config.seconds))
        return write_requests(scratch / "pushes.tsv", pushes.lines)

    # Last: pushes move the cursors the pulls were given on.
    with fresh_server(db_url, scratch / "server-push.log") as (base_url, pid):
        found += at_each_level(tool, base_url, pid, database, f"push of {PUSH_BATCH}",
                               push_file, config.seconds, "push.lua",
                               lambda run: pushes.give_back(ready, sent_lines(run)))
    return fleet, found


def bare_scenarios(tools: dict[str, str], database: str, config: Config, scratch: Path,
                   token: str) -> list[Measured]:
    """The same wrk load on the same ASGI stack with no database."""
    requests = write_requests(scratch / "bare.tsv", [("GET", CONSTANT_PATH, token, "")])
    with running_bare_app(scratch / "bare-app.log", WORKERS) as (base_url, pid):
        return at_each_level(tools["wrk"], base_url, pid, database, "bare endpoint",
                             lambda _: requests, config.raw_seconds, warm_up=True)


def pgbench_scenarios(tools: dict[str, str], db_url: str, fleet: Fleet, config: Config,
                      scratch: Path) -> dict[tuple[str, int], PgbenchRun]:
    """pgbench of each scenario's statements, as many clients as connections up to the
    server's own database connections; keyed by (script, connections)."""
    token, terminal = fleet.tokens[0]
    district = fleet.districts[terminal.district]
    common = {"token_hash": token_hash(token), "district": district.code,
              "codes": "{" + ",".join(district.communities) + "}"}
    scripts = {"empty_pull.sql": {"hall_id": terminal.hall_id,
                                  "terminal_id": terminal.terminal_id},
               "pull_changes.sql": {"cursor": str(district.cursor - CHANGES_BEHIND)},
               "bootstrap_page.sql": {"first_number": str(district.first_number),
                                      "pages": str(max(1, district.accounts // BOOTSTRAP_ROWS)),
                                      "rows": str(BOOTSTRAP_ROWS)}}
    found = {}
    for script, variables in scripts.items():
        for connections in CONNECTIONS:
            clients = min(connections, SERVER_DB_CONNECTIONS)
            found[(script, connections)] = pgbench(
                tools["pgbench"], db_url, script, clients, config.raw_seconds,
                {**common, **variables}, scratch)
    return found


def measure(config: Config, scratch: Path) -> Json:
    tools = ensure_tools()
    # 1,000 connections, each side: more descriptors than a shell's usual 1,024.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    database = make_url(config.db_url).database or ""
    try:
        prepared = prepare_database(config.db_url, config.accounts, config.halls)
        fleet, served = serve_scenarios(tools, config.db_url,
                                        [hall for hall, _ in prepared.halls], config, scratch)
        raw_db = pgbench_scenarios(tools, config.db_url, fleet, config, scratch)
        bare = bare_scenarios(tools, database, config, scratch, fleet.tokens[0][0])
    finally:
        drop_database(config.db_url)
    return {"config": asdict(config), "postgres": prepared.version, "served": served,
            "bare": bare, "pgbench": raw_db}


# --- the figures -----------------------------------------------------------------------------

PGBENCH_SCRIPTS = {"empty pull": "empty_pull.sql",
                   f"pull of {CHANGES_BEHIND} changes": "pull_changes.sql",
                   f"bootstrap page of {BOOTSTRAP_ROWS}": "bootstrap_page.sql"}


def _goal(scenario: str, connections: int, what: str) -> tuple[str, float | None, bool]:
    """The issue's goal for a figure: (words, threshold, whether below it is met)."""
    if scenario == "empty pull" and what == "per_s" and connections > 1:
        return "≥ 1,000 req/s", 1000.0, False
    if scenario == "empty pull" and what == "server_cpu":
        return "< 1 ms", 1.0, True
    if scenario.startswith("push") and what == "p99" and connections == 50:
        return "< 300 ms", 300.0, True
    return "", None, True


def _figure(scenario: str, connections: int, what: str, name: str, value: float, unit: str,
            raw: float | None, raw_label: str, notes: str) -> Figure:
    goal, threshold, below = _goal(scenario, connections, what)
    met = None if threshold is None else (value < threshold if below else value >= threshold)
    return Figure(AREA, name, round(value, 3), unit, raw=None if raw is None else round(raw, 3),
                  raw_label=raw_label, goal=goal, met=met, notes=notes)


def _cpu_notes(cpu: Cpu) -> str:
    def cores(seconds: float) -> str:
        return f"{seconds / cpu.window_s:.2f}"

    return (f"load avg {cpu.load:.2f}; CPU cores: server {cores(cpu.server)}, postgres "
            f"{cores(cpu.postgres)}, wrk {cores(cpu.load_generator)}, other {cores(cpu.other)}")


def _faults(m: Measured) -> str:
    run = m.run
    reused = ", request lines reused (pushes sent twice)" if run.wrapped and run.outcomes else ""
    drained = f", server idle {m.drain_s:.1f} s after" if m.drain_s is not None else ""
    return f"non-2xx {run.non_2xx}, socket errors {run.socket_errors}{reused}{drained}"


def figures(result: Json) -> list[Figure]:
    bare = {m.run.connections: m for m in result["bare"]}
    raw_db: dict[tuple[str, int], PgbenchRun] = result["pgbench"]
    out = []
    for m in result["served"]:
        c, run, cpu = m.run.connections, m.run, m.cpu
        on = f"{m.scenario}, {c} conn"
        b = bare[c]
        pg = raw_db.get((PGBENCH_SCRIPTS.get(m.scenario, ""), c))
        outcomes = f"; operations {dict(sorted(run.outcomes.items()))}" if run.outcomes else ""
        out.append(_figure(
            m.scenario, c, "per_s", f"{on}: requests/s", run.per_s, "req/s",
            pg.tps if pg else b.run.per_s,
            f"pgbench, same statements, {pg.clients} clients" if pg else
            f"bare endpoint, same stack, {c} conn",
            f"{run.requests} in {run.duration_s:.1f} s; {_faults(m)}{outcomes}; "
            f"{_cpu_notes(cpu)}; bare endpoint {b.run.per_s:,.0f} req/s ({_faults(b)}; "
            f"{_cpu_notes(b.cpu)})"))
        if not run.requests:
            # Nothing answered within the run: no latency, no CPU per request to give.
            continue
        out += [
            _figure(m.scenario, c, "p99", f"{on}: p99", run.p99_ms, "ms", b.run.p99_ms,
                    f"bare endpoint, {c} conn",
                    f"p50 {run.p50_ms:.2f} ms (bare {b.run.p50_ms:.2f} ms"
                    + (f", pgbench p50 / p99 {pg.p50_ms:.2f} / {pg.p99_ms:.2f} ms" if pg else "")
                    + ")"),
            _figure(m.scenario, c, "server_cpu", f"{on}: server CPU/request",
                    m.per_request_ms(cpu.server), "ms",
                    b.per_request_ms(b.cpu.server), "bare endpoint's server CPU/request", ""),
            _figure(m.scenario, c, "postgres_cpu", f"{on}: PostgreSQL CPU/request",
                    m.per_request_ms(cpu.postgres), "ms", None, "",
                    "backends of the benchmark's database and PostgreSQL's own processes"),
        ]
    return out


def run(ctx: BenchContext) -> list[Figure]:
    config = replace(QUICK if ctx.quick else Config(), db_url=ctx.pg_database(AREA))
    scratch = ctx.scratch(AREA)
    result = measure(config, scratch)
    (scratch / "http_load.json").write_text(json.dumps(as_json(result), indent=2))
    return figures(result)


def as_json(result: Json) -> Json:
    return {**result, "served": [m.as_json() for m in result["served"]],
            "bare": [m.as_json() for m in result["bare"]],
            "pgbench": [{"script": script, "connections": c, **asdict(run)}
                        for (script, c), run in result["pgbench"].items()]}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http_load",
                                     description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="short runs (about a minute)")
    parser.add_argument("--db-url", default=DEFAULT_DB_URL,
                        help="PostgreSQL database to drop, create and seed (default %(default)s)")
    parser.add_argument("--json", type=Path, help="also write the measurements to this file")
    args = parser.parse_args(argv)
    config = replace(QUICK if args.quick else Config(), db_url=args.db_url)
    with tempfile.TemporaryDirectory(prefix="hall-http-load-") as tmp:
        result = measure(config, Path(tmp))
    for figure in figures(result):
        raw = f"  (raw {figure.raw:g} {figure.raw_label})" if figure.raw is not None else ""
        mark = {True: " ✓", False: " ✗", None: ""}[figure.met]
        print(f"{figure.name}: {figure.value:g} {figure.unit}{raw}{mark}")
    if args.json:
        args.json.write_text(json.dumps(as_json(result), indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
