"""Document scans: announced with their operation (size and hash, hallserver/push.py), their
bytes received afterwards in pieces from the terminal that pushed it, checked against the
announced hash once complete, shown to the hall's supervisors (each view audited), and their
content dropped when the retention period has passed (`hallserver scans purge`).

A scan's content is never logged, nor put into an audit entry: what is recorded is that a scan
exists (its id, kind and size)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hallcore.wire import PushOperation, ScanInfo, ScanKind, ScanMediaType, ScanStatus
from hallserver.audit import append_audit
from hallserver.context import Caller
from hallserver.models import OperationRow, ScanRow


class ScanNotFound(Exception):
    """No such scan for this caller: unknown, or another terminal's or hall's."""


class ScanOutOfOrder(Exception):
    """A piece that does not continue what was received: `received` is where to resume."""

    def __init__(self, received: int) -> None:
        super().__init__(f"resume at {received}")
        self.received = received


class ScanPastSize(Exception):
    """A piece that ends beyond the size announced with the operation."""


class ScanHashMismatch(Exception):
    """Every byte arrived but they do not hash to what was announced: what was received is
    dropped, the terminal starts over."""


class ScanNotReceived(Exception):
    """The scan's bytes have not all arrived (yet)."""


class ScanPurged(Exception):
    """The scan's content was dropped after the retention period."""


_SCANS = ScanRow.metadata.tables[ScanRow.__tablename__]


class ScanIds:
    """The scan ids a pushed batch may announce: each once, and none the server holds already
    (another operation's, perhaps another hall's). Read once for the batch."""

    def __init__(self, session: Session, ops: Sequence[PushOperation]) -> None:
        wanted = {ref.scan_id for op in ops for ref in op.scans}
        self.claimed: set[str] = set(session.scalars(
            select(ScanRow.scan_id).where(ScanRow.scan_id.in_(wanted)))) if wanted else set()

    def claim(self, op: PushOperation) -> bool:
        """Whether `op`'s scan ids are its own: none twice, none claimed before; they are
        then claimed for it."""
        ids = [ref.scan_id for ref in op.scans]
        if len(set(ids)) != len(ids) or not self.claimed.isdisjoint(ids):
            return False
        self.claimed.update(ids)
        return True


def announce_scans(session: Session, hall_id: str, ops: Sequence[PushOperation],
                   now: datetime, retention: timedelta) -> None:
    """A row per scan the stored operations `ops` announce, waiting for its bytes; in the
    transaction that stores them. Their ids were claimed for them (ScanIds)."""
    rows = [dict(scan_id=ref.scan_id, operation_id=op.operation_id, hall_id=hall_id,
                 kind=ref.kind.value, media_type=ref.media_type.value, size=ref.size,
                 sha256=ref.sha256, content=None, received=0, created_at=now,
                 complete_at=None, purge_after=now + retention, purged_at=None)
            for op in ops for ref in op.scans]
    if rows:
        session.connection().execute(_SCANS.insert(), rows)


def _status(row: ScanRow) -> ScanStatus:
    return ScanStatus(scan_id=row.scan_id, size=row.size, received=row.received,
                      complete=row.complete_at is not None)


def _terminals_scan(session: Session, caller: Caller, scan_id: str, *, lock: bool
                    ) -> ScanRow:
    """The scan, if the caller's terminal pushed its operation."""
    query = (select(ScanRow).join(OperationRow, OperationRow.operation_id == ScanRow.operation_id)
             .where(ScanRow.scan_id == scan_id, OperationRow.hall_id == caller.hall_id,
                    OperationRow.terminal_id == caller.terminal_id))
    row = session.scalars(query.with_for_update(of=ScanRow) if lock else query).one_or_none()
    if row is None:
        raise ScanNotFound(scan_id)
    return row


def scan_status(session: Session, caller: Caller, scan_id: str) -> ScanStatus:
    return _status(_terminals_scan(session, caller, scan_id, lock=False))


def receive_piece(session: Session, caller: Caller, scan_id: str, offset: int, piece: bytes,
                  now: datetime) -> ScanStatus:
    """Take the bytes `piece` at `offset` of the scan. A piece (or its start) that repeats
    bytes received already must repeat them exactly and changes nothing; one that leaves a
    gap is ScanOutOfOrder; a purged scan takes nothing (ScanPurged). The last byte received,
    the hash is checked: ScanHashMismatch (what was received dropped, in the caller's
    transaction: commit it)."""
    row = _terminals_scan(session, caller, scan_id, lock=True)
    if row.purged_at is not None:
        # Its retention is over: what was received is gone and nothing more is kept.
        raise ScanPurged(scan_id)
    end = offset + len(piece)
    if end > row.size:
        raise ScanPastSize(scan_id)
    if row.complete_at is not None:
        return _status(row)  # a repeat after the last piece: nothing left to take
    if offset > row.received:
        raise ScanOutOfOrder(row.received)
    held = row.content or b""
    overlap = held[offset:row.received]
    if piece[:len(overlap)] != overlap[:len(piece)]:
        raise ScanOutOfOrder(row.received)
    if end > row.received:
        row.content = held + piece[len(overlap):]
        row.received = end
    if row.received == row.size:
        if hashlib.sha256(row.content or b"").hexdigest() != row.sha256:
            row.content, row.received = None, 0
            raise ScanHashMismatch(scan_id)
        row.complete_at = now
    return _status(row)


def _hall_scan(session: Session, caller: Caller, scan_id: str) -> ScanRow:
    row = session.get(ScanRow, scan_id)
    if row is None or row.hall_id != caller.hall_id:
        raise ScanNotFound(scan_id)
    return row


def _info(row: ScanRow) -> ScanInfo:
    return ScanInfo(scan_id=row.scan_id, kind=ScanKind(row.kind),
                    media_type=ScanMediaType(row.media_type), size=row.size,
                    complete=row.complete_at is not None, purged=row.purged_at is not None,
                    created_at=row.created_at)


def operation_scans(session: Session, caller: Caller, operation_id: str, now: datetime
                    ) -> list[ScanInfo]:
    """The scans of an operation of the caller's hall (a supervisor), the listing audited;
    ScanNotFound when the hall has no such operation."""
    op = session.get(OperationRow, operation_id)
    if op is None or op.hall_id != caller.hall_id:
        raise ScanNotFound(operation_id)
    rows = session.scalars(select(ScanRow).where(ScanRow.operation_id == operation_id)
                           .order_by(ScanRow.created_at, ScanRow.scan_id)).all()
    append_audit(session, hall_id=caller.hall_id, terminal_id=caller.terminal_id,
                 actor=caller.clerk, action="scans_listed", subject=operation_id,
                 detail={"scans": [{"scan_id": r.scan_id, "kind": r.kind} for r in rows]},
                 at=now)
    return [_info(row) for row in rows]


@dataclass(frozen=True, slots=True)
class ScanContent:
    media_type: str
    content: bytes


def view_scan(session: Session, caller: Caller, scan_id: str, now: datetime) -> ScanContent:
    """A scan of the caller's hall (a supervisor) to look at, the view audited (who, which scan
    and its kind; never what it shows)."""
    row = _hall_scan(session, caller, scan_id)
    if row.purged_at is not None:
        raise ScanPurged(scan_id)
    if row.complete_at is None or row.content is None:
        raise ScanNotReceived(scan_id)
    append_audit(session, hall_id=caller.hall_id, terminal_id=caller.terminal_id,
                 actor=caller.clerk, action="scan_viewed", subject=scan_id,
                 detail={"kind": row.kind, "operation_id": row.operation_id, "size": row.size},
                 at=now)
    return ScanContent(row.media_type, row.content)


def purge_scans(session: Session, actor: str, now: datetime) -> int:
    """Drop the content of every scan past its retention (the row stays, with `purged_at`);
    one audit entry per hall with the count. Returns how many were purged."""
    due = (ScanRow.purge_after <= now) & ScanRow.purged_at.is_(None)
    counts: dict[str, int] = {hall_id: count for hall_id, count in session.execute(
        select(ScanRow.hall_id, func.count()).where(due).group_by(ScanRow.hall_id))}
    session.execute(update(ScanRow).where(due).values(content=None, purged_at=now))
    for hall_id, count in sorted(counts.items()):
        append_audit(session, hall_id=hall_id, terminal_id="", actor=actor,
                     action="scans_purged", subject=None, detail={"count": count}, at=now)
    return sum(counts.values())


def scans_of(session: Session, operation_id: str) -> list[ScanRow]:
    """Every scan of an operation, for the operator's listing."""
    return list(session.scalars(select(ScanRow).where(ScanRow.operation_id == operation_id)
                                .order_by(ScanRow.created_at, ScanRow.scan_id)))
