"""A terminal counts deadlines on the server's working-day calendar: it gets it with its first
sync, again only when the server's stamp changes, and receipts and business buttons follow it;
without it, a date is an estimate and says so."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time

from sqlalchemy import update
from sqlalchemy.orm import Session

from hallclient.counter.availability import business_state
from hallclient.receipts.content import HallInfo, build_receipt
from hallclient.sync.work_calendar import hall_calendar
from hallcore.domain.business import BusinessKind
from hallcore.domain.deadlines import HALL_TZ, TimeLimit
from hallcore.domain.text import Text
from hallserver.models import HallRow
from hallserver.working_days import forget
from tests.support.counter import HALL, active_accounts, holder

HALL_INFO = HallInfo(HALL, Text("天河营业厅", "Tianhe hall"))


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=HALL_TZ)


def counted_calls(counter) -> list[None]:
    calls: list[None] = []
    real = counter.api.calendar

    def counting():
        calls.append(None)
        return real()

    counter.api.calendar = counting
    return calls


def test_the_first_sync_brings_the_calendar_and_later_ones_only_its_changes(counters, server):
    counter = counters()
    assert hall_calendar(counter.cache).deadline(at(date(2026, 9, 30)), TimeLimit(1)).estimated
    calls = counted_calls(counter)
    counter.engine.sync_once()
    calendar = hall_calendar(counter.cache)
    due = calendar.deadline(at(date(2026, 9, 30)), TimeLimit(1))
    assert due.at.date() == date(2026, 10, 8) and not due.estimated
    assert calendar.deadline(at(date(2026, 9, 30)), TimeLimit(3)).at.date() == date(2026, 10, 10)
    counter.engine.sync_once()
    assert len(calls) == 1  # nothing changed: not asked again

    with Session(server.engine) as s, s.begin():
        s.execute(update(HallRow).where(HallRow.id == HALL).values(closes_at=time(16, 0)))
    forget(server.engine)
    counter.engine.sync_once()
    assert len(calls) == 2
    friday_after_four = at(date(2026, 11, 27), 16)
    assert hall_calendar(counter.cache).deadline(
        friday_after_four, TimeLimit(1)).at.date() == date(2026, 12, 1)


def test_the_receipt_promises_the_calendars_date_and_says_when_it_is_an_estimate(
        counters, server):
    counter = counters()
    counter.engine.sync_once()
    [account] = active_accounts(counter, 1)
    recorded = counter.record("suspend", account.number, holder(account))
    on_the_eve = replace(recorded, issued_at=at(date(2026, 9, 30)))
    receipt = build_receipt(on_the_eve, account, holder(account), hall=HALL_INFO,
                            terminal_id="T01", clerk="c1", pending=True,
                            calendar=hall_calendar(counter.cache))
    assert receipt.due is not None and receipt.due.date() == date(2026, 10, 8)
    assert not [s for s in receipt.next_steps if "顺延" in s.zh]

    year_end = replace(recorded, issued_at=at(date(2026, 12, 31)))
    receipt = build_receipt(year_end, account, holder(account), hall=HALL_INFO,
                            terminal_id="T01", clerk="c1", pending=True,
                            calendar=hall_calendar(counter.cache))
    [note] = [s for s in receipt.next_steps if "顺延" in s.zh]
    assert "此日期未计2027年的法定节假日" in note.zh and "holidays of 2027" in note.en


def test_a_business_button_marks_an_estimated_date(counters):
    counter = counters()
    state = business_state(BusinessKind.NEW_CONNECTION, None, online=True, online_only=(),
                           now=datetime.now(UTC), calendar=hall_calendar(counter.cache))
    assert state.short.zh.startswith("约 ") and state.short.en.startswith("done by ~")
    assert any("节假日安排尚未载入" in n.zh for n in state.needs)
    counter.engine.sync_once()
    state = business_state(BusinessKind.NEW_CONNECTION, None, online=True, online_only=(),
                           now=datetime(2026, 11, 2, 2, tzinfo=UTC),
                           calendar=hall_calendar(counter.cache))
    assert state.short.zh == "11-05 前办结"  # 3 working days from Monday 11-02
    assert not any("节假日安排尚未载入" in n.zh for n in state.needs)
