"""Changes in a blink: how soon a change made at one hall reaches the district's other
terminals following its stream of changes (GET /changes?stream=true, server-sent events, as
HallClient's sync worker follows it), and what those terminals cost the server while nothing
changes.

A PostgreSQL database seeded with the district, `hallserver serve --workers 2`, and 1,000
terminals of the district (spread over its halls, logged in: their tokens written to the
database as a login would) each following the stream on a connection of its own, from one
asyncio process that only notes when each piece of bytes arrived and reads the pages after the
run (stream_events), so that its own work is not in the figures. One more terminal pushes a
change (a suspension or a resumption of a different account each time) every CHANGE_EVERY
seconds; for every change and every waiting terminal, the time from the push being sent to
that terminal's stream bringing the changed account (p50/p99 over all terminal × change
pairs). Raw limit in the same run: a bare pg_notify →
LISTEN round trip on the same database server. Then the idle cost: the server processes' CPU
(/proc) over IDLE_SECONDS with every terminal connected and nothing changing, in % of one
core.

    python -m bench.propagation [--quick] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bench.common import BenchContext, Figure, percentile
from bench.server import Seat as ServerSeat
from bench.server import SimTerminal, cpu_sample, cpu_usage
from bench.servers import API, prepare_database, running_server
from hallcore.signing import SigningKey
from hallserver.db import make_engine
from hallserver.models import AccountRow, ClerkRow, TerminalKeyRow, TerminalRow, TokenRow
from hallserver.security import new_token, token_hash

Json = dict[str, Any]
DISTRICT = "GZ-TH"
CHANGE_EVERY = 1.0  # seconds between two changes: every terminal is waiting again by then
RAW_ROUND_TRIPS = 200


@dataclass(frozen=True)
class Size:
    terminals: int
    changes: int
    idle_seconds: float
    accounts: int


FULL = Size(terminals=1000, changes=20, idle_seconds=20.0, accounts=4000)
QUICK = Size(terminals=200, changes=5, idle_seconds=10.0, accounts=2000)


@dataclass
class Seat:
    hall_id: str
    terminal_id: str
    clerk: str
    token: str
    key: SigningKey = field(default_factory=SigningKey.generate)


def seat_terminals(db_url: str, count: int) -> tuple[list[Seat], list[Json]]:
    """`count` waiting terminals of the district, logged in as a login would leave them
    (approved key, access token; a thousand real logins would take minutes of password
    hashing), and the accounts of the district the changes are made to."""
    engine = make_engine(db_url)
    now = datetime.now(UTC)
    try:
        with Session(engine) as session, session.begin():
            clerks = {hall: login for login, hall in session.execute(
                select(ClerkRow.login, ClerkRow.hall_id).where(ClerkRow.role == "clerk")
                .order_by(ClerkRow.login.desc()))}  # each hall's first clerk
            halls = sorted(hall for hall in clerks if hall.startswith(DISTRICT))
            seats = [Seat(halls[i % len(halls)], f"W{i:04d}", clerks[halls[i % len(halls)]],
                          new_token()) for i in range(count)]
            session.add_all(TerminalRow(hall_id=seat.hall_id, terminal_id=seat.terminal_id,
                                        registered_at=now, window_extension_hours=0)
                            for seat in seats)
            session.flush()  # the keys refer to their terminals
            for seat in seats:
                session.add(TerminalKeyRow(
                    public_key=seat.key.public_hex, hall_id=seat.hall_id,
                    terminal_id=seat.terminal_id, installation_id=uuid.uuid4().hex,
                    state="active", registered_at=now, approved_by="bench", approved_at=now))
                session.add(TokenRow(token_hash=token_hash(seat.token), kind="access",
                                     clerk=seat.clerk, hall_id=seat.hall_id,
                                     terminal_id=seat.terminal_id,
                                     expires_at=now + timedelta(hours=8), revoked=False))
            accounts = [{"number": number, "version": version, "status": status,
                         "id_type": id_type, "id_number": id_number}
                        for number, version, status, id_type, id_number in session.execute(
                            select(AccountRow.number, AccountRow.version, AccountRow.status,
                                   AccountRow.id_type, AccountRow.id_number)
                            .where(AccountRow.district == DISTRICT,
                                   AccountRow.status == "active",
                                   AccountRow.id_number.is_not(None),
                                   AccountRow.arrears_fen == 0)
                            .order_by(AccountRow.number))]
    finally:
        engine.dispose()
    return seats, accounts


@dataclass
class Waiting:
    """What the waiting terminals saw: when each account reached each terminal."""

    arrivals: dict[str, list[float]] = field(default_factory=dict)
    pages: list[float] = field(default_factory=list)  # when each page came
    errors: int = 0
    stop: bool = False

    def take(self, events: list[tuple[float, Json]]) -> int:
        """The pages a stream brought, each with its arrival; the last page's cursor (or -1)."""
        cursor = -1
        for arrived, page in events:
            self.pages.append(arrived)
            for account in page["accounts"]:
                self.arrivals.setdefault(account["number"], []).append(arrived)
            cursor = page["next_cursor"]
        return cursor


class _StreamBytes(asyncio.Protocol):
    """One terminal's connection: each piece of bytes kept with the moment it arrived, and read
    only after the run. A terminal has a machine of its own to read its stream; here 1,000
    share this process, and reading each page with httpx as it came had this process's queue
    in every figure, the last terminals' most."""

    def __init__(self) -> None:
        self.pieces: list[tuple[float, bytes]] = []
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self.pieces.append((time.perf_counter(), data))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


def stream_events(pieces: Sequence[tuple[float, bytes]]) -> list[tuple[float, Json]]:
    """The server-sent events of an HTTP/1.1 answer received as `pieces` (arrival, bytes),
    each page with the arrival of the piece that completed it. ValueError if the answer is not
    a 200."""
    received = b"".join(data for _, data in pieces)
    head, found, body = received.partition(b"\r\n\r\n")
    if not found:
        return []
    status = head.split(b"\r\n", 1)[0]
    if b" 200 " not in status + b" ":
        raise ValueError(f"the stream was refused: {status.decode(errors='replace')}")
    offset = len(head) + len(found)
    # (end of each piece of the decoded body in the received bytes, the piece's bytes)
    decoded: list[tuple[int, bytes]] = []
    if b"transfer-encoding: chunked" in head.lower():
        at = 0
        while True:
            line_end = body.find(b"\r\n", at)
            if line_end < 0:
                break
            size = int(body[at:line_end].split(b";")[0], 16)
            if size == 0 or line_end + 2 + size > len(body):
                break
            decoded.append((offset + line_end + 2 + size, body[line_end + 2:line_end + 2 + size]))
            at = line_end + 2 + size + 2
    else:
        decoded.append((offset + len(body), body))
    ends, moment = [], 0
    total = 0
    for arrived, data in pieces:
        total += len(data)
        ends.append((total, arrived))
    events = []
    text, event_start = b"", 0
    for raw_end, data in decoded:
        text += data
        while (cut := text.find(b"\n\n", event_start)) >= 0:
            event = text[event_start:cut]
            event_start = cut + 2
            for line in event.split(b"\n"):
                if line.startswith(b"data:"):
                    while ends[moment][0] < raw_end:
                        moment += 1
                    events.append((ends[moment][1], json.loads(line[5:])))
    return events


async def _follow_streams(base_url: str, seats: Sequence[Seat], cursor: int,
                          seen: Waiting) -> None:
    """Every terminal following its district's stream of changes on a connection of its own,
    as HallClient's worker does, until `seen.stop`; a stream that ends is asked for again
    after its last page."""
    url = httpx.URL(base_url)
    host, port = url.host, url.port or 80
    loop = asyncio.get_running_loop()

    async def follow(seat: Seat) -> None:
        after = cursor
        while not seen.stop:
            request = (f"GET {API}/changes?after={after}&stream=true HTTP/1.1\r\n"
                       f"Host: {host}:{port}\r\n"
                       f"Authorization: Bearer {seat.token}\r\n\r\n").encode()
            transport, stream = await loop.create_connection(_StreamBytes, host, port)
            transport.write(request)
            try:
                await stream.closed
            except asyncio.CancelledError:
                transport.close()
                seen.take(stream_events(stream.pieces))
                raise
            seen.errors += 1  # the server ended a stream the run still wanted
            after = max(after, seen.take(stream_events(stream.pieces)))
            await asyncio.sleep(1.0)

    await asyncio.gather(*(follow(seat) for seat in seats))


async def _district_cursor(base_url: str, seat: Seat) -> int:
    async with httpx.AsyncClient(base_url=base_url, timeout=60.0, headers={
            "Authorization": f"Bearer {seat.token}"}) as client:
        page = (await client.get(f"{API}/changes", params={"after": 0, "limit": 5000})).json()
        while page["more"]:
            page = (await client.get(f"{API}/changes", params={
                "after": page["next_cursor"], "limit": 5000})).json()
        cursor: int = page["next_cursor"]
        return cursor


async def _session(base_url: str, seats: list[Seat], pusher: SimTerminal,
                   accounts: list[Json], size: Size, server_pid: int) -> Json:
    cursor = await _district_cursor(base_url, seats[0])
    seen = Waiting()
    following = asyncio.create_task(_follow_streams(base_url, seats, cursor, seen))
    await asyncio.sleep(max(5.0, len(seats) / 100))  # every terminal connected and waiting
    sent: dict[str, float] = {}
    answered: dict[str, float] = {}  # when the push's answer came (committed before)
    push_ms: list[float] = []
    changing = cpu_sample()
    for account in accounts[:size.changes]:
        started = time.perf_counter()
        response = await asyncio.to_thread(pusher.client.post, f"{API}/push", json={
            "operations": [pusher.operation(account)]})
        answered[account["number"]] = time.perf_counter()
        push_ms.append((answered[account["number"]] - started) * 1000)
        result = response.json()["results"][0]
        if result["outcome"] != "applied":
            raise RuntimeError(f"the bench's change was not applied: {result}")
        sent[account["number"]] = started
        await asyncio.sleep(CHANGE_EVERY)
    await asyncio.sleep(2.0)  # the last change's stragglers
    changed = cpu_sample()
    before = cpu_sample()
    await asyncio.sleep(size.idle_seconds)
    after = cpu_sample()
    seen.stop = True
    following.cancel()
    await asyncio.gather(following, return_exceptions=True)
    # The streams are read now, after the run.
    idle_answers = sum(1 for arrived in seen.pages if before.at <= arrived <= after.at)
    delays = [(arrived - sent[number]) * 1000 for number, arrivals in seen.arrivals.items()
              if number in sent for arrived in arrivals]
    after_answer = [(arrived - answered[number]) * 1000
                    for number, arrivals in seen.arrivals.items() if number in answered
                    for arrived in arrivals]
    expected = len(sent) * len(seats)
    return {"delays_ms": delays, "after_answer_ms": after_answer, "expected": expected,
            "push_ms": push_ms, "changing": cpu_usage(changing, changed, server_pid),
            "changing_seconds": changed.at - changing.at, "errors": seen.errors,
            "idle": cpu_usage(before, after, server_pid),
            "idle_answers": idle_answers, "idle_seconds": size.idle_seconds}


def notify_round_trip_ms(db_url: str, count: int) -> list[float]:
    """The raw limit: NOTIFY on one connection, received by LISTEN on another."""
    conninfo = make_url(db_url).set(drivername="postgresql").render_as_string(
        hide_password=False)
    times = []
    with psycopg.connect(conninfo, autocommit=True) as listener, \
            psycopg.connect(conninfo, autocommit=True) as notifier:
        listener.execute("LISTEN bench_raw")
        for i in range(count):
            started = time.perf_counter()
            notifier.execute("SELECT pg_notify('bench_raw', %s)", (str(i),))
            for _ in listener.notifies(timeout=5.0, stop_after=1):
                times.append((time.perf_counter() - started) * 1000)
    return times


def measure(db_url: str, size: Size, log: Path) -> Json:
    prepared = prepare_database(db_url, size.accounts, halls=16)  # 8 districts, 2 halls each
    seats, accounts = seat_terminals(db_url, size.terminals)
    if len(accounts) < size.changes:
        raise RuntimeError(f"only {len(accounts)} accounts to change; seed more")
    raw = notify_round_trip_ms(db_url, RAW_ROUND_TRIPS)
    with running_server(db_url, log, workers=2) as (base_url, pid):
        pusher = SimTerminal(base_url, ServerSeat("PUSH", seats[0].hall_id, 0, 1))
        pusher.login()  # a real login: the server checks who made each change
        result = asyncio.run(_session(base_url, seats, pusher, accounts, size, pid))
        pusher.client.close()
    result["raw_ms"] = raw
    result["database"] = prepared.version
    result["terminals"] = size.terminals
    return result


def figures(result: Json) -> list[Figure]:
    delays, raw = result["delays_ms"], result["raw_ms"]
    terminals = result["terminals"]
    raw_label = f"bare pg_notify → LISTEN round trip, p50 (p99 {percentile(raw, 99):.2f} ms)"
    notes = (f"{terminals} terminals waiting, {len(delays)} of {result['expected']} "
             f"terminal × change arrivals; push p50 "
             f"{statistics.median(result['push_ms']):.1f} ms; from the push's answer p50 "
             f"{percentile(result['after_answer_ms'], 50):.1f} ms, p99 "
             f"{percentile(result['after_answer_ms'], 99):.1f} ms; {result['errors']} errors; "
             f"{result['database']}")
    changing = result["changing"]
    # The server's CPU per page a change sent on a stream (the push itself included).
    cpu_per_answer = changing["server"] * result["changing_seconds"] * 1000 / max(1, len(delays))
    notes += (f"; server CPU {cpu_per_answer:.2f} ms per page sent; "
              f"machine busy {changing['machine']:.2f} of {os.cpu_count()} cores meanwhile, "
              f"this load generator {changing['load_generator']:.2f}")
    idle = result["idle"]
    server_core, postgres_core = idle["server"], idle["postgres"]  # cores, to 0.01
    return [
        Figure("propagation", f"change → every waiting terminal, p50 ({terminals} terminals)",
               percentile(delays, 50), "ms", percentile(raw, 50), raw_label, notes=notes),
        Figure("propagation", f"change → every waiting terminal, p99 ({terminals} terminals)",
               percentile(delays, 99), "ms", percentile(raw, 50), raw_label,
               goal="< 250 ms with 1,000 terminals",
               met=percentile(delays, 99) < 250 and terminals >= 1000
               and len(delays) == result["expected"], notes=notes),
        Figure("propagation", f"idle server CPU, {terminals} terminals waiting",
               server_core * 100, "% of a core", postgres_core * 100,
               "PostgreSQL's CPU over the same window, % of a core",
               goal="< 5% of a core", met=server_core < 0.05 and terminals >= 1000,
               notes=f"{result['idle_answers']} pages sent in {result['idle_seconds']:.0f} s "
                     "with nothing changing (a comment every 25 s keeps each stream); "
                     "machine busy "
                     f"{idle['machine']:.2f} cores meanwhile (this load generator "
                     f"{idle['load_generator']:.2f})"),
    ]


def run(ctx: BenchContext) -> list[Figure]:
    size = QUICK if ctx.quick else FULL
    result = measure(ctx.pg_database("propagation"), size, ctx.scratch("propagation") /
                     "server.log")
    return figures(result)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.propagation",
                                     description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--pg-url", default=BenchContext(quick=False, work_dir=Path()).pg_url)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hall-bench-propagation-") as tmp:
        ctx = BenchContext(quick=args.quick, work_dir=Path(tmp), pg_url=args.pg_url)
        for figure in run(ctx):
            raw = f"{figure.raw:.2f}" if figure.raw is not None else "-"
            print(f"{figure.name}: {figure.value:.2f} {figure.unit}  (raw {raw}: "
                  f"{figure.raw_label}) {figure.goal} {figure.notes}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
