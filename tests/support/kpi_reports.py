"""Made-up KPI reports with consistent figures: the rates follow from the counts."""

from datetime import datetime

from hallcore.domain.deadlines import HALL_TZ
from hallcore.wire import KpiReport, KpiRow

SINCE = datetime(2025, 5, 1, tzinfo=HALL_TZ)
UNTIL = datetime(2025, 5, 8, tzinfo=HALL_TZ)


def _ratio(part: int, whole: int | None) -> float | None:
    return part / whole if whole else None


def kpi_row(key, operations=0, satisfied=0, basically=0, dissatisfied=0, recorded=0,
            first_contact=0, handling_seconds=None, work_items=0, overdue=0, accounts=None,
            complete=None):
    rated = satisfied + basically + dissatisfied
    return KpiRow(
        key=key, operations=operations, rated=rated, satisfied=satisfied,
        basically_satisfied=basically, dissatisfied=dissatisfied,
        satisfaction_rate=_ratio(satisfied + basically, rated),
        first_contact_recorded=recorded, first_contact=first_contact,
        one_stop_ratio=_ratio(first_contact, recorded), avg_handling_seconds=handling_seconds,
        work_items=work_items, overdue=overdue, accounts=accounts, complete_accounts=complete,
        completeness_rate=_ratio(complete or 0, accounts))


# A week at a busy city hall, by business type.
BY_TYPE = [
    kpi_row("transfer", 132, 96, 13, 9, 130, 120, 612, 12, 1),
    kpi_row("rename", 41, 31, 4, 2, 41, 40, 305, 0, 0),
    kpi_row("suspend", 28, 15, 4, 3, 28, 25, 288, 6, 0),
    kpi_row("resume", 25, 17, 2, 1, 25, 24, 250, 5, 0),
    kpi_row("close", 17, 10, 2, 2, 17, 12, 540, 17, 2),
    kpi_row("contact_change", 210, 158, 6, 7, 208, 206, 176, 0, 0),
    kpi_row("new_connection", 58, 33, 8, 8, 58, 28, 1130, 58, 3),
]


def _average(weighted):
    weight = sum(w for _, w in weighted)
    return sum(v * w for v, w in weighted) / weight if weight else None


def total_of(rows, accounts=41_250, complete=36_557):
    return kpi_row(
        "total", sum(r.operations for r in rows), sum(r.satisfied for r in rows),
        sum(r.basically_satisfied for r in rows), sum(r.dissatisfied for r in rows),
        sum(r.first_contact_recorded for r in rows), sum(r.first_contact for r in rows),
        _average([(r.avg_handling_seconds, r.operations) for r in rows
                  if r.avg_handling_seconds is not None]),
        sum(r.work_items for r in rows), sum(r.overdue for r in rows), accounts, complete)


def report(rows=None, by="business_type", total=None):
    rows = BY_TYPE if rows is None else rows
    return KpiReport(since=SINCE, until=UNTIL, by=by, rows=rows,
                     total=total if total is not None else total_of(rows))
