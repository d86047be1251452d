"""The operations this terminal recorded on one account, with where each stands with the server.

For the account panel of the counter window. The history is read from the outbox, which keeps
every operation of this terminal (answered ones too): operations other terminals made on the
account are not in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from hallclient.store.models import OutboxRow, ReceiptRow
from hallcore.domain.business import BusinessKind
from hallcore.domain.text import Text


class SyncState(StrEnum):
    PENDING = "pending"  # 待上传：not yet answered by the server
    SYNCED = "synced"  # 已同步：applied (or a duplicate of an applied push)
    CONFLICT = "conflict"  # 冲突：the account had changed; a task is open for a clerk
    REJECTED = "rejected"  # 被退回：the server refused it; a task is open for a clerk


SYNC_STATE_LABELS: dict[SyncState, Text] = {
    SyncState.PENDING: Text("待上传", "waiting to send"),
    SyncState.SYNCED: Text("已同步", "synced"),
    SyncState.CONFLICT: Text("冲突", "conflict"),
    SyncState.REJECTED: Text("被退回", "rejected"),
}

# The outbox's states (see OutboxRow) as the clerk sees them.
SYNC_STATE_OF_OUTBOX: dict[str, SyncState] = {
    "pending": SyncState.PENDING,
    "applied": SyncState.SYNCED,
    "duplicate": SyncState.SYNCED,
    "conflict": SyncState.CONFLICT,
    "rejected": SyncState.REJECTED,
}


@dataclass(frozen=True, slots=True)
class OperationEntry:
    operation_id: str
    created_at: datetime  # aware, UTC
    kind: BusinessKind
    clerk: str
    receipt_no: str | None
    state: SyncState


def account_history(session: Session, account_number: str, *,
                    limit: int = 20) -> list[OperationEntry]:
    """The latest `limit` operations recorded here on the account, newest first."""
    rows = session.execute(
        select(OutboxRow, ReceiptRow.receipt_no)
        .outerjoin(ReceiptRow, ReceiptRow.operation_id == OutboxRow.operation_id)
        .where(OutboxRow.account_number == account_number)
        .order_by(OutboxRow.created_at.desc(), OutboxRow.seq.desc())
        .limit(limit)).all()
    return [OperationEntry(op.operation_id, op.created_at, BusinessKind(op.business_type),
                           op.clerk, receipt_no, SYNC_STATE_OF_OUTBOX[op.state])
            for op, receipt_no in rows]
