"""Call-backs (回访): a bad rating (不满意 / 非常不满意) becomes a work item of the hall that
served the customer, to call them back within a limit in working days (the server's
`callback_working_days`, 5 by default).

A call-back is a row of the work items (step `callback`): it shows in the hall's list with its
time left, turns overdue on time, and is done by the same "step done" as every item. It is
not a step of the request: the request is completed by its own steps, whether or not its
customer has been called back, and a call-back done completes nothing else.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from hallcore.audit_chain import as_utc
from hallcore.domain.deadlines import HALL_TZ, TimeLimit
from hallcore.domain.text import Text
from hallcore.wire import Rating
from hallserver.audit import append_audit
from hallserver.context import Caller
from hallserver.models import OperationRow, WorkItemRow
from hallserver.working_days import hall_deadline

CALLBACK_STEP = "callback"
CALLBACK_LABEL = Text("回访不满意客户", "call back the dissatisfied customer")
_BAD_LEVELS = {Rating.DISSATISFIED: Text("不满意", "dissatisfied"),
               Rating.VERY_DISSATISFIED: Text("非常不满意", "very dissatisfied")}


def callback_label(rating: str | None, reason: str | None) -> Text:
    """What the clerk who calls back reads: the level the customer gave, and their own words
    (shown to the hall that serves them, never logged)."""
    level = _BAD_LEVELS.get(Rating(rating)) if rating in set(Rating) else None
    if level is None:
        return CALLBACK_LABEL
    said = Text("{l}：{r}", "{l}: {r}").format(l=level, r=reason) if reason else level
    return Text("{c}（{s}）", "{c} ({s})").format(c=CALLBACK_LABEL, s=said)


def rated_moment(claimed: datetime, operation_at: datetime, received: datetime) -> datetime:
    """When the rating was given, as far as the server can tell: the terminal's time, but not
    before the operation it rates nor after the server received it (a terminal's clock cannot
    move a call-back's deadline out of reach)."""
    return max(as_utc(operation_at), min(as_utc(claimed), as_utc(received)))


def callback_due_at(session: Session, hall_id: str, rated_at: datetime,
                    limit: TimeLimit) -> datetime:
    """When a call-back for a rating given at `rated_at` is due: the end of the limit's last
    working day, counted on the hall's working-day calendar as its requests' deadlines are.
    The one place a call-back's deadline is computed."""
    return hall_deadline(session, hall_id, as_utc(rated_at).astimezone(HALL_TZ), limit).at


def open_callback(session: Session, caller: Caller, operation: OperationRow,
                  rated_at: datetime, limit: TimeLimit, now: datetime) -> WorkItemRow:
    """The call-back of a bad rating of `operation`, in the session's transaction: the one
    that stores the rating, so it is opened once, however often the rating is sent."""
    item = WorkItemRow(
        operation_id=operation.operation_id,
        # A request refused before it named an account (a new connection) has none.
        account_number=operation.account_number or "",
        hall_id=operation.hall_id, business_type=operation.business_type, step=CALLBACK_STEP,
        due_at=callback_due_at(session, operation.hall_id, rated_at, limit))
    session.add(item)
    session.flush()
    append_audit(session, hall_id=caller.hall_id, terminal_id=caller.terminal_id,
                 actor=caller.clerk, action="callback_opened", subject=operation.operation_id,
                 detail={"work_item": item.id}, at=now)
    return item


def is_callback(item: WorkItemRow) -> bool:
    return item.step == CALLBACK_STEP


def callback_done(session: Session, caller: Caller, item: WorkItemRow, now: datetime) -> None:
    """Audit who called the customer back, and when (the call's content is not kept here)."""
    append_audit(session, hall_id=caller.hall_id, terminal_id=caller.terminal_id,
                 actor=caller.clerk, action="callback_done", subject=item.operation_id,
                 detail={"work_item": item.id, "in_time": as_utc(now) <= as_utc(item.due_at)},
                 at=now)
