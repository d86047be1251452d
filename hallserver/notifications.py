"""Customer SMS: queued in the operation's own transaction, delivered by workers.

Each (operation, moment) is one row, so a notice is queued once however often an operation is
pushed. Workers claim rows with a conditional UPDATE (on PostgreSQL after SKIP LOCKED), so
several workers in several processes never deliver the same row at once. A failed send is
retried with exponential backoff and stays visible in the table with its last error.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import CursorResult, Engine, select, update
from sqlalchemy.orm import Session

from hallcore.db.engine import writer
from hallcore.domain.business import BUSINESS_TYPES, NOTICE_TEMPLATES, BusinessKind, Notice
from hallcore.wire import AccountWire, BilingualText, NotificationWire
from hallserver.models import NotificationRow, OperationRow

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)
# A row claimed this long ago by a worker that never finished is offered again.
CLAIM_TIMEOUT = timedelta(minutes=5)


class OperationRef(Protocol):
    """What a notice needs of its operation (a pushed operation or a stored one)."""

    @property
    def operation_id(self) -> str: ...
    @property
    def business_type(self) -> str: ...
    @property
    def receipt_no(self) -> str: ...


class SmsGateway(Protocol):
    def send(self, notification_id: int, phone: str, text: str) -> None:
        """Deliver or raise. The id lets a gateway drop a repeat after a worker crash."""


class LogFileGateway:
    """The default gateway: one JSON line per message in a log file (for trials and tests)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def send(self, notification_id: int, phone: str, text: str) -> None:
        line = json.dumps({"id": notification_id, "phone": phone, "text": text,
                           "at": datetime.now(UTC).isoformat()}, ensure_ascii=False)
        with self._lock, self.path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")


def queue_notices(
    session: Session,
    op: OperationRef,
    account: AccountWire,
    notices: Sequence[Notice],
    now: datetime,
    *,
    due: datetime | None = None,
    reason: BilingualText | None = None,
) -> None:
    """Queue the operation's notices to the account's phone, in the customer's language, if
    they consented."""
    if not account.sms_consent or not account.phone:
        return
    btype = BUSINESS_TYPES[BusinessKind(op.business_type)]
    for notice in notices:
        text = NOTICE_TEMPLATES[notice].format(
            business=btype.label, receipt_no=op.receipt_no,
            due=f"{due:%Y-%m-%d}" if due else "", reason=reason or "")
        session.add(NotificationRow(operation_id=op.operation_id, notice=notice.value,
                                    phone=account.phone, text=text[account.sms_language],
                                    queued_at=now, next_attempt_at=now))


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


def _claim(engine: Engine, limit: int, now: datetime) -> list[NotificationRow]:
    """Take up to `limit` due rows for this worker; each row is taken by one worker only."""
    with Session(writer(engine), expire_on_commit=False) as session, session.begin():
        due = (
            select(NotificationRow.id)
            .where(
                ((NotificationRow.state == "pending") & (NotificationRow.next_attempt_at <= now))
                | ((NotificationRow.state == "sending")
                   & (NotificationRow.claimed_at < now - CLAIM_TIMEOUT))
            )
            .order_by(NotificationRow.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claimed = []
        for note_id in session.scalars(due).all():
            taken: CursorResult[Any] = session.execute(  # type: ignore[assignment]
                update(NotificationRow)
                .where(NotificationRow.id == note_id,
                       NotificationRow.state.in_(("pending", "sending")),
                       NotificationRow.sent_at.is_(None))
                .values(state="sending", claimed_at=now,
                        attempts=NotificationRow.attempts + 1)
            )
            if taken.rowcount:
                row = session.get(NotificationRow, note_id)
                assert row is not None
                claimed.append(row)
        return claimed


def _backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def deliver_due(engine: Engine, gateway: SmsGateway, *, limit: int = 100,
                now: datetime | None = None) -> tuple[int, int]:
    """Deliver what is due; returns (sent, failed)."""
    now = now or datetime.now(UTC)
    sent = failed = 0
    for row in _claim(engine, limit, now):
        try:
            gateway.send(row.id, row.phone, row.text)
        except Exception as exc:  # any gateway failure: keep the row and try later
            failed += 1
            log.warning("SMS %s failed (attempt %s): %s", row.id, row.attempts,
                        type(exc).__name__)
            values = {"state": "pending", "last_error": f"{type(exc).__name__}: {exc}"[:500],
                      "next_attempt_at": now + _backoff(row.attempts)}
        else:
            sent += 1
            values = {"state": "sent", "sent_at": datetime.now(UTC), "last_error": None}
        with Session(writer(engine)) as session, session.begin():
            session.execute(update(NotificationRow).where(NotificationRow.id == row.id)
                            .values(**values))
    return sent, failed
