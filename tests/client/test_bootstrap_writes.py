"""How a bootstrap's pages are written: commits not flushed one by one (synchronous NORMAL on
the page's own transaction only, every other write of the cache still FULL), and Python's cycle
collector run rarely while the pages come."""

import gc

import pytest
from sqlalchemy import select

from hallclient.store.accounts import save_community
from hallclient.store.cache import BULK_CHECKPOINT_PAGES, open_cache
from hallclient.store.models import AccountRow
from hallclient.sync import engine as sync_engine
from hallclient.sync.engine import BOOTSTRAP_GC_THRESHOLD
from tests.support.factories import COMMUNITY

NORMAL, FULL = 1, 2


@pytest.fixture
def cache(tmp_path):
    c = open_cache(tmp_path / "cache.sqlite3")
    yield c
    c.close()


def synchronous(session):
    return session.connection().exec_driver_sql("PRAGMA synchronous").scalar_one()


def test_a_bulk_write_alone_is_not_flushed_at_its_commit(cache):
    with cache.bulk_write() as s:
        assert synchronous(s) == NORMAL
        save_community(s, COMMUNITY)
    with cache.write() as s:
        assert synchronous(s) == FULL
    with cache.read() as s:
        assert synchronous(s) == FULL
        assert s.connection().exec_driver_sql("SELECT count(*) FROM communities").scalar_one()


def test_a_failed_bulk_write_leaves_nothing_and_gives_its_connection_back_full(cache):
    with pytest.raises(RuntimeError), cache.bulk_write() as s:
        save_community(s, COMMUNITY)
        s.flush()
        raise RuntimeError("cut")
    with cache.write() as s:
        assert synchronous(s) == FULL
        assert not s.connection().exec_driver_sql(
            "SELECT count(*) FROM communities").scalar_one()


def _fill(session, table, pages):
    """About `pages` pages of the file written in `table` (made for it)."""
    connection = session.connection()
    connection.exec_driver_sql(f"CREATE TABLE {table} (filler BLOB)")
    connection.exec_driver_sql(
        f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {pages})"
        f" INSERT INTO {table} SELECT randomblob(3900) FROM n")


def test_a_bulk_write_leaves_its_pages_in_the_wal_up_to_its_own_limit(cache):
    """A commit moves the WAL into the database file past 1,000 pages (SQLite's default),
    a bulk write's only past BULK_CHECKPOINT_PAGES; the connection is given back with the
    default."""
    size = cache.path.stat().st_size
    with cache.bulk_write() as s:
        _fill(s, "bulk", 2000)
    assert cache.path.stat().st_size == size  # all of it still in the WAL
    with cache.write() as s:
        assert s.connection().exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 1000
        _fill(s, "plain", 10)
    assert cache.path.stat().st_size > size + 2000 * 3900  # the commit moved it all
    assert BULK_CHECKPOINT_PAGES > 2 * 2000


def test_the_collector_runs_rarely_during_a_bootstrap_only(counters):
    counter = counters()
    before = gc.get_threshold()
    seen = []
    counter.engine.bootstrap(lambda progress: seen.append(gc.get_threshold()[0]))
    assert seen and min(seen) >= BOOTSTRAP_GC_THRESHOLD
    assert gc.get_threshold() == before


def test_the_pages_and_the_lookup_indexes_are_written_without_a_flush_each(counters,
                                                                            monkeypatch):
    counter = counters()
    modes = []
    real = sync_engine.build_lookup_index

    def build(session, index):
        modes.append(synchronous(session))
        real(session, index)

    monkeypatch.setattr(sync_engine, "build_lookup_index", build)
    counter.engine.bootstrap(lambda _progress: None)
    assert modes and set(modes) == {NORMAL}
    with counter.cache.read() as s:
        assert synchronous(s) == FULL
        assert s.scalars(select(AccountRow.number).limit(1)).first()
