"""Waiting and handling times by hall and hour of the hall day, from known requests pushed by two
halls' terminals: each visit's wait once, unbelievable times left out, `hallserver report
--hours`."""

import csv
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hallclient.store.operations import CounterFacts
from hallcore.domain.deadlines import HALL_TZ
from hallcore.wire import KpiHourRow, QueueTicket, TicketSource
from hallserver.__main__ import main
from hallserver.app import create_app
from hallserver.db import make_engine
from hallserver.kpi import Grouping, HourTimes, hour_row, report
from hallserver.seed import seed
from tests.support.counter import active_accounts, holder
from tests.support.factories import NEW_CONNECTION
from tests.support.server import Terminal, allow_old_operations

DAY = datetime(2026, 11, 2, tzinfo=HALL_TZ)  # a Monday
TH, YX = "GZ-TH-01", "GZ-YX-01"


def at(hh_mm: str, day: datetime = DAY) -> datetime:
    hour, minute = hh_mm.split(":")
    return day.replace(hour=int(hour), minute=int(minute))


def queue(number: str, issued: str, called: str, day: datetime = DAY) -> dict[str, str]:
    return {"number": number, "source": "queue", "issued_at": at(issued, day).isoformat(),
            "called_at": at(called, day).isoformat()}


# (hall, made at, handling seconds, ticket)
REQUESTS = [
    # One visit, two requests: one wait of 600 s, issued in hour 9.
    (TH, "09:20", 300, queue("A001", "09:05", "09:15")),
    (TH, "09:40", 1500, queue("A001", "09:05", "09:15")),
    (TH, "10:15", 200, queue("A002", "09:30", "10:10")),  # waited 2400 s, issued in hour 9
    (TH, "10:05", 400, queue("A003", "09:50", "10:00")),  # 600 s
    (TH, "10:30", 100, queue("A004", "10:30", "10:20")),  # called before issued: no wait
    (TH, "14:00", 250, {"number": "B001", "source": "typed"}),
    (TH, "14:30", None, None),
    (YX, "08:35", 600, queue("A001", "08:00", "08:30")),  # the same number at another hall
]
NEXT_DAY = DAY + timedelta(days=1)
# The next day's: outside the day reported.
LATER = [(TH, "09:10", 60, queue("A001", "09:00", "09:05", NEXT_DAY))]


def push_requests(engine) -> None:
    seed(engine, accounts=20, halls=2)
    allow_old_operations(engine)
    with TestClient(create_app(engine)) as client:
        terminals = {hall: Terminal(client, hall, "T01") for hall in (TH, YX)}
        for hall, t in terminals.items():
            assert t.login(f"{hall.lower()}-c1").status_code == 200
        for requests, day in ((REQUESTS, DAY), (LATER, NEXT_DAY)):
            for hall, made, handling, ticket in requests:
                t = terminals[hall]
                op = {**t.operation("new_connection", NEW_CONNECTION, created_at=at(made, day)),
                      "handling_seconds": handling, "ticket": ticket}
                assert t.push(op)[0]["outcome"] == "applied"


def row(hall, hour, waits=0, avg=None, median=None, p90=None, handled=0, handling=None):
    return KpiHourRow(hall=hall, hour=hour, waits=waits, avg_waiting_seconds=avg,
                      median_waiting_seconds=median, p90_waiting_seconds=p90, handled=handled,
                      avg_handling_seconds=handling)


EXPECTED = [
    row(TH, 9, waits=3, avg=1200.0, median=600.0, p90=2400.0, handled=2, handling=900.0),
    row(TH, 10, handled=3, handling=700 / 3),
    row(TH, 14, handled=1, handling=250.0),
    row(TH, None, waits=3, avg=1200.0, median=600.0, p90=2400.0, handled=6,
        handling=2750 / 6),
    row(YX, 8, waits=1, avg=1800.0, median=1800.0, p90=1800.0, handled=1, handling=600.0),
    row(YX, None, waits=1, avg=1800.0, median=1800.0, p90=1800.0, handled=1, handling=600.0),
]


def test_waits_and_handling_by_hall_and_hour_each_visit_once(server_engine):
    push_requests(server_engine)
    with Session(server_engine) as s:
        kpi = report(s, DAY, DAY + timedelta(days=1), Grouping.HALL)
        one_hall = report(s, DAY, DAY + timedelta(days=1), Grouping.CLERK, hall=YX)
        next_day = report(s, NEXT_DAY, NEXT_DAY + timedelta(days=1), Grouping.HALL)
    assert kpi.hours == EXPECTED
    assert one_hall.hours == EXPECTED[-2:]
    assert [(r.hall, r.hour, r.waits, r.avg_waiting_seconds) for r in next_day.hours] == [
        (TH, 9, 1, 300.0), (TH, None, 1, 300.0)]


@pytest.mark.parametrize(("waits", "median", "p90"), [
    ([60], 60.0, 60.0),
    ([60, 120], 60.0, 120.0),
    ([10 * i for i in range(1, 11)], 50.0, 90.0),
    ([30] * 9 + [3000], 30.0, 30.0),
    ([30] * 8 + [3000] * 2, 30.0, 3000.0),
])
def test_median_and_p90_are_nearest_ranks(waits, median, p90):
    times = HourTimes()
    for seconds in waits:
        times.waits[seconds] = times.waits.get(seconds, 0) + 1
    got = hour_row(TH, 9, times)
    assert (got.waits, got.median_waiting_seconds, got.p90_waiting_seconds) == (
        len(waits), median, p90)
    assert got.avg_waiting_seconds == sum(waits) / len(waits)


def test_report_hours_prints_and_writes_the_table(tmp_path, capsys):
    url = f"sqlite+pysqlite:///{tmp_path / 'db.sqlite3'}"
    assert main(["migrate", "--db", url]) == 0
    engine = make_engine(url)
    try:
        push_requests(engine)
    finally:
        engine.dispose()
    capsys.readouterr()
    period = ["--since", "2026-11-02", "--until", "2026-11-03", "--by", "hall", "--hours"]
    assert main(["report", "--db", url, *period]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["hall", "hour", "waits", "avg", "wait", "median", "wait",
                                "p90", "wait", "handled", "avg", "handling"]
    assert lines[2].split() == [TH, "09:00", "3", "1200", "s", "600", "s", "2400", "s", "2",
                                "900", "s"]
    assert lines[5].split()[:3] == [TH, "day", "3"] and len(lines) == 8
    out = tmp_path / "hours.csv"
    assert main(["report", "--db", url, *period, "--csv", str(out)]) == 0
    assert "6 rows by hall and hour" in capsys.readouterr().out
    with out.open(encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    assert header == list(KpiHourRow.model_fields)
    assert rows[3][:3] == [TH, "", "3"] and rows[4][:4] == [YX, "8", "1", "1800.0000"]


def test_a_terminals_called_ticket_reaches_the_hour_report_once_for_its_visit(counters, server):
    counter = counters()
    counter.engine.sync_once()
    first, second = active_accounts(counter, 2)
    now = datetime.now(HALL_TZ).replace(microsecond=0)
    today = now.replace(hour=0, minute=0, second=0)
    waited = min(timedelta(minutes=15), now - today)  # issued today, whenever the test runs
    ticket = QueueTicket(number="A031", source=TicketSource.QUEUE, issued_at=now - waited,
                         called_at=now)
    for account in (first, second):  # one visit, two requests
        counter.record("suspend", account.number, holder(account),
                       facts=CounterFacts(handling_seconds=120, ticket=ticket))
    counter.engine.sync_once()
    with Session(server.engine) as s:
        kpi = report(s, today, today + timedelta(days=1), Grouping.HALL)
    day = kpi.hours[-1]
    assert (day.hall, day.hour, day.waits, day.avg_waiting_seconds, day.handled) == (
        TH, None, 1, waited.total_seconds(), 2)
