"""Committed time limits, counted in working days as the hall's service commitments are."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
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


def is_working_day(day: date, holidays: Collection[date] = ()) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_working_days(start: date, days: int, holidays: Collection[date] = ()) -> date:
    """The date `days` working days after `start` (start itself does not count)."""
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current, holidays):
            remaining -= 1
    return current


def due_at(accepted: datetime, limit: TimeLimit, holidays: Collection[date] = ()) -> datetime:
    """When the committed limit runs out: the end of the last working day allowed."""
    if limit.at_counter:
        return accepted
    last_day = add_working_days(accepted.date(), limit.working_days, holidays)
    return datetime.combine(last_day, time(23, 59, 59), tzinfo=accepted.tzinfo)


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
