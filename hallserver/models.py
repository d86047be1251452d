"""The central database: the authority for accounts, and what every terminal has pushed."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hallcore.db.account_columns import AccountColumns
from hallcore.db.naming import NAMING
from hallcore.db.types import UTCDateTime


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON}  # noqa: RUF012


class DistrictRow(Base):
    """A supply district. Its change sequence orders every account change within it."""

    __tablename__ = "districts"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    account_prefix: Mapped[str] = mapped_column(String(2), unique=True)
    # Bumped (row-locked) in every transaction that changes an account of the district, so
    # sequence numbers become visible in commit order: a pull by cursor never skips one.
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_account_serial: Mapped[int] = mapped_column(Integer, default=0)
    # The same for the district's account claims (hallserver/claims.py): the claims cursor.
    last_claim_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class HallRow(Base):
    __tablename__ = "halls"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    district: Mapped[str] = mapped_column(ForeignKey("districts.code"))
    service_phone: Mapped[str] = mapped_column(String(32))
    # How old an operation made offline may be when it is pushed (hallserver/proofs.py).
    offline_window_hours: Mapped[int] = mapped_column(Integer, default=72)
    # Opening hours, in the halls' time zone (hallcore.domain.deadlines.HALL_TZ).
    opens_at: Mapped[time] = mapped_column(Time(), default=time(8, 30))
    closes_at: Mapped[time] = mapped_column(Time(), default=time(17, 30))


class CalendarYearRow(Base):
    """A year whose working-day notice is loaded (hallserver/calendar.py); days of other years
    are counted on weekends alone."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(200))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CalendarDayRow(Base):
    """A day of a loaded year that is named in its notice: a holiday, or a make-up working
    day (调休)."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(60))


class ClerkRow(Base):
    __tablename__ = "clerks"

    login: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    hall_id: Mapped[str] = mapped_column(ForeignKey("halls.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A one-time password (set by an administrator) lets its clerk in only to choose their
    # own, and only until it expires.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    password_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TerminalRow(Base):
    """A counter terminal of a hall. It may work only with an approved key (TerminalKeyRow)."""

    __tablename__ = "terminals"

    hall_id: Mapped[str] = mapped_column(ForeignKey("halls.id"), primary_key=True)
    terminal_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The highest receipt number of this terminal the server holds; told to the terminal at
    # login and before each sync, so that it never issues a number twice.
    last_receipt_no: Mapped[str | None] = mapped_column(String(40))
    # A supervisor's extension of the hall's offline window for this terminal, until then.
    window_extension_hours: Mapped[int] = mapped_column(Integer, default=0)
    window_extended_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TerminalKeyRow(Base):
    """A terminal installation's Ed25519 public key: `pending` until a supervisor of the hall
    approves it, then `active` (one per terminal), `retired` once replaced or retired. A
    retired key still checks the receipts it signed."""

    __tablename__ = "terminal_keys"

    public_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    hall_id: Mapped[str] = mapped_column(String(32))
    terminal_id: Mapped[str] = mapped_column(String(32))
    installation_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(8))  # pending | active | retired
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approved_by: Mapped[str | None] = mapped_column(String(32))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        ForeignKeyConstraint(["hall_id", "terminal_id"],
                             ["terminals.hall_id", "terminals.terminal_id"]),
        Index("ix_terminal_keys_terminal_state", "hall_id", "terminal_id", "state"),
    )


class TerminalClerkRow(Base):
    """A clerk's last online login at a terminal: the clerks an operation pushed by that
    terminal may name (an offline login there needs an online one first)."""

    __tablename__ = "terminal_clerks"

    hall_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    terminal_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    clerk: Mapped[str] = mapped_column(ForeignKey("clerks.login"), primary_key=True)
    last_login_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApprovalRow(Base):
    """An online supervisor's sign-off (POST /approve), bound to one operation, short-lived
    and single-use; stored as the SHA-256 of its token."""

    __tablename__ = "approvals"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    hall_id: Mapped[str] = mapped_column(String(32))
    terminal_id: Mapped[str] = mapped_column(String(32))
    clerk: Mapped[str] = mapped_column(String(32))  # whose counter it was given at
    supervisor: Mapped[str] = mapped_column(ForeignKey("clerks.login"))
    operation_id: Mapped[str] = mapped_column(String(36), index=True)
    account_number: Mapped[str | None] = mapped_column(String(10))
    business_type: Mapped[str] = mapped_column(String(32))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SupervisorKeyRow(Base):
    """A supervisor's approval key on one terminal: the public half of a key whose private half
    the terminal keeps sealed with the supervisor's password, for offline sign-offs."""

    __tablename__ = "supervisor_keys"

    supervisor: Mapped[str] = mapped_column(ForeignKey("clerks.login"), primary_key=True)
    hall_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    terminal_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DatabaseIdentityRow(Base):
    """A single row: this central database's identity. `hallserver database restored` gives it
    a new one after a restore from a backup (on PostgreSQL the cluster's own identity and
    timeline are part of it too: hallserver/identity.py)."""

    __tablename__ = "database_identity"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identity: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TokenRow(Base):
    """An issued access or refresh token, stored as its SHA-256 only; revocable."""

    __tablename__ = "tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # access | refresh
    clerk: Mapped[str] = mapped_column(ForeignKey("clerks.login"), index=True)
    hall_id: Mapped[str] = mapped_column(String(32))
    terminal_id: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginFailureRow(Base):
    """A failed login, kept while it counts towards the login throttle (hallserver/api/
    throttle.py): in the database, so every worker and every instance counts the same."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    clerk: Mapped[str] = mapped_column(String(32))  # as typed: it may name no clerk
    address: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    __table_args__ = (
        Index("ix_login_failures_clerk_failed_at", "clerk", "failed_at"),
        Index("ix_login_failures_address_failed_at", "address", "failed_at"),
    )


class CommunityRow(Base):
    __tablename__ = "communities"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    district: Mapped[str] = mapped_column(ForeignKey("districts.code"))
    name: Mapped[str] = mapped_column(String(100))
    households: Mapped[int] = mapped_column(Integer)
    manager_name: Mapped[str | None] = mapped_column(String(60))
    manager_phone: Mapped[str | None] = mapped_column(String(32))
    # The hall whose customer manager looks after the community, where one is named.
    hall_id: Mapped[str | None] = mapped_column(ForeignKey("halls.id"))


class AccountRow(AccountColumns, Base):
    """An account: the declared account columns, and these."""

    __tablename__ = "accounts"

    community_code: Mapped[str | None] = mapped_column(ForeignKey("communities.code"))
    seq: Mapped[int] = mapped_column(Integer)

    __table_args__ = (ForeignKeyConstraint(["district"], ["districts.code"]),
                      Index("ix_accounts_district_seq", "district", "seq"))


class OperationRow(Base):
    """Every pushed operation, once, with the answer given: a repeat gets the same answer."""

    __tablename__ = "operations"

    operation_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    hall_id: Mapped[str] = mapped_column(String(32))
    terminal_id: Mapped[str] = mapped_column(String(32))
    clerk: Mapped[str] = mapped_column(String(32))
    business_type: Mapped[str] = mapped_column(String(32))
    account_number: Mapped[str | None] = mapped_column(String(10), index=True)
    base_version: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    receipt_no: Mapped[str] = mapped_column(String(40), unique=True)
    receipt_signature: Mapped[str] = mapped_column(String(128))
    approved_by: Mapped[str | None] = mapped_column(String(32))  # the supervisor's login
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(16))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    # One-stop (一站妥) as the KPI counts it: None where the terminal did not record it; False
    # for a rejection or a conflict whatever the terminal said (hallserver/push.py).
    first_contact: Mapped[bool | None] = mapped_column(Boolean)
    not_settled_reason: Mapped[str | None] = mapped_column(String(24))
    handling_seconds: Mapped[int | None] = mapped_column(Integer)
    # The customer's handwritten signature (a PNG) whose hash the receipt signature covers.
    customer_signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The queue ticket as the terminal gave it; waiting_seconds (issued to called) only where
    # the server could believe the queue system's two times.
    ticket_no: Mapped[str | None] = mapped_column(String(16))
    ticket_source: Mapped[str | None] = mapped_column(String(8))
    ticket_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ticket_called_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    waiting_seconds: Mapped[int | None] = mapped_column(Integer)


class ScanRow(Base):
    """A document scan of an operation: announced with the operation (its size and hash), its
    bytes received afterwards, in pieces; kept until `purge_after`, then its content is
    dropped and the row stays as the record that there was one."""

    __tablename__ = "scans"

    scan_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    operation_id: Mapped[str] = mapped_column(ForeignKey("operations.operation_id"),
                                              index=True)
    hall_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(24))
    media_type: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    received: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    complete_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    purge_after: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class FeedbackRow(Base):
    """The customer's rating of an operation, kept once. `reason` is the customer's own words:
    never in a log or an audit entry."""

    __tablename__ = "feedback"

    operation_id: Mapped[str] = mapped_column(ForeignKey("operations.operation_id"),
                                              primary_key=True)
    rating: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(String(200))
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NotificationRow(Base):
    """A customer SMS in the server's outbox; unique per operation and moment.

    `state` (hallserver/notifications.py): pending → sending (claimed) → submitted (handed to
    the gateway, its answer awaited) → sent (the gateway took it) → delivered | undelivered
    (its delivery report); refused (the gateway refused it for good); unconfirmed (handed over,
    and no answer nor report came within the window: for the operator, never sent again by
    itself)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    operation_id: Mapped[str] = mapped_column(ForeignKey("operations.operation_id"))
    notice: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When it was handed to the gateway (set before the first byte goes out).
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    # The segments it was sent in, the gateway's id of the first, and the delivery report:
    # DELIVRD once every segment is delivered, else the first other final state; its time.
    parts: Mapped[int | None] = mapped_column(Integer)
    gateway_message_id: Mapped[str | None] = mapped_column(String(65))
    delivery_state: Mapped[str | None] = mapped_column(String(8))
    delivery_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("operation_id", "notice", name="uq_notifications_operation_notice"),
        Index("ix_notifications_state_next", "state", "next_attempt_at"),
        # A phone's recent messages, counted against the per-number limits.
        Index("ix_notifications_phone_claimed", "phone", "claimed_at"),
    )


class SmsSegmentRow(Base):
    """A segment of a customer SMS as the gateway knows it: its message id and its delivery
    report. `part` is None for one matched by its reference alone (its answer was lost)."""

    __tablename__ = "sms_segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), index=True)
    part: Mapped[int | None] = mapped_column(Integer)
    message_id: Mapped[str] = mapped_column(String(65), index=True)
    delivery_state: Mapped[str | None] = mapped_column(String(8))
    delivery_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WorkItemRow(Base):
    """A later step of an accepted request, with its committed deadline."""

    __tablename__ = "work_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    operation_id: Mapped[str] = mapped_column(ForeignKey("operations.operation_id"))
    account_number: Mapped[str] = mapped_column(String(10))
    hall_id: Mapped[str] = mapped_column(String(32))
    business_type: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_work_items_hall_due", "hall_id", "done_at", "due_at"),)


class AuditEntryRow(Base):
    """An entry of the server's audit trail: a hash chain per hall (hallserver/audit.py), with
    no personal data in `detail`: no names, ID numbers or phones."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    hall_id: Mapped[str | None] = mapped_column(String(32))  # None: the "server" chain
    terminal_id: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(32))  # a clerk login, as typed at a login
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_hall_id_id", "hall_id", "id"),)


class AuditHeadRow(Base):
    """Where a chain of the audit trail ends; locked to append to it, so a chain's entries are
    written one at a time, and a removed last entry is found."""

    __tablename__ = "audit_heads"

    chain: Mapped[str] = mapped_column(String(32), primary_key=True)  # hall id or "server"
    last_id: Mapped[int | None] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


class AccountClaimRow(Base):
    """A terminal has a form open on an account ("being changed at hall X"), until it closes
    the form or the claim expires (hallserver/claims.py). Kept a day after it expired."""

    __tablename__ = "account_claims"

    account_number: Mapped[str] = mapped_column(String(10), primary_key=True)
    hall_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    terminal_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    district: Mapped[str] = mapped_column(String(16))
    # The district's claims cursor at the claim's last change.
    seq: Mapped[int] = mapped_column(Integer)
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    released: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_account_claims_district_seq", "district", "seq"),
                      Index("ix_account_claims_expires_at", "expires_at"))
