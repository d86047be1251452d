"""The audit hash chain: the shared module, and the terminal's trail in its cache."""

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from hallclient.receipts.content import HallInfo, build_receipt
from hallclient.receipts.history import reprint
from hallclient.store.accounts import save_account
from hallclient.store.audit import verify_cache_audit
from hallclient.store.cache import make_engine, migrate, open_cache
from hallclient.store.models import AuditRow, TaskRow
from hallclient.store.operations import TerminalIdentity, record_operation
from hallclient.store.tasks import close_task
from hallcore.audit_chain import (
    EMPTY_HEAD,
    GENESIS,
    ChainEntry,
    ChainHead,
    canonical,
    entry_hash,
    verify_chain,
)
from hallcore.domain.business import BusinessKind
from hallcore.domain.deadlines import HALL_TZ
from hallcore.domain.text import Text
from tests.support.factories import TERMINAL_KEY, WEEKDAYS, account, holder_presents

NOW = datetime(2026, 11, 25, 3, 0, 0, 250_000, tzinfo=UTC)


def chain(n):
    entries, prev = [], GENESIS
    for i in range(1, n + 1):
        fields = {"id": i * 10, "at": NOW + timedelta(minutes=i), "action": "reprint",
                  "detail": {"copy": i, "note": "补打"}}
        entry = ChainEntry(fields, prev, entry_hash(prev, fields))
        entries.append(entry)
        prev = entry.hash
    return entries


def head_of(entries):
    return ChainHead(entries[-1].id, entries[-1].hash)


# --- the shared module ---------------------------------------------------------------------


def test_encoding_is_canonical_whatever_the_key_order_or_time_zone():
    fields = {"id": 1, "at": NOW, "detail": {"b": 1, "a": "天河"}}
    reordered = {"detail": {"a": "天河", "b": 1}, "at": NOW.astimezone(HALL_TZ), "id": 1}
    naive_utc = {**fields, "at": NOW.replace(tzinfo=None)}  # as SQLite gives it back
    assert canonical(GENESIS, fields) == canonical(GENESIS, reordered) == canonical(
        GENESIS, naive_utc)
    assert b'"at":"2026-11-25T03:00:00.250000+00:00"' in canonical(GENESIS, fields)
    assert entry_hash(GENESIS, fields) != entry_hash("1" * 64, fields)


def test_intact_chain_verifies_with_and_without_its_head():
    entries = chain(4)
    assert verify_chain(entries) is None
    assert verify_chain(entries, head_of(entries)) is None
    assert verify_chain([], EMPTY_HEAD) is None


def test_edited_entry_is_named():
    entries = chain(4)
    entries[2] = dataclasses.replace(entries[2], fields={**entries[2].fields, "detail": {}})
    found = verify_chain(entries)
    assert found is not None and found.entry_id == 30 and "edited" in found.problem


def test_edited_entry_with_its_hash_recomputed_breaks_the_next_link():
    entries = chain(4)
    fields = {**entries[1].fields, "action": "nothing"}
    entries[1] = ChainEntry(fields, entries[1].prev_hash, entry_hash(entries[1].prev_hash, fields))
    found = verify_chain(entries)
    assert found is not None and found.entry_id == 30 and "entry 20" in found.problem


@pytest.mark.parametrize("change, named", [
    (lambda e: e[:1] + e[2:], 30),  # a middle entry removed
    (lambda e: e[1:], 20),  # the first entry removed
    (lambda e: [e[0], e[2], e[1], e[3]], 30),  # two entries swapped
    (lambda e: [*e[:2], ChainEntry({"id": 25}, e[1].hash, entry_hash(e[1].hash, {"id": 25})),
                *e[2:]], 30),  # an entry inserted
])
def test_removed_reordered_or_inserted_entries_break_at_the_next(change, named):
    found = verify_chain(change(chain(4)))
    assert found is not None and found.entry_id == named


def test_renumbered_entry_breaks_its_hash():
    entries = chain(3)
    entries[1] = dataclasses.replace(entries[1], fields={**entries[1].fields, "id": 21})
    found = verify_chain(entries)
    assert found is not None and found.entry_id == 21 and "edited" in found.problem


def test_removed_tail_is_found_only_with_the_head():
    entries = chain(4)
    head = head_of(entries)
    assert verify_chain(entries[:3]) is None  # what a chain alone cannot show
    found = verify_chain(entries[:3], head)
    assert found is not None and found.entry_id == 40 and "removed" in found.problem
    emptied = verify_chain([], head)
    assert emptied is not None and emptied.entry_id == 40
    missing_head = verify_chain(entries, EMPTY_HEAD)
    assert missing_head is not None and missing_head.entry_id == 40


# --- the terminal's cache --------------------------------------------------------------------

TERMINAL = TerminalIdentity("GZ-TH-01", "T01", TERMINAL_KEY)
HALL = HallInfo("GZ-TH-01", Text("天河营业厅", "Tianhe Service Hall"))


def describe(recorded, before, payload):
    return build_receipt(recorded, before, payload, hall=HALL, terminal_id="T01",
                         clerk="gz-th-01-c1", pending=True, calendar=WEEKDAYS).to_json()


@pytest.fixture
def audited(one_account_cache):
    """A cache whose trail holds two requests, a reprint and a closed task (5 entries)."""
    cache = one_account_cache

    def record(kind, payload):
        return record_operation(cache, TERMINAL, clerk="gz-th-01-c1", kind=BusinessKind(kind),
                                account_number="1000000001", raw_payload=payload, now=NOW,
                                describe=describe)

    first = record("suspend", holder_presents())
    record("contact_change", {**holder_presents(), "phone": "13800001111"})
    reprint(cache, first.receipt_no, clerk="gz-th-01-c2", now=NOW)
    with cache.write() as s:
        task = TaskRow(operation_id=first.operation_id, kind="conflict", created_at=NOW,
                       account_number="1000000001", business_type="suspend",
                       server_reason_zh="冲突", server_reason_en="conflict")
        s.add(task)
    # A time in the hall's zone is kept as UTC, so the entry still hashes the same when read.
    close_task(cache, task.id, clerk="gz-th-01-c2", resolution="cancelled",
               now=NOW.astimezone(HALL_TZ))
    reprint(cache, first.receipt_no, clerk="gz-th-01-c1", now=NOW)
    return cache


def audit_rows(cache):
    with cache.read() as s:
        return s.scalars(select(AuditRow).order_by(AuditRow.id)).all()


def check(cache):
    with cache.read() as s:
        return verify_cache_audit(s)


def test_counter_work_makes_an_intact_chain(audited):
    rows = audit_rows(audited)
    assert [r.action for r in rows] == ["operation", "operation", "reprint", "close_task",
                                        "reprint"]
    assert [r.id for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    assert check(audited) is None


def test_edited_detail_in_the_cache_breaks_at_that_entry(audited):
    with audited.write() as s:
        s.execute(text("update audit set detail = json_set(detail, '$.copy', 9) where id = 3"))
    found = check(audited)
    assert found is not None and found.entry_id == 3 and "edited" in found.problem


def test_deleted_middle_entry_in_the_cache_breaks_at_the_next(audited):
    with audited.write() as s:
        s.execute(text("delete from audit where id = 2"))
    found = check(audited)
    assert found is not None and found.entry_id == 3


def test_migration_chains_the_entries_already_there(tmp_path):
    path = tmp_path / "cache.sqlite3"
    path.touch(mode=0o600)
    engine = make_engine(path)
    migrate(engine, "0004")
    with engine.begin() as conn:
        for i, (action, detail) in enumerate([
                ("operation", '{"receipt_no": "GZ-TH-01-T01-20261125-0001"}'),
                ("reprint", '{"copy": 1}'), ("close_task", '{"note": "已处理"}')], start=1):
            conn.execute(text(
                "insert into audit (id, at, clerk, action, subject, detail) values "
                "(:id, :at, 'gz-th-01-c1', :action, 'S', :detail)"),
                {"id": i, "at": f"2026-11-2{i} 08:00:00.000000", "action": action,
                 "detail": detail})
    engine.dispose()

    cache = open_cache(path)
    rows = audit_rows(cache)
    assert [r.id for r in rows] == [1, 2, 3] and rows[0].prev_hash == GENESIS
    assert check(cache) is None
    # New entries carry on from the migrated ones.
    with cache.write() as s:
        save_account(s, account(community=None))
    record_operation(cache, TERMINAL, clerk="gz-th-01-c1", kind=BusinessKind.SUSPEND,
                     account_number="1000000001", raw_payload=holder_presents(), now=NOW)
    assert audit_rows(cache)[3].prev_hash == rows[2].hash and check(cache) is None
    with cache.write() as s:
        s.execute(text("update audit set clerk = 'someone-else' where id = 2"))
    found = check(cache)
    assert found is not None and found.entry_id == 2
    cache.close()
