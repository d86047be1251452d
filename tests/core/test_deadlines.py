from datetime import date, datetime, timedelta, timezone

import pytest

from hallcore.domain.deadlines import (
    TimeLimit,
    add_working_days,
    due_at,
    is_working_day,
    time_left,
)

CST = timezone(timedelta(hours=8))


def test_weekends_are_not_working_days():
    assert is_working_day(date(2026, 11, 27))  # Friday
    assert not is_working_day(date(2026, 11, 28))  # Saturday
    assert not is_working_day(date(2026, 11, 29))  # Sunday


def test_working_days_skip_the_weekend():
    friday = date(2026, 11, 27)
    assert add_working_days(friday, 1) == date(2026, 11, 30)  # Monday
    assert add_working_days(friday, 3) == date(2026, 12, 2)


def test_working_days_skip_holidays():
    holidays = {date(2026, 10, d) for d in range(1, 8)}  # National Day week
    assert add_working_days(date(2026, 9, 30), 1, holidays) == date(2026, 10, 8)


def test_zero_working_days_is_the_same_day_and_negative_is_refused():
    assert add_working_days(date(2026, 11, 25), 0) == date(2026, 11, 25)
    with pytest.raises(ValueError):
        add_working_days(date(2026, 11, 25), -1)


def test_due_at_is_the_end_of_the_last_allowed_working_day():
    accepted = datetime(2026, 11, 27, 16, 30, tzinfo=CST)  # Friday afternoon
    due = due_at(accepted, TimeLimit(1))
    assert due == datetime(2026, 11, 30, 23, 59, 59, tzinfo=CST)


def test_business_done_at_the_counter_is_due_at_once():
    accepted = datetime(2026, 11, 25, 10, 0, tzinfo=CST)
    assert TimeLimit(0).at_counter
    assert due_at(accepted, TimeLimit(0)) == accepted


def test_time_left_marks_due_soon_and_overdue():
    due = datetime(2026, 11, 30, 23, 59, 59, tzinfo=CST)
    early = time_left(due, due - timedelta(days=3))
    assert not early.overdue and not early.due_soon
    soon = time_left(due, due - timedelta(hours=5))
    assert soon.due_soon and not soon.overdue and soon.remaining == timedelta(hours=5)
    late = time_left(due, due + timedelta(minutes=1))
    assert late.overdue and not late.due_soon
