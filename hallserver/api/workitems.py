"""The open work items of a hall, and a step marked done."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path, Query

from hallcore.domain.text import Text
from hallcore.wire import MAX_INTEGER, WorkItemList, WorkItemWire
from hallserver.api.deps import CallerDep, SessionDep, WriteSessionDep
from hallserver.api.errors import ApiError
from hallserver.workitems import WorkItemNotFound, complete, list_open, to_wire

router = APIRouter(tags=["work items"])


class DueFilter(StrEnum):
    DUE = "due"
    OVERDUE = "overdue"


@router.get("/halls/{hall_id}/work-items", response_model=WorkItemList)
def hall_work_items(
    caller: CallerDep,
    session: SessionDep,
    hall_id: Annotated[str, Path(max_length=32)],
    state: DueFilter = DueFilter.DUE,
    within_hours: Annotated[int | None, Query(ge=0, le=24 * 90)] = None,
) -> WorkItemList:
    """The hall's open items, overdue ones first, then by due time: all of them, those due
    within `within_hours` (overdue ones included), or with state=overdue the overdue ones."""
    if hall_id != caller.hall_id:
        raise ApiError(403, "other_hall", Text(
            f"只能查看本营业厅（{caller.hall_id}）的工单",
            f"you can see the work items of your own hall ({caller.hall_id}) only"))
    items = list_open(session, hall_id, datetime.now(UTC),
                      overdue_only=state is DueFilter.OVERDUE,
                      within=None if within_hours is None else timedelta(hours=within_hours))
    return WorkItemList(hall_id=hall_id, items=items)


@router.post("/work-items/{item_id}/done", response_model=WorkItemWire)
def complete_work_item(caller: CallerDep, session: WriteSessionDep,
                       item_id: Annotated[int, Path(ge=1, le=MAX_INTEGER)]) -> WorkItemWire:
    """Mark a step done; the last step completes the request and tells the customer."""
    now = datetime.now(UTC)
    try:
        item = complete(session, caller, item_id, now)
    except WorkItemNotFound:
        raise ApiError(404, "work_item_not_found", Text(
            f"本营业厅没有编号为 {item_id} 的工单", f"no work item {item_id} at your hall"
        )) from None
    wire = to_wire(item, now)
    session.commit()
    return wire
