"""Service-quality reports, for supervisors: their own hall's figures."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hallcore.domain.text import Text
from hallcore.wire import KpiReport, QueryTime
from hallserver.api.deps import SessionDep, SupervisorDep
from hallserver.api.errors import ApiError
from hallserver.kpi import Grouping, in_hall_time, report

router = APIRouter(tags=["reports"])


@router.get("/reports/kpi", response_model=KpiReport)
def kpi_report(caller: SupervisorDep, session: SessionDep, since: QueryTime, until: QueryTime,
               by: Grouping = Grouping.HALL,
               hall: Annotated[str | None, Query(max_length=32)] = None) -> KpiReport:
    """The KPI over [since, until) (times without an offset are the halls' clock)."""
    if hall is not None and hall != caller.hall_id:
        raise ApiError(403, "other_hall", Text(
            f"只能查看本营业厅（{caller.hall_id}）的报表",
            f"you can see the reports of your own hall ({caller.hall_id}) only"))
    since, until = in_hall_time(since), in_hall_time(until)
    if since >= until:
        raise ApiError(422, "empty_period", Text(
            "统计期间的结束时间须晚于开始时间", "the period must end after it starts"))
    return report(session, since, until, by, hall=caller.hall_id)
