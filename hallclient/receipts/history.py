"""The receipt history of this terminal, and reprints (marked as copies, audited)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from hallclient.receipts.content import COPY, ReceiptContent, state_now
from hallclient.store.account_history import SYNC_STATE_OF_OUTBOX, SyncState
from hallclient.store.audit import append_audit
from hallclient.store.cache import Cache
from hallclient.store.models import OutboxRow, ReceiptRow
from hallcore.domain.business import BusinessKind


class ReceiptUnavailable(LookupError):
    """The receipt `receipt_no` is not kept on this terminal (the window says it in words)."""

    def __init__(self, receipt_no: str) -> None:
        super().__init__(receipt_no)
        self.receipt_no = receipt_no


@dataclass(frozen=True, slots=True)
class ReceiptEntry:
    receipt_no: str
    issued_at: datetime
    kind: BusinessKind
    account_number: str | None
    state: SyncState  # where its operation stands with the server
    copies_printed: int


def receipt_history(cache: Cache, *, limit: int = 100) -> list[ReceiptEntry]:
    """The latest receipts first."""
    with cache.read() as session:
        rows = session.execute(
            select(ReceiptRow, OutboxRow)
            .join(OutboxRow, OutboxRow.operation_id == ReceiptRow.operation_id)
            .order_by(ReceiptRow.issued_at.desc(), ReceiptRow.receipt_no.desc())
            .limit(limit)).all()
    return [ReceiptEntry(r.receipt_no, r.issued_at, BusinessKind(op.business_type),
                         op.account_number, SYNC_STATE_OF_OUTBOX[op.state], r.copies_printed)
            for r, op in rows]


def reprint(cache: Cache, receipt_no: str, *, clerk: str, now: datetime) -> ReceiptContent:
    """The receipt as it was issued, marked as a copy, with where its request stands now (the
    server may have answered since); the reprint is counted and audited."""
    with cache.write() as session:
        row = session.get(ReceiptRow, receipt_no)
        if row is None or row.content is None:
            raise ReceiptUnavailable(receipt_no)
        row.copies_printed += 1
        append_audit(session, at=now, clerk=clerk, action="reprint", subject=receipt_no,
                     detail={"copy": row.copies_printed})
        content = ReceiptContent.from_json(row.content)
        state = state_now(row.operation.state, content.state)
        # A receipt kept before supervisors were named on it: their id, from the outbox.
        approved_by = content.approved_by or row.operation.approved_by
        signed = row.operation.customer_signature  # kept with the operation, not the receipt
    return dataclasses.replace(content, marking=COPY, state=state, approved_by=approved_by,
                               customer_signature=signed)
