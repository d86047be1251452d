"""Customers' ratings of their transactions: kept once per operation, each in its own
transaction, for the operations the calling terminal pushed only (the rating device is at
its counter: another counter of the hall, which sees the operation in the hall's work items,
does not answer for its customer). A bad rating (不满意 / 非常不满意)
opens a call-back (hallserver/callbacks.py) in the transaction that stores it: once, however
often the terminal sends it.

The reason a customer gives is their own words: it is stored, and never written to a log or
an audit entry.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hallcore.db.engine import writer
from hallcore.domain.deadlines import TimeLimit
from hallcore.wire import Feedback, FeedbackResponse
from hallserver.audit import append_audit
from hallserver.callbacks import open_callback, rated_moment
from hallserver.context import Caller
from hallserver.models import FeedbackRow, OperationRow


def store_feedback(engine: Engine, caller: Caller, items: list[Feedback],
                   callback_limit: TimeLimit) -> FeedbackResponse:
    """`callback_limit`: the working days a bad rating's call-back is due in."""
    stored: list[str] = []
    unknown: list[str] = []
    for item in items:
        kept = _store_one(engine, caller, item, callback_limit)
        (stored if kept else unknown).append(item.operation_id)
    return FeedbackResponse(stored=stored, unknown=unknown)


def _store_one(engine: Engine, caller: Caller, item: Feedback, callback_limit: TimeLimit) -> bool:
    """True when the rating is kept (now or before); False for an operation this terminal has
    not pushed (another terminal's is not told apart from one not received yet)."""
    now = datetime.now(UTC)
    try:
        with Session(writer(engine)) as session, session.begin():
            operation = session.get(OperationRow, item.operation_id)
            if operation is None or (operation.hall_id, operation.terminal_id) != (
                    caller.hall_id, caller.terminal_id):
                return False
            if session.get(FeedbackRow, item.operation_id) is not None:
                return True  # rated before: a repeat changes nothing
            session.add(FeedbackRow(operation_id=item.operation_id, rating=item.rating.value,
                                    reason=item.reason, rated_at=item.rated_at,
                                    received_at=now))
            session.flush()
            append_audit(session, hall_id=caller.hall_id, terminal_id=caller.terminal_id,
                         actor=caller.clerk, action="feedback", subject=item.operation_id,
                         detail={"rating": item.rating.value}, at=now)
            if item.rating.is_bad:
                open_callback(session, caller, operation,
                              rated_moment(item.rated_at, operation.created_at, now),
                              callback_limit, now)
            return True
    except IntegrityError:
        # Another request stored this operation's rating first.
        with Session(engine) as session:
            if session.get(FeedbackRow, item.operation_id) is None:
                raise
        return True
