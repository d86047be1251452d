"""Restores: the central database from a backup (terminals notice its new identity, push again
what the server lost, download the accounts again, and the audit trail verifies), and a
terminal's lost cache (its waiting requests come back from the outbox backups, and no receipt
number is issued twice)."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from sqlalchemy import select
from sqlalchemy.orm import Session

from hallclient.store.cache import open_cache
from hallclient.store.outbox_backup import backup_outbox
from hallclient.sync.engine import Credentials, SyncEngine
from hallserver.__main__ import main
from hallserver.models import OperationRow
from tests.support.counter import active_accounts, holder, server_ops


def _copy(source: str, target: str) -> None:
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def test_what_a_restore_lost_is_pushed_again_and_nothing_twice(counters, server, tmp_path,
                                                               capsys):
    counter = counters()
    counter.engine.sync_once()
    before, after = active_accounts(counter, 2)
    kept = counter.record("suspend", before.number, holder(before))
    counter.engine.sync_once()
    database = server.engine.url.database
    backup = str(tmp_path / "backup.sqlite3")
    _copy(database, backup)  # the nightly backup
    lost = counter.record("suspend", after.number, holder(after))
    counter.engine.sync_once()
    assert server_ops(server) == 2
    # The database is lost and restored from the backup; the operator says so.
    _copy(backup, database)
    assert server_ops(server) == 1
    url = server.engine.url.render_as_string(hide_password=False)
    assert main(["database", "restored", "--db", url]) == 0
    noticed = counter.engine.sync_once()  # its pull sees the new identity
    assert noticed.pushed_again == 1 and noticed.pending == 1
    summary = counter.engine.sync_once()
    assert summary.applied == 1
    assert summary.bootstrapped > 0  # the accounts downloaded again
    with Session(server.engine) as s:
        held = set(s.scalars(select(OperationRow.operation_id)))
    assert held == {kept.operation_id, lost.operation_id}
    # Nothing twice: a further sync pushes nothing.
    assert counter.engine.sync_once().pushed == 0
    assert main(["audit", "verify", "--db", url]) == 0, capsys.readouterr().out


def test_a_lost_cache_gives_back_its_waiting_requests_and_reuses_no_number(counters, server):
    counter = counters()
    counter.engine.sync_once()
    first, second = active_accounts(counter, 2)
    pushed = counter.record("suspend", first.number, holder(first))
    counter.engine.sync_once()
    waiting = counter.record("suspend", second.number, holder(second))  # the network is down
    backup_outbox(counter.cache)  # as the counter does after each request
    # The cache file is deleted; the installation (settings, keyring) is intact.
    counter.cache.close()
    path = counter.directory / "cache.sqlite3"
    path.unlink()
    counter.cache = open_cache(path)
    counter.engine = SyncEngine(counter.cache, Credentials(counter.api, counter.secrets))
    assert counter.cache.restored is not None
    summary = counter.engine.sync_once()
    assert summary.applied == 1 and summary.pending == 0
    with Session(server.engine) as s:
        held = set(s.scalars(select(OperationRow.operation_id)))
    assert held == {pushed.operation_id, waiting.operation_id}
    # The next request is numbered after both: no customer gets a number twice.
    third = next(a for a in active_accounts(counter, 5)
                 if a.number not in (first.number, second.number))
    after = counter.record("suspend", third.number, holder(third))
    numbers = [pushed.receipt_no, waiting.receipt_no, after.receipt_no]
    assert len(set(numbers)) == 3 and after.receipt_no > waiting.receipt_no
