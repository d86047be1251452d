"""The history of one account's operations on this terminal, with their sync state."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from hallclient.store.account_history import (
    SYNC_STATE_LABELS,
    OperationEntry,
    SyncState,
    account_history,
)
from hallclient.store.accounts import save_account
from hallclient.store.models import OutboxRow
from hallclient.store.operations import TerminalIdentity, record_operation
from hallclient.sync.apply import record_results
from hallcore.domain.accounts import AccountStatus
from hallcore.domain.business import BusinessKind
from hallcore.domain.deadlines import HALL_TZ
from hallcore.wire import AccountWire, BilingualText, OperationResult, Outcome
from tests.support.factories import TERMINAL_KEY, account, holder_presents

TERMINAL = TerminalIdentity("GZ-TH-01", "T01", TERMINAL_KEY)
NOON_CST = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)


@pytest.fixture
def cache(one_account_cache):
    with one_account_cache.write() as s:
        save_account(s, account(number="1000000002"))
    return one_account_cache


def change_phone(cache, n, *, number="1000000001", now=NOON_CST, clerk="gz-th-01-c1"):
    return record_operation(cache, TERMINAL, clerk=clerk, kind=BusinessKind.CONTACT_CHANGE,
                            account_number=number,
                            raw_payload={**holder_presents(), "phone": f"139000000{n:02d}"},
                            now=now)


def history(cache, number="1000000001", **options):
    with cache.read() as s:
        return account_history(s, number, **options)


def answer(cache, operation_id, outcome, first_outcome=None, account_wire=None):
    """The server's answer to a push, written as the sync engine writes it."""
    result = OperationResult(
        operation_id=operation_id, outcome=outcome, first_outcome=first_outcome,
        account=account_wire,
        reason=None if outcome is Outcome.APPLIED else BilingualText(zh="不行", en="no"))
    with cache.write() as s:
        record_results(s, [result], NOON_CST + timedelta(hours=1))


def test_lists_the_accounts_operations_newest_first_with_their_receipt(cache):
    first = change_phone(cache, 1, now=NOON_CST)
    # Recorded later, but with a time given in the hall's zone: compared as instants.
    third = record_operation(cache, TERMINAL, clerk="gz-th-01-c2", kind=BusinessKind.SUSPEND,
                             account_number="1000000001", raw_payload=holder_presents(),
                             now=datetime(2026, 11, 25, 14, 30, tzinfo=HALL_TZ))
    second = change_phone(cache, 2, now=NOON_CST + timedelta(hours=1))
    assert history(cache) == [
        OperationEntry(third.operation_id, datetime(2026, 11, 25, 6, 30, tzinfo=UTC),
                       BusinessKind.SUSPEND, "gz-th-01-c2", third.receipt_no, SyncState.PENDING),
        OperationEntry(second.operation_id, NOON_CST + timedelta(hours=1),
                       BusinessKind.CONTACT_CHANGE, "gz-th-01-c1", second.receipt_no,
                       SyncState.PENDING),
        OperationEntry(first.operation_id, NOON_CST, BusinessKind.CONTACT_CHANGE,
                       "gz-th-01-c1", first.receipt_no, SyncState.PENDING),
    ]


def test_times_are_aware_utc(cache):
    change_phone(cache, 1, now=datetime(2026, 11, 25, 8, 0, tzinfo=HALL_TZ))
    [entry] = history(cache)
    assert entry.created_at.tzinfo is UTC
    assert entry.created_at == datetime(2026, 11, 25, 0, 0, tzinfo=UTC)


def test_operations_of_the_same_moment_keep_the_order_they_were_taken_in(cache):
    done = [change_phone(cache, n) for n in range(4)]
    assert [e.receipt_no for e in history(cache)] == [d.receipt_no for d in reversed(done)]


def test_limit_keeps_the_latest(cache):
    done = [change_phone(cache, n, now=NOON_CST + timedelta(minutes=n)) for n in range(5)]
    assert [e.operation_id for e in history(cache, limit=2)] == [
        done[4].operation_id, done[3].operation_id]
    assert len(history(cache)) == 5  # the default limit is above five
    assert len(history(cache, limit=0)) == 0


def test_default_limit_is_twenty(cache):
    for n in range(21):
        change_phone(cache, n, now=NOON_CST + timedelta(minutes=n))
    entries = history(cache)
    assert len(entries) == 20
    assert entries[-1].created_at == NOON_CST + timedelta(minutes=1)  # the oldest is left out


def test_server_answers_map_to_sync_states(cache):
    ops = [change_phone(cache, n, now=NOON_CST + timedelta(minutes=n)) for n in range(6)]
    answer(cache, ops[1].operation_id, Outcome.APPLIED)
    answer(cache, ops[2].operation_id, Outcome.CONFLICT)
    answer(cache, ops[3].operation_id, Outcome.REJECTED)
    # A repeated push: the state is what the first push was answered.
    answer(cache, ops[4].operation_id, Outcome.DUPLICATE, first_outcome=Outcome.APPLIED)
    answer(cache, ops[5].operation_id, Outcome.DUPLICATE, first_outcome=Outcome.CONFLICT)
    assert [e.state for e in reversed(history(cache))] == [
        SyncState.PENDING, SyncState.SYNCED, SyncState.CONFLICT, SyncState.REJECTED,
        SyncState.SYNCED, SyncState.CONFLICT]


def test_an_outbox_row_marked_duplicate_counts_as_synced(cache):
    # record_results stores the first push's outcome, but the outbox allows 'duplicate'.
    done = change_phone(cache, 1)
    with cache.write() as s:
        s.scalars(select(OutboxRow)).one().state = "duplicate"
    assert [(e.operation_id, e.state) for e in history(cache)] == [
        (done.operation_id, SyncState.SYNCED)]


def test_other_accounts_operations_are_not_listed(cache):
    mine = change_phone(cache, 1)
    theirs = change_phone(cache, 2, number="1000000002")
    assert [e.operation_id for e in history(cache)] == [mine.operation_id]
    assert [e.operation_id for e in history(cache, "1000000002")] == [theirs.operation_id]


def test_account_without_operations_has_an_empty_history(cache):
    change_phone(cache, 1)
    assert history(cache, "1000000002") == []
    assert history(cache, "9999999999") == []


def test_new_connection_is_listed_once_the_server_gave_its_number(cache):
    payload = {"applicant_name": "陈志明", "applicant_id_type": "resident_id",
               "applicant_id_number": "440106199203154429", "phone": "13800138000",
               "supply_address": "广州市天河区天河路385号12栋1803房"}
    done = record_operation(cache, TERMINAL, clerk="gz-th-01-c1",
                            kind=BusinessKind.NEW_CONNECTION, account_number=None,
                            raw_payload=payload, now=NOON_CST)
    assert history(cache, "1000000009") == []
    opened = AccountWire(
        number="1000000009", holder_name="陈志明", id_type="resident_id",
        id_number="440106199203154429", phone="13800138000",
        supply_address="广州市天河区天河路385号12栋1803房", mailing_address=None,
        status=AccountStatus.PENDING_CONNECTION, version=1, district="GZ-TH", arrears_fen=0,
        sms_consent=False, community=None, seq=7)
    answer(cache, done.operation_id, Outcome.APPLIED, account_wire=opened)
    [entry] = history(cache, "1000000009")
    assert (entry.operation_id, entry.kind, entry.receipt_no, entry.state) == (
        done.operation_id, BusinessKind.NEW_CONNECTION, done.receipt_no, SyncState.SYNCED)


def test_every_sync_state_has_a_label_in_both_languages():
    assert set(SYNC_STATE_LABELS) == set(SyncState)
    assert SYNC_STATE_LABELS[SyncState.PENDING].zh == "待上传"
    assert SYNC_STATE_LABELS[SyncState.REJECTED].en == "rejected"
    assert all(label.zh and label.en for label in SYNC_STATE_LABELS.values())
