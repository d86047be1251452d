"""The sync engine in a background thread: the caller never waits on the network.

The worker syncs every `interval` seconds, at once when woken (a new operation was recorded),
and backs off exponentially, with jitter, while the server cannot be reached; then it only
probes /health, which is cheap, until the server answers again. Each round publishes a
`SyncStatus` to the subscribers (the UI marshals it onto its own thread); a round that
bootstraps the cache publishes one after each page as well, with its progress.

Where the server streams the district's changes (it says so with ChangesPage.wait_max), a
second thread follows the stream (`SyncEngine.watch`): another hall's change wakes a round at
once instead of at the next interval, and the district's claims reach the ClaimBoard. It has a
connection of its own, so a push never waits behind it; it stops after a failure until a round
succeeds again.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from hallclient.logs import where
from hallclient.store.cache import Cache
from hallclient.store.models import OutboxRow, SyncStateRow, TaskRow
from hallclient.sync.api import NotAuthenticated, ServerRefused, ServerUnreachable
from hallclient.sync.claims import ClaimBoard
from hallclient.sync.engine import BootstrapProgress, LoginNeeded, SyncEngine, SyncSummary
from hallclient.sync.terminal_facts import clock_offset

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SyncStatus:
    online: bool | None  # None until the first attempt
    login_needed: bool
    pending: int
    oldest_pending_at: datetime | None
    open_tasks: int
    last_pull_at: datetime | None
    last_push_at: datetime | None
    last_error: str | None = None
    retry_in: float | None = None  # seconds, while offline
    # Set while a bootstrap fills the cache (a status after each page); None otherwise.
    bootstrap: BootstrapProgress | None = None
    # Pending operations the server held back: older than the hall's offline window, they wait
    # for a supervisor to extend it at this terminal.
    held: int = 0
    # How far this PC's clock was ahead of the server's at the last login or sync.
    clock_offset: timedelta | None = None

    def staleness(self, now: datetime) -> float | None:
        """Seconds since the cache last heard from the server (None: never)."""
        return None if self.last_pull_at is None else (now - self.last_pull_at).total_seconds()


def read_status(cache: Cache, *, online: bool | None, login_needed: bool = False,
                last_error: str | None = None, retry_in: float | None = None,
                bootstrap: BootstrapProgress | None = None) -> SyncStatus:
    with cache.read() as session:
        pending, oldest, held = session.execute(
            select(func.count(), func.min(OutboxRow.created_at), func.count(OutboxRow.last_error))
            .where(OutboxRow.state == "pending")).one()
        open_tasks = session.scalar(
            select(func.count()).select_from(TaskRow).where(TaskRow.state == "open")) or 0
        state = session.get(SyncStateRow, 1)
        last_pull = state.last_pull_at if state else None
        last_push = state.last_push_at if state else None
        offset = clock_offset(session)
    return SyncStatus(online, login_needed, pending, oldest, open_tasks,
                      last_pull, last_push, last_error, retry_in, bootstrap, held, offset)


class Backoff:
    """Exponential backoff with full jitter: waits grow 2, 4, 8 ... seconds up to `cap`."""

    def __init__(self, base: float = 2.0, cap: float = 300.0,
                 rng: random.Random | None = None) -> None:
        self.base = base
        self.cap = cap
        self.failures = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        self.failures += 1
        ceiling = min(self.cap, self.base * 2 ** (self.failures - 1))
        return self._rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.failures = 0


StatusListener = Callable[[SyncStatus], None]


class SyncWorker:
    def __init__(self, engine: SyncEngine, *, interval: float = 30.0,
                 backoff: Backoff | None = None, claims: ClaimBoard | None = None) -> None:
        self.engine = engine
        self.claims = claims
        # Set while the watcher may follow the stream: after a good round, cleared by a
        # failure (the round after it sets it again).
        self._may_watch = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="hallclient-changes",
                                         daemon=True)
        self.interval = interval
        self.backoff = backoff or Backoff()
        self._listeners: list[StatusListener] = []
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hallclient-sync", daemon=True)
        self._online: bool | None = None
        self.last_summary: SyncSummary | None = None

    def subscribe(self, listener: StatusListener) -> None:
        self._listeners.append(listener)

    def start(self) -> None:
        self._thread.start()
        if self.claims is not None:
            self._watcher.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        self._may_watch.set()
        self._thread.join(timeout)
        # Not joined: it may be reading the stream; it ends with the process.

    def wake(self) -> None:
        """Sync now (e.g. an operation was just recorded) instead of at the next round."""
        self._wake.set()

    @property
    def online(self) -> bool | None:
        return self._online

    def _publish(self, *, login_needed: bool = False, last_error: str | None = None,
                 retry_in: float | None = None,
                 bootstrap: BootstrapProgress | None = None) -> None:
        status = read_status(self.engine.cache, online=self._online, login_needed=login_needed,
                             last_error=last_error, retry_in=retry_in, bootstrap=bootstrap)
        for listener in list(self._listeners):
            try:
                listener(status)
            except Exception:  # a broken listener must not stop syncing
                log.exception("sync status listener failed")

    def run_round(self) -> float:
        """One round; returns how long to wait before the next one."""
        if self._online is False:
            try:
                self.engine.api.health()  # cheap probe before a full round
            except (ServerUnreachable, ServerRefused) as exc:
                delay = self.backoff.next_delay()
                self._publish(last_error=str(exc), retry_in=delay)
                return delay
        try:
            self.last_summary = self.engine.sync_once(on_bootstrap=self._bootstrap_progress)
        except ServerUnreachable as exc:
            self._online = False
            self._may_watch.clear()
            delay = self.backoff.next_delay()
            self._publish(last_error=str(exc), retry_in=delay)
            return delay
        except LoginNeeded as exc:
            self._online = True
            self._publish(login_needed=True, last_error=str(exc))
            return self.interval
        except Exception as exc:  # unexpected: keep the worker alive, report, back off
            log.error("sync round failed: %s\n%s", type(exc).__name__, where(exc))
            delay = self.backoff.next_delay()
            self._publish(last_error=f"{type(exc).__name__}: {exc}", retry_in=delay)
            return delay
        self._online = True
        self.backoff.reset()
        if self.engine.wait_max > 0:
            self._may_watch.set()
        self._publish()
        return self.interval

    def _bootstrap_progress(self, progress: BootstrapProgress) -> None:
        # A page has arrived: the server is reachable, whatever the round was started as.
        self._online = True
        self._publish(bootstrap=progress)

    def _run(self) -> None:
        while not self._stop.is_set():
            delay = self.run_round()
            self._wake.wait(delay)
            self._wake.clear()

    def _watch(self) -> None:
        assert self.claims is not None
        while True:
            self._may_watch.wait()
            if self._stop.is_set():
                return
            try:
                self.engine.watch(self.claims, self.wake)
            except (ServerUnreachable, NotAuthenticated, ServerRefused):
                self._may_watch.clear()
                self.wake()  # the round finds out what it is, and says so
            except Exception as exc:  # unexpected: the rounds go on without the stream
                log.error("following the changes failed: %s\n%s", type(exc).__name__,
                          where(exc))
                self._may_watch.clear()
