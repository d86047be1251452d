"""Service-quality figures (KPI) over a period [since, until), by hall, clerk or business type.

Everything is counted in SQL, a few aggregate queries a report, so a district of a million
accounts is never loaded; `kpi_row` turns one group's counts into rates.

What counts:
- operations: every operation the server stored whose `created_at`, the customer's moment at
  the counter, falls in the period, whatever its outcome (a refused request was a customer at
  the counter too, and counts as not settled at first contact: see
  `hallserver.push.settled_at_first_contact`). A request made offline counts on its day, so a
  past period's figures can still grow while terminals push late;
- ratings: those of the operations counted, by the operation's group, on the five levels of
  the national scheme (好差评). An operation left unrated for 7 days (by now, whatever the
  period) counts as basically satisfied: `defaulted`, computed here, never stored as a rating;
  a rating that arrives later, from a terminal that was offline, takes its place. The
  satisfaction rate is the scheme's share of good ratings (好评率): very satisfied, satisfied
  and basically satisfied (the defaulted ones included) over all, rated or defaulted;
- call-backs (hallserver/callbacks.py): those opened for the bad ratings counted (the call-back
  rate: opened / dissatisfied and very dissatisfied ratings), and those due in the period,
  done by their due time or not (resolution within the limit: done in time / due);
- work items: the requests' later steps due in the period (call-backs apart), in the group of
  the operation they follow (by clerk: the clerk who took the request); overdue when done
  after the due time, or still open and past due at the period's end (or now, if that is
  earlier);
- completeness: by hall only, the accounts of the hall's district with nothing missing
  (`hallcore.domain.accounts.missing_information`), now rather than over the period;
- waiting and handling times, by hall and hour of the hall day (`hours`): the customers'
  waits (queue ticket issued → called, only where the server believed the two times:
  hallserver/queue_tickets.py), each visit once however many requests it made, in the hour
  its ticket was issued (when the customers came); the requests' handling times in the hour
  each was made. Mean, median and 90th percentile (nearest rank) of the waits, counted in SQL
  as (seconds, how many) pairs.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from sqlalchemy import ColumnElement, Integer, and_, case, cast, func, literal_column, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from hallcore.audit_chain import as_utc
from hallcore.domain.deadlines import HALL_TZ
from hallcore.wire import KpiHourRow, KpiReport, KpiRow, Rating
from hallserver.callbacks import CALLBACK_STEP
from hallserver.models import AccountRow, FeedbackRow, HallRow, OperationRow, WorkItemRow

TOTAL = "total"
# The national scheme: a transaction not rated within 7 days counts as basically satisfied.
UNRATED_AFTER = timedelta(days=7)


class Grouping(StrEnum):
    HALL = "hall"
    CLERK = "clerk"
    BUSINESS_TYPE = "business_type"


@dataclass(frozen=True, slots=True)
class Counts:
    """What one group did in the period, as counts."""

    operations: int = 0
    very_satisfied: int = 0
    satisfied: int = 0
    basically_satisfied: int = 0
    dissatisfied: int = 0
    very_dissatisfied: int = 0
    defaulted: int = 0  # unrated for 7 days: basically satisfied
    first_contact_recorded: int = 0
    first_contact: int = 0
    handling_recorded: int = 0
    handling_seconds: int = 0  # summed over the operations that recorded it
    work_items: int = 0
    overdue: int = 0
    callbacks_opened: int = 0
    callbacks_due: int = 0
    callbacks_in_time: int = 0

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
    bad = counts.dissatisfied + counts.very_dissatisfied
    good = counts.very_satisfied + counts.satisfied + counts.basically_satisfied
    rated = good + bad
    return KpiRow(
        key=key, operations=counts.operations, rated=rated, satisfied=counts.satisfied,
        basically_satisfied=counts.basically_satisfied, dissatisfied=counts.dissatisfied,
        very_satisfied=counts.very_satisfied, very_dissatisfied=counts.very_dissatisfied,
        defaulted=counts.defaulted,
        satisfaction_rate=_rate(good + counts.defaulted, rated + counts.defaulted),
        callbacks_opened=counts.callbacks_opened,
        callback_rate=_rate(counts.callbacks_opened, bad),
        callbacks_due=counts.callbacks_due, callbacks_in_time=counts.callbacks_in_time,
        callbacks_in_time_rate=_rate(counts.callbacks_in_time, counts.callbacks_due),
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
    start, end, moment = as_utc(since), as_utc(until), as_utc(now or datetime.now(UTC))
    counts: dict[str, Counts] = {}
    for key, found in _activity(session, by, start, end, moment, hall):
        counts[key] = counts.get(key, Counts()) + found
    total = sum(counts.values(), Counts())
    halls = {hall_id: district for hall_id, district in session.execute(
        select(HallRow.id, HallRow.district).where(*_only(HallRow.id, hall)))}
    by_district = _completeness(session, set(halls.values()))
    # The total carries the completeness of the halls in scope, however it is grouped (a
    # manager reads it in the headline); halls may share a district: each counted once.
    whole = Completeness(sum(c.accounts for c in by_district.values()),
                         sum(c.complete for c in by_district.values()))
    hours = hour_rows(session, start, end, hall)
    if by is not Grouping.HALL:
        return KpiReport(since=since, until=until, by=by.value,
                         rows=[kpi_row(k, c) for k, c in sorted(counts.items())],
                         total=kpi_row(TOTAL, total, whole), hours=hours)
    # Every hall has a row, with its completeness, whether or not it was busy.
    for hall_id in halls:
        counts.setdefault(hall_id, Counts())
    rows = [kpi_row(k, c, by_district.get(halls.get(k, ""), Completeness(0, 0)))
            for k, c in sorted(counts.items())]
    return KpiReport(since=since, until=until, by=by.value, rows=rows,
                     total=kpi_row(TOTAL, total, whole), hours=hours)


def _only(column: InstrumentedAttribute[str], hall: str | None) -> list[ColumnElement[bool]]:
    return [] if hall is None else [column == hall]


def _activity(session: Session, by: Grouping, start: datetime, end: datetime,
              now: datetime, hall: str | None) -> Iterable[tuple[str, Counts]]:
    """Each group's counts, one query at a time (a group may come up in each)."""
    key = _GROUP_COLUMN[by]
    cutoff = min(end, now)
    in_period = (OperationRow.created_at >= start, OperationRow.created_at < end,
                 *_only(OperationRow.hall_id, hall))
    # An operation has one rating at most: the outer join counts each operation once.
    unrated_for_7_days = and_(FeedbackRow.operation_id.is_(None),
                              OperationRow.created_at <= now - UNRATED_AFTER)
    operations = select(
        key, func.count(), func.count(OperationRow.first_contact),
        _count_if(OperationRow.first_contact.is_(True)),
        func.count(OperationRow.handling_seconds),
        func.sum(OperationRow.handling_seconds),
        _count_if(unrated_for_7_days),
    ).outerjoin(FeedbackRow, FeedbackRow.operation_id == OperationRow.operation_id
                ).where(*in_period).group_by(key)
    for group, n, recorded, settled, timed, seconds, defaulted in session.execute(operations):
        yield group, Counts(operations=n, first_contact_recorded=recorded,
                            first_contact=settled, handling_recorded=timed,
                            handling_seconds=seconds or 0, defaulted=defaulted)

    ratings = (select(key, FeedbackRow.rating, func.count())
               .join(OperationRow, OperationRow.operation_id == FeedbackRow.operation_id)
               .where(*in_period).group_by(key, FeedbackRow.rating))
    for group, rating, n in session.execute(ratings):
        yield group, Counts(**{Rating(rating).value: n})  # a rating's value names its count

    callback = WorkItemRow.step == CALLBACK_STEP
    opened = (select(key, func.count()).select_from(WorkItemRow)
              .join(OperationRow, OperationRow.operation_id == WorkItemRow.operation_id)
              .where(callback, *in_period).group_by(key))
    for group, n in session.execute(opened):
        yield group, Counts(callbacks_opened=n)

    overdue = or_(
        and_(WorkItemRow.done_at.is_not(None), WorkItemRow.done_at > WorkItemRow.due_at),
        and_(WorkItemRow.done_at.is_(None), WorkItemRow.due_at < cutoff))
    in_time = and_(WorkItemRow.done_at.is_not(None), WorkItemRow.done_at <= WorkItemRow.due_at)
    # A call-back counts once it is done or its time has passed: one still open in time is
    # neither in time nor late yet.
    callback_counts = or_(WorkItemRow.done_at.is_not(None), WorkItemRow.due_at < cutoff)
    items = (select(key, _count_if(~callback), _count_if(and_(~callback, overdue)),
                    _count_if(and_(callback, callback_counts)),
                    _count_if(and_(callback, in_time)))
             .join(OperationRow, OperationRow.operation_id == WorkItemRow.operation_id)
             .where(WorkItemRow.due_at >= start, WorkItemRow.due_at < end,
                    *_only(WorkItemRow.hall_id, hall))
             .group_by(key))
    for group, n, late, callbacks, done_in_time in session.execute(items):
        yield group, Counts(work_items=n, overdue=late, callbacks_due=callbacks,
                            callbacks_in_time=done_in_time)


@dataclass(slots=True)
class HourTimes:
    """One hall's hour: its waits as {seconds: visits}, its requests' handling times."""

    waits: dict[int, int] = field(default_factory=dict)
    handled: int = 0
    handling_seconds: int = 0

    def add(self, other: HourTimes) -> None:
        for seconds, n in other.waits.items():
            self.waits[seconds] = self.waits.get(seconds, 0) + n
        self.handled += other.handled
        self.handling_seconds += other.handling_seconds


def hour_rows(session: Session, start: datetime, end: datetime, hall: str | None
              ) -> list[KpiHourRow]:
    """Waiting and handling times by hall and hour of the hall day, each hall's whole day
    after its hours; only the hours with something counted."""
    in_period = (OperationRow.created_at >= start, OperationRow.created_at < end,
                 *_only(OperationRow.hall_id, hall))
    on_postgres = session.get_bind().dialect.name == "postgresql"
    visits = (select(OperationRow.hall_id, OperationRow.ticket_no, OperationRow.ticket_issued_at,
                     OperationRow.ticket_called_at, OperationRow.waiting_seconds)
              .where(OperationRow.waiting_seconds.is_not(None), *in_period)
              .distinct().subquery())  # a visit's several requests: one wait
    issued_hour = _hall_hour(visits.c.ticket_issued_at, on_postgres)
    made_hour = _hall_hour(OperationRow.created_at, on_postgres)
    found: dict[tuple[str, int], HourTimes] = {}
    for hall_id, hour, seconds, n in session.execute(
            select(visits.c.hall_id, issued_hour, visits.c.waiting_seconds, func.count())
            .group_by(visits.c.hall_id, issued_hour, visits.c.waiting_seconds)):
        found.setdefault((hall_id, hour), HourTimes()).waits[seconds] = n
    for hall_id, hour, n, seconds in session.execute(
            select(OperationRow.hall_id, made_hour, func.count(), func.sum(
                OperationRow.handling_seconds))
            .where(OperationRow.handling_seconds.is_not(None), *in_period)
            .group_by(OperationRow.hall_id, made_hour)):
        times = found.setdefault((hall_id, hour), HourTimes())
        times.handled, times.handling_seconds = n, seconds or 0
    rows: list[KpiHourRow] = []
    for hall_id in sorted({hall_id for hall_id, _ in found}):
        day = HourTimes()
        for (of, hour), times in sorted(found.items()):
            if of == hall_id:
                rows.append(hour_row(hall_id, hour, times))
                day.add(times)
        rows.append(hour_row(hall_id, None, day))
    return rows


def _hall_hour(moment: ColumnElement[datetime] | InstrumentedAttribute[datetime],
               on_postgres: bool) -> ColumnElement[int]:
    """The hour of the hall day of a time, in SQL. The halls' clock is UTC+8 all year (China
    has kept no summer time since 1991): a fixed offset, on both databases."""
    offset = HALL_TZ.utcoffset(None)
    assert offset is not None
    hours = int(offset.total_seconds() // 3600)
    if on_postgres:
        shifted = func.timezone(literal_column(f"INTERVAL '{hours} hours'"), moment)
        return cast(func.extract("hour", shifted), Integer)
    return cast(func.strftime("%H", moment, f"+{hours} hours"), Integer)


def hour_row(hall_id: str, hour: int | None, times: HourTimes) -> KpiHourRow:
    waits = sorted(times.waits.items())
    visits = sum(n for _, n in waits)
    return KpiHourRow(
        hall=hall_id, hour=hour, waits=visits,
        avg_waiting_seconds=_rate(sum(s * n for s, n in waits), visits),
        median_waiting_seconds=_nearest_rank(waits, visits, 0.5),
        p90_waiting_seconds=_nearest_rank(waits, visits, 0.9),
        handled=times.handled,
        avg_handling_seconds=_rate(times.handling_seconds, times.handled))


def _nearest_rank(counted: list[tuple[int, int]], total: int, share: float) -> float | None:
    """The smallest value with at least `share` of the `total` at or below it (nearest rank);
    `counted`: (value, how many) in ascending order."""
    if not total:
        return None
    rank, seen = math.ceil(share * total), 0
    for value, n in counted:
        seen += n
        if seen >= rank:
            return float(value)
    raise AssertionError("the counts do not add up to the total")


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
    _write(path, _COLUMNS, [*kpi.rows, kpi.total])


_HOUR_COLUMNS = tuple(KpiHourRow.model_fields)


def write_hours_csv(kpi: KpiReport, path: Path) -> None:
    """The waiting and handling times: a row per hall and hour, each hall's day (blank hour)
    after its hours."""
    _write(path, _HOUR_COLUMNS, kpi.hours)


def _write(path: Path, columns: tuple[str, ...], rows: Iterable[object]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(columns)
        for row in rows:
            out.writerow([_cell(getattr(row, name)) for name in columns])


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} s"


def table(kpi: KpiReport) -> str:
    """The report as a plain-text table, for a terminal."""
    header = ("group", "operations", "rated", "satisfaction", "one-stop", "avg handling",
              "due in period", "overdue", "complete", "unrated 7 days", "call-backs",
              "call-backs in time")
    lines = [header] + [(
        row.key, str(row.operations), str(row.rated), _percent(row.satisfaction_rate),
        _percent(row.one_stop_ratio), _seconds(row.avg_handling_seconds),
        str(row.work_items), str(row.overdue), _percent(row.completeness_rate),
        str(row.defaulted), _percent(row.callback_rate), _percent(row.callbacks_in_time_rate),
    ) for row in [*kpi.rows, kpi.total]]
    text = _aligned(lines)
    text.insert(len(text) - 1, "-" * len(text[0]))
    return "\n".join(text)


def hours_table(kpi: KpiReport) -> str:
    """The waiting and handling times by hall and hour, as a plain-text table."""
    header = ("hall", "hour", "waits", "avg wait", "median wait", "p90 wait", "handled",
              "avg handling")
    lines = [header] + [(
        row.hall, "day" if row.hour is None else f"{row.hour:02d}:00", str(row.waits),
        _seconds(row.avg_waiting_seconds), _seconds(row.median_waiting_seconds),
        _seconds(row.p90_waiting_seconds), str(row.handled), _seconds(row.avg_handling_seconds),
    ) for row in kpi.hours]
    return "\n".join(_aligned(lines))


def _aligned(lines: Sequence[tuple[str, ...]]) -> list[str]:
    """Columns padded to their widest cell (the first to the left), a rule under the header."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    text = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                      for i, (cell, w) in enumerate(zip(line, widths, strict=True)))
            for line in lines]
    text.insert(1, "-" * len(text[0]))
    return text
