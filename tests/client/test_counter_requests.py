"""A counter request as one operation, without Qt: recorded with its receipt, drawn, and what
changed said in the value it returns."""

import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from hallclient.counter import requests
from hallclient.counter.requests import (
    CounterDesk,
    CounterRequest,
    View,
    make_request,
    reprint_receipt,
)
from hallclient.receipts.content import COPY, HallInfo
from hallclient.receipts.history import ReceiptUnavailable
from hallclient.store.models import AuditRow, OutboxRow, ReceiptRow, TaskRow
from hallclient.store.operations import RequestRefused, TerminalIdentity
from hallclient.store.tasks import open_tasks
from hallcore.domain.accounts import AccountStatus
from hallcore.domain.business import BusinessKind
from hallcore.domain.text import Text
from tests.support import ROOT
from tests.support.factories import NEW_CONNECTION, TERMINAL_KEY, account, holder_presents

NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)  # noon in the hall


@pytest.fixture
def desk(one_account_cache):
    return CounterDesk(one_account_cache, TerminalIdentity("GZ-TH-01", "T01", TERMINAL_KEY),
                       "gz-th-01-c1", HallInfo("GZ-TH-01", Text("天河营业厅", "Tianhe")))


def suspend(**options):
    return CounterRequest(BusinessKind.SUSPEND, account().number, holder_presents(),
                          online=True, **options)


def test_a_request_is_recorded_drawn_and_says_the_account_and_its_history_changed(desk):
    changes = make_request(desk, suspend(), NOW)
    assert changes.account.status is AccountStatus.SUSPENDED
    assert changes.account == changes.recorded.account
    assert changes.refresh == {View.ACCOUNT, View.HISTORY}
    receipt = changes.receipt
    assert receipt.content.receipt_no == changes.recorded.receipt_no
    assert receipt.pdf.startswith(b"%PDF") and receipt.failure is None
    with desk.cache.read() as s:
        assert s.scalars(select(OutboxRow.operation_id)).all() == [
            changes.recorded.operation_id]
        kept = s.scalars(select(ReceiptRow.content)).one()
    assert kept == receipt.content.to_json()  # a reprint says what the original said


def test_a_new_connection_changes_no_cached_account_yet(desk):
    changes = make_request(desk, CounterRequest(BusinessKind.NEW_CONNECTION, None,
                                                NEW_CONNECTION, online=True), NOW)
    assert changes.account is None and changes.refresh == {View.HISTORY}
    assert changes.receipt.pdf is not None


def test_a_refused_request_raises_and_writes_nothing(desk):
    with pytest.raises(RequestRefused):
        make_request(desk, CounterRequest(BusinessKind.RESUME, account().number,
                                          holder_presents(), online=True), NOW)
    with pytest.raises(RequestRefused, match="server can be reached"):
        make_request(desk, CounterRequest(BusinessKind.CLOSE, account().number,
                                          holder_presents(), online=False,
                                          online_only=frozenset({BusinessKind.CLOSE})), NOW)
    with desk.cache.read() as s:
        assert s.scalars(select(OutboxRow)).all() == []
        assert s.scalars(select(ReceiptRow)).all() == []


def test_a_receipt_that_cannot_be_drawn_leaves_the_request_recorded(desk, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("font file unreadable")

    monkeypatch.setattr(requests, "render_pdf", broken)
    changes = make_request(desk, suspend(), NOW)
    assert changes.receipt.pdf is None and "font file unreadable" in str(changes.receipt.failure)
    assert changes.receipt.content.receipt_no == changes.recorded.receipt_no
    with desk.cache.read() as s:
        assert s.scalars(select(ReceiptRow.receipt_no)).one() == changes.recorded.receipt_no


def test_redoing_a_task_closes_it_with_the_request_and_says_the_tasks_changed(desk):
    first = make_request(desk, suspend(), NOW)
    with desk.cache.write() as s:
        s.add(TaskRow(operation_id=first.recorded.operation_id, kind="conflict",
                      created_at=NOW, account_number=account().number, customer_name="陈伟",
                      customer_phone=None, business_type="suspend",
                      server_reason_zh="版本冲突", server_reason_en="version conflict"))
    [task] = open_tasks(desk.cache)
    redone = make_request(desk, CounterRequest(
        BusinessKind.RESUME, account().number, holder_presents(), online=True,
        redoes_task=task.id), NOW)
    assert View.TASKS in redone.refresh and open_tasks(desk.cache) == []
    with desk.cache.read() as s:
        closed = s.get(TaskRow, task.id)
    assert closed.resolution == f"redone, receipt {redone.recorded.receipt_no}"


def test_a_reprint_is_drawn_as_a_counted_copy(desk):
    issued = make_request(desk, suspend(), NOW)
    copy = reprint_receipt(desk, issued.recorded.receipt_no, NOW)
    assert copy.pdf.startswith(b"%PDF") and copy.content.marking == COPY
    with desk.cache.read() as s:
        assert s.scalars(select(ReceiptRow.copies_printed)).one() == 1
        assert s.scalars(select(AuditRow.action).where(AuditRow.action == "reprint")).all() == [
            "reprint"]
    with pytest.raises(ReceiptUnavailable):
        reprint_receipt(desk, "GZ-TH-01-T01-20261125-9999", NOW)


def test_requests_run_without_qt():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, hallclient.counter.requests; "
         "print(sorted(m for m in sys.modules if m.startswith('PySide6')))"],
        cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


def test_each_request_leaves_an_outbox_backup_that_holds_it(desk):
    from hallclient.store.outbox_backup import find_backups

    assert find_backups(desk.cache.path.parent) == []
    changes = make_request(desk, suspend(), NOW)
    [backup] = find_backups(desk.cache.path.parent)
    with closing(sqlite3.connect(backup)) as db:
        assert db.execute("SELECT operation_id FROM outbox").fetchall() == [
            (changes.recorded.operation_id,)]
