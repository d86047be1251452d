"""Customer SMS: queued in the operation's own transaction, delivered by workers.

Each (operation, moment) is one row, so a notice is queued once however often an operation is
pushed. Workers claim rows with a conditional UPDATE (on PostgreSQL after SKIP LOCKED), so
several workers in several processes never deliver the same row at once. A failed send is
retried with exponential backoff and stays visible in the table with its last error.

Exactly once towards the gateway: a row is marked `submitted` the moment before its first byte
goes out, and a submitted row is never claimed again. One whose answer never came stays
`submitted` while a late answer or delivery report may still show it went (matched by its
message id, or by the reference the gateway echoes); past the policy's window it is left to
the operator as `unconfirmed` (`hallserver sms unconfirmed`, `hallserver sms resend`).

A claim also applies the per-number limits and the quiet hours (hallserver/sms_policy.py): a
message that may not go yet waits (its next attempt moved), it is not dropped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import CursorResult, Engine, func, select, update
from sqlalchemy.orm import Session

from hallcore.db.engine import writer
from hallcore.domain.business import BUSINESS_TYPES, NOTICE_TEMPLATES, BusinessKind, Notice
from hallcore.domain.contact import validate_phone
from hallcore.domain.deadlines import Deadline
from hallcore.domain.text import InvalidInput, Text
from hallcore.wire import AccountWire, NotificationWire
from hallserver.admin import AdminRefused
from hallserver.audit import append_audit
from hallserver.models import NotificationRow, OperationRow, SmsSegmentRow
from hallserver.sms_policy import DAY, SmsPolicy

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)
# A row claimed this long ago by a worker that never handed it over is offered again.
CLAIM_TIMEOUT = timedelta(minutes=5)

# Rows that went (or may have gone) to the gateway: they count against the per-number limits.
WENT = ("sending", "submitted", "sent", "delivered", "undelivered", "unconfirmed")
# Delivery report states (SMPP 3.4 appendix B) after which a message will not arrive.
NOT_DELIVERED = frozenset({"EXPIRED", "DELETED", "UNDELIV", "UNKNOWN", "REJECTD"})
# The reference a gateway may echo in a delivery report has 16 bits.
REFERENCE_MODULO = 1 << 16


class OperationRef(Protocol):
    """What a notice needs of its operation (a pushed operation or a stored one)."""

    @property
    def operation_id(self) -> str: ...
    @property
    def business_type(self) -> str: ...
    @property
    def receipt_no(self) -> str: ...


class MessageTakenOver(Exception):  # not an error: the row is another's now
    """The row was claimed again by another worker (this one was too slow): not to be sent."""


class SubmitUnconfirmed(Exception):  # the state it leaves the message in
    """The message may have reached the gateway and its answer did not come: it is never sent
    again automatically."""


class SubmitRefused(Exception):
    """The gateway refused the message for good (an invalid number…): it is not tried again."""


# Called by a gateway with the number of segments the moment before it hands a message over;
# raises MessageTakenOver when the message is no longer this worker's.
HandingOver = Callable[[int], None]


class SmsGateway(Protocol):
    def send(self, notification_id: int, phone: str, text: str,
             handing_over: HandingOver) -> Sequence[str]:
        """Hand the message over, calling `handing_over` first; the gateway's message ids
        (none for a gateway without them). SubmitUnconfirmed when it may have gone without an
        answer, SubmitRefused when refused for good; any other exception means nothing went,
        and it is tried again later."""


class LogFileGateway:
    """The default gateway: one JSON line per message in a log file (for trials and tests)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def send(self, notification_id: int, phone: str, text: str,
             handing_over: HandingOver) -> Sequence[str]:
        line = json.dumps({"id": notification_id, "phone": phone, "text": text,
                           "at": datetime.now(UTC).isoformat()}, ensure_ascii=False)
        handing_over(1)
        with self._lock, self.path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")
        return []


def sms_number(phone: str) -> str | None:
    """The number an SMS may be sent to, normalised: a mainland mobile's; None for any other
    phone (a landline, a foreign or an invalid number)."""
    try:
        parsed = validate_phone(phone)
    except InvalidInput:
        return None
    return parsed.number if parsed.sms_capable else None


def queue_notices(
    session: Session,
    op: OperationRef,
    account: AccountWire,
    notices: Sequence[Notice],
    now: datetime,
    *,
    due: Deadline | None = None,
    reason: Text | None = None,
) -> None:
    """Queue the operation's notices (`notice_rows`) in the session's transaction, now."""
    rows = notice_rows(op, account, notices, now, due=due, reason=reason)
    if rows:
        session.connection().execute(NOTIFICATIONS.insert(), rows)


def notice_rows(
    op: OperationRef,
    account: AccountWire,
    notices: Sequence[Notice],
    now: datetime,
    *,
    due: Deadline | None = None,
    reason: Text | None = None,
) -> list[dict[str, Any]]:
    """The rows of the notifications table that queue the operation's notices to the account's
    phone, in the customer's language, if they consented and the phone can receive an SMS. A
    date counted without the year's holiday notice says it moves by any holiday."""
    if not account.sms_consent or not account.phone:
        return []
    number = sms_number(account.phone)
    if number is None:
        return []
    btype = BUSINESS_TYPES[BusinessKind(op.business_type)]
    rows = []
    for notice in notices:
        text = NOTICE_TEMPLATES[notice].format(
            business=btype.label, receipt_no=op.receipt_no,
            due=f"{due.at:%Y-%m-%d}" if due else "", reason=reason or "")
        if due is not None and due.estimated and "{due}" in NOTICE_TEMPLATES[notice].zh:
            text = Text(f"{text.zh}如遇节假日顺延。",
                        f"{text.en} The date moves later by any public holiday.")
        rows.append({"operation_id": op.operation_id, "notice": notice.value, "phone": number,
                     "text": text[account.sms_language], "queued_at": now,
                     "next_attempt_at": now})
    return rows


NOTIFICATIONS = NotificationRow.metadata.tables[NotificationRow.__tablename__]


def account_notifications(session: Session, number: str) -> list[NotificationWire]:
    """The SMS about the account's operations, oldest first: what and when, never the phone or
    the text."""
    rows = session.execute(
        select(NotificationRow.operation_id, NotificationRow.notice, NotificationRow.state,
               NotificationRow.queued_at, NotificationRow.sent_at)
        .join(OperationRow, OperationRow.operation_id == NotificationRow.operation_id)
        .where(OperationRow.account_number == number)
        .order_by(NotificationRow.queued_at, NotificationRow.id)
    ).all()
    return [NotificationWire(operation_id=r.operation_id, notice=r.notice, state=r.state,
                             queued_at=r.queued_at,
                             sent_at=r.sent_at)
            for r in rows]


def _phone_lock_key(phone: str) -> int:
    """The PostgreSQL advisory lock of a phone: claims of one phone's messages by several
    workers are counted one after the other."""
    return int.from_bytes(hashlib.blake2b(phone.encode(), digest_size=8).digest(), "big",
                          signed=True)


def _recent(session: Session, phone: str, now: datetime) -> list[datetime]:
    """When the phone's messages of the last day were claimed to go (this transaction's
    claims included)."""
    return [at for at in session.scalars(
        select(NotificationRow.claimed_at)
        .where(NotificationRow.phone == phone, NotificationRow.state.in_(WENT),
               NotificationRow.claimed_at > now - DAY)) if at is not None]


def _claim(engine: Engine, limit: int, now: datetime,
           policy: SmsPolicy | None) -> list[NotificationRow]:
    """Take up to `limit` due rows for this worker; each row is taken by one worker only. A row
    in the quiet hours or over its phone's limits is put off instead."""
    with Session(writer(engine), expire_on_commit=False) as session, session.begin():
        rows = session.scalars(
            select(NotificationRow)
            .where(
                ((NotificationRow.state == "pending") & (NotificationRow.next_attempt_at <= now))
                | ((NotificationRow.state == "sending")
                   & (NotificationRow.claimed_at < now - CLAIM_TIMEOUT))
            )
            .order_by(NotificationRow.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        on_postgres = session.get_bind().dialect.name == "postgresql"
        claimed = []
        # Phone locks in one order: two workers never wait for each other's.
        for row in sorted(rows, key=lambda r: _phone_lock_key(r.phone)):
            wait = None if policy is None else policy.quiet_until(row.notice, now)
            if policy is not None and wait is None:
                if on_postgres:
                    session.execute(select(func.pg_advisory_xact_lock(
                        _phone_lock_key(row.phone))))
                wait = policy.limit_until(_recent(session, row.phone, now), now)
            if wait is not None:
                row.state, row.next_attempt_at = "pending", wait
            else:
                row.state, row.claimed_at = "sending", now
                row.attempts += 1
                claimed.append(row)
            session.flush()
        return claimed


def _backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _leave_to_operator(engine: Engine, before: datetime) -> int:
    """Submitted rows without a sign since `before` become `unconfirmed`; how many."""
    with Session(writer(engine)) as session, session.begin():
        done: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            update(NotificationRow)
            .where(NotificationRow.state == "submitted", NotificationRow.submitted_at < before)
            .values(state="unconfirmed"))
        return done.rowcount


def _handing_over(engine: Engine, row: NotificationRow) -> HandingOver:
    def mark(parts: int) -> None:
        with Session(writer(engine)) as session, session.begin():
            taken: CursorResult[Any] = session.execute(  # type: ignore[assignment]
                update(NotificationRow)
                .where(NotificationRow.id == row.id, NotificationRow.state == "sending",
                       NotificationRow.claimed_at == row.claimed_at)
                .values(state="submitted", submitted_at=datetime.now(UTC), parts=parts))
            if not taken.rowcount:
                raise MessageTakenOver(row.id)
    return mark


def deliver_due(engine: Engine, gateway: SmsGateway, *, limit: int = 100,
                now: datetime | None = None,
                policy: SmsPolicy | None = None) -> tuple[int, int]:
    """Deliver what is due, under the policy's limits and quiet hours (none without one);
    returns (sent, failed), failed counting those whose answer did not come."""
    now = now or datetime.now(UTC)
    window = (policy or SmsPolicy()).confirm_window
    left = _leave_to_operator(engine, now - window)
    if left:
        log.warning("%s SMS handed to the gateway got no answer nor delivery report within %s: "
                    "left to the operator (hallserver sms unconfirmed)", left, window)
    sent = failed = 0
    for row in _claim(engine, limit, now, policy):
        values: dict[str, Any]
        try:
            gateway.send(row.id, row.phone, row.text, _handing_over(engine, row))
        except MessageTakenOver:
            continue
        except SubmitUnconfirmed as exc:  # it stays submitted: only a sign of it settles it
            failed += 1
            log.warning("SMS %s handed over without an answer: %s", row.id, exc)
            values = {"last_error": f"no answer: {exc}"[:500]}
        except SubmitRefused as exc:
            failed += 1
            log.warning("SMS %s refused by the gateway: %s", row.id, exc)
            values = {"state": "refused", "last_error": f"refused: {exc}"[:500]}
        except Exception as exc:  # nothing went: keep the row and try later
            failed += 1
            log.warning("SMS %s failed (attempt %s): %s", row.id, row.attempts,
                        type(exc).__name__)
            values = {"state": "pending", "submitted_at": None, "parts": None,
                      "last_error": f"{type(exc).__name__}: {exc}"[:500],
                      "next_attempt_at": now + _backoff(row.attempts)}
        else:
            sent += 1
            values = {"state": "sent", "sent_at": datetime.now(UTC), "last_error": None}
        with Session(writer(engine)) as session, session.begin():
            # A delivery report may have settled it already; a row taken over is another's.
            session.execute(update(NotificationRow)
                            .where(NotificationRow.id == row.id,
                                   NotificationRow.state.in_(("sending", "submitted")),
                                   NotificationRow.claimed_at == row.claimed_at)
                            .values(**values))
    return sent, failed


# --- what the gateway says later: answers and delivery reports ------------------------------


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    message_id: str
    state: str  # DELIVRD, UNDELIV, EXPIRED, REJECTD, DELETED, UNKNOWN, ENROUTE, ACCEPTD
    at: datetime  # when the gateway says it was settled, else when the report came
    phone: str | None = None  # the handset's number (the report's source address)
    reference: int | None = None  # the reference the message was sent with, when echoed


class SmsRecorder:
    """Records what a gateway says of messages handed to it, each in its own transaction;
    called from the gateway's receiving thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def accepted(self, notification_id: int, part: int, parts: int, message_id: str) -> None:
        """The gateway took segment `part` of `parts` and named it `message_id` (perhaps after
        the sender stopped waiting)."""
        with Session(writer(self.engine)) as session, session.begin():
            row = session.get(NotificationRow, notification_id)
            if row is None:
                return
            segment = session.scalars(select(SmsSegmentRow).where(
                SmsSegmentRow.notification_id == notification_id,
                SmsSegmentRow.message_id == message_id)).first()
            if segment is None:
                session.add(SmsSegmentRow(notification_id=notification_id, part=part,
                                          message_id=message_id))
            else:
                segment.part = part
            if part == 1:
                row.gateway_message_id = message_id
            session.flush()
            _settle(session, row, parts)

    def report(self, report: DeliveryReport) -> bool:
        """Record a delivery report on its message; False when it matches none."""
        with Session(writer(self.engine)) as session, session.begin():
            segment = session.scalars(
                select(SmsSegmentRow).where(SmsSegmentRow.message_id == report.message_id)
                .order_by(SmsSegmentRow.id.desc())).first()
            if segment is None:
                row = _by_reference(session, report)
                if row is None:
                    return False
                segment = SmsSegmentRow(notification_id=row.id, part=None,
                                        message_id=report.message_id)
                session.add(segment)
            segment.delivery_state, segment.delivery_at = report.state, report.at
            session.flush()
            row = session.get(NotificationRow, segment.notification_id)
            assert row is not None
            _settle(session, row, row.parts or 1)
            return True


def _by_reference(session: Session, report: DeliveryReport) -> NotificationRow | None:
    """The message whose answer was lost that a report names by the reference it was sent
    with, to the same phone."""
    if report.reference is None or report.phone is None:
        return None
    return session.scalars(
        select(NotificationRow)
        .where(NotificationRow.phone == report.phone,
               NotificationRow.state.in_(("submitted", "unconfirmed", "sent")),
               NotificationRow.id % REFERENCE_MODULO == report.reference)
        .order_by(NotificationRow.id.desc())).first()


def _settle(session: Session, row: NotificationRow, parts: int) -> None:
    """The row's state from what is known of its segments: delivered when every segment is,
    undelivered when one will not be, sent when the gateway has shown it has it."""
    segments = session.scalars(select(SmsSegmentRow).where(
        SmsSegmentRow.notification_id == row.id).order_by(SmsSegmentRow.id)).all()
    failed = [s for s in segments if s.delivery_state in NOT_DELIVERED]
    delivered = [s for s in segments if s.delivery_state == "DELIVRD"]
    if row.state in ("submitted", "unconfirmed") and len(segments) >= parts:
        row.state, row.sent_at = "sent", row.submitted_at
    if failed:
        row.state, row.delivery_state, row.delivery_at = ("undelivered",
                                                          failed[0].delivery_state,
                                                          failed[0].delivery_at)
    elif len(delivered) >= parts:
        row.state, row.delivery_state = "delivered", "DELIVRD"
        row.delivery_at = max(s.delivery_at for s in delivered if s.delivery_at is not None)
        row.sent_at = row.sent_at or row.submitted_at


# --- the operator's view ---------------------------------------------------------------------


def unconfirmed(session: Session) -> list[NotificationRow]:
    """The messages left to the operator, oldest first."""
    return list(session.scalars(select(NotificationRow)
                                .where(NotificationRow.state == "unconfirmed")
                                .order_by(NotificationRow.submitted_at, NotificationRow.id)))


def resend(session: Session, notification_id: int, actor: str, now: datetime) -> None:
    """Put an unconfirmed message back in the queue, as the operator decided (audited): the
    customer may get it twice."""
    row = session.get(NotificationRow, notification_id, with_for_update=True)
    if row is None:
        raise AdminRefused(Text(f"没有编号为 {notification_id} 的短信",
                                f"there is no SMS {notification_id}"))
    if row.state != "unconfirmed":
        raise AdminRefused(Text(
            f"短信 {notification_id} 的状态为 {row.state}，只有未确认（unconfirmed）的短信可以重发",
            f"SMS {notification_id} is {row.state}, not unconfirmed: only an unconfirmed one "
            "is sent again"))
    row.state, row.next_attempt_at, row.submitted_at, row.parts = "pending", now, None, None
    append_audit(session, hall_id=None, terminal_id="", actor=actor, action="sms_resend",
                 subject=str(notification_id),
                 detail={"operation_id": row.operation_id, "notice": row.notice}, at=now)
