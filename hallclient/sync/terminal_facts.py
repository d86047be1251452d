"""What the server says of this terminal (TerminalFacts), kept in the cache at each pull.

- The last receipt number of this terminal the server holds: the floor of the terminal's
  numbering, so a number is never issued twice, also after the cache was lost
  (store/operations.py).
- The offset of this PC's clock from the server's, which the counter shows when it is more
  than a few minutes.
- The central database's identity. A new one means the server was restored from a backup: the
  operations it acknowledged after its last receipt number of this terminal are pushed again
  (those it still holds come back as duplicates), and the accounts are downloaded again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hallclient.store.audit import append_audit
from hallclient.store.models import OutboxRow, ReceiptRow, SyncStateRow, sync_state
from hallcore.audit_chain import as_utc
from hallcore.wire import Outcome, TerminalFacts

# The counter warns the clerk when this PC's clock is further than this from the server's.
CLOCK_WARNING = timedelta(minutes=2)


def record_facts(session: Session, facts: TerminalFacts, now: datetime) -> int:
    """Keep what the server said; returns how many operations are pushed again because the
    server was restored (0 when it was not)."""
    state = sync_state(session)
    again = 0
    if state.server_identity is not None and state.server_identity != facts.server_identity:
        again = _after_restore(session, state, facts, now)
    state.server_identity = facts.server_identity
    state.server_last_receipt = facts.last_receipt_no
    state.clock_offset_seconds = round((as_utc(now) - as_utc(facts.server_time))
                                       .total_seconds())
    return again


def _after_restore(session: Session, state: SyncStateRow, facts: TerminalFacts,
                   now: datetime) -> int:
    """The server lost what it acknowledged after `facts.last_receipt_no`: those operations
    are pending again, and the cache is filled again from the restored server."""
    rows = session.execute(
        select(OutboxRow.seq, OutboxRow.state, ReceiptRow.receipt_no)
        .join(ReceiptRow, ReceiptRow.operation_id == OutboxRow.operation_id)
        .order_by(OutboxRow.seq)).all()
    held_up_to = next((row.seq for row in rows if row.receipt_no == facts.last_receipt_no), 0)
    # Applied ones only: a rejected or conflicting one is a clerk's task already.
    again = [row.seq for row in rows if row.seq > held_up_to and row.state in (
        Outcome.APPLIED.value, Outcome.DUPLICATE.value)]
    if again:
        session.execute(update(OutboxRow).where(OutboxRow.seq.in_(again))
                        .values(state="pending", result=None))
    state.pull_cursor = 0
    state.bootstrap_after = None
    state.bootstrap_done = False
    append_audit(session, at=now, clerk=None, action="server_restored", subject=None,
                 detail={"pushed_again": len(again)})
    return len(again)


def clock_offset(session: Session) -> timedelta | None:
    """How far this PC's clock was ahead of the server's at the last login or sync."""
    state = session.get(SyncStateRow, 1)
    if state is None or state.clock_offset_seconds is None:
        return None
    return timedelta(seconds=state.clock_offset_seconds)
