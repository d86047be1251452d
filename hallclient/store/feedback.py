"""The customer's rating of a transaction (one of the five levels of `Rating`, an optional
reason), given at the counter after the receipt. Kept here until the server has it: the sync
engine sends pending ratings once their operation has reached the server.

The rating is kept as its wire value, in a column without a list of values: the three levels
of the first terminals, still waiting in a cache, are sent as they are, and mean what they
meant."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hallclient.store.cache import Cache
from hallclient.store.models import FeedbackRow, OutboxRow
from hallcore.wire import Feedback, Rating

MAX_REASON = 200


class AlreadyRated(Exception):
    """A transaction is rated once."""


def record_feedback(cache: Cache, operation_id: str, rating: Rating, reason: str | None,
                    now: datetime) -> None:
    reason = (reason or "").strip()[:MAX_REASON] or None
    with cache.write() as session:
        if session.get(FeedbackRow, operation_id) is not None:
            raise AlreadyRated(operation_id)
        session.add(FeedbackRow(operation_id=operation_id, rating=rating.value, reason=reason,
                                rated_at=now, state="pending"))


def sendable_feedback(session: Session, limit: int) -> list[Feedback]:
    """Pending ratings whose operation the server has answered (before, it would not know
    the operation id)."""
    rows = session.scalars(
        select(FeedbackRow).join(OutboxRow, OutboxRow.operation_id == FeedbackRow.operation_id)
        .where(FeedbackRow.state == "pending", OutboxRow.state != "pending")
        .order_by(FeedbackRow.rated_at).limit(limit))
    return [Feedback(operation_id=r.operation_id, rating=Rating(r.rating), reason=r.reason,
                     rated_at=r.rated_at)
            for r in rows]


def mark_stored(session: Session, operation_ids: list[str]) -> None:
    for operation_id in operation_ids:
        row = session.get(FeedbackRow, operation_id)
        if row is not None:
            row.state = "stored"
