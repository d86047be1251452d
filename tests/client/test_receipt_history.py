"""Receipts kept with their content: exact reprints, marked as copies and audited."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from hallclient.receipts.content import COPY, HallInfo, ReceiptContent, build_receipt
from hallclient.receipts.history import ReceiptUnavailable, receipt_history, reprint
from hallclient.receipts.testpage import sample_receipts
from hallclient.store.account_history import SyncState
from hallclient.store.models import AuditRow, OutboxRow
from hallclient.store.operations import TerminalIdentity, record_operation
from hallclient.ui.i18n import use_language
from hallclient.ui.receipt_history import ReceiptHistoryDialog
from hallcore.domain.business import BusinessKind
from hallcore.domain.text import Text
from tests.support.factories import TERMINAL_KEY, WEEKDAYS, holder_presents

HALL = HallInfo("GZ-TH-01", Text("天河营业厅", "Tianhe Service Hall"))
TERMINAL = TerminalIdentity("GZ-TH-01", "T01", TERMINAL_KEY)
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def describe(recorded, before, payload):
    return build_receipt(recorded, before, payload, hall=HALL, terminal_id="T01",
                         clerk="gz-th-01-c1", pending=True, calendar=WEEKDAYS).to_json()


@pytest.fixture
def cache(one_account_cache):
    return one_account_cache


def record(cache, kind, payload):
    return record_operation(cache, TERMINAL, clerk="gz-th-01-c1", kind=BusinessKind(kind),
                            account_number="1000000001", raw_payload=payload, now=NOW,
                            describe=describe)


def test_receipt_content_survives_its_json_round_trip():
    for sample in sample_receipts(HALL, "T01", NOW):
        content = replace(sample, marking=None)  # a marking belongs to a print, not the receipt
        # The customer's signature is kept with the operation; a reprint takes it from there.
        assert ReceiptContent.from_json(content.to_json()) == replace(
            content, customer_signature=None)


def test_reprint_is_the_original_marked_as_a_copy_and_audited(cache):
    done = record(cache, "suspend", holder_presents())
    # The account changes afterwards; the reprint still says what the original said.
    record(cache, "contact_change", {**holder_presents(), "phone": "13800001111"})
    copy = reprint(cache, done.receipt_no, clerk="gz-th-01-c2", now=NOW)
    again = reprint(cache, done.receipt_no, clerk="gz-th-01-c2", now=NOW)
    assert copy.marking == COPY and copy.receipt_no == done.receipt_no
    assert any("暂停用电" in line.zh for line in copy.changes)
    assert not any("13800001111" in line.zh for line in copy.changes)
    assert again == copy
    with cache.read() as s:
        audits = s.scalars(select(AuditRow).where(AuditRow.action == "reprint")).all()
    assert [(a.clerk, a.subject, a.detail["copy"]) for a in audits] == [
        ("gz-th-01-c2", done.receipt_no, 1), ("gz-th-01-c2", done.receipt_no, 2)]


def test_history_lists_the_latest_first_with_their_state(cache):
    first = record(cache, "suspend", holder_presents())
    second = record(cache, "contact_change", {**holder_presents(), "phone": "13800001111"})
    reprint(cache, first.receipt_no, clerk="gz-th-01-c1", now=NOW)
    history = receipt_history(cache)
    assert [e.receipt_no for e in history] == [second.receipt_no, first.receipt_no]
    assert [e.state for e in history] == ["pending", "pending"]
    assert [e.copies_printed for e in history] == [0, 1]


def answered(cache, recorded, outbox_state):
    with cache.write() as s:
        s.scalars(select(OutboxRow).where(
            OutboxRow.operation_id == recorded.operation_id)).one().state = outbox_state


def test_history_says_where_each_request_stands_with_the_server(cache):
    suspended = record(cache, "suspend", holder_presents())
    changed = record(cache, "contact_change", {**holder_presents(), "phone": "13800001111"})
    answered(cache, suspended, "applied")
    answered(cache, changed, "conflict")
    assert [e.state for e in receipt_history(cache)] == [SyncState.CONFLICT, SyncState.SYNCED]


def test_the_history_dialog_says_each_state_in_the_clerks_language(qtbot, cache):
    answered(cache, record(cache, "suspend", holder_presents()), "applied")
    record(cache, "contact_change", {**holder_presents(), "phone": "13800001111"})
    shown = {}
    for lang in ("en", "zh"):  # ends in the language the application starts in
        use_language(lang)
        dialog = ReceiptHistoryDialog(receipt_history(cache))
        qtbot.addWidget(dialog)
        shown[lang] = dialog.lines()
        assert dialog.listing.horizontalHeaderItem(4).text() == (
            "State" if lang == "en" else "状态")
    assert "待上传" in shown["zh"][0] and "已同步" in shown["zh"][1]
    assert "waiting to send" in shown["en"][0] and "synced" in shown["en"][1]
    assert not any(raw in line for line in shown["zh"] + shown["en"]
                   for raw in ("pending", "applied"))


def test_unknown_receipt_cannot_be_reprinted(cache):
    with pytest.raises(ReceiptUnavailable):
        reprint(cache, "GZ-TH-01-T01-20261125-9999", clerk="gz-th-01-c1", now=NOW)
