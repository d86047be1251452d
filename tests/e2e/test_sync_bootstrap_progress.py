"""Bootstrap progress: the district's size on the first page, progress after each page stored,
and the worker's statuses while a bootstrap runs."""

import threading
from functools import partial

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hallclient.store.accounts import count_accounts
from hallclient.sync.api import ServerApi, ServerUnreachable
from hallclient.sync.engine import BootstrapProgress, SyncEngine
from hallclient.sync.worker import Backoff, SyncWorker
from hallcore.wire import BootstrapPage
from hallserver.models import AccountRow as ServerAccount
from hallserver.models import HallRow
from tests.support.counter import HALL


def district_size(server, hall=HALL):
    with Session(server.engine) as s:
        district = s.scalars(select(HallRow.district).where(HallRow.id == hall)).one()
        return s.scalar(select(func.count()).select_from(ServerAccount)
                        .where(ServerAccount.district == district))


def recording_pages(counter, cut_at=None):
    """Wraps the counter's bootstrap call: keeps each page; raises on call number `cut_at`."""
    pages, real = [], partial(ServerApi.bootstrap, counter.api)  # unwrapped, if wrapped before

    def call(after, limit, communities):
        if cut_at is not None and len(pages) + 1 == cut_at:
            raise ServerUnreachable("network cut")
        page = real(after, limit, communities)
        pages.append(page)
        return page

    counter.api.bootstrap = call
    return pages


def test_first_page_carries_the_districts_size_and_later_pages_do_not(counters, server):
    counter = counters()
    first = counter.api.bootstrap(None, 100)
    assert first.total == district_size(server) == 250
    assert first.next_after is not None
    assert counter.api.bootstrap(first.next_after, 100).total is None


def test_a_page_without_total_is_still_read():
    # A server from before the field: no "total" on any page.
    page = BootstrapPage.model_validate_json('{"accounts": [], "next_after": null, "cursor": 7}')
    assert page.total is None


def test_progress_rises_to_the_total_page_by_page(counters, server):
    counter = counters()  # pages of 100
    pages = recording_pages(counter)
    seen: list[BootstrapProgress] = []
    assert counter.engine.bootstrap(seen.append) == 250
    size = district_size(server)
    assert [p.received for p in seen] == [100, 200, 250]
    assert {p.total for p in seen} == {size}
    assert seen[-1].fraction == 1.0 and seen[0].fraction == pytest.approx(0.4)
    assert pages[0].total == size and [p.total for p in pages[1:]] == [None, None]
    with counter.cache.read() as s:
        assert count_accounts(s) == seen[-1].received


def test_no_progress_once_the_bootstrap_is_done(counters):
    counter = counters()
    counter.engine.bootstrap()
    seen: list[BootstrapProgress] = []
    assert counter.engine.bootstrap(seen.append) == 0
    assert counter.engine.sync_once(on_bootstrap=seen.append).bootstrapped == 0
    assert seen == []


def test_resumed_bootstrap_counts_what_earlier_runs_stored(counters):
    counter = counters()
    recording_pages(counter, cut_at=3)
    seen: list[BootstrapProgress] = []
    with pytest.raises(ServerUnreachable):
        counter.engine.bootstrap(seen.append)
    assert seen == [BootstrapProgress(100, 250), BootstrapProgress(200, 250)]
    # A restart: a new engine on the same cache. The first page was not seen by it, and the
    # total is not stored in the cache, so it is unknown.
    pages = recording_pages(counter)
    restarted = SyncEngine(counter.cache, counter.engine.credentials, bootstrap_page=100)
    resumed: list[BootstrapProgress] = []
    assert restarted.bootstrap(resumed.append) == 50
    assert resumed == [BootstrapProgress(250, None)]
    assert resumed[0].fraction is None
    assert [p.total for p in pages] == [None]


def test_bootstrap_resumed_by_the_same_engine_keeps_the_total(counters):
    counter = counters()
    recording_pages(counter, cut_at=2)
    seen: list[BootstrapProgress] = []
    with pytest.raises(ServerUnreachable):
        counter.engine.bootstrap(seen.append)
    recording_pages(counter)
    assert counter.engine.bootstrap(seen.append) == 150
    assert seen == [BootstrapProgress(n, 250) for n in (100, 200, 250)]


def test_fraction_is_clamped_and_an_empty_district_is_done():
    assert BootstrapProgress(260, 250).fraction == 1.0  # accounts opened meanwhile
    assert BootstrapProgress(0, 0).fraction == 1.0
    assert BootstrapProgress(10, None).fraction is None


def test_worker_publishes_progress_during_the_bootstrap_and_none_after(counters, server):
    counter = counters()
    worker = SyncWorker(counter.engine, interval=3600)
    statuses = []
    worker.subscribe(statuses.append)
    assert worker.run_round() == 3600
    during, after = statuses[:-1], statuses[-1]
    size = district_size(server)
    assert [s.bootstrap for s in during] == [
        BootstrapProgress(100, size), BootstrapProgress(200, size), BootstrapProgress(250, size)]
    assert all(s.online is True and s.last_error is None for s in during)
    assert after.bootstrap is None and after.online is True and after.last_pull_at is not None
    # Later rounds have nothing to bootstrap: one status each, without progress.
    worker.run_round()
    assert len(statuses) == 5 and statuses[-1].bootstrap is None


def test_worker_reports_a_cut_bootstrap_then_resumes_it(counters):
    counter = counters()
    recording_pages(counter, cut_at=3)
    worker = SyncWorker(counter.engine, interval=3600, backoff=Backoff(base=0.1, cap=0.3))
    statuses = []
    worker.subscribe(statuses.append)
    assert worker.run_round() <= 0.3
    assert [s.bootstrap for s in statuses] == [
        BootstrapProgress(100, 250), BootstrapProgress(200, 250), None]
    cut = statuses[-1]
    assert cut.online is False and cut.retry_in is not None and "network cut" in cut.last_error
    recording_pages(counter)
    statuses.clear()
    worker.run_round()  # probes /health, then resumes the bootstrap where it stopped
    assert [s.bootstrap for s in statuses] == [BootstrapProgress(250, 250), None]
    assert statuses[-1].online is True and statuses[-1].last_error is None


def test_worker_thread_publishes_the_progress(counters):
    counter = counters()
    worker = SyncWorker(counter.engine, interval=3600)
    progress, threads, done = [], set(), threading.Event()

    def listener(status):
        threads.add(threading.current_thread().name)
        if status.bootstrap is not None:
            progress.append(status.bootstrap.received)
        elif status.last_pull_at is not None:
            done.set()

    worker.subscribe(listener)
    worker.start()
    try:
        assert done.wait(10)
    finally:
        worker.stop()
    assert progress == [100, 200, 250] and threads == {"hallclient-sync"}
