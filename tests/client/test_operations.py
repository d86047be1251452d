"""The local transaction of a counter request, without any server."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from hallclient.auth.secrets import EphemeralKeyring, SecretStore
from hallclient.store.accounts import load_account, save_account
from hallclient.store.cache import open_cache
from hallclient.store.models import AuditRow, OutboxRow, ReceiptRow
from hallclient.store.operations import (
    OverrideNeeded,
    RequestRefused,
    SignOff,
    TerminalIdentity,
    record_operation,
)
from hallclient.sync.api import ServerApi
from hallclient.sync.engine import Credentials, SyncEngine
from hallcore.domain.accounts import AccountStatus
from hallcore.domain.business import BusinessKind, PayloadInvalid
from hallcore.domain.deadlines import HALL_TZ
from hallcore.signing import SigningKey, approval_message, signature_matches, verify
from hallcore.wire import PushOperation
from tests.support.factories import TERMINAL_KEY, account, holder_presents

TERMINAL = TerminalIdentity("GZ-TH-01", "T01", TERMINAL_KEY)
NOON_CST = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)


@pytest.fixture
def cache(one_account_cache):
    with one_account_cache.write() as s:
        save_account(s, account(number="1000000002", arrears_fen=500))
    return one_account_cache


def record(cache, kind, number="1000000001", payload=None, now=NOON_CST, **options):
    return record_operation(cache, TERMINAL, clerk="gz-th-01-c1", kind=BusinessKind(kind),
                            account_number=number,
                            raw_payload=holder_presents() if payload is None else payload,
                            now=now, **options)


def counts(cache):
    with cache.read() as s:
        return tuple(s.scalar(select(func.count()).select_from(m))
                     for m in (OutboxRow, ReceiptRow, AuditRow))


def test_request_commits_account_outbox_receipt_and_audit_together(cache):
    done = record(cache, "suspend")
    with cache.read() as s:
        op = s.scalars(select(OutboxRow)).one()
        receipt = s.scalars(select(ReceiptRow)).one()
        audit = s.scalars(select(AuditRow)).one()
        cached = load_account(s, "1000000001")
    assert cached.status is AccountStatus.SUSPENDED and cached.version == 5
    assert (op.operation_id, op.base_version, op.state) == (done.operation_id, 4, "pending")
    assert receipt.receipt_no == done.receipt_no == "GZ-TH-01-T01-20261125-0001"
    assert signature_matches(TERMINAL.key.public_hex, receipt.receipt_no, op.operation_id,
                             receipt.signature)
    assert audit.subject == op.operation_id and audit.detail["receipt_no"] == done.receipt_no


def test_audit_entry_holds_no_personal_data(cache):
    record(cache, "suspend")
    with cache.read() as s:
        detail = str(s.scalars(select(AuditRow)).one().detail)
    acct = account()
    for personal in (acct.holder_name, acct.id_number, acct.phone):
        assert personal not in detail


def test_receipt_numbers_count_up_per_day_in_hall_time(cache):
    first = record(cache, "contact_change", payload={**holder_presents(), "phone": "13900000001"})
    second = record(cache, "contact_change", payload={**holder_presents(), "phone": "13900000002"})
    # 17:00 UTC is 01:00 the next day in the hall: a new day, a new sequence.
    next_day = record(cache, "contact_change", now=NOON_CST + timedelta(hours=13),
                      payload={**holder_presents(), "phone": "13900000003"})
    assert [r.receipt_no[-13:] for r in (first, second, next_day)] == [
        "20261125-0001", "20261125-0002", "20261126-0001"]


def test_receipt_numbers_are_not_reused_after_reopening(tmp_path, cache):
    first = record(cache, "contact_change", payload={**holder_presents(), "phone": "13900000001"})
    cache.close()
    again = open_cache(cache.path)
    second = record(again, "contact_change", payload={**holder_presents(), "phone": "13900000002"})
    assert first.receipt_no != second.receipt_no
    again.close()


def test_refused_request_writes_nothing(cache):
    with pytest.raises(RequestRefused) as err:
        record(cache, "resume")
    assert "suspended" in err.value.reason.en
    assert counts(cache) == (0, 0, 0)


def test_invalid_payload_writes_nothing(cache):
    with pytest.raises(PayloadInvalid):
        record(cache, "suspend", payload={})
    assert counts(cache) == (0, 0, 0)


TRANSFER = {"new_holder_name": "林晓燕", "new_holder_id_type": "resident_id",
            "new_holder_id_number": "440106199203154429", "new_holder_phone": "13922334455",
            "carry_arrears": True}
SUPERVISOR_KEY = SigningKey.from_hex("22" * 32)


def test_warning_needs_a_supervisor_override(cache):
    with pytest.raises(OverrideNeeded) as err:
        record(cache, "transfer", number="1000000002", payload=TRANSFER)
    need = err.value
    assert "¥5.00" in need.warnings[0].en
    assert (need.kind, need.account_number) == (BusinessKind.TRANSFER, "1000000002")
    assert counts(cache) == (0, 0, 0)
    done = record(cache, "transfer", number="1000000002", payload=TRANSFER,
                  sign_off=SignOff("gz-th-01-s1", need.operation_id, token="t" * 32))
    assert done.operation_id == need.operation_id and done.warnings
    with cache.read() as s:
        audit = s.scalars(select(AuditRow)).one()
        op = s.scalars(select(OutboxRow)).one()
    assert audit.detail["approved_by"] == "gz-th-01-s1"
    assert (op.approved_by, op.approval_token, op.approval_signature) == (
        "gz-th-01-s1", "t" * 32, None)


def test_each_request_that_needs_a_sign_off_names_a_new_operation(cache):
    ids = set()
    for _ in range(2):
        with pytest.raises(OverrideNeeded) as err:
            record(cache, "close")
        ids.add(err.value.operation_id)
    assert len(ids) == 2


def test_a_sign_off_once_used_does_not_sign_off_another_request(cache):
    with pytest.raises(OverrideNeeded) as err:
        record(cache, "transfer", number="1000000002", payload=TRANSFER)
    signed = SignOff("gz-th-01-s1", err.value.operation_id, key=SUPERVISOR_KEY)
    record(cache, "transfer", number="1000000002", payload=TRANSFER, sign_off=signed)
    with pytest.raises(OverrideNeeded) as again:
        record(cache, "close", sign_off=signed)
    assert again.value.operation_id != signed.operation_id
    assert counts(cache) == (1, 1, 1)


def test_a_sign_off_is_proven_by_a_token_or_a_key(cache):
    with pytest.raises(ValueError):
        SignOff("gz-th-01-s1", "a" * 36)
    with pytest.raises(ValueError):
        SignOff("gz-th-01-s1", "a" * 36, token="t" * 32, key=SUPERVISOR_KEY)
    assert "t" * 32 not in repr(SignOff("gz-th-01-s1", "a" * 36, token="t" * 32))


@pytest.mark.parametrize("now", [
    NOON_CST,  # whole seconds: no fraction in the ISO text
    NOON_CST.replace(microsecond=250_001).astimezone(HALL_TZ),  # in the hall's time zone
])
def test_an_offline_sign_off_verifies_as_the_server_reads_the_push(cache, now):
    """The signature covers the operation as pushed: its created_at is the UTC time kept in
    the outbox, and the server rebuilds the message from the pushed ISO text."""
    with pytest.raises(OverrideNeeded) as err:
        record(cache, "transfer", number="1000000002", payload=TRANSFER, now=now)
    done = record(cache, "transfer", number="1000000002", payload=TRANSFER, now=now,
                  sign_off=SignOff("gz-th-01-s1", err.value.operation_id, key=SUPERVISOR_KEY))
    engine = SyncEngine(cache, Credentials(ServerApi("http://127.0.0.1:9"),
                                           SecretStore("GZ-TH-01", "T01", EphemeralKeyring())))
    [pushed] = engine._next_batch(set())  # what the sync engine sends
    op = PushOperation.model_validate_json(pushed.model_dump_json())  # what the server reads
    assert op.operation_id == done.operation_id and op.approval_token is None
    message = approval_message(op.operation_id, op.account_number, op.business_type.value,
                               op.approved_by, op.created_at)
    assert verify(SUPERVISOR_KEY.public_hex, message, op.approval_signature)
    assert not verify(SigningKey.generate().public_hex, message, op.approval_signature)
    moved = approval_message(op.operation_id, op.account_number, op.business_type.value,
                             op.approved_by, op.created_at + timedelta(microseconds=1))
    assert not verify(SUPERVISOR_KEY.public_hex, moved, op.approval_signature)


def test_online_only_business_is_refused_offline(cache):
    with pytest.raises(RequestRefused) as err:
        record(cache, "close", online=False, online_only={BusinessKind.CLOSE})
    assert "network" in err.value.reason.en and "销户" in err.value.reason.zh
    assert counts(cache) == (0, 0, 0)
    assert record(cache, "suspend", online=False, online_only={BusinessKind.CLOSE})


def test_new_connection_waits_for_its_account_number(cache):
    payload = {"applicant_name": "陈志明", "applicant_id_type": "resident_id",
               "applicant_id_number": "440106199203154429", "phone": "13800138000",
               "supply_address": "广州市天河区天河路385号12栋1803房"}
    done = record(cache, "new_connection", number=None, payload=payload)
    assert done.account is None
    with cache.read() as s:
        op = s.scalars(select(OutboxRow)).one()
    assert op.account_number is None and op.base_version is None
