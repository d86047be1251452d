"""A counter request as one operation: record it in the local outbox, build and draw its
receipt, and say what changed.

Plain Python, no Qt: the counter window runs `make_request` off the UI thread and refreshes
the views the returned `CounterChanges` names, as each write of the window should ("the
request changed the account and its history", not five panels refreshed by hand).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from hallclient.config import Settings, load_settings
from hallclient.receipts.content import HallInfo, ReceiptContent, build_receipt
from hallclient.receipts.history import reprint
from hallclient.receipts.render import ReceiptFormat, customer_format, render_pdf
from hallclient.store.cache import Cache, CacheUnwritable
from hallclient.store.operations import (
    CounterFacts,
    DocumentScan,
    RecordedOperation,
    SignOff,
    TerminalIdentity,
    record_operation,
)
from hallclient.store.outbox_backup import refresh_backup
from hallclient.store.tasks import TaskAlreadyClosed, close_task
from hallclient.sync.work_calendar import hall_calendar
from hallcore.domain.accounts import Account
from hallcore.domain.business import BusinessKind


@dataclass(frozen=True, slots=True)
class CounterDesk:
    """Where requests are made: the terminal's cache and identity, the clerk, the hall."""

    cache: Cache
    terminal: TerminalIdentity
    clerk: str
    hall: HallInfo


@dataclass(frozen=True, slots=True)
class CounterRequest:
    """What the clerk submitted, and what the window knew when it was submitted."""

    kind: BusinessKind
    account_number: str | None
    payload: Mapping[str, object]
    online: bool
    online_only: frozenset[BusinessKind] = frozenset()
    facts: CounterFacts = field(default_factory=CounterFacts)
    # The supervisor's sign-off at the counter, of the operation an OverrideNeeded named.
    sign_off: SignOff | None = None
    redoes_task: int | None = None  # the conflict or rejection this request settles
    customer_signature: bytes | None = None  # the customer's handwritten signature, a PNG
    scans: tuple[DocumentScan, ...] = ()  # the documents scanned for the request


class View(Enum):
    """What a window shows that a request may change."""

    ACCOUNT = "account"  # the account's details and its search result
    HISTORY = "history"  # the account's operations at this counter
    TASKS = "tasks"  # the clerk's conflicts and rejections


@dataclass(frozen=True, slots=True)
class DrawnReceipt:
    content: ReceiptContent
    format: ReceiptFormat  # as drawn: the customer's language, the terminal's layout
    pdf: bytes | None  # None: it could not be drawn (`failure`); the request stands
    failure: Exception | None = None


@dataclass(frozen=True, slots=True)
class CounterChanges:
    """What a recorded request changed."""

    recorded: RecordedOperation
    account: Account | None  # the account after the request; None until a new one is opened
    receipt: DrawnReceipt
    refresh: frozenset[View]


def make_request(desk: CounterDesk, request: CounterRequest, now: datetime) -> CounterChanges:
    """Record the request with its receipt in one transaction, then draw the receipt. Raises
    as `record_operation` does (PayloadInvalid, RequestRefused, OverrideNeeded, CacheFull,
    CacheReadOnly) with nothing written."""
    described: list[ReceiptContent] = []
    calendar = hall_calendar(desk.cache)

    def describe(recorded: RecordedOperation, before: Account | None,
                 clean: Mapping[str, Any]) -> dict[str, Any]:
        # Called inside the request's transaction: the receipt is kept with it, as issued.
        described.append(build_receipt(
            recorded, before, clean, hall=desk.hall, terminal_id=desk.terminal.terminal_id,
            clerk=desk.clerk, pending=True, calendar=calendar, online=request.online,
            approved_by=_supervisor_named(recorded, request.sign_off)))
        return described[0].to_json()

    recorded = record_operation(
        desk.cache, desk.terminal, clerk=desk.clerk, kind=request.kind,
        account_number=request.account_number, raw_payload=request.payload, now=now,
        online=request.online, online_only=request.online_only,
        sign_off=request.sign_off, facts=request.facts, describe=describe,
        customer_signature=request.customer_signature, scans=request.scans)
    refresh_backup(desk.cache)  # should the cache file be lost, this request is not
    refresh = {View.HISTORY}
    if recorded.account is not None:
        refresh.add(View.ACCOUNT)
    if request.redoes_task is not None:
        _close_redone(desk, request.redoes_task, recorded, now)
        refresh.add(View.TASKS)
    return CounterChanges(recorded, recorded.account, _draw(desk, described[0]),
                          frozenset(refresh))


def reprint_receipt(desk: CounterDesk, receipt_no: str, now: datetime) -> DrawnReceipt:
    """A copy of an issued receipt, counted and audited, drawn. Raises ReceiptUnavailable."""
    return _draw(desk, reprint(desk.cache, receipt_no, clerk=desk.clerk, now=now))


def _supervisor_named(recorded: RecordedOperation, sign_off: SignOff | None) -> str | None:
    """The supervisor who signed the request off: by name when the approval said it, else by
    id; none when the request was recorded without their sign-off."""
    if recorded.approved_by is None:
        return None
    named = sign_off.supervisor_name if sign_off is not None else None
    return named or recorded.approved_by


def _close_redone(desk: CounterDesk, task_id: int, recorded: RecordedOperation,
                  now: datetime) -> None:
    # The request is recorded and its receipt due whatever happens here: a task that cannot
    # be closed stays in the list for the clerk to close (or was closed meanwhile).
    with suppress(CacheUnwritable, TaskAlreadyClosed):
        close_task(desk.cache, task_id, clerk=desk.clerk, now=now,
                   resolution=f"redone, receipt {recorded.receipt_no}")


def _draw(desk: CounterDesk, content: ReceiptContent) -> DrawnReceipt:
    shown = customer_format(content, Settings().receipt_layout)  # until the settings are read
    try:
        # The terminal's settings beside its cache, read here, off the UI thread: a layout
        # changed in them applies from the next receipt.
        shown = customer_format(content, load_settings(desk.cache.path.parent).receipt_layout)
        pdf = render_pdf(content, layout=shown.layout, lang=shown.lang)
    except Exception as exc:  # said to the clerk; the receipt is kept, Ctrl+R draws it again
        return DrawnReceipt(content, shown, None, exc)
    return DrawnReceipt(content, shown, pdf)
