"""A simulated queue system (叫号系统) on loopback, for the demo and the tests, speaking the
protocol of hallclient/devices/queue.py: customers take tickets, counters call them. Told to,
it fails (503), hangs until stopped, answers garbage, or has nobody waiting."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from hallcore.domain.deadlines import HALL_TZ


class Mode(Enum):
    SERVE = "serve"
    FAIL = "fail"  # 503, as a vendor's system being restarted
    HANG = "hang"  # takes the call and never answers (until the simulator stops)
    GARBAGE = "garbage"  # 200 with a body that is not the protocol's JSON


@dataclass(frozen=True, slots=True)
class Issued:
    number: str
    issued_at: datetime


class QueueSim:
    """Tickets issued in order (A001, A002, …) at the clock's time, called first in, first out.
    `calls` counts the calls it received, per counter."""

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(HALL_TZ)) -> None:
        self.clock = clock
        self.mode = Mode.SERVE
        self.waiting: deque[Issued] = deque()
        self.calls: dict[int, int] = {}
        self._issued = 0
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def take_ticket(self, waited: timedelta = timedelta(0)) -> Issued:
        """A customer takes a ticket, `waited` before now."""
        self._issued += 1
        ticket = Issued(f"A{self._issued:03d}", self.clock() - waited)
        self.waiting.append(ticket)
        return ticket

    def start(self) -> QueueSim:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Closed: its port refuses connections. Once is enough; again does nothing."""
        if self._stopping.is_set():
            return
        self._stopping.set()  # a hanging call ends
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _answer(self, counter: int) -> tuple[int, bytes]:
        self.calls[counter] = self.calls.get(counter, 0) + 1
        if self.mode is Mode.FAIL:
            return 503, b"service unavailable"
        if self.mode is Mode.HANG:
            self._stopping.wait()
            return 503, b""
        if self.mode is Mode.GARBAGE:
            return 200, json.dumps({"ticket": "A001", "at": "soon"}).encode()
        if not self.waiting:
            return 204, b""
        ticket = self.waiting.popleft()
        return 200, json.dumps({"number": ticket.number,
                                "issued_at": ticket.issued_at.isoformat(),
                                "called_at": self.clock().isoformat()}).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        sim = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                parts = self.path.strip("/").split("/")
                if len(parts) == 3 and parts[0] == "counters" and parts[2] == "call" and (
                        parts[1].isdigit()):
                    status, body = sim._answer(int(parts[1]))
                else:
                    status, body = 404, b"not found"
                self.send_response(status)
                if body:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                try:
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the caller gave up waiting (a hang): nobody to answer

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet tests

        return Handler


@contextmanager
def queue_sim(clock: Callable[[], datetime] | None = None) -> Iterator[QueueSim]:
    sim = QueueSim(clock) if clock else QueueSim()
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()
