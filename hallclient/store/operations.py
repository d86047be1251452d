"""The local transaction of a counter request.

One SQLite transaction holds the optimistic change of the cached account, the outbox entry
with its client-made id, the next receipt number and the audit entry. It commits before any
receipt is printed: once the clerk sees a receipt number, the request survives a crash or a
power cut and will reach the server exactly once.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hallclient.store.accounts import load_account, save_account
from hallclient.store.audit import append_audit
from hallclient.store.cache import Cache
from hallclient.store.models import (
    OutboxRow,
    ReceiptCounterRow,
    ReceiptRow,
    ScanRow,
    SyncStateRow,
)
from hallcore.domain.accounts import Account
from hallcore.domain.business import (
    BUSINESS_TYPES,
    BusinessKind,
    apply_change,
    check,
    needs_approval,
    validate_payload,
)
from hallcore.domain.deadlines import HALL_TZ
from hallcore.domain.text import Text
from hallcore.receipt_numbers import format_receipt_no, own_number
from hallcore.signing import SigningKey, approval_message, image_sha256, receipt_signature
from hallcore.wire import NotSettledReason, QueueTicket, ScanKind, ScanMediaType


@dataclass(frozen=True, slots=True)
class TerminalIdentity:
    hall_id: str
    terminal_id: str
    key: SigningKey  # the receipt-signing key, from the keyring


@dataclass(frozen=True, slots=True)
class RecordedOperation:
    operation_id: str
    receipt_no: str
    signature: str
    issued_at: datetime
    kind: BusinessKind
    account: Account | None  # the account after the change; None until a new one is opened
    warnings: tuple[Text, ...]
    approved_by: str | None = None  # the supervisor who signed it off (their id)
    # The customer's handwritten signature (PNG), which the receipt signature covers.
    customer_signature: bytes | None = None


class RequestRefused(Exception):
    """The rules do not allow the request; `reason` is for the clerk to read to the customer."""

    def __init__(self, reason: Text) -> None:
        super().__init__(str(reason))
        self.reason = reason


SUPERVISOR_BUSINESS = Text("{business}须经主管现场确认", "{business} needs a supervisor's "
                           "sign-off")


@dataclass(frozen=True, slots=True)
class CounterFacts:
    """How the request went at the counter, pushed with it for the service-quality figures:
    settled at this first contact (一站妥) or why not, and the form's handling time."""

    first_contact: bool | None = None
    not_settled_reason: NotSettledReason | None = None
    handling_seconds: int | None = None
    ticket: QueueTicket | None = None  # the customer's queue ticket, if they had one


@dataclass(frozen=True, slots=True)
class DocumentScan:
    """A scan of a document the customer showed, as it is attached to the request."""

    kind: ScanKind
    media_type: ScanMediaType
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


class OverrideNeeded(Exception):
    """The request may be recorded only with a supervisor's sign-off: its business type needs
    one, or the rules allowed it with these warnings, which the supervisor accepts.

    The sign-off is of one operation: `operation_id` (made here, fresh each time) is the id the
    request is recorded with once signed off; the supervisor signs off that id, `kind` and
    `account_number` (see hallclient.auth.approval.approve)."""

    def __init__(self, warnings: tuple[Text, ...], *, operation_id: str, kind: BusinessKind,
                 account_number: str | None) -> None:
        super().__init__("; ".join(str(w) for w in warnings))
        self.warnings = warnings
        self.operation_id = operation_id
        self.kind = kind
        self.account_number = account_number


@dataclass(frozen=True, slots=True)
class SignOff:
    """A supervisor's sign-off of the operation `operation_id` (an OverrideNeeded's), with its
    proof: the token of an online approval (POST /approve, bound by the server to that id, its
    account and business type), or, offline, the supervisor's approval key on this terminal,
    which signs the operation as it is recorded (hallcore.signing.approval_message)."""

    supervisor: str
    operation_id: str
    token: str | None = field(default=None, repr=False)
    key: SigningKey | None = field(default=None, repr=False)
    # Their name, for the receipt, when the approval said it; the receipt names the id else.
    supervisor_name: str | None = None

    def __post_init__(self) -> None:
        if (self.token is None) == (self.key is None):
            raise ValueError("a sign-off is proven by an approval token or an approval key: "
                             "one of them")

    def signature(self, account_number: str | None, kind: BusinessKind,
                  created_at: datetime) -> str | None:
        """The offline proof of the operation as recorded; None for an online sign-off."""
        if self.key is None:
            return None
        return self.key.sign(approval_message(self.operation_id, account_number, kind.value,
                                              self.supervisor, created_at))


# What to print on the receipt, from the recorded request, the account before it and the
# cleaned payload; kept with the receipt (JSON) in the same transaction.
DescribeReceipt = Callable[[RecordedOperation, Account | None, Mapping[str, Any]],
                           dict[str, Any]]

ONLINE_ONLY_REFUSAL = Text(
    "{business}须在联网时办理，网络恢复后请再办理",
    "{business} can only be done while the server can be reached; please try again once the "
    "network is back",
)


def _server_floor(session: Session, terminal: TerminalIdentity, day: str) -> int:
    """The day's last sequence number the server holds of this terminal (0 for none): a cache
    that was lost or restored must not issue the numbers already used."""
    state = session.get(SyncStateRow, 1)
    known = own_number(state.server_last_receipt, terminal.hall_id, terminal.terminal_id) if (
        state is not None and state.server_last_receipt) else None
    return known[1] if known is not None and known[0] == day else 0


def _next_receipt_no(session: Session, terminal: TerminalIdentity, now: datetime) -> str:
    day = now.astimezone(HALL_TZ).strftime("%Y%m%d")
    floor = _server_floor(session, terminal, day)
    bumped = session.execute(
        update(ReceiptCounterRow).where(ReceiptCounterRow.day == day)
        .values(last_seq=func.max(ReceiptCounterRow.last_seq, floor) + 1)
        .returning(ReceiptCounterRow.last_seq)
    ).scalar_one_or_none()
    if bumped is None:
        bumped = floor + 1
        session.add(ReceiptCounterRow(day=day, last_seq=bumped))
    return format_receipt_no(terminal.hall_id, terminal.terminal_id, day, bumped)


def record_operation(
    cache: Cache,
    terminal: TerminalIdentity,
    *,
    clerk: str,
    kind: BusinessKind,
    account_number: str | None,
    raw_payload: Mapping[str, object],
    now: datetime,
    online: bool = True,
    online_only: Collection[BusinessKind] = (),
    sign_off: SignOff | None = None,
    facts: CounterFacts = CounterFacts(),
    describe: DescribeReceipt | None = None,
    customer_signature: bytes | None = None,
    scans: Sequence[DocumentScan] = (),
) -> RecordedOperation:
    """Validate, check and record a request; raises PayloadInvalid, RequestRefused or
    OverrideNeeded without writing anything. `now` is an aware time (stored as UTC).

    A request that needs a supervisor is recorded only with `sign_off`, under its operation
    id (the OverrideNeeded's), with its proof: the online approval's token, or the
    signature of the operation by the supervisor's approval key.

    `customer_signature` (the customer's signature, a PNG) is kept with the outbox entry, and
    the receipt signature covers its SHA-256 (hallcore.signing.receipt_message)."""
    btype = BUSINESS_TYPES[kind]
    at = now.astimezone(UTC)
    payload = validate_payload(kind, raw_payload)
    if not online and kind in online_only:
        raise RequestRefused(ONLINE_ONLY_REFUSAL.format(business=btype.label))
    with cache.write() as session:
        account = None if btype.opens_account or account_number is None else load_account(
            session, account_number)
        decision = check(kind, account, payload, today=now.astimezone(HALL_TZ).date())
        if not decision.allowed:
            assert decision.reason is not None
            raise RequestRefused(decision.reason)
        if sign_off is not None and _recorded_before(session, sign_off.operation_id):
            sign_off = None  # used already: it was given for that operation, not this one
        if needs_approval(kind, decision) and sign_off is None:
            raise OverrideNeeded(
                decision.warnings or (SUPERVISOR_BUSINESS.format(business=btype.label),),
                operation_id=str(uuid.uuid4()), kind=kind,
                account_number=account.number if account else None)
        operation_id = sign_off.operation_id if sign_off is not None else str(uuid.uuid4())
        receipt_no = _next_receipt_no(session, terminal, now)
        signature = receipt_signature(
            terminal.key, receipt_no, operation_id,
            image_sha256(customer_signature) if customer_signature is not None else None)
        after = None if account is None else apply_change(kind, account, payload)
        if after is not None:
            save_account(session, after)
        session.add(OutboxRow(
            operation_id=operation_id, created_at=at, clerk=clerk, business_type=kind.value,
            account_number=account.number if account else None,
            base_version=account.version if account else None, payload=payload,
            approved_by=sign_off.supervisor if sign_off else None,
            approval_token=sign_off.token if sign_off else None,
            approval_signature=sign_off.signature(
                account.number if account else None, kind, at) if sign_off else None,
            first_contact=facts.first_contact,
            not_settled_reason=facts.not_settled_reason, handling_seconds=facts.handling_seconds,
            customer_signature=customer_signature, **_ticket_columns(facts.ticket)))
        session.flush()
        session.add_all(ScanRow(
            scan_id=str(uuid.uuid4()), operation_id=operation_id, kind=scan.kind.value,
            media_type=scan.media_type.value, size=len(scan.content), sha256=scan.sha256,
            content=scan.content, uploaded=0, state="pending", created_at=at)
            for scan in scans)
        recorded = RecordedOperation(operation_id, receipt_no, signature, at, kind, after,
                                     decision.warnings,
                                     sign_off.supervisor if sign_off else None,
                                     customer_signature)
        session.add(ReceiptRow(
            receipt_no=receipt_no, operation_id=operation_id, issued_at=at, signature=signature,
            content=describe(recorded, account, payload) if describe else None))
        append_audit(session, at=at, clerk=clerk, action="operation", subject=operation_id,
                     detail=_audit_detail(kind, account, receipt_no,
                                          sign_off.supervisor if sign_off else None,
                                          decision.warnings))
    return recorded


def _ticket_columns(ticket: QueueTicket | None) -> dict[str, object]:
    if ticket is None:
        return {}
    return dict(ticket_no=ticket.number, ticket_source=ticket.source.value,
                ticket_issued_at=ticket.issued_at, ticket_called_at=ticket.called_at)


def _recorded_before(session: Session, operation_id: str) -> bool:
    return session.scalar(select(OutboxRow.seq).where(
        OutboxRow.operation_id == operation_id)) is not None


def _audit_detail(kind: BusinessKind, account: Account | None, receipt_no: str,
                  approved_by: str | None, warnings: tuple[Text, ...]) -> dict[str, Any]:
    # Who did what to which account: no names, ID numbers or phones in the trail.
    detail: dict[str, Any] = {"business_type": kind.value, "receipt_no": receipt_no,
                              "account_number": account.number if account else None}
    if approved_by is not None:
        detail["approved_by"] = approved_by
        detail["warnings"] = [w.en for w in warnings]
    return detail
