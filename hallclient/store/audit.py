"""The terminal's audit trail: one hash chain (hallclient/audit_chain.py) over the `audit` table.

Every entry is added by `append_audit`, inside a `Cache.write()` transaction: those begin with
SQLite's write lock, so reading the last entry and adding the next cannot interleave.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hallclient.store.models import AuditRow
from hallcore.audit_chain import GENESIS, Break, ChainEntry, as_utc, entry_hash, verify_chain


def audit_fields(*, id: int, at: datetime, clerk: str | None, action: str,
                 subject: str | None, detail: Mapping[str, Any]) -> dict[str, Any]:
    """What an entry's hash covers (the migration that chained the first entries uses it too)."""
    return {"id": id, "at": at, "clerk": clerk, "action": action, "subject": subject,
            "detail": detail}


def _fields(row: AuditRow) -> dict[str, Any]:
    return audit_fields(id=row.id, at=row.at, clerk=row.clerk, action=row.action,
                        subject=row.subject, detail=row.detail)


def append_audit(session: Session, *, at: datetime, clerk: str | None, action: str,
                 subject: str | None, detail: Mapping[str, Any]) -> None:
    """Add the next entry of the chain; `session` is a `Cache.write()` transaction."""
    last = session.execute(
        select(AuditRow.id, AuditRow.hash).order_by(AuditRow.id.desc()).limit(1)).one_or_none()
    last_id, prev_hash = (0, GENESIS) if last is None else last
    row = AuditRow(id=last_id + 1, at=as_utc(at), clerk=clerk, action=action, subject=subject,
                   detail=dict(detail), prev_hash=prev_hash)
    row.hash = entry_hash(prev_hash, _fields(row))
    session.add(row)


def verify_cache_audit(session: Session) -> Break | None:
    """Where the cache's audit chain breaks, or None. A removed last entry is not found."""
    rows = session.scalars(select(AuditRow).order_by(AuditRow.id))
    return verify_chain(ChainEntry(_fields(r), r.prev_hash, r.hash) for r in rows)
