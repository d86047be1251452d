"""The name and address index after a bootstrap: built in slices once the bootstrap is done,
searches correct meanwhile, and a killed terminal resuming both the bootstrap and the build
where they stopped."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import select, update

from hallclient.store import search
from hallclient.store.models import AccountRow, SyncStateRow
from hallclient.store.search import (
    build_search_index_slice,
    search_accounts,
    search_index_is_current,
    search_index_progress,
)
from tests.client.test_sync_bootstrap_load import calls_to_bootstrap
from tests.support.counter import cached_accounts, server_accounts


def numbers_found(cache, fragment):
    with cache.read() as s:
        return [a.number for a in search_accounts(s, fragment, limit=1000)]


def numbers_with(cache, fragment):
    """What a LIKE scan of the whole table finds: the answer a search must give."""
    with cache.read() as s:
        return list(s.scalars(select(AccountRow.number).where(
            AccountRow.holder_name.contains(fragment, autoescape=True)
            | AccountRow.supply_address.contains(fragment, autoescape=True))
            .order_by(AccountRow.number)))


def slices(cache, count, accounts=40):
    for _ in range(count):
        with cache.write() as s:
            build_search_index_slice(s.connection(), accounts)


def progress(cache):
    with cache.read() as s:
        return search_index_progress(s.connection())


def names(cache):
    with cache.read() as s:
        return s.execute(select(AccountRow.number, AccountRow.holder_name)
                         .order_by(AccountRow.number)).all()


@pytest.fixture
def bootstrapped(counters):
    """A counter whose bootstrap is done and whose search index is not built yet."""
    counter = counters()
    counter.engine.bootstrap()
    return counter


def test_the_bootstrap_is_done_before_the_search_index_is_built(bootstrapped):
    cache = bootstrapped.cache
    with cache.read() as s:
        assert s.get(SyncStateRow, 1).bootstrap_done
        assert not search_index_is_current(s.connection())
    assert progress(cache).indexed == 0 and progress(cache).accounts == 250
    surname = names(cache)[-1].holder_name[0]
    # Found all the same, by a scan.
    assert numbers_found(cache, surname) == numbers_with(cache, surname)


def test_the_index_is_built_slice_by_slice_and_searches_stay_whole_meanwhile(bootstrapped):
    cache = bootstrapped.cache
    rows = names(cache)
    slices(cache, 3)  # emptied and restarted, then 2 slices of 40 accounts
    assert progress(cache).indexed == 80
    fragments = {rows[0].holder_name, rows[100].holder_name[:2], rows[-1].holder_name[0]}
    for fragment in fragments:
        assert numbers_found(cache, fragment) == numbers_with(cache, fragment)
    bootstrapped.engine.build_search_index()
    assert progress(cache) is None
    with cache.read() as s:
        assert search_index_is_current(s.connection())
    for fragment in fragments:
        assert numbers_found(cache, fragment) == numbers_with(cache, fragment)


def test_a_change_during_the_build_is_found_on_either_side_of_it(bootstrapped):
    cache = bootstrapped.cache
    slices(cache, 3)
    rows = names(cache)
    built, not_built = rows[10], rows[200]
    with cache.write() as s:
        for row, name in ((built, "龘靐甲"), (not_built, "龘靐乙")):
            s.execute(update(AccountRow).where(AccountRow.number == row.number)
                      .values(holder_name=name))
    assert numbers_found(cache, "龘靐甲") == [built.number]
    assert numbers_found(cache, "龘靐乙") == [not_built.number]
    assert built.number not in numbers_found(cache, built.holder_name)
    bootstrapped.engine.build_search_index()
    assert numbers_found(cache, "龘靐甲") == [built.number]
    assert numbers_found(cache, "龘靐乙") == [not_built.number]


def test_the_scan_of_the_part_not_built_is_bounded(bootstrapped, monkeypatch):
    cache = bootstrapped.cache
    slices(cache, 2)  # accounts 1-40 indexed
    last = names(cache)[-1]
    monkeypatch.setattr(search, "SCAN_ROWS", 100)
    assert last.number not in numbers_found(cache, last.holder_name)  # 210 accounts on
    monkeypatch.setattr(search, "SCAN_ROWS", 250)
    assert last.number in numbers_found(cache, last.holder_name)


def test_a_sync_round_builds_the_index_when_told_not_to_leave_it_to_a_thread(counters):
    counter = counters()
    counter.engine.search_index_in_background = False
    counter.engine.sync_once()
    with counter.cache.read() as s:
        assert search_index_is_current(s.connection())


# A terminal's process killed (SIGKILL) after `stop` steps: bootstrap pages stored, or slices
# of the search index built. It prints a line after each step and waits to be killed.
_KILLED_TERMINAL = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from hallclient.auth.secrets import EphemeralKeyring, SecretStore
    from hallclient.store.cache import open_cache
    from hallclient.store.search import build_search_index_slice
    from hallclient.sync.api import ServerApi
    from hallclient.sync.engine import Credentials, SyncEngine

    url, token, path, phase, stop = sys.argv[1:]
    cache = open_cache(Path(path))
    steps = 0

    def step(*_):
        global steps
        steps += 1
        print("step", flush=True)
        if steps == int(stop):
            time.sleep(600)

    if phase == "bootstrap":
        api = ServerApi(url)
        api.access_token = token
        engine = SyncEngine(cache, Credentials(api, SecretStore("GZ-TH-01", "T01",
                            backend=EphemeralKeyring())), bootstrap_page=50)
        engine.bootstrap(step)
    else:
        while True:
            with cache.write() as s:
                build_search_index_slice(s.connection(), 40)
            step()
""")


def kill_after(counter, phase, steps):
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_TERMINAL, counter.server_url, counter.api.access_token,
         str(counter.cache.path), phase, str(steps)], stdout=subprocess.PIPE, text=True)
    try:
        for _ in range(steps):
            assert child.stdout.readline() == "step\n"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL


def test_a_terminal_killed_mid_bootstrap_resumes_from_its_last_page(counters, server):
    counter = counters()
    kill_after(counter, "bootstrap", 3)
    with counter.cache.read() as s:
        state = s.get(SyncStateRow, 1)
        assert not state.bootstrap_done and state.bootstrap_after is not None
        resumed_after = state.bootstrap_after
    calls = calls_to_bootstrap(counter)
    assert counter.engine.bootstrap() == 100  # 250 accounts, 150 of them stored before
    assert calls[0] == resumed_after
    assert cached_accounts(counter.cache) == server_accounts(server.engine, "GZ-TH")


def test_a_terminal_killed_while_building_the_index_resumes_the_build(bootstrapped):
    cache = bootstrapped.cache
    kill_after(bootstrapped, "index", 4)  # restarted, then 3 slices of 40
    assert progress(cache).indexed == 120
    slices(cache, 1)
    assert progress(cache).indexed == 160  # on from there, not from the start
    bootstrapped.engine.build_search_index()
    for row in names(cache)[::25]:
        assert numbers_found(cache, row.holder_name) == numbers_with(cache, row.holder_name)
