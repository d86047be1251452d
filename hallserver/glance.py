"""A plain pull's first look: most pulls find nothing new, and are answered by one statement.

A terminal pulls after every sync round; on a quiet district almost every pull is empty. Such a
pull needs the district's two cursors and the terminal's facts: one statement, which a few
connections held for the purpose run in autocommit mode, with no pool checkout, no ping, no
BEGIN and no ROLLBACK around it (those cost more than the statement). A pull that finds news
(or whose hall is gone, or that finds every glancing connection busy) is read as before
(hallserver/changes.py, read_changes); what a glance answers is what that read would have.

The connections are made by the engine (its settings, its events) and taken out of its pool: a
process opens GLANCE_CONNECTIONS beside the pool's (`hallserver serve` counts them). One that
fails is closed and replaced at the next glance; the pull it failed is read the ordinary way.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from datetime import UTC, datetime
from typing import Any

import anyio
import anyio.to_thread
import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import Engine, PoolProxiedConnection

from hallcore.domain.deadlines import OpeningHours
from hallcore.wire import MAX_CHANGES_WAIT, ChangesPage
from hallserver.identity import KeptClusterFacts, identity_from
from hallserver.models import DistrictRow, HallRow
from hallserver.terminals import FACTS, facts_of
from hallserver.working_days import hours_stamp, kept_calendar_stamp

log = logging.getLogger(__name__)

# Connections a process glances with (per engine: the primary's, a replica's), and threads at
# once: a glance takes a fraction of a millisecond and Python runs one thread at a time. The
# pulls beyond wait their turn on the event loop, not as threads contending for Python's lock
# (forty of them made each request cost ten times its work).
GLANCE_CONNECTIONS = 2

_GLANCE = (FACTS.add_columns(DistrictRow.last_seq, DistrictRow.last_claim_seq)
           .join(DistrictRow, DistrictRow.code == HallRow.district))


class _Held:
    """A connection of the engine's, taken out of its pool for glancing, in autocommit mode.
    Detached: never returned to the pool in autocommit mode, closed when done with."""

    def __init__(self, pooled: PoolProxiedConnection) -> None:
        connection = pooled.dbapi_connection
        assert isinstance(connection, psycopg.Connection)
        pooled.detach()
        connection.rollback()  # idle, not in a transaction: autocommit may be set
        connection.autocommit = True
        self.connection: psycopg.Connection[Any] = connection
        self.cluster: KeptClusterFacts = KeptClusterFacts()


class Glances:
    """The glancing connections of one engine (PostgreSQL only)."""

    def __init__(self, engine: Engine, size: int = GLANCE_CONNECTIONS) -> None:
        self.engine = engine
        compiled = _GLANCE.compile(dialect=engine.dialect)
        self._statement = str(compiled)
        self._constants = {name: value for name, value in compiled.params.items()
                           if value is not None}
        self._size = size
        self._idle: list[_Held] = []
        self._open = 0
        self._closed = False
        self._lock = threading.Lock()
        self._limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop,
                                                  anyio.CapacityLimiter] = (
            weakref.WeakKeyDictionary())

    def empty_page(self, hall_id: str, terminal_id: str, after: int,
                   claims_after: int | None, now: datetime) -> ChangesPage | None:
        """The page of a pull with nothing new after its cursors, or None: there is news (or
        the glance could not tell; the pull is then read the ordinary way)."""
        calendar = kept_calendar_stamp(self.engine)
        if calendar is None:
            return None  # the calendar is read again by the ordinary read
        held = self._take()
        if held is None:
            return None
        try:
            with held.connection.cursor(row_factory=namedtuple_row) as cursor:
                found: Any = cursor.execute(self._statement, {  # FACTS_COLUMNS' names
                    **self._constants, "hall_id": hall_id, "terminal_id": terminal_id}
                ).fetchone()
            cluster = held.cluster.of(held.connection)
        except psycopg.Error as exc:
            log.warning("a glancing connection failed (%s); the pull is read the ordinary way",
                        type(exc).__name__)
            self._drop(held)
            return None
        self._give(held)
        if (found is None or found.last_seq > after
                or (claims_after is not None and found.last_claim_seq > claims_after)):
            return None
        facts = facts_of(found, identity_from(found.identity, cluster),
                         hours_stamp(calendar, OpeningHours(found.opens_at, found.closes_at)),
                         now)
        # What read_changes answers for no news: the cursors as the terminal sent them.
        return ChangesPage.model_construct(
            accounts=[], next_cursor=after, more=False, terminal=facts, claims=[],
            claims_cursor=claims_after or 0, wait_max=MAX_CHANGES_WAIT)

    async def empty_page_soon(self, hall_id: str, terminal_id: str,
                              after: int, claims_after: int | None) -> ChangesPage | None:
        """empty_page on a thread, at most as many at once as there are connections."""
        loop = asyncio.get_running_loop()
        limiter = self._limiters.get(loop)
        if limiter is None:
            self._limiters[loop] = limiter = anyio.CapacityLimiter(self._size)
        return await anyio.to_thread.run_sync(
            self.empty_page, hall_id, terminal_id, after, claims_after,
            datetime.now(UTC), limiter=limiter)

    def _take(self) -> _Held | None:
        with self._lock:
            if self._closed:
                return None
            if self._idle:
                return self._idle.pop()
            if self._open >= self._size:
                return None  # more threads than connections (another event loop's, say)
            self._open += 1
        try:
            return _Held(self.engine.raw_connection())
        except Exception:
            log.warning("no connection to glance with; pulls are read the ordinary way",
                        exc_info=True)
            with self._lock:
                self._open -= 1
            return None

    def _give(self, held: _Held) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(held)
                return
            self._open -= 1
        held.connection.close()

    def _drop(self, held: _Held) -> None:
        with self._lock:
            self._open -= 1
        held.connection.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
        for held in idle:
            held.connection.close()
