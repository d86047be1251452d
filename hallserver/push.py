"""Applying pushed operations: a batch in one transaction, idempotent by operation id.

The answer for an operation is decided once and stored with it; a repeat of the same operation
id (a retry after a lost answer, a second copy racing the first) gets that stored answer back
as `duplicate`, so nothing is ever applied twice. A batch is stored whole or not at all; one
that collides with another request on a unique key is answered again an operation at a time.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hallcore.audit_chain import as_utc
from hallcore.db.account_columns import read_values, stored_values
from hallcore.db.engine import writer
from hallcore.domain.accounts import Account, Community
from hallcore.domain.business import (
    BUSINESS_TYPES,
    Notice,
    PayloadInvalid,
    apply_change,
    check,
    needs_approval,
    open_account,
    validate_payload,
)
from hallcore.domain.deadlines import HALL_TZ
from hallcore.domain.text import Text
from hallcore.receipt_numbers import own_number
from hallcore.signing import image_sha256, signature_matches
from hallcore.wire import (
    ACCOUNT_FIELD_NAMES,
    AccountWire,
    BilingualText,
    CommunityWire,
    OperationResult,
    Outcome,
    PushOperation,
    RefusalCode,
)
from hallserver import metrics
from hallserver.accounts import (
    community_wire,
    give_back_account_numbers,
    next_seq,
    take_account_numbers,
)
from hallserver.approvals import sign_off_kind, sign_off_refusal
from hallserver.audit import append_audits, lock_chain
from hallserver.context import Caller
from hallserver.models import (
    AccountRow,
    AuditHeadRow,
    ClerkRow,
    CommunityRow,
    HallRow,
    OperationRow,
    TerminalClerkRow,
    TerminalRow,
)
from hallserver.notifications import NOTIFICATIONS, notice_rows
from hallserver.queue_tickets import longest_wait, ticket_columns
from hallserver.scans import ScanIds, announce_scans
from hallserver.settings import ServerSettings
from hallserver.signature_images import MISSING, SignatureImageInvalid, signature_image
from hallserver.terminals import note_receipts, offline_window, signing_keys
from hallserver.working_days import opening_hours
from hallserver.workitems import WORK_ITEMS, work_item_rows


def _text(t: Text) -> BilingualText:
    return BilingualText(zh=t.zh, en=t.en)


def _rejected(op: PushOperation, reason: Text, **extra: Any) -> OperationResult:
    return OperationResult(operation_id=op.operation_id, outcome=Outcome.REJECTED,
                           reason=_text(reason), **extra)


def push_operations(
    engine: Engine, settings: ServerSettings, caller: Caller, ops: list[PushOperation]
) -> list[OperationResult]:
    """Answer a batch, and count its outcomes (hallserver/metrics.py) once they are stored."""
    results = _push_batch(engine, settings, caller, ops)
    metrics.observe_push(ops, results)
    return results


def _push_batch(engine: Engine, settings: ServerSettings, caller: Caller,
                ops: list[PushOperation]) -> list[OperationResult]:
    """Answer a batch in one transaction. Should that fail on a unique key (another request
    stored one of these operations first, or a receipt number is taken), nothing of it is kept
    and each operation is answered again in a transaction of its own."""
    if len({op.operation_id for op in ops}) == len(ops):
        try:
            return _push_together(engine, settings, caller, ops)
        except IntegrityError:
            pass
    return [_push_one(engine, settings, caller, op) for op in ops]


def _push_one(engine: Engine, settings: ServerSettings, caller: Caller, op: PushOperation
              ) -> OperationResult:
    try:
        return _push_together(engine, settings, caller, [op])[0]
    except IntegrityError:
        # Another request stored this operation id (or this receipt number) first.
        with Session(engine) as session:
            stored = session.get(OperationRow, op.operation_id)
            if stored is not None:
                return _duplicate(stored)
            # With the account as it is, so that the terminal undoes its optimistic change.
            accounts = _BatchAccounts(session, [op], lock=False)
            return _rejected(op, Text(
                f"受理号 {op.receipt_no} 已被另一笔业务使用",
                f"receipt number {op.receipt_no} is already used by another operation"),
                account=_current(accounts, caller, op))


@dataclass(slots=True)
class _Answer:
    op: PushOperation
    result: OperationResult


# Receipt signatures are checked on threads of their own while the batch is read and decided:
# an Ed25519 check takes about 0.1 ms and releases the GIL, so a batch's 200 cost the push
# almost nothing instead of a fifth of its time. In pieces, so that the first operations' are
# known before the last ones' are checked.
_SIGNATURE_CHECKS = ThreadPoolExecutor(max_workers=os.cpu_count() or 2,
                                       thread_name_prefix="hallserver-signatures")
_SIGNATURE_PIECE = 20


class _ReceiptSignatures:
    """Whether a key of the caller's terminal signed each operation's receipt (with its
    customer's signature image's hash, when they signed): checked from the start."""

    def __init__(self, session: Session, caller: Caller, ops: list[PushOperation]) -> None:
        keys = signing_keys(session, caller.hall_id, caller.terminal_id)
        self._pieces: dict[str, Future[dict[str, bool]]] = {}
        for start in range(0, len(ops), _SIGNATURE_PIECE):
            piece = ops[start:start + _SIGNATURE_PIECE]
            checked = _SIGNATURE_CHECKS.submit(_signed_by, keys, piece)
            self._pieces.update((op.operation_id, checked) for op in piece)

    def signed(self, op: PushOperation) -> bool:
        return self._pieces[op.operation_id].result()[op.operation_id]


def _signed_by(keys: list[str], ops: list[PushOperation]) -> dict[str, bool]:
    signed: dict[str, bool] = {}
    for op in ops:
        try:
            image = signature_image(op)
        except SignatureImageInvalid:
            signed[op.operation_id] = False  # refused for its image before this is asked
            continue
        # The receipt signature covers the customer's signature image, when they signed: a
        # swapped image fails here like a forged receipt.
        digest = image_sha256(image) if image is not None else None
        signed[op.operation_id] = any(signature_matches(
            key, op.receipt_no, op.operation_id, op.receipt_signature, digest) for key in keys)
    return signed


class _Proofs:
    """What the server checks of each pushed operation before deciding it: that the terminal
    made it (its receipt number and signature), that a clerk who logged in at the terminal did,
    and when (the server's clock). An operation that fails one is refused and not stored."""

    def __init__(self, session: Session, settings: ServerSettings, caller: Caller,
                 signatures: _ReceiptSignatures, terminal: TerminalRow | None,
                 now: datetime) -> None:
        self.session, self.settings, self.caller, self.now = session, settings, caller, now
        self.signatures = signatures
        self.window = offline_window(session, caller.hall_id, terminal, now)
        # Per clerk named: their login at this terminal and their row. Held here: the
        # session's identity map keeps no object nobody refers to, and a query again would
        # flush the batch's changes so far, once per operation.
        self._clerks: dict[str, tuple[TerminalClerkRow | None, ClerkRow | None]] = {}

    def made_here(self, op: PushOperation) -> OperationResult | None:
        """The refusal when the terminal did not make `op`: the number is not its own (or not
        of the day the operation was made), the customer's signature it carries is not a PNG
        within the limit, or no key of the terminal signed it (with that image's hash)."""
        caller = self.caller
        number = own_number(op.receipt_no, caller.hall_id, caller.terminal_id)
        day = as_utc(op.created_at).astimezone(HALL_TZ).strftime("%Y%m%d")
        if number is None or number[0] != day:
            return _refused(op, RefusalCode.FOREIGN_RECEIPT, Text(
                f"受理号 {op.receipt_no} 不是本终端（{caller.hall_id} {caller.terminal_id}）"
                "当天的号码，业务未保存",
                f"receipt number {op.receipt_no} is not one of this terminal's "
                f"({caller.hall_id} {caller.terminal_id}) for the day of the request: "
                "nothing was stored"))
        try:
            signature_image(op)
        except SignatureImageInvalid as bad:
            return _refused(op, RefusalCode.BAD_CUSTOMER_SIGNATURE, bad.reason,
                            field_errors={"customer_signature": _text(bad.reason)})
        if not self.signatures.signed(op):
            return _refused(op, RefusalCode.BAD_SIGNATURE, Text(
                "回执签名与本终端密钥不符，业务未保存",
                "the receipt signature does not match this terminal's key: nothing was "
                "stored"))
        return None

    def in_time_by_clerk(self, op: PushOperation) -> OperationResult | None:
        """The refusal when `op` was made at a time the server's clock cannot accept, or names
        a clerk who did not log in at this terminal."""
        caller, created = self.caller, as_utc(op.created_at)
        if created > self.now + self.settings.clock_skew:
            return _refused(op, RefusalCode.FROM_THE_FUTURE, Text(
                f"业务时间 {created.astimezone(HALL_TZ):%Y-%m-%d %H:%M} 晚于服务器时间，"
                "请校正本机时钟；业务未保存",
                f"the request's time {created.astimezone(HALL_TZ):%Y-%m-%d %H:%M} is later "
                "than the server's clock: correct this PC's clock; nothing was stored"))
        if created < self.now - self.window:
            hours = int(self.window.total_seconds() // 3600)
            return _refused(op, RefusalCode.TOO_OLD, Text(
                f"业务办理于 {created.astimezone(HALL_TZ):%Y-%m-%d %H:%M}，已超过离线期限 "
                f"{hours} 小时：须由主管在本终端延长期限后再上传",
                f"the request was made at {created.astimezone(HALL_TZ):%Y-%m-%d %H:%M}, "
                f"longer ago than the offline window of {hours} hours: a supervisor must "
                "extend it at this terminal before it is sent again"))
        if op.clerk not in self._clerks:
            self._clerks[op.clerk] = (self.session.get(
                TerminalClerkRow, (caller.hall_id, caller.terminal_id, op.clerk)),
                self.session.get(ClerkRow, op.clerk))
        here, clerk = self._clerks[op.clerk]
        if here is None or clerk is None or not clerk.active or (
                clerk.hall_id != caller.hall_id) or (
                here.last_login_at < created - self.settings.clerk_at_terminal):
            return _refused(op, RefusalCode.UNKNOWN_CLERK, Text(
                f"工号 {op.clerk} 不是在本终端登录过的本营业厅在职人员，业务未保存",
                f"{op.clerk} is not an active clerk of this hall who logged in at this "
                "terminal: nothing was stored"))
        return None


def _refused(op: PushOperation, code: RefusalCode, reason: Text,
             **extra: Any) -> OperationResult:
    return _rejected(op, reason, code=code, **extra)


def _push_together(engine: Engine, settings: ServerSettings, caller: Caller,
                   ops: list[PushOperation]) -> list[OperationResult]:
    """One transaction for `ops`: what the batch reads is read once up front, each operation
    is decided in order (a later one sees an earlier one's change), then everything is stored
    by one executemany per table and the district's sequence numbers are taken at once. A handful
    of statements for the whole batch rather than ten for each operation. The locks are taken
    in the same order by every push: the accounts (by number), the hall's audit chain, the
    district's sequence."""
    now = datetime.now(UTC)
    with Session(writer(engine)) as session, session.begin():
        signatures = _ReceiptSignatures(session, caller, ops)
        stored = {row.operation_id: row for row in session.scalars(
            select(OperationRow).where(OperationRow.operation_id.in_(
                [op.operation_id for op in ops])))}
        accounts = _BatchAccounts(session, ops)
        # Held here so that the session keeps it: each work item's deadline finds its hall's
        # opening hours without a query.
        hall = session.get(HallRow, caller.hall_id)
        terminal = session.get(TerminalRow, (caller.hall_id, caller.terminal_id))
        proofs = _Proofs(session, settings, caller, signatures, terminal, now)
        scan_ids = ScanIds(session, ops)
        # A new connection takes its account number from the district row: the chain is
        # locked first, as it is before the district everywhere else.
        head = lock_chain(session, caller.hall_id) if any(
            BUSINESS_TYPES[op.business_type].opens_account for op in ops) else None
        results: list[OperationResult] = []
        new: list[_Answer] = []
        refused: list[_Answer] = []
        signed_off: set[str] = set()  # operations whose sign-off was needed, checked and held
        for op in ops:
            result = proofs.made_here(op)
            repeat = stored.get(op.operation_id)
            if result is None and repeat is not None:
                # The first answer, to the terminal that made the operation only.
                results.append(_duplicate(repeat) if (repeat.hall_id, repeat.terminal_id) == (
                    caller.hall_id, caller.terminal_id) else _refused(
                    op, RefusalCode.BAD_SIGNATURE, _NOT_YOURS))
                continue
            result = result or proofs.in_time_by_clerk(op) or _signed_by_customer(
                op) or _own_scans(op, scan_ids) or _decide(session, accounts, caller, op, now,
                                                           signed_off)
            if result.outcome is Outcome.REJECTED and result.account is None and (
                    result.code is None):
                # The terminal sets its cached account back to this state.
                result = result.model_copy(update={"account": _current(accounts, caller, op)})
            if result.code is not None:
                refused.append(_Answer(op, result))  # audited with what it claimed
            else:
                new.append(_Answer(op if op.operation_id in signed_off
                                   else _unchecked_sign_off_dropped(op), result))
            results.append(result)
        if new or refused:
            head = head or lock_chain(session, caller.hall_id)
            _store(session, accounts, caller, new, now, head, settings.clock_skew)
            # The stored operations' document scans, waiting for their bytes.
            announce_scans(session, caller.hall_id, [answer.op for answer in new], now,
                           settings.scan_retention)
            _audit_refused(session, caller, refused, now, head)
        if terminal is not None and new:
            note_receipts(terminal, (answer.op.receipt_no for answer in new))
        del hall
        by_id = {answer.op.operation_id: answer.result for answer in new}
        return [by_id.get(result.operation_id, result) for result in results]


def _own_scans(op: PushOperation, scan_ids: ScanIds) -> OperationResult | None:
    """The refusal when a scan id of `op` is not new: twice in it or its batch, or another
    operation's (of this hall or another: which is not told)."""
    if scan_ids.claim(op):
        return None
    return _refused(op, RefusalCode.BAD_SCANS, Text(
        "业务所附扫描件的编号重复或已被其他业务使用，业务未保存",
        "a document scan's id is repeated or already used by another operation: nothing was "
        "stored"))


_NOT_YOURS = Text("该业务编号属于另一终端，业务未保存",
                  "this operation id belongs to another terminal: nothing was stored")


def _audit_refused(session: Session, caller: Caller, refused: list[_Answer], now: datetime,
                   head: AuditHeadRow) -> None:
    """Operations refused unproven: not stored, but each is an audit entry (what was claimed,
    never the payload)."""
    if refused:
        append_audits(session, head, terminal_id=caller.terminal_id, actor=caller.clerk,
                      action="push_refused", at=now, entries=[
                          (answer.op.operation_id, {
                              "code": str(answer.result.code), "receipt_no": answer.op.receipt_no,
                              "business_type": answer.op.business_type.value,
                              "counter_clerk": answer.op.clerk,
                              "approved_by": answer.op.approved_by})
                          for answer in refused])


_ACCOUNTS = AccountRow.metadata.tables[AccountRow.__tablename__]
_COMMUNITIES = CommunityRow.metadata.tables[CommunityRow.__tablename__]
# What a decision may change: every declared field but the number, and the sequence number.
_CHANGEABLE = tuple(name for name in ACCOUNT_FIELD_NAMES if name != "number")
_ACCOUNT_UPDATE = (update(_ACCOUNTS).where(_ACCOUNTS.c.number == bindparam("b_number"))
                   .values({name: bindparam(name) for name in (*_CHANGEABLE, "seq")}))


@dataclass(slots=True)
class _Held:
    """An account of the batch as the decisions so far have left it."""

    account: Account
    seq: int
    changed: bool = False
    opened: bool = False


class _BatchAccounts:
    """The batch's accounts, read once with their communities and locked in number order (two
    batches never wait on each other in a circle). Decided on as the domain's accounts and
    written back by one statement: no ORM object per account, whose loading, attribute
    tracking and flush had been a fifth of a push's time."""

    def __init__(self, session: Session, ops: list[PushOperation], *, lock: bool = True) -> None:
        self._held: dict[str, _Held] = {}
        self._communities: dict[str, CommunityWire] = {}
        # Numbers for the batch's new connections: as many as it opens accounts, taken by one
        # statement at the first; those left unused are given back when it is stored.
        self._openings = sum(BUSINESS_TYPES[op.business_type].opens_account for op in ops)
        self._numbers: list[str] = []
        numbers = sorted({op.account_number for op in ops if op.account_number is not None})
        if not numbers:
            return
        connection = session.connection()
        query = (select(*(_ACCOUNTS.c[name] for name in ACCOUNT_FIELD_NAMES),
                        _ACCOUNTS.c.seq, _ACCOUNTS.c.community_code)
                 .where(_ACCOUNTS.c.number.in_(numbers)).order_by(_ACCOUNTS.c.number))
        rows = connection.execute(query.with_for_update() if lock else query).all()
        codes = {row[-1] for row in rows if row[-1] is not None}
        communities = {row[0]: Community(*row) for row in connection.execute(select(
            _COMMUNITIES.c.code, _COMMUNITIES.c.name, _COMMUNITIES.c.households,
            _COMMUNITIES.c.manager_name, _COMMUNITIES.c.manager_phone).where(
            _COMMUNITIES.c.code.in_(codes)))} if codes else {}
        for *values, seq, code in rows:
            account = Account(**read_values(values),
                              community=communities.get(code) if code is not None else None)
            self._held[account.number] = _Held(account, seq)

    def get(self, number: str | None) -> _Held | None:
        return self._held.get(number) if number is not None else None

    def new_number(self, session: Session, district: str) -> str:
        if not self._numbers:
            self._numbers = take_account_numbers(session, district, self._openings)
            self._numbers.reverse()
        return self._numbers.pop()

    def open(self, account: Account) -> _Held:
        """A new account; its sequence number is stamped last."""
        held = self._held[account.number] = _Held(account, 0, changed=True, opened=True)
        return held

    def give_back_numbers(self, session: Session, district: str) -> None:
        if self._numbers:
            give_back_account_numbers(session, district, len(self._numbers))
            self._numbers = []

    def wire(self, held: _Held) -> AccountWire:
        account, community = held.account, held.account.community
        if community is not None and community.code not in self._communities:
            self._communities[community.code] = community_wire(community)
        return AccountWire(**{name: getattr(account, name) for name in ACCOUNT_FIELD_NAMES},
                           community=self._communities[community.code] if community else None,
                           seq=held.seq)

    def write(self, connection: Connection) -> None:
        """The accounts opened, then those changed, each kind by one executemany."""
        opened = [held for held in self._held.values() if held.opened]
        changed = [held for held in self._held.values() if held.changed and not held.opened]
        if opened:
            connection.execute(_ACCOUNTS.insert(), [
                {**stored_values(held.account), "seq": held.seq, "community_code": None}
                for held in opened])
        if changed:
            connection.execute(_ACCOUNT_UPDATE, [
                {"b_number": held.account.number, "seq": held.seq,
                 **{name: value for name, value in stored_values(held.account).items()
                    if name != "number"}}
                for held in changed])


def _store(session: Session, accounts: _BatchAccounts, caller: Caller, new: list[_Answer],
           now: datetime, head: AuditHeadRow, skew: timedelta) -> None:
    """Each new answer stored with its operation, notices, work items and audit entry."""
    accounts.give_back_numbers(session, caller.district)
    if not new:
        return
    _stamp_sequences(session, accounts, caller.district, new)
    longest = longest_wait(opening_hours(session, caller.hall_id))
    rows = [_operation_row(caller, answer.op, answer.result, now, skew, longest)
            for answer in new]
    connection = session.connection()
    accounts.write(connection)  # before the operations that name them
    session.flush()  # what else the decisions changed (an approval used)
    # One executemany, no ORM object per operation: before the rows that refer to them
    # (notices, work items).
    connection.execute(_OPERATIONS.insert(), rows)
    # The notices and work items likewise, each table's rows by one executemany.
    work_items: list[dict[str, Any]] = []
    notices: list[dict[str, Any]] = []
    for answer in new:
        _after_decision(session, caller, answer.op, answer.result, now, work_items, notices)
    if work_items:
        connection.execute(WORK_ITEMS.insert(), work_items)
    if notices:
        connection.execute(NOTIFICATIONS.insert(), notices)
    append_audits(session, head, terminal_id=caller.terminal_id, actor=caller.clerk,
                  action="push", at=now, entries=[
                      (answer.op.operation_id, _audit_detail(answer.op, answer.result, row))
                      for answer, row in zip(new, rows, strict=True)])


_OPERATIONS = OperationRow.metadata.tables[OperationRow.__tablename__]


def _operation_row(caller: Caller, op: PushOperation, result: OperationResult,
                   now: datetime, skew: timedelta, longest: timedelta) -> dict[str, Any]:
    """The operation's row of the operations table, by column."""
    settled = settled_at_first_contact(op.first_contact, result.outcome)
    return dict(
        operation_id=op.operation_id, hall_id=caller.hall_id,
        terminal_id=caller.terminal_id, clerk=op.clerk,
        business_type=op.business_type.value, account_number=_account_of(op, result),
        base_version=op.base_version,
        # Fields the server could not read are not kept: they are no request, and could be
        # anything up to the body's limit (the answer names the fields that were wrong).
        payload={} if result.field_errors else op.payload, receipt_no=op.receipt_no,
        receipt_signature=op.receipt_signature, approved_by=op.approved_by,
        customer_signature=signature_image(op),  # checked by _Proofs.made_here
        # In UTC: SQLite keeps a time without its offset, and reports compare times.
        created_at=as_utc(op.created_at),
        received_at=now, outcome=result.outcome.value,
        result=result.model_dump(mode="json"), first_contact=settled,
        not_settled_reason=op.not_settled_reason.value
        if settled is False and op.not_settled_reason else None,
        handling_seconds=op.handling_seconds,
        # The ticket as given; its waiting time only where the server can believe it.
        **ticket_columns(op.ticket, op.created_at, skew, longest),
    )


def settled_at_first_contact(recorded: bool | None, outcome: Outcome) -> bool | None:
    """Whether the request counts as settled at the first contact (一站妥), decided once, when
    the operation is stored: as the terminal recorded it, except that a rejected or
    conflicting request was not, whatever the terminal said (the customer must come back).
    Not recorded stays not recorded: an older terminal's requests are left out of the ratio
    rather than counted as failures."""
    if recorded is None:
        return None
    return recorded and outcome is Outcome.APPLIED


def _audit_detail(op: PushOperation, result: OperationResult, stored: dict[str, Any]
                  ) -> dict[str, Any]:
    # What was asked and answered, without personal data: neither the payload nor the
    # field errors' texts (they may quote what was typed), only the fields' names.
    detail: dict[str, Any] = {
        "business_type": op.business_type.value, "account_number": stored["account_number"],
        "receipt_no": op.receipt_no, "counter_clerk": op.clerk,
        "outcome": result.outcome.value}
    if op.approved_by is not None:
        # How the sign-off was proven: an online approval (an entry of its own too) or the
        # supervisor's offline signature.
        detail["approved_by"] = op.approved_by
        detail["sign_off"] = sign_off_kind(op)
    if result.reason is not None:
        detail["reason"] = result.reason.en
    if result.field_errors:
        detail["fields"] = sorted(result.field_errors)
    if op.scans:
        # That documents were scanned, never what they show.
        detail["scans"] = [{"kind": ref.kind.value, "size": ref.size} for ref in op.scans]
    return detail


def _stamp_sequences(session: Session, accounts: _BatchAccounts, district: str,
                     answers: list[_Answer]) -> None:
    """Give each changed account its district sequence number, all taken with one statement as
    the transaction's last step: the district row stays locked from here to the commit only,
    so the district's other pushes wait as little as possible. An answer that carries an
    account changed earlier in the batch carries its latest number, as if each operation had
    been committed on its own."""
    applied = sum(answer.result.outcome is Outcome.APPLIED for answer in answers)
    if not applied:
        return
    seq = next_seq(session, district, count=applied) - applied
    latest: dict[str, int] = {}
    for answer in answers:
        account = answer.result.account
        if account is None:
            continue
        if answer.result.outcome is Outcome.APPLIED:
            seq += 1
            latest[account.number] = seq
            held = accounts.get(account.number)
            assert held is not None
            held.seq = seq
        if account.number in latest:
            answer.result = answer.result.model_copy(update={"account": account.model_copy(
                update={"seq": latest[account.number]})})


def _current(accounts: _BatchAccounts, caller: Caller, op: PushOperation
             ) -> AccountWire | None:
    held = accounts.get(op.account_number)
    if held is None or held.account.district != caller.district:
        return None
    return accounts.wire(held)


def _account_of(op: PushOperation, result: OperationResult) -> str | None:
    return result.account.number if result.account else op.account_number


def _duplicate(stored: OperationRow) -> OperationResult:
    # Read as the JSON it was stored as: the wire's models are strict, and decoded JSON holds
    # an outcome or a status as text.
    first = OperationResult.model_validate_json(json.dumps(stored.result))
    return first.model_copy(update={"outcome": Outcome.DUPLICATE, "first_outcome": first.outcome})


def _signed_by_customer(op: PushOperation) -> OperationResult | None:
    """The refusal when the business type needs the customer's signature and the operation
    carries none: the counter asks for it, and the server does not take the terminal's word
    that the customer agreed. Checked for a new operation only: one stored before is answered
    as it was."""
    if op.customer_signature is None and BUSINESS_TYPES[op.business_type].customer_signs:
        return _refused(op, RefusalCode.BAD_CUSTOMER_SIGNATURE, MISSING,
                        field_errors={"customer_signature": _text(MISSING)})
    return None


def _unchecked_sign_off_dropped(op: PushOperation) -> PushOperation:
    """The operation without the sign-off it claims, where that was never checked (the request
    needed none, or was refused before): not stored or audited as if a supervisor had given
    it."""
    if op.approved_by is None and op.approval_token is None and op.approval_signature is None:
        return op
    return op.model_copy(update={"approved_by": None, "approval_token": None,
                                 "approval_signature": None})


def _decide(session: Session, accounts: _BatchAccounts, caller: Caller, op: PushOperation,
            now: datetime, signed_off: set[str]) -> OperationResult:
    """The operation's answer; its id is added to `signed_off` where its supervisor's sign-off
    was needed and held."""
    try:
        payload = validate_payload(op.business_type, op.payload)
    except PayloadInvalid as exc:
        return _rejected(op, Text("填写的内容有误", "some fields are not valid"),
                         field_errors={k: _text(v) for k, v in exc.errors.items()})
    # The rules are judged as on the day the customer stood at the counter, so a request
    # made offline is not refused for the days it waited in the outbox.
    counter_day = as_utc(op.created_at).astimezone(HALL_TZ).date()
    btype = BUSINESS_TYPES[op.business_type]
    if btype.opens_account:
        opening = check(op.business_type, None, payload, today=counter_day)
        if not opening.allowed:
            assert opening.reason is not None
            return _rejected(op, opening.reason)
        number = accounts.new_number(session, caller.district)
        opened = accounts.open(open_account(payload, number=number, district=caller.district))
        return OperationResult(operation_id=op.operation_id, outcome=Outcome.APPLIED,
                               account=accounts.wire(opened))
    if op.account_number is None or op.base_version is None:
        return _rejected(op, Text("缺少户号或账户版本", "account number and base version needed"))
    held = accounts.get(op.account_number)
    if held is None or held.account.district != caller.district:
        return _rejected(op, Text(f"本营业厅辖区内没有户号 {op.account_number}",
                                  f"no account {op.account_number} in this hall's district"))
    version = held.account.version
    if version != op.base_version:
        return OperationResult(
            operation_id=op.operation_id, outcome=Outcome.CONFLICT,
            account=accounts.wire(held),
            reason=_text(Text(
                f"账户已被其他业务修改（版本 {op.base_version} → {version}），"
                "请按最新信息重新办理",
                f"the account was changed by another request (version {op.base_version} → "
                f"{version}); redo it on the current details")))
    decision = check(op.business_type, held.account, payload, today=counter_day)
    if not decision.allowed:
        assert decision.reason is not None
        return _rejected(op, decision.reason)
    if needs_approval(op.business_type, decision):
        refusal = sign_off_refusal(session, caller, op, now)
        if refusal is not None:
            return _refused(op, RefusalCode.NO_SIGN_OFF, refusal)
        signed_off.add(op.operation_id)
    held.account, held.changed = apply_change(op.business_type, held.account, payload), True
    return OperationResult(operation_id=op.operation_id, outcome=Outcome.APPLIED,
                           account=accounts.wire(held))


def _after_decision(session: Session, caller: Caller, op: PushOperation,
                    result: OperationResult, now: datetime, work_items: list[dict[str, Any]],
                    notices: list[dict[str, Any]]) -> None:
    """The rows of the work items and customer notices that follow from the stored answer,
    added to `work_items` and `notices`."""
    if result.outcome is Outcome.APPLIED:
        assert result.account is not None
        items, due = work_item_rows(session, caller, op, result.account.number)
        work_items += items
        told = [n for n in BUSINESS_TYPES[op.business_type].notices
                if n is Notice.ACCEPTED or (n is Notice.COMPLETED and due is None)]
        notices += notice_rows(op, result.account, told, now, due=due)
    elif (result.account is not None and op.payload.get("sms_consent") is not False
          and result.field_errors is None):
        # A refused request that withdrew the SMS consent is not answered by SMS: the
        # customer has just said they want none. Nor is one whose fields could not be read:
        # the terminal's fault, not a refusal of what the customer asked for.
        notice = Notice.CONFLICT if result.outcome is Outcome.CONFLICT else Notice.REJECTED
        reason = Text(result.reason.zh, result.reason.en) if result.reason else None
        notices += notice_rows(op, result.account, [notice], now, reason=reason)
