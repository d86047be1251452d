"""Work items: the later steps of an accepted request, each with its committed deadline."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hallcore.audit_chain import as_utc
from hallcore.domain.accounts import AccountStatus
from hallcore.domain.business import BUSINESS_TYPES, BusinessKind, Notice, WorkStep
from hallcore.domain.deadlines import HALL_TZ, Deadline, TimeLimit
from hallcore.domain.text import Text
from hallcore.wire import BilingualText, PushOperation, WorkItemWire
from hallserver.accounts import next_seq, rows_to_wire
from hallserver.callbacks import (
    CALLBACK_LABEL,
    CALLBACK_STEP,
    callback_done,
    callback_label,
    is_callback,
    rated_moment,
)
from hallserver.context import Caller
from hallserver.models import AccountRow, FeedbackRow, OperationRow, WorkItemRow
from hallserver.notifications import queue_notices
from hallserver.working_days import hall_deadline

_COMPLETION_LABEL = Text("办结", "completion")


def _steps(kind: BusinessKind) -> tuple[WorkStep, ...]:
    btype = BUSINESS_TYPES[kind]
    if btype.steps:
        return btype.steps
    if btype.time_limit.at_counter:
        return ()
    return (WorkStep("complete", _COMPLETION_LABEL, btype.time_limit),)


def work_item_rows(session: Session, caller: Caller, op: PushOperation,
                   account_number: str) -> tuple[list[dict[str, Any]], Deadline | None]:
    """The rows of the work items table that open the request's work items, and the last
    deadline (None if done at the counter)."""
    accepted = op.created_at.astimezone(HALL_TZ)
    last: Deadline | None = None
    rows = []
    for step in _steps(op.business_type):
        due = hall_deadline(session, caller.hall_id, accepted, step.limit)
        rows.append({"operation_id": op.operation_id, "account_number": account_number,
                     "hall_id": caller.hall_id, "business_type": op.business_type.value,
                     "step": step.code, "due_at": due.at, "done_at": None})
        last = due if last is None or due.at > last.at else last
    return rows, last


WORK_ITEMS = WorkItemRow.metadata.tables[WorkItemRow.__tablename__]


def recount_open_items(session: Session, since: date, callback_limit: TimeLimit) -> int:
    """After a notice is loaded: the open items due on or after `since` (its first day)
    counted again on it, their start as at first (the request's acceptance, the rating). A
    deadline only moves later: the customer was told an estimate moves by any holiday, never
    that it comes sooner. Returns how many moved."""
    first = datetime.combine(since, time(0), tzinfo=HALL_TZ)
    rows = session.execute(
        select(WorkItemRow, OperationRow.created_at, FeedbackRow.rated_at,
               FeedbackRow.received_at)
        .join(OperationRow, OperationRow.operation_id == WorkItemRow.operation_id)
        .outerjoin(FeedbackRow, FeedbackRow.operation_id == WorkItemRow.operation_id)
        .where(WorkItemRow.done_at.is_(None), WorkItemRow.due_at >= first)).all()
    moved = 0
    for item, accepted, rated_at, received_at in rows:
        if is_callback(item) and rated_at is not None:
            start, limit = rated_moment(rated_at, accepted, received_at), callback_limit
        else:
            step = next((s for s in _steps(BusinessKind(item.business_type))
                         if s.code == item.step), None)
            if step is None:
                continue
            start, limit = accepted, step.limit
        due = hall_deadline(session, item.hall_id, as_utc(start), limit).at
        if due > as_utc(item.due_at):
            item.due_at, moved = due, moved + 1
    return moved


def step_label(kind: BusinessKind, code: str) -> Text:
    if code == CALLBACK_STEP:
        return CALLBACK_LABEL
    for step in _steps(kind):
        if step.code == code:
            return step.label
    return Text(code, code)


def list_open(session: Session, hall_id: str, now: datetime, *, overdue_only: bool,
              within: timedelta | None) -> list[WorkItemWire]:
    """Open items of a hall, soonest due first (so the overdue ones lead): all of them, those
    due before now + `within`, or only the overdue ones."""
    query = (select(WorkItemRow, FeedbackRow.rating, FeedbackRow.reason)  # for call-backs
             .outerjoin(FeedbackRow, FeedbackRow.operation_id == WorkItemRow.operation_id)
             .where(WorkItemRow.hall_id == hall_id, WorkItemRow.done_at.is_(None)))
    if overdue_only:
        query = query.where(WorkItemRow.due_at < now)  # as time_left says overdue
    elif within is not None:
        query = query.where(WorkItemRow.due_at <= now + within)
    rows = session.execute(query.order_by(WorkItemRow.due_at, WorkItemRow.id)).all()
    return [to_wire(row, now, rating=rating, reason=reason) for row, rating, reason in rows]


def to_wire(row: WorkItemRow, now: datetime, *, rating: str | None = None,
            reason: str | None = None) -> WorkItemWire:
    """A work item as the hall's list shows it; a call-back with the rating it answers."""
    kind = BusinessKind(row.business_type)
    label = callback_label(rating, reason) if is_callback(row) else step_label(kind, row.step)
    due = row.due_at
    return WorkItemWire(
        id=row.id, operation_id=row.operation_id, account_number=row.account_number,
        business_type=kind, step=row.step, step_label=BilingualText(zh=label.zh, en=label.en),
        due_at=due, done_at=row.done_at,
        overdue=row.done_at is None and due < now)


class WorkItemNotFound(LookupError):
    pass


def complete(session: Session, caller: Caller, item_id: int, now: datetime) -> WorkItemRow:
    """Mark a step done. When the request's last step is done, the request is completed: a new
    connection is energised (its account becomes active) and the customer is told."""
    item = session.scalars(
        select(WorkItemRow).where(WorkItemRow.id == item_id).with_for_update()).one_or_none()
    if item is None or item.hall_id != caller.hall_id:
        raise WorkItemNotFound(item_id)
    if item.done_at is not None:
        return item  # done already: completing again changes nothing
    item.done_at = now
    session.flush()
    if is_callback(item):  # not a step of the request: it completes nothing else
        callback_done(session, caller, item, now)
        return item
    still_open = session.scalar(
        select(func.count()).select_from(WorkItemRow)
        .where(WorkItemRow.operation_id == item.operation_id, WorkItemRow.done_at.is_(None),
               WorkItemRow.step != CALLBACK_STEP))
    if not still_open:
        _finish_request(session, item, now)
    return item


def _finish_request(session: Session, item: WorkItemRow, now: datetime) -> None:
    op = session.get(OperationRow, item.operation_id)
    account = session.scalars(select(AccountRow).where(
        AccountRow.number == item.account_number).with_for_update()).one()
    if BusinessKind(item.business_type) is BusinessKind.NEW_CONNECTION and (
            account.status == AccountStatus.PENDING_CONNECTION.value):
        account.status = AccountStatus.ACTIVE.value
        account.version += 1
        account.seq = next_seq(session, account.district)
        session.flush()
    assert op is not None
    if Notice.COMPLETED in BUSINESS_TYPES[BusinessKind(item.business_type)].notices:
        queue_notices(session, op, rows_to_wire(session, [account])[0], [Notice.COMPLETED], now)

