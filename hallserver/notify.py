"""Waking the pulls that wait for their district to change (GET /changes?wait=S).

A waiting pull holds no thread and no database connection: it is a future on the server's
event loop, registered here under its district. One thread per process learns that a district
changed and resolves its futures: on PostgreSQL by `LISTEN hall_changes` on a connection of its
own (migration 0013's trigger notifies at every commit that moves a district's change or claim
cursor); on SQLite (a trial: one process), and behind PgBouncer's transaction pooling (where a
LISTEN hears nothing), by reading the districts' cursors every POLL_SECONDS while someone
waits. A woken pull reads the database again, so a wake-up too many
costs one query and a lost one (the connection dropped) only delays the answer to the end of
its wait. The pulls a change wakes ask the same question (the district's news after the same
cursors): they share one read of it (`SharedReads`), so a thousand woken terminals cost the
database one query, not a thousand.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Engine, select
from starlette.concurrency import run_in_threadpool

from hallserver.listening import LISTEN_TICK, listen_until_stopped
from hallserver.models import DistrictRow

log = logging.getLogger(__name__)

CHANNEL = "hall_changes"
POLL_SECONDS = 0.2

# True: the district changed; False: the time waited ran out (Watch.woken_within).
Waiter = asyncio.Future[bool]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Watch:
    woken: Waiter  # resolved at the district's next change
    # How many wake-ups the process had seen when the watch began: reads begun after it see
    # at least what those wake-ups announced.
    generation: int

    async def woken_within(self, seconds: float) -> bool:
        """Whether the district changed (since the watch began) within `seconds`. Once: a
        watch that timed out is done with. A timer on the watch's own future: cheaper than
        asyncio.wait's, which a thousand streams pay at every change."""
        if not self.woken.done():
            timer = self.woken.get_loop().call_later(seconds, _resolve, [self.woken], False)
            try:
                await self.woken
            finally:
                timer.cancel()
        return self.woken.result()


class SharedReads(Generic[T]):
    """One read for the concurrent requests that ask the same question: the first runs it
    (in the thread pool), the others await its answer."""

    def __init__(self) -> None:
        self._flights: dict[Hashable, asyncio.Future[T]] = {}

    async def read(self, key: Hashable, read: Callable[[], T]) -> T:
        key = (asyncio.get_running_loop(), key)
        flight = self._flights.get(key)
        if flight is not None:
            return await asyncio.shield(flight)
        flight = asyncio.get_running_loop().create_future()
        self._flights[key] = flight
        try:
            answer = await run_in_threadpool(read)
        except BaseException as exc:
            flight.set_exception(exc)
            flight.exception()  # retrieved: no warning where no other request waited
            raise
        finally:
            del self._flights[key]
        flight.set_result(answer)
        return answer


def _resolve(waiters: list[Waiter], changed: bool = True) -> None:
    for waiter in waiters:
        if not waiter.done():
            waiter.set_result(changed)


class DistrictWaits:
    """The pulls of this process waiting for a change of their district, and the thread that
    wakes them. The thread starts with the first wait."""

    def __init__(self, engine: Engine, *, listen: bool = True) -> None:
        self.engine = engine
        self.listen = listen and engine.dialect.name == "postgresql"
        self._lock = threading.Lock()
        self._waiters: dict[str, set[Waiter]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._generation = 0

    @contextmanager
    def watching(self, district: str) -> Iterator[Watch]:
        """A future resolved at the district's next change. Enter it before reading the
        database, so that no change between the read and the wait goes unnoticed."""
        waiter: Waiter = asyncio.get_running_loop().create_future()
        with self._lock:
            generation = self._generation
            self._waiters.setdefault(district, set()).add(waiter)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="hallserver-changes",
                                                daemon=True)
                self._thread.start()
        try:
            yield Watch(waiter, generation)
        finally:
            with self._lock:
                waiting = self._waiters.get(district)
                if waiting is not None:
                    waiting.discard(waiter)
                    if not waiting:
                        del self._waiters[district]

    @property
    def closed(self) -> bool:
        return self._stop.is_set()

    def close(self) -> None:
        """No more waiting: the waiting pulls answer now (a server stopping need not wait for
        them), the later ones at once."""
        self._stop.set()
        self.wake()
        thread = self._thread
        if thread is not None:
            thread.join(LISTEN_TICK + 1)

    def wake(self, districts: list[str] | None = None) -> None:
        """Resolve the waiters of `districts` (None: of every district), each on its own event
        loop: one call per loop, however many wait there."""
        by_loop: dict[asyncio.AbstractEventLoop, list[Waiter]] = {}
        with self._lock:
            self._generation += 1
            for district in self._waiters if districts is None else districts:
                for waiter in self._waiters.get(district, ()):
                    by_loop.setdefault(waiter.get_loop(), []).append(waiter)
        for loop, waiters in by_loop.items():
            with suppress(RuntimeError):  # that loop has closed: its requests are gone
                loop.call_soon_threadsafe(_resolve, waiters)

    def _waited_districts(self) -> list[str]:
        with self._lock:
            return list(self._waiters)

    def _run(self) -> None:
        if self.listen:
            self._listen()
        else:
            self._poll()

    def _listen(self) -> None:
        # Whatever was notified while no connection listened: every waiter looks again.
        listen_until_stopped(self.engine.url, CHANNEL, self._stop, what="district changes",
                             on_listening=self.wake,
                             on_notice=lambda payload: self.wake([payload.partition(":")[0]]))

    def _poll(self) -> None:
        seen: dict[str, tuple[int, int]] = {}
        while not self._stop.wait(POLL_SECONDS):
            districts = self._waited_districts()
            if not districts:
                continue
            try:
                with self.engine.connect() as connection:
                    now = {code: (seq, claim_seq) for code, seq, claim_seq in connection.execute(
                        select(DistrictRow.code, DistrictRow.last_seq,
                               DistrictRow.last_claim_seq)
                        .where(DistrictRow.code.in_(districts)))}
            except Exception as exc:  # the database away: the waits end at their time
                log.warning("reading the districts' cursors failed (%s)", type(exc).__name__)
                continue
            # A district seen for the first time is woken too: its cursors may have moved
            # between a waiting pull's read and this one.
            self.wake([code for code, cursors in now.items() if seen.get(code) != cursors])
            seen.update(now)
