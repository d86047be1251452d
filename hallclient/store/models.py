"""The local cache: SQLAlchemy 2.0 typed models.

The cache holds the district's accounts as last seen from the server (plus this terminal's
optimistic changes), the outbox of operations not yet confirmed, receipts, the audit trail and
the sync position. Every schema change goes through an Alembic revision in migrations/.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from hallcore.db.account_columns import AccountColumns
from hallcore.db.naming import NAMING
from hallcore.db.types import UTCDateTime


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON}  # noqa: RUF012


class CommunityRow(Base):
    __tablename__ = "communities"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    households: Mapped[int] = mapped_column(Integer, default=0)
    manager_name: Mapped[str | None] = mapped_column(String(60))
    manager_phone: Mapped[str | None] = mapped_column(String(32))


class AccountRow(AccountColumns, Base):
    """A cached account: the declared account columns, and these."""

    __tablename__ = "accounts"

    # Not indexed: nothing reads accounts by community (migration 0015).
    community_code: Mapped[str | None] = mapped_column(ForeignKey("communities.code"))
    # The server's sequence number of the change this row was last pulled with.
    server_seq: Mapped[int] = mapped_column(Integer, default=0)

    community: Mapped[CommunityRow | None] = relationship(lazy="joined")

    __table_args__ = (
        CheckConstraint(
            "status in ('pending_connection', 'active', 'suspended', 'closed')", name="status"
        ),
        CheckConstraint("version >= 0", name="version"),
        Index("ix_accounts_id_number", "id_number"),
        # A phone's last digits: search finds a phone, whole or by its last digits, by them
        # (store/search.py), checking the whole phone in the index.
        Index("ix_accounts_phone_last4", text("substr(phone, -4)"), "phone"),
    )


class SyncStateRow(Base):
    """A single row (id = 1): where this terminal stands with the server."""

    __tablename__ = "sync_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pull_cursor: Mapped[int] = mapped_column(Integer, default=0)
    # Bootstrap is resumable: the last account number received, until it is done.
    bootstrap_after: Mapped[str | None] = mapped_column(String(10))
    bootstrap_done: Mapped[bool] = mapped_column(Boolean, default=False)
    last_pull_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_push_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the server said of this terminal (TerminalFacts) at the last login or sync: the
    # central database's identity (a new one: it was restored from a backup), the last receipt
    # number of this terminal it holds, and how far this PC's clock was from the server's.
    server_identity: Mapped[str | None] = mapped_column(String(64))
    server_last_receipt: Mapped[str | None] = mapped_column(String(40))
    clock_offset_seconds: Mapped[int | None] = mapped_column(Integer)
    # The working-day calendar and the hall's opening hours (hallcore.wire.CalendarWire as
    # JSON), fetched again when the server's calendar_stamp changes.
    work_calendar: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)


def sync_state(session: Session) -> SyncStateRow:
    """The single sync-state row, made on first use."""
    state = session.get(SyncStateRow, 1)
    if state is None:
        state = SyncStateRow(id=1, pull_cursor=0, bootstrap_done=False)
        session.add(state)
        session.flush()
    return state


class OutboxRow(Base):
    """An operation made at this counter, kept until the server has answered it for good."""

    __tablename__ = "outbox"

    # Local order: pushes go oldest first.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    operation_id: Mapped[str] = mapped_column(String(36), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    clerk: Mapped[str] = mapped_column(String(32))
    business_type: Mapped[str] = mapped_column(String(32))
    account_number: Mapped[str | None] = mapped_column(String(10), index=True)
    base_version: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The supervisor who signed off at the counter (closing an account, a rule's warning),
    # and the proof pushed with it: an online approval's token or an offline signature.
    approved_by: Mapped[str | None] = mapped_column(String(32))
    approval_token: Mapped[str | None] = mapped_column(String(100))
    approval_signature: Mapped[str | None] = mapped_column(String(128))
    # One-stop: settled at this first contact, or why not; the form's handling time.
    first_contact: Mapped[bool | None] = mapped_column(Boolean)
    not_settled_reason: Mapped[str | None] = mapped_column(String(32))
    handling_seconds: Mapped[int | None] = mapped_column(Integer)
    # The customer's handwritten signature (a PNG), as signed with the receipt.
    customer_signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The customer's queue ticket (hallcore.wire.QueueTicket): its number, how it came, and
    # the queue system's times when it was called from there.
    ticket_no: Mapped[str | None] = mapped_column(String(16))
    ticket_source: Mapped[str | None] = mapped_column(String(8))
    ticket_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ticket_called_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    receipt: Mapped[ReceiptRow | None] = relationship(back_populates="operation")

    __table_args__ = (
        CheckConstraint(
            "state in ('pending', 'applied', 'duplicate', 'conflict', 'rejected')", name="state"
        ),
    )


class ScanRow(Base):
    """A document scan attached to an operation of the outbox: recorded with it, uploaded
    after it is pushed, resumably (`uploaded` bytes the server has acknowledged)."""

    __tablename__ = "scans"

    scan_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    operation_id: Mapped[str] = mapped_column(ForeignKey("outbox.operation_id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    media_type: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(8), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("state in ('pending', 'uploaded')", name="state"),)


class ReceiptCounterRow(Base):
    """The last receipt sequence used on a day; bumped in the operation's own transaction."""

    __tablename__ = "receipt_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)  # YYYYMMDD
    last_seq: Mapped[int] = mapped_column(Integer)


class ReceiptRow(Base):
    __tablename__ = "receipts"

    receipt_no: Mapped[str] = mapped_column(String(40), primary_key=True)
    operation_id: Mapped[str] = mapped_column(
        ForeignKey("outbox.operation_id"), unique=True
    )
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    copies_printed: Mapped[int] = mapped_column(Integer, default=0)
    # Ed25519 signature of receipt number and operation id by the terminal's key (the QR
    # code's proof).
    signature: Mapped[str] = mapped_column(String(128), default="")
    # What the receipt said, for an exact reprint (the account may have changed since).
    content: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    operation: Mapped[OutboxRow] = relationship(back_populates="receipt")


class AuditRow(Base):
    """An entry of the terminal's audit trail, a hash chain: added by store/audit.py only."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    clerk: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_at", "at"),)


class FeedbackRow(Base):
    """The customer's rating of an operation made here, kept until the server has it."""

    __tablename__ = "feedback"

    operation_id: Mapped[str] = mapped_column(ForeignKey("outbox.operation_id"),
                                              primary_key=True)
    rating: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(String(200))
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(12), default="pending", index=True)

    __table_args__ = (CheckConstraint("state in ('pending', 'stored')", name="state"),)


class TaskRow(Base):
    """A conflict or rejection the server answered: work for a clerk, never dropped."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    operation_id: Mapped[str] = mapped_column(ForeignKey("outbox.operation_id"), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # conflict | rejected
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    account_number: Mapped[str | None] = mapped_column(String(10))
    customer_name: Mapped[str | None] = mapped_column(String(60))
    customer_phone: Mapped[str | None] = mapped_column(String(32))
    business_type: Mapped[str] = mapped_column(String(32))
    server_reason_zh: Mapped[str] = mapped_column(Text)
    server_reason_en: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(8), default="open", index=True)  # open | closed
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(32))
    resolution: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("kind in ('conflict', 'rejected')", name="kind"),
        CheckConstraint("state in ('open', 'closed')", name="state"),
    )
