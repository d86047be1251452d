"""Reads from a PostgreSQL streaming replica: the pulls (GET /changes) and the bootstrap pages
are read there; everything else (pushes, logins, tokens, SMS) on the database itself, the
primary.

A replica is the primary as it was a moment ago: every commit up to some point of the
write-ahead log, in commit order. A district's changes are numbered in commit order
(DistrictRow.last_seq is row-locked until commit), so a replica holds each district's changes
up to some number and none after it, and that number only grows. Hence:

- A read that must reach the district's change N (a pull after cursor N: the terminal may have
  had N from the primary) goes to the replica only when the replica is known to hold N; its
  answer is then never behind the terminal's own cursor.
- A replica more than `replica_max_lag` behind, not answering, not a replica (promoted, or
  the URL names a primary), or of another database (its identity, hallserver/identity.py,
  differs: another cluster, or the primary was restored since) serves nothing: the primary
  does.

Both are judged on the replica's last check, at most a second old (CHECK_SECONDS), one per
process: no request waits for a check or adds a round trip for it. A check reads the
primary's WAL position, then the replica's replayed position and its districts' sequences.
The replica holds everything the primary had at the latest check whose position it has
replayed, so the lag is measured against those positions: an upper bound, about a second
coarse, and 0 while the primary is idle (where the time since the last replayed transaction,
the usual measure, grows without end).
"""

from __future__ import annotations

import bisect
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from prometheus_client import Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, event, select, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.datastructures import State

from hallserver.db import make_engine
from hallserver.identity import database_identity
from hallserver.models import DistrictRow
from hallserver.settings import ServerSettings, SettingsError, env_name

log = logging.getLogger(__name__)

# How old the last check may be before a request starts the next one (in the background).
CHECK_SECONDS = 1.0
# A replica that does not answer within this (libpq's connect_timeout, seconds) is taken for
# gone: the reads fall back at once rather than waiting for a TCP timeout.
CONNECT_TIMEOUT = 2
# The primary's WAL positions kept to measure the lag against (more is reported as unknown).
HISTORY_SECONDS = 120.0
# How the replica's connections show in pg_stat_activity.
APPLICATION_NAME = "hallserver-replica-reads"

UNREACHABLE = "the replica does not answer"
NOT_A_REPLICA = "the replica is not in recovery (promoted, or not a replica)"
LAGGING = "the replica is further behind than HALLSERVER_REPLICA_MAX_LAG_SECONDS"
OTHER_DATABASE = ("the replica is of another database (another cluster, or the primary was "
                  "restored: make the replica again)")
PRIMARY_AWAY = "the database itself does not answer (the lag cannot be measured)"
NOT_CHECKED = "the replica has not been checked yet"

_PRIMARY_POSITION = text("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')")
_REPLICA_POSITION = text(
    "SELECT pg_is_in_recovery(), pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')")

READS = Counter("hallserver_replica_reads", "Pulls and bootstrap pages, by where they were "
                "read: the replica or the primary (the replica lagging, away or not set)",
                ["kind", "source"])


@dataclass(frozen=True)
class ReplicaCheck:
    """What a check found. `sequences`: each district's change and claim sequences the replica
    holds (they only grow: true of it ever after)."""

    at: float  # the monitor's clock when the check began
    problem: str | None  # why the replica serves nothing; None: it serves
    lag: float | None = None  # seconds behind the primary at most; None: unknown
    sequences: Mapping[str, tuple[int, int]] = field(default_factory=dict)

    def holds(self, district: str, seq: int, claim_seq: int) -> bool:
        held = self.sequences.get(district)
        return (self.problem is None and held is not None
                and held[0] >= seq and held[1] >= claim_seq)


class Replica:
    """The replica's engine and its last check, for one process."""

    def __init__(self, engine: Engine, primary: Engine, max_lag: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.engine, self.primary, self.max_lag, self.clock = engine, primary, max_lag, clock
        self._lock = threading.Lock()
        self._last = ReplicaCheck(-math.inf, NOT_CHECKED)
        self._checking = False
        # (clock, primary's WAL position) of the checks, oldest first.
        self._positions: list[tuple[float, int]] = []
        event.listen(engine, "handle_error", self._failed)

    def current(self) -> ReplicaCheck:
        """The last check; when it is older than CHECK_SECONDS, the next one starts in the
        background (this request does not wait for it)."""
        with self._lock:
            last = self._last
            if self.clock() - last.at >= CHECK_SECONDS and not self._checking:
                self._checking = True
                threading.Thread(target=self._check_in_background, daemon=True,
                                 name="hallserver-replica-check").start()
        return last

    def check(self) -> ReplicaCheck:
        """Check the replica now, and keep what was found."""
        at = self.clock()
        try:
            with Session(self.primary) as session:
                primary_position = int(session.execute(_PRIMARY_POSITION).scalar_one())
                primary_identity = database_identity(session)
        except SQLAlchemyError:
            return self._keep(ReplicaCheck(at, PRIMARY_AWAY))
        try:
            with Session(self.engine) as session:
                recovering, replayed = session.execute(_REPLICA_POSITION).one()
                identity = database_identity(session)
                sequences = {code: (seq, claim_seq) for code, seq, claim_seq in session.execute(
                    select(DistrictRow.code, DistrictRow.last_seq, DistrictRow.last_claim_seq))}
        except SQLAlchemyError as exc:
            return self._keep(ReplicaCheck(at, f"{UNREACHABLE} ({type(exc).__name__})"))
        if not recovering:
            return self._keep(ReplicaCheck(at, NOT_A_REPLICA))
        if identity != primary_identity:
            # Another cluster, or one the restored primary left behind: its WAL positions
            # say nothing of this primary's.
            return self._keep(ReplicaCheck(at, OTHER_DATABASE))
        lag = self._lag(at, primary_position, int(replayed))
        problem = None if lag is not None and lag <= self.max_lag else LAGGING
        return self._keep(ReplicaCheck(at, problem, lag, sequences))

    def gone(self) -> None:
        """A request found the replica gone since the last check: nothing is read there until
        the next check finds it back."""
        self._keep(ReplicaCheck(self.clock(), UNREACHABLE))

    def _failed(self, context: ExceptionContext) -> None:
        # A connection that broke or could not be made (not a statement's own error).
        if context.is_disconnect or context.connection is None:
            self.gone()

    def _check_in_background(self) -> None:
        try:
            self.check()
        finally:
            with self._lock:
                self._checking = False

    def _lag(self, at: float, primary_position: int, replayed: int) -> float | None:
        """How far behind the replica is at most: since the latest check whose primary
        position it has replayed (this one's, read just before, makes it 0)."""
        with self._lock:
            bisect.insort(self._positions, (at, primary_position))
            del self._positions[:bisect.bisect_left(self._positions, (at - HISTORY_SECONDS,))]
            caught_up = [when for when, position in self._positions
                         if when <= at and position <= replayed]
        return at - max(caught_up) if caught_up else None

    def _keep(self, check: ReplicaCheck) -> ReplicaCheck:
        with self._lock:
            last = self._last
            if check.at < last.at:  # a slower check begun earlier: the newer one stands
                return check
            self._last = check
        if (check.problem is None) != (last.problem is None):
            if check.problem is None:
                log.info("reads go to the replica%s (%.1f s behind at most)",
                         "" if last.problem == NOT_CHECKED else " again", check.lag or 0.0)
            else:
                log.warning("reads go to the database itself: %s%s", check.problem,
                            f" ({check.lag:.1f} s behind)" if check.lag is not None else "")
        return check


def replica_from_settings(settings: ServerSettings, primary: Engine) -> Replica | None:
    """The replica of HALLSERVER_REPLICA_DB, its pool sized as the primary's; None without
    one. SettingsError for a replica of a database that is not PostgreSQL."""
    if settings.replica_db is None:
        return None
    if primary.dialect.name != "postgresql":
        raise SettingsError("replica_db", env_name("replica_db"), "…",
                            "a streaming replica needs the database itself on PostgreSQL")
    engine = make_engine(settings.replica_db.get_secret_value(), pool_size=settings.pool_size,
                         max_overflow=settings.max_overflow,
                         prepared_statements=settings.prepared_statements,
                         libpq={"connect_timeout": CONNECT_TIMEOUT,
                                "application_name": APPLICATION_NAME})
    return Replica(engine, primary, settings.replica_max_lag.total_seconds())


def read_engine(state: State, district: str, seq: int, claim_seq: int = 0) -> Engine:
    """Where to read the district's changes: the replica when it serves and holds the
    district's changes up to `seq` and its claims up to `claim_seq`, else the primary. A pull
    passes its cursors; a pull woken by a notice of the district's new sequences passes
    those (the replica may not have replayed them yet: the primary has). A replica that went
    away since its last check fails the read that finds it so, not the ones after
    (Replica: handle_error)."""
    replica: Replica | None = state.replica
    if replica is not None and replica.current().holds(district, seq, claim_seq):
        READS.labels("pull", "replica").inc()
        return replica.engine
    READS.labels("pull", "primary").inc()
    primary: Engine = state.engine
    return primary


def bootstrap_session(state: State, district: str, *, later_page: bool) -> tuple[Session, int]:
    """A session to read a page of the district's bootstrap in, and the district's change
    sequence, read first in it (READ COMMITTED: the page's rows, read after, reflect at least
    that much). The first page's sequence is the terminal's pull cursor once the last page is
    in: every later page must reflect all the changes up to it, or a change to an account of
    a later page, made while the pages came, would be in neither. A page of the primary does
    (the primary never goes back). On the replica:

    - a first page takes the cursor from the replica itself: the later pages, of the primary
      or of the replica (which only moves forward), reflect at least as much;
    - a later page cannot know the first page's cursor (the terminal sends only where it is),
      but that cursor is at most the primary's sequence now: the page is read on the replica
      only when the replica holds the district that far, else on the primary. One
      primary-key read on the primary for a page of thousands of accounts.
    """
    replica: Replica | None = state.replica
    if replica is not None and replica.current().problem is None:
        floor = 0
        if later_page:
            with Session(state.engine) as primary:
                floor = _district_seq(primary, district)
        connected = _connected(replica)
        if connected is not None:
            session, seq = _with_district_seq(connected, district)
            if seq >= floor:
                READS.labels("bootstrap", "replica").inc()
                return session, seq
            session.close()
    READS.labels("bootstrap", "primary").inc()
    return _with_district_seq(Session(state.engine), district)


def _district_seq(session: Session, district: str) -> int:
    return session.scalars(
        select(DistrictRow.last_seq).where(DistrictRow.code == district)).one()


def _with_district_seq(session: Session, district: str) -> tuple[Session, int]:
    """`session` and the district's sequence read in it; the session closed if that fails."""
    try:
        return session, _district_seq(session, district)
    except BaseException:
        session.close()
        raise


def _connected(replica: Replica) -> Session | None:
    """A session on the replica with its connection taken; None when the replica is gone."""
    session = Session(replica.engine)
    try:
        session.connection()
    except SQLAlchemyError:
        session.close()
        replica.gone()  # logged there, once
        return None
    return session


class ReplicaGauges(Collector):
    """The replica as a check at scrape time finds it: whether it serves, and its lag."""

    def __init__(self, replica: Replica) -> None:
        self.replica = replica

    def collect(self) -> Iterable[Metric]:
        check = self.replica.check()
        yield GaugeMetricFamily("hallserver_replica_serving", "1 while the pulls and bootstrap "
                                "pages are read on the replica, 0 while on the primary",
                                value=1 if check.problem is None else 0)
        if check.lag is not None:
            yield GaugeMetricFamily("hallserver_replica_lag_seconds", "How far the replica is "
                                    "behind the primary at most (about a second coarse)",
                                    value=check.lag)


def replica_metrics(replica: Replica | None) -> bytes:
    """The replica's gauges in Prometheus's text format; nothing without a replica."""
    return generate_latest(ReplicaGauges(replica)) if replica is not None else b""
