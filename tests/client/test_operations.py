"""The local transaction of a counter request, without any server."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from hallclient.store.accounts import load_account, save_account
from hallclient.store.cache import open_cache
from hallclient.store.models import AuditRow, OutboxRow, ReceiptRow
from hallclient.store.operations import (
    OverrideNeeded,
    RequestRefused,
    TerminalIdentity,
    record_operation,
)
from hallcore.domain.accounts import AccountStatus
from hallcore.domain.business import BusinessKind, PayloadInvalid
from hallcore.signing import signature_matches
from tests.support.factories import account, holder_presents

TERMINAL = TerminalIdentity("GZ-TH-01", "T01", "k" * 64)
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
    assert signature_matches(TERMINAL.key, receipt.receipt_no, op.operation_id,
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


def test_warning_needs_a_supervisor_override(cache):
    transfer = {"new_holder_name": "林晓燕", "new_holder_id_type": "resident_id",
                "new_holder_id_number": "440106199203154429", "new_holder_phone": "13922334455",
                "carry_arrears": True}
    with pytest.raises(OverrideNeeded) as err:
        record(cache, "transfer", number="1000000002", payload=transfer)
    assert "¥5.00" in err.value.warnings[0].en
    assert counts(cache) == (0, 0, 0)
    done = record(cache, "transfer", number="1000000002", payload=transfer,
                  approved_by="gz-th-01-s1")
    with cache.read() as s:
        audit = s.scalars(select(AuditRow)).one()
    assert audit.detail["approved_by"] == "gz-th-01-s1" and done.warnings


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
