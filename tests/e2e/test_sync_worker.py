"""The background worker: offline detection, backoff, resuming by itself; one writer per cache."""

import random
import threading

import pytest

from hallclient.store.lock import CacheInUse, CacheLock
from hallclient.sync.worker import Backoff, SyncWorker
from tests.support.counter import active_accounts, holder, server_ops


def test_backoff_doubles_with_jitter_up_to_the_cap():
    backoff = Backoff(base=2, cap=20, rng=random.Random(1))
    delays = [backoff.next_delay() for _ in range(6)]
    ceilings = [2, 4, 8, 16, 20, 20]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    backoff.reset()
    assert backoff.next_delay() <= 2


def test_worker_reports_offline_then_resumes_by_itself(counters, server):
    counter = counters()
    counter.engine.sync_once()
    [a] = active_accounts(counter, 1)
    server.stop()
    counter.record("suspend", a.number, holder(a))
    statuses = []
    worker = SyncWorker(counter.engine, interval=0.2, backoff=Backoff(base=0.1, cap=0.3))
    worker.subscribe(statuses.append)
    assert worker.run_round() <= 0.3
    offline = statuses[-1]
    assert offline.online is False and offline.pending == 1 and offline.retry_in is not None
    assert offline.oldest_pending_at is not None
    # Still offline: only the cheap probe runs, and the wait grows.
    worker.run_round()
    assert worker.backoff.failures == 2
    server.start()
    online = threading.Event()
    worker.subscribe(lambda s: s.online and s.pending == 0 and online.set())
    worker.start()
    try:
        assert online.wait(10)
    finally:
        worker.stop()
    assert server_ops(server) == 1
    assert statuses[-1].last_push_at is not None and statuses[-1].open_tasks == 0


def test_wake_syncs_at_once(counters, server):
    counter = counters()
    counter.engine.sync_once()
    [a] = active_accounts(counter, 1)
    worker = SyncWorker(counter.engine, interval=3600)
    rounds = []
    first_round, pushed = threading.Event(), threading.Event()
    worker.subscribe(lambda s: (rounds.append(s), first_round.set()))
    worker.subscribe(lambda s: s.last_push_at is not None and pushed.set())
    worker.start()
    try:
        assert first_round.wait(10)
        counter.record("suspend", a.number, holder(a))
        worker.wake()  # without it, the next round would come in an hour
        assert pushed.wait(10)
    finally:
        worker.stop()
    assert rounds[-1].pending == 0 and server_ops(server) == 1


def test_second_process_on_the_same_cache_is_refused(tmp_path):
    path = tmp_path / "cache.sqlite3"
    with CacheLock(path), pytest.raises(CacheInUse, match="already running"):
        CacheLock(path).acquire()
    with CacheLock(path):  # released: usable again
        pass
