from datetime import UTC, date, datetime, time, timedelta

import pytest

from hallcore.domain.deadlines import (
    HALL_TZ,
    WEEKENDS_ONLY,
    HallCalendar,
    OpeningHours,
    TimeLimit,
    WorkCalendar,
    deadline,
    time_left,
)

# The State Council's notice for 2026 as far as these tests need it: Spring Festival
# (02-15..02-23 off, Saturdays 02-14 and 02-28 worked), National Day and Mid-Autumn
# (10-01..10-07 off, Sunday 09-20 and Saturday 10-10 worked).
NOTICE_2026 = WorkCalendar.of(
    [2026],
    [*((date(2026, 2, d), False) for d in range(15, 24)), (date(2026, 2, 14), True),
     (date(2026, 2, 28), True), *((date(2026, 10, d), False) for d in range(1, 8)),
     (date(2026, 9, 20), True), (date(2026, 10, 10), True)])
HOURS = OpeningHours(time(8, 30), time(17, 30))


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=HALL_TZ)


def due_day(accepted: datetime, days: int, calendar: WorkCalendar = NOTICE_2026,
            hours: OpeningHours | None = HOURS) -> date:
    return deadline(accepted, TimeLimit(days), calendar, hours).at.date()


def test_weekends_are_not_working_days_unless_the_notice_says_so():
    assert WEEKENDS_ONLY.is_working_day(date(2026, 11, 27))  # Friday
    assert not WEEKENDS_ONLY.is_working_day(date(2026, 11, 28))  # Saturday
    assert not NOTICE_2026.is_working_day(date(2026, 10, 1))  # Thursday, National Day
    assert NOTICE_2026.is_working_day(date(2026, 10, 10))  # Saturday, worked in exchange


def test_the_found_dates_come_out_as_the_notice_has_them():
    # A suspension (1 working day) accepted on the eve of National Day.
    assert due_day(at(date(2026, 9, 30)), 1) == date(2026, 10, 8)
    # A transfer (3 working days): Thursday 10-08, Friday 10-09, Saturday 10-10 (worked).
    assert due_day(at(date(2026, 9, 30)), 3) == date(2026, 10, 10)
    # Before Spring Festival: Saturday 02-14 is worked, then 02-24 and 02-25.
    assert due_day(at(date(2026, 2, 13)), 3) == date(2026, 2, 25)


def test_a_holiday_on_a_weekend_changes_nothing():
    sunday = date(2026, 10, 4)
    calendar = WorkCalendar.of([2026], [(sunday, False)])
    assert calendar.holidays == frozenset() and not calendar.is_working_day(sunday)


def test_after_closing_time_the_request_counts_from_the_next_working_day():
    friday = date(2026, 11, 27)
    assert due_day(at(friday, 17, 29), 1) == date(2026, 11, 30)  # Monday
    assert due_day(at(friday, 17, 30), 1) == date(2026, 12, 1)  # counted from Monday
    assert due_day(at(friday, 17, 30), 1, hours=None) == date(2026, 11, 30)
    # Before National Day: after closing on 09-30, counted from 10-08.
    assert due_day(at(date(2026, 9, 30), 18), 1) == date(2026, 10, 9)


def test_a_request_accepted_on_a_day_off_counts_as_accepted_on_the_next_working_day():
    # Friday after closing, Saturday, Sunday night and Monday morning are all Monday's.
    for accepted in (at(date(2026, 12, 4), 17, 45), at(date(2026, 12, 5)),
                     at(date(2026, 12, 6), 23, 59), at(date(2026, 12, 7), 0, 1)):
        assert due_day(accepted, 3) == date(2026, 12, 10), accepted
    assert due_day(at(date(2026, 12, 4), 16), 3) == date(2026, 12, 9)  # Friday, open
    assert due_day(at(date(2026, 10, 3), 18), 1) == date(2026, 10, 9)  # National Day


def test_the_deadline_is_the_end_of_the_last_working_day_in_china_time():
    accepted = datetime(2026, 11, 27, 0, 30, tzinfo=UTC)  # Friday, 08:30 in the hall
    due = deadline(accepted, TimeLimit(1), NOTICE_2026, HOURS)
    assert due.at == datetime(2026, 11, 30, 23, 59, 59, tzinfo=HALL_TZ)
    assert not due.estimated


def test_a_year_without_a_notice_is_counted_on_weekends_alone_and_said_so():
    due = deadline(at(date(2026, 12, 30)), TimeLimit(3), NOTICE_2026, HOURS)
    assert due.at.date() == date(2027, 1, 4)  # Thu 12-31, Fri 01-01 (no notice yet), Mon
    assert due.estimated and due.unknown_years == (2027,)
    assert deadline(at(date(2026, 12, 1)), TimeLimit(3), NOTICE_2026).unknown_years == ()
    assert deadline(at(date(2026, 12, 1)), TimeLimit(3), WEEKENDS_ONLY).estimated


def test_business_done_at_the_counter_is_due_at_once_and_never_an_estimate():
    accepted = at(date(2026, 11, 25))
    assert TimeLimit(0).at_counter
    due = HallCalendar().deadline(accepted, TimeLimit(0))
    assert due.at == accepted and not due.estimated


def test_working_days_are_never_negative():
    assert NOTICE_2026.add_working_days(date(2026, 11, 25), 0) == date(2026, 11, 25)
    with pytest.raises(ValueError):
        NOTICE_2026.add_working_days(date(2026, 11, 25), -1)


def test_time_left_marks_due_soon_and_overdue():
    due = datetime(2026, 11, 30, 23, 59, 59, tzinfo=HALL_TZ)
    early = time_left(due, due - timedelta(days=3))
    assert not early.overdue and not early.due_soon
    soon = time_left(due, due - timedelta(hours=5))
    assert soon.due_soon and not soon.overdue and soon.remaining == timedelta(hours=5)
    late = time_left(due, due + timedelta(minutes=1))
    assert late.overdue and not late.due_soon
