"""Service-quality figures (KPI) over a period [since, until), by hall, clerk or business type.

Everything is counted in SQL, a few aggregate queries a report, so a district of a million
accounts is never loaded; `kpi_row` turns one group's counts into rates.

What counts:
- operations: every operation the server stored whose `created_at`, the customer's moment at
  the counter, falls in the period, whatever its outcome (a refused request was a customer at
  the counter too, and counts as not settled at first contact: see
  `hallserver.push.settled_at_first_contact`). A request made offline counts on its day, so a
  past period's figures can still grow while terminals push late;
- ratings: those of the operations counted, by the operation's group;
- work items: those due in the period, in the group of the operation they follow (by clerk:
  the clerk who took the request); overdue when done after the due time, or still open and
  past due at the period's end (or now, if that is earlier);
- completeness: by hall only, the accounts of the hall's district with nothing missing
  (`hallcore.domain.accounts.missing_information`), now rather than over the period.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from hallcore.audit_chain import as_utc
from hallcore.domain.deadlines import HALL_TZ
from hallcore.wire import KpiReport, KpiRow, Rating
from hallserver.models import AccountRow, FeedbackRow, HallRow, OperationRow, WorkItemRow

TOTAL = "total"


class Grouping(StrEnum):
    HALL = "hall"
    CLERK = "clerk"
    BUSINESS_TYPE = "business_type"


@dataclass(frozen=True, slots=True)
class Counts:
    """What one group did in the period, as counts."""

    operations: int = 0
    satisfied: int = 0
    basically_satisfied: int = 0
    dissatisfied: int = 0
    first_contact_recorded: int = 0
    first_contact: int = 0
    handling_recorded: int = 0
    handling_seconds: int = 0  # summed over the operations that recorded it
    work_items: int = 0
    overdue: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(**{f.name: getattr(self, f.name) + getattr(other, f.name)
                         for f in fields(self)})


@dataclass(frozen=True, slots=True)
class Completeness:
    accounts: int
    complete: int


def _rate(part: float, whole: int) -> float | None:
    return part / whole if whole else None


def kpi_row(key: str, counts: Counts, completeness: Completeness | None = None) -> KpiRow:
    """The figures of one group; a rate is None where nothing was counted."""
    rated = counts.satisfied + counts.basically_satisfied + counts.dissatisfied
    return KpiRow(
        key=key, operations=counts.operations, rated=rated, satisfied=counts.satisfied,
        basically_satisfied=counts.basically_satisfied, dissatisfied=counts.dissatisfied,
        satisfaction_rate=_rate(counts.satisfied + counts.basically_satisfied, rated),
        first_contact_recorded=counts.first_contact_recorded,
        first_contact=counts.first_contact,
        one_stop_ratio=_rate(counts.first_contact, counts.first_contact_recorded),
        avg_handling_seconds=_rate(counts.handling_seconds, counts.handling_recorded),
        work_items=counts.work_items, overdue=counts.overdue,
        accounts=completeness.accounts if completeness else None,
        complete_accounts=completeness.complete if completeness else None,
        completeness_rate=_rate(completeness.complete, completeness.accounts)
        if completeness else None)


def in_hall_time(moment: datetime) -> datetime:
    """A time without an offset is the halls' clock (China Standard Time)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=HALL_TZ)


def _present(column: InstrumentedAttribute[str | None]) -> ColumnElement[bool]:
    return func.coalesce(column, "") != ""


# The SQL twin of `missing_information(account) == []`; a test holds the two equal, field by
# field of the domain's Account.
COMPLETE_ACCOUNT = and_(_present(AccountRow.id_number), _present(AccountRow.phone),
                        _present(AccountRow.mailing_address), AccountRow.sms_consent.is_(True))

_GROUP_COLUMN = {Grouping.HALL: OperationRow.hall_id, Grouping.CLERK: OperationRow.clerk,
                 Grouping.BUSINESS_TYPE: OperationRow.business_type}


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def report(session: Session, since: datetime, until: datetime, by: Grouping, *,
           hall: str | None = None, now: datetime | None = None) -> KpiReport:
    """The KPI of every hall, or of `hall` only, over [since, until) (aware times)."""
    start, end = as_utc(since), as_utc(until)
    cutoff = min(end, as_utc(now or datetime.now(UTC)))
    counts: dict[str, Counts] = {}
    for key, found in _activity(session, by, start, end, cutoff, hall):
        counts[key] = counts.get(key, Counts()) + found
    total = sum(counts.values(), Counts())
    halls = {hall_id: district for hall_id, district in session.execute(
        select(HallRow.id, HallRow.district).where(*_only(HallRow.id, hall)))}
    by_district = _completeness(session, set(halls.values()))
    # The total carries the completeness of the halls in scope, however it is grouped (a
    # manager reads it in the headline); halls may share a district: each counted once.
    whole = Completeness(sum(c.accounts for c in by_district.values()),
                         sum(c.complete for c in by_district.values()))
    if by is not Grouping.HALL:
        return KpiReport(since=since, until=until, by=by.value,
                         rows=[kpi_row(k, c) for k, c in sorted(counts.items())],
                         total=kpi_row(TOTAL, total, whole))
    # Every hall has a row, with its completeness, whether or not it was busy.
    for hall_id in halls:
        counts.setdefault(hall_id, Counts())
    rows = [kpi_row(k, c, by_district.get(halls.get(k, ""), Completeness(0, 0)))
            for k, c in sorted(counts.items())]
    return KpiReport(since=since, until=until, by=by.value, rows=rows,
                     total=kpi_row(TOTAL, total, whole))


def _only(column: InstrumentedAttribute[str], hall: str | None) -> list[ColumnElement[bool]]:
    return [] if hall is None else [column == hall]


def _activity(session: Session, by: Grouping, start: datetime, end: datetime,
              cutoff: datetime, hall: str | None) -> Iterable[tuple[str, Counts]]:
    """Each group's counts, one query at a time (a group may come up in each)."""
    key = _GROUP_COLUMN[by]
    in_period = (OperationRow.created_at >= start, OperationRow.created_at < end,
                 *_only(OperationRow.hall_id, hall))
    operations = select(
        key, func.count(), func.count(OperationRow.first_contact),
        _count_if(OperationRow.first_contact.is_(True)),
        func.count(OperationRow.handling_seconds),
        func.sum(OperationRow.handling_seconds),
    ).where(*in_period).group_by(key)
    for group, n, recorded, settled, timed, seconds in session.execute(operations):
        yield group, Counts(operations=n, first_contact_recorded=recorded,
                            first_contact=settled, handling_recorded=timed,
                            handling_seconds=seconds or 0)

    ratings = (select(key, FeedbackRow.rating, func.count())
               .join(OperationRow, OperationRow.operation_id == FeedbackRow.operation_id)
               .where(*in_period).group_by(key, FeedbackRow.rating))
    for group, rating, n in session.execute(ratings):
        yield group, Counts(**{Rating(rating).value: n})  # a rating's value names its count

    overdue = or_(
        and_(WorkItemRow.done_at.is_not(None), WorkItemRow.done_at > WorkItemRow.due_at),
        and_(WorkItemRow.done_at.is_(None), WorkItemRow.due_at < cutoff))
    items = (select(key, func.count(), _count_if(overdue))
             .join(OperationRow, OperationRow.operation_id == WorkItemRow.operation_id)
             .where(WorkItemRow.due_at >= start, WorkItemRow.due_at < end,
                    *_only(WorkItemRow.hall_id, hall))
             .group_by(key))
    for group, n, late in session.execute(items):
        yield group, Counts(work_items=n, overdue=late)


def _completeness(session: Session, districts: set[str]) -> dict[str, Completeness]:
    """Accounts and complete accounts of each district: one grouped count."""
    query = (select(AccountRow.district, func.count(), _count_if(COMPLETE_ACCOUNT))
             .where(AccountRow.district.in_(districts)).group_by(AccountRow.district))
    found = {d: Completeness(n, complete) for d, n, complete in session.execute(query)}
    return {d: found.get(d, Completeness(0, 0)) for d in districts}


# --- the command line's output --------------------------------------------------------------

_COLUMNS = tuple(KpiRow.model_fields)


def _cell(value: object) -> str:
    if value is None:
        return ""
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def write_csv(kpi: KpiReport, path: Path) -> None:
    """A header row, a row per group, the total last; rates as fractions, blank for none."""
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(_COLUMNS)
        for row in [*kpi.rows, kpi.total]:
            out.writerow([_cell(getattr(row, name)) for name in _COLUMNS])


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"


def table(kpi: KpiReport) -> str:
    """The report as a plain-text table, for a terminal."""
    header = ("group", "operations", "rated", "satisfaction", "one-stop", "avg handling",
              "due in period", "overdue", "complete")
    lines = [header] + [(
        row.key, str(row.operations), str(row.rated), _percent(row.satisfaction_rate),
        _percent(row.one_stop_ratio),
        "-" if row.avg_handling_seconds is None else f"{row.avg_handling_seconds:.0f} s",
        str(row.work_items), str(row.overdue), _percent(row.completeness_rate),
    ) for row in [*kpi.rows, kpi.total]]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                      for i, (cell, w) in enumerate(zip(line, widths, strict=True)))
            for line in lines]
    text.insert(1, "-" * len(text[0]))
    text.insert(len(text) - 1, "-" * len(text[0]))
    return "\n".join(text)
