"""Rolling backups of the outbox beside the cache, and a deleted cache given back its waiting
requests (and its receipt numbers) from the newest of them."""

import hashlib
import sqlite3
import stat
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from hallclient.store import outbox_backup
from hallclient.store.accounts import save_account, save_community
from hallclient.store.cache import open_cache
from hallclient.store.feedback import record_feedback
from hallclient.store.models import OutboxRow, ReceiptRow
from hallclient.store.operations import CounterFacts, TerminalIdentity, record_operation
from hallclient.store.outbox_backup import (
    KEEP_BACKUPS,
    backup_outbox,
    find_backups,
    read_backup,
    restore_from_backup,
)
from hallcore.domain.business import BusinessKind
from hallcore.signing import signature_matches
from hallcore.wire import QueueTicket, Rating, TicketSource
from tests.support.counter import one_account_cache_at
from tests.support.factories import COMMUNITY, TERMINAL_KEY, account, holder_presents
from tests.support.signatures import signature

TERMINAL = TerminalIdentity("GZ-TH-01", "T01", TERMINAL_KEY)
NOON_CST = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
WORK = ("outbox", "receipts", "receipt_counters", "feedback", "tasks")


@pytest.fixture
def data_dir(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


def at(minute):
    return NOON_CST + timedelta(minutes=minute)


def record(cache, i):
    return record_operation(cache, TERMINAL, clerk="gz-th-01-c1",
                            kind=BusinessKind.CONTACT_CHANGE, account_number="1000000001",
                            raw_payload={**holder_presents(), "phone": f"139{i:08d}"}, now=at(i))


def acknowledge(cache, op):
    with cache.write() as s:
        s.connection().exec_driver_sql(
            "UPDATE outbox SET state = 'applied', result = '{}' WHERE operation_id = ?",
            (op.operation_id,))


def rows(cache_or_path, table, where=""):
    path = getattr(cache_or_path, "path", cache_or_path)
    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as conn:
        conn.row_factory = sqlite3.Row
        return sorted(tuple(dict(r).items()) for r in conn.execute(
            f"SELECT * FROM {table} {where}"))


def delete_cache(cache):
    cache.close()
    for suffix in ("", "-wal", "-shm"):
        cache.path.with_name(cache.path.name + suffix).unlink(missing_ok=True)


def test_a_backup_holds_the_terminals_work_and_never_the_accounts(data_dir):
    cache = one_account_cache_at(data_dir / "cache.sqlite3")
    first = record(cache, 1)
    record_feedback(cache, first.operation_id, Rating.SATISFIED, None, at(2))
    record(cache, 3)

    written = backup_outbox(cache, now=at(4))

    assert written == data_dir / "outbox-backups" / "outbox-20261125T040400000000Z.sqlite3"
    assert find_backups(data_dir) == [written]
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    with sqlite3.connect(written) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {*WORK, "backup_info"}  # no accounts, communities, audit, sync state
    assert account().holder_name.encode() not in written.read_bytes()
    for table in ("outbox", "receipts", "receipt_counters", "feedback"):
        assert rows(written, table) == rows(cache, table), table
    assert [p.name for p in written.parent.iterdir()] == [written.name]  # no temporary file
    cache.close()


def test_the_backups_keep_the_recent_and_waiting_work_only(data_dir):
    cache = one_account_cache_at(data_dir / "cache.sqlite3")
    old_sent, old_waiting = record(cache, 1), record(cache, 2)
    acknowledge(cache, old_sent)
    a_month_later = at(2) + timedelta(days=outbox_backup.ACKNOWLEDGED_DAYS + 1)
    written = backup_outbox(cache, now=a_month_later)
    kept = {dict(r)["operation_id"] for r in rows(written, "outbox")}
    assert kept == {old_waiting.operation_id}
    assert rows(written, "receipt_counters") == rows(cache, "receipt_counters")
    cache.close()


def test_only_the_last_backups_are_kept_and_the_one_just_written_always(data_dir):
    cache = one_account_cache_at(data_dir / "cache.sqlite3")
    record(cache, 1)
    written = [backup_outbox(cache, now=at(10 + i)) for i in range(KEEP_BACKUPS + 2)]
    assert find_backups(data_dir) == written[::-1][:KEEP_BACKUPS]
    # The PC's clock set back a day: the new backup is kept, the oldest others go.
    back = backup_outbox(cache, now=at(10) - timedelta(days=1))
    assert back in find_backups(data_dir) and len(find_backups(data_dir)) == KEEP_BACKUPS
    assert written[-1] in find_backups(data_dir)
    cache.close()


def test_a_backup_that_fails_half_way_leaves_no_file(data_dir, monkeypatch):
    cache = one_account_cache_at(data_dir / "cache.sqlite3")
    record(cache, 1)
    good = backup_outbox(cache, now=at(2))

    def disk_full(cache, temp, now):
        temp.write_bytes(b"SQLite format 3\x00 half of a backup")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(outbox_backup, "_write_backup", disk_full)
    with pytest.raises(OSError):
        backup_outbox(cache, now=at(3))
    assert list((data_dir / "outbox-backups").iterdir()) == [good]
    cache.close()


def test_a_deleted_cache_is_restored_from_the_newest_backup(data_dir):
    path = data_dir / "cache.sqlite3"
    cache = one_account_cache_at(path)
    ops = []
    for i in range(6):
        ops.append(record(cache, i))
        backup_outbox(cache, now=at(i) + timedelta(seconds=30))
    acknowledge(cache, ops[0])  # answered by the server, then backed up once more
    record_feedback(cache, ops[0].operation_id, Rating.DISSATISFIED, "等太久", at(7))
    backup_outbox(cache, now=at(8))
    before = {t: rows(cache, t) for t in WORK}
    delete_cache(cache)

    cache = open_cache(path)  # as HallClient starts with no cache

    assert cache.restored is not None
    assert (cache.restored.waiting, cache.restored.acknowledged) == (5, 1)
    assert cache.restored.backups[0] == find_backups(data_dir)[0]
    for table in ("outbox", "receipts", "feedback", "receipt_counters"):
        assert rows(cache, table) == before[table], table  # ids, numbers, signatures, payloads
    with cache.write() as s:
        save_community(s, COMMUNITY)
        s.flush()
        save_account(s, account())
    assert record(cache, 20).receipt_no == "GZ-TH-01-T01-20261125-0007"  # numbers go on
    with cache.read() as s:
        actions = s.connection().exec_driver_sql("SELECT action FROM audit").scalars().all()
    assert "outbox_restored" in actions
    cache.close()


def test_a_restore_adds_only_the_operations_the_cache_lacks(data_dir):
    path = data_dir / "cache.sqlite3"
    cache = one_account_cache_at(path)
    kept, lost = record(cache, 1), record(cache, 2)
    backup = backup_outbox(cache, now=at(3))
    acknowledge(cache, kept)  # newer here than in the backup
    with cache.write() as s:
        conn = s.connection()
        conn.exec_driver_sql("DELETE FROM receipts WHERE operation_id = ?", (lost.operation_id,))
        conn.exec_driver_sql("DELETE FROM outbox WHERE operation_id = ?", (lost.operation_id,))

    restored = restore_from_backup(cache, backup)

    assert (restored.waiting, restored.acknowledged) == (1, 0)
    states = {dict(r)["operation_id"]: dict(r)["state"] for r in rows(cache, "outbox")}
    assert states == {kept.operation_id: "applied", lost.operation_id: "pending"}
    assert len(rows(cache, "receipts")) == 2
    cache.close()


def test_an_unreadable_newest_backup_gives_way_to_the_one_before(data_dir):
    path = data_dir / "cache.sqlite3"
    cache = one_account_cache_at(path)
    op = record(cache, 1)
    older = backup_outbox(cache, now=at(2))
    newest = backup_outbox(cache, now=at(3))
    newest.write_bytes(b"\xff" * 8192)
    delete_cache(cache)

    cache = open_cache(path)

    assert cache.restored is not None and cache.restored.backups == (older,)
    assert [dict(r)["operation_id"] for r in rows(cache, "outbox")] == [op.operation_id]
    cache.close()


def test_a_backup_of_another_version_is_restored_by_column_name(data_dir):
    path = data_dir / "cache.sqlite3"
    cache = one_account_cache_at(path)
    op = record(cache, 1)
    written = backup_outbox(cache, now=at(2))
    delete_cache(cache)
    # An older HallClient had no approval columns; a newer one has a column this one lacks.
    with sqlite3.connect(written) as conn:
        conn.execute("ALTER TABLE outbox DROP COLUMN approval_token")
        conn.execute("ALTER TABLE outbox ADD COLUMN from_a_later_version TEXT DEFAULT 'x'")

    cache = open_cache(path)

    [restored] = [dict(r) for r in rows(cache, "outbox")]
    assert restored["operation_id"] == op.operation_id and restored["approval_token"] is None
    assert "from_a_later_version" not in restored
    cache.close()


def test_no_backups_means_a_new_cache_starts_empty(data_dir):
    cache = open_cache(data_dir / "cache.sqlite3")
    assert cache.restored is None and rows(cache, "outbox") == []
    (data_dir / "outbox-backups").mkdir()
    (data_dir / "outbox-backups" / "notes.txt").write_text("not a backup")
    assert find_backups(data_dir) == []
    with pytest.raises(outbox_backup.BackupUnreadable):
        read_backup(data_dir / "outbox-backups" / "notes.txt")
    cache.close()


def test_salvage_on_a_deleted_cache_restores_it_from_the_backups(data_dir, monkeypatch, capsys):
    from hallclient.__main__ import main

    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(data_dir))
    assert main(["salvage", "--yes"]) == 0
    assert "nothing to salvage" in capsys.readouterr().out
    cache = one_account_cache_at(data_dir / "cache.sqlite3")
    op = record(cache, 1)
    backup_outbox(cache, now=at(2))
    delete_cache(cache)

    assert main(["salvage"]) == 0

    assert "holds 1 requests waiting to be sent" in capsys.readouterr().out
    assert [dict(r)["operation_id"] for r in rows(data_dir / "cache.sqlite3", "outbox")] == [
        op.operation_id]


def test_a_lost_cache_gives_back_the_customers_signature_and_ticket_with_the_request(data_dir):
    # The receipt signature covers the signature's hash: restored without the image, the
    # request would be refused by the server as not this terminal's.
    path = data_dir / "cache.sqlite3"
    cache = one_account_cache_at(path)
    drawn = signature()
    ticket = QueueTicket(number="A023", source=TicketSource.QUEUE, issued_at=at(-30),
                         called_at=at(-2))
    signed = record_operation(
        cache, TERMINAL, clerk="gz-th-01-c1", kind=BusinessKind.CONTACT_CHANGE,
        account_number="1000000001", raw_payload={**holder_presents(), "phone": "13900000001"},
        now=at(0), customer_signature=drawn, facts=CounterFacts(ticket=ticket))
    backup_outbox(cache, now=at(1))
    delete_cache(cache)

    cache = open_cache(path)

    with cache.read() as s:
        row = s.scalars(select(OutboxRow)).one()
        assert row.customer_signature == drawn
        assert (row.ticket_no, row.ticket_source) == ("A023", "queue")
        assert row.ticket_called_at == at(-2)
        receipt = s.scalars(select(ReceiptRow)).one()
    assert signature_matches(TERMINAL_KEY.public_hex, receipt.receipt_no, signed.operation_id,
                             receipt.signature, hashlib.sha256(drawn).hexdigest())
    cache.close()
