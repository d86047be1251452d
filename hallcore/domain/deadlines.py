"""Committed time limits, counted in working days as the hall's service commitments are.

Working days are those of the State Council's notice for the year: Monday to Friday, except
the public holidays, plus the weekend days worked in exchange (调休). The server keeps the
notices (`hallserver calendar`) and gives them to every terminal; a day in a year whose notice
is not loaded is counted on weekends alone, and the deadline says it is an estimate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

# The halls' commitments, receipt dates and working days run on China Standard Time.
HALL_TZ = timezone(timedelta(hours=8), "CST")


@dataclass(frozen=True, slots=True)
class TimeLimit:
    """A committed limit in working days; 0 means the business is finished at the counter."""

    working_days: int

    @property
    def at_counter(self) -> bool:
        return self.working_days == 0


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """The years whose notice is known, and their days that break the Monday-to-Friday rule."""

    years: frozenset[int] = frozenset()
    holidays: frozenset[date] = frozenset()  # weekdays off
    workdays: frozenset[date] = frozenset()  # weekend days worked (调休)

    @classmethod
    def of(cls, years: Iterable[int], days: Iterable[tuple[date, bool]]) -> WorkCalendar:
        """From (day, working) pairs; a pair that says what the weekday rule says anyway (a
        holiday on a Sunday) changes nothing."""
        listed = list(days)
        return cls(frozenset(years),
                   frozenset(d for d, working in listed if not working and d.weekday() < 5),
                   frozenset(d for d, working in listed if working and d.weekday() >= 5))

    def knows(self, day: date) -> bool:
        return day.year in self.years

    def is_working_day(self, day: date) -> bool:
        if day.weekday() < 5:
            return day not in self.holidays
        return day in self.workdays

    def next_working_day(self, day: date) -> date:
        """The first working day after `day`."""
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, start: date, days: int) -> date:
        """The date `days` working days after `start` (start itself does not count)."""
        if days < 0:
            raise ValueError("days must not be negative")
        for _ in range(days):
            start = self.next_working_day(start)
        return start


# No notice loaded: Monday to Friday, every date an estimate.
WEEKENDS_ONLY = WorkCalendar()


@dataclass(frozen=True, slots=True)
class OpeningHours:
    opens: time
    closes: time


@dataclass(frozen=True, slots=True)
class Deadline:
    """When a committed limit runs out. `unknown_years`: years counted on weekends alone, as
    the calendar has no notice for them; the date is then an estimate, to be said so."""

    at: datetime
    unknown_years: tuple[int, ...] = field(default=())

    @property
    def estimated(self) -> bool:
        return bool(self.unknown_years)


def deadline(accepted: datetime, limit: TimeLimit, calendar: WorkCalendar,
             hours: OpeningHours | None = None) -> Deadline:
    """The end of the last working day allowed, the day of acceptance not counted. A request
    accepted on a day off, or after the hall's closing time, counts as accepted on the next
    working day: Friday evening, Saturday and Sunday are all Monday's."""
    if limit.at_counter:
        return Deadline(accepted)
    local = accepted.astimezone(HALL_TZ)
    start = local.date()
    if not calendar.is_working_day(start) or (hours is not None
                                              and local.time() >= hours.closes):
        start = calendar.next_working_day(start)
    last_day = calendar.add_working_days(start, limit.working_days)
    unknown = tuple(year for year in range(local.year, last_day.year + 1)
                    if year not in calendar.years)
    return Deadline(datetime.combine(last_day, time(23, 59, 59), tzinfo=HALL_TZ), unknown)


@dataclass(frozen=True, slots=True)
class HallCalendar:
    """What a hall's deadlines are counted on: the working days and its opening hours."""

    calendar: WorkCalendar = WEEKENDS_ONLY
    hours: OpeningHours | None = None

    def deadline(self, accepted: datetime, limit: TimeLimit) -> Deadline:
        return deadline(accepted, limit, self.calendar, self.hours)


@dataclass(frozen=True, slots=True)
class TimeLeft:
    remaining: timedelta
    overdue: bool
    due_soon: bool


def time_left(
    due: datetime, now: datetime, *, remind_before: timedelta = timedelta(hours=24)
) -> TimeLeft:
    """How a work item stands against its limit; `due_soon` is when staff are reminded."""
    remaining = due - now
    overdue = remaining < timedelta(0)
    return TimeLeft(remaining, overdue, not overdue and remaining <= remind_before)
