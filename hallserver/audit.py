"""The server's audit trail: a hash chain per hall (hallcore/audit_chain.py).

One chain per hall, and the chain "server" for what belongs to no hall (a failed login of an
unknown clerk id), so halls never wait on each other's entries. Appending locks the chain's
head row (SELECT ... FOR UPDATE; SQLite writers are serialized anyway) and moves it to the new
entry in the same transaction as what the entry records. The head also catches what a chain
alone cannot show: entries removed from its end.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hallcore.audit_chain import (
    EMPTY_HEAD,
    GENESIS,
    Break,
    ChainEntry,
    ChainHead,
    as_utc,
    entry_hash,
    verify_chain,
)
from hallserver.models import AuditEntryRow, AuditHeadRow

SERVER_CHAIN = "server"


def _chain_of(hall_id: str | None) -> str:
    return SERVER_CHAIN if hall_id is None else hall_id


def _fields(row: AuditEntryRow) -> dict[str, Any]:
    return {"id": row.id, "at": row.at, "hall_id": row.hall_id, "terminal_id": row.terminal_id,
            "actor": row.actor, "action": row.action, "subject": row.subject,
            "detail": row.detail}


def _locked_head(session: Session, chain: str) -> AuditHeadRow:
    locked = select(AuditHeadRow).where(AuditHeadRow.chain == chain).with_for_update()
    # Without flushing the session first: a push locks the chain after deciding its batch,
    # whose accounts it then writes by one statement, not by a flush of one UPDATE each.
    with session.no_autoflush:
        head = session.scalars(locked).one_or_none()
        if head is not None:
            return head
        # A hall's first entries may be written at once: the head is created exactly once.
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(dialect.insert(AuditHeadRow)
                        .values(chain=chain, last_id=None, last_hash=GENESIS)
                        .on_conflict_do_nothing())
        return session.scalars(locked).one()


def append_audit(session: Session, *, hall_id: str | None, terminal_id: str, actor: str,
                 action: str, subject: str | None, detail: Mapping[str, Any],
                 at: datetime | None = None) -> None:
    """Add an entry to the hall's chain, committed (or not) with the caller's transaction."""
    head = _locked_head(session, _chain_of(hall_id))
    row = AuditEntryRow(at=as_utc(at or datetime.now(UTC)), hall_id=hall_id,
                        terminal_id=terminal_id, actor=actor, action=action, subject=subject,
                        detail=dict(detail), prev_hash=head.last_hash, hash="")
    session.add(row)
    session.flush()  # the id the database gives is part of what is hashed
    row.hash = entry_hash(row.prev_hash, _fields(row))
    head.last_id, head.last_hash = row.id, row.hash


def lock_chain(session: Session, hall_id: str | None) -> AuditHeadRow:
    """The hall's chain head, locked until the caller's transaction ends: for a writer that
    appends later (`append_audits`) but must take this lock where append_audit would."""
    return _locked_head(session, _chain_of(hall_id))


def append_audits(session: Session, head: AuditHeadRow, *, terminal_id: str, actor: str,
                  action: str, entries: Sequence[tuple[str | None, Mapping[str, Any]]],
                  at: datetime) -> None:
    """Many entries (subject, detail) of one transaction added to the chain `head` locked by
    `lock_chain`: their ids taken first (the id is part of what is hashed), then chained in
    that order and inserted by one executemany; no ORM object per entry."""
    if not entries:
        return
    hall_id = None if head.chain == SERVER_CHAIN else head.chain
    session.flush()  # what the entries record is in the database before them, as before
    connection = session.connection()
    rows = []
    for entry_id, (subject, detail) in zip(_new_ids(connection, len(entries)), entries,
                                           strict=True):
        row: dict[str, Any] = {
            "id": entry_id, "at": as_utc(at), "hall_id": hall_id, "terminal_id": terminal_id,
            "actor": actor, "action": action, "subject": subject, "detail": dict(detail),
            "prev_hash": head.last_hash}
        row["hash"] = entry_hash(head.last_hash, {key: row[key] for key in _FIELDS})
        head.last_id, head.last_hash = entry_id, row["hash"]
        rows.append(row)
    connection.execute(_AUDIT.insert(), rows)


def _new_ids(connection: Connection, count: int) -> list[int]:
    """`count` ids for new entries, ascending, as the database would give them: from the
    table's sequence on PostgreSQL; on SQLite those after the largest, as SQLite numbers rows
    (the transaction holds the write lock: no other writer numbers any meanwhile). Taken with
    the chain locked, so a later entry of the chain always has a larger id."""
    if connection.dialect.name == "postgresql":
        taken = func.nextval(func.pg_get_serial_sequence(_AUDIT.name, _AUDIT.c.id.name))
        return sorted(connection.execute(select(taken).select_from(
            func.generate_series(1, count))).scalars())
    last = connection.execute(select(func.coalesce(func.max(_AUDIT.c.id), 0))).scalar_one()
    return list(range(last + 1, last + 1 + count))


_AUDIT = AuditEntryRow.metadata.tables[AuditEntryRow.__tablename__]
_FIELDS = ("id", "at", "hall_id", "terminal_id", "actor", "action", "subject", "detail")


@dataclass(frozen=True, slots=True)
class ChainReport:
    chain: str
    entries: int
    broken: Break | None


def _entries(session: Session, chain: str) -> Iterator[ChainEntry]:
    hall = (AuditEntryRow.hall_id.is_(None) if chain == SERVER_CHAIN
            else AuditEntryRow.hall_id == chain)
    rows = session.scalars(select(AuditEntryRow).where(hall).order_by(AuditEntryRow.id)
                           .execution_options(yield_per=1000))
    return (ChainEntry(_fields(r), r.prev_hash, r.hash) for r in rows)


def verify_audit(engine: Engine) -> list[ChainReport]:
    """Every chain checked against its entries and its head, from one snapshot."""
    if engine.dialect.name == "postgresql":
        # Appends committing while the chains are read must not look like breaks.
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    with Session(engine) as session:
        heads = {h.chain: ChainHead(h.last_id, h.last_hash)
                 for h in session.scalars(select(AuditHeadRow))}
        counts = {_chain_of(hall_id): n for hall_id, n in session.execute(
            select(AuditEntryRow.hall_id, func.count()).group_by(AuditEntryRow.hall_id))}
        return [ChainReport(chain, counts.get(chain, 0),
                            verify_chain(_entries(session, chain), heads.get(chain, EMPTY_HEAD)))
                for chain in sorted(heads.keys() | counts.keys())]
