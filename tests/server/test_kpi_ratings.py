"""The KPI over the five levels of the national scheme (好差评): the 7-day default, the good
ratings' share, the call-back rate and the call-backs resolved within their limit; on SQLite
and PostgreSQL."""

import csv
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hallcore.audit_chain import as_utc
from hallcore.domain.deadlines import HALL_TZ
from hallcore.wire import API_PREFIX
from hallserver.kpi import Counts, Grouping, kpi_row, report, table, write_csv
from hallserver.models import FeedbackRow, WorkItemRow
from tests.support.server import (
    SUPERVISOR_PASSWORD,
    allow_old_operations,
    holder_of,
    logged_in,
    seeded_client,
)

TH, YX = "GZ-TH-01", "GZ-YX-01"
DAY = datetime(2026, 11, 2, tzinfo=HALL_TZ)  # a Monday
CALLBACKS_DUE = datetime(2026, 11, 9, tzinfo=HALL_TZ)  # five working days later


def at(hour, minute=0, second=0, day=0):
    return DAY + timedelta(days=day, hours=hour, minutes=minute, seconds=second)


# --- arithmetic --------------------------------------------------------------------------------


def test_good_ratings_and_the_defaulted_over_all_rated_or_defaulted():
    row = kpi_row("GZ-TH-01", Counts(
        operations=20, very_satisfied=6, satisfied=5, basically_satisfied=2, dissatisfied=2,
        very_dissatisfied=1, defaulted=4, callbacks_opened=3, callbacks_due=4,
        callbacks_in_time=3))
    assert row.rated == 16
    assert row.satisfaction_rate == (6 + 5 + 2 + 4) / (16 + 4)
    assert (row.callback_rate, row.callbacks_in_time_rate) == (1.0, 0.75)
    assert (row.very_satisfied, row.very_dissatisfied, row.defaulted) == (6, 1, 4)


def test_unrated_transactions_alone_are_all_good_and_no_bad_rating_has_no_callback_rate():
    row = kpi_row("x", Counts(operations=3, defaulted=3))
    assert (row.rated, row.satisfaction_rate, row.callback_rate,
            row.callbacks_in_time_rate) == (0, 1.0, None, None)
    assert kpi_row("x", Counts(operations=3)).satisfaction_rate is None


def test_three_level_counts_give_the_rate_they_gave_before():
    row = kpi_row("x", Counts(satisfied=18, basically_satisfied=6, dissatisfied=6))
    assert (row.rated, row.satisfaction_rate) == (30, 0.8)


# --- a known day -------------------------------------------------------------------------------


@pytest.fixture
def client(server_engine):
    clients = seeded_client(server_engine, accounts=300, halls=2)
    client = next(clients)
    allow_old_operations(server_engine)
    yield client
    next(clients, None)


def rate(terminal, operation_id, rating, when):
    response = terminal.client.post(f"{API_PREFIX}/feedback", headers=terminal.headers, json={
        "items": [{"operation_id": operation_id, "rating": rating,
                   "rated_at": when.isoformat()}]})
    assert response.status_code == 200 and response.json()["stored"] == [operation_id]


@pytest.fixture
def known_day(client, server_engine):
    """Monday at GZ-TH-01: seven suspensions from 09:00, ten minutes apart, rated very
    satisfied, satisfied, basically satisfied, dissatisfied, very dissatisfied (five minutes
    after each), and two left unrated (09:50 and 10:00). One unrated suspension at
    GZ-YX-01."""
    th = logged_in(client, TH, "T01", "gz-th-01-c1")
    yx = logged_in(client, YX, "T01", "gz-yx-01-c1")
    ops = {}
    for terminal, keys in ((th, "abcdefg"), (yx, "h")):
        usable = [a for a in terminal.all_accounts()
                  if a["status"] == "active" and a["id_number"] and not a["arrears_fen"]]
        for n, key in enumerate(keys):
            op = terminal.operation("suspend", holder_of(usable[n]), account=usable[n],
                                    created_at=at(9, 10 * n).isoformat())
            assert terminal.push(op)[0]["outcome"] == "applied"
            ops[key] = op["operation_id"]
    for n, (key, rating) in enumerate(zip("abcde", ("very_satisfied", "satisfied",
                                                    "basically_satisfied", "dissatisfied",
                                                    "very_dissatisfied"), strict=True)):
        rate(th, ops[key], rating, at(9, 10 * n + 5))
    return th, ops


def day_report(engine, now, by=Grouping.HALL):
    with Session(engine) as s:
        return report(s, DAY, DAY + timedelta(days=1), by, now=now)


def th_row(kpi):
    return next(r for r in kpi.rows if r.key == TH)


def test_five_levels_are_counted_each(known_day, server_engine):
    row = th_row(day_report(server_engine, at(12)))
    assert (row.operations, row.rated, row.very_satisfied, row.satisfied,
            row.basically_satisfied, row.dissatisfied, row.very_dissatisfied) == (
        7, 5, 1, 1, 1, 1, 1)
    assert (row.defaulted, row.satisfaction_rate) == (0, 3 / 5)


def test_an_unrated_transaction_counts_as_basically_satisfied_7_days_on_not_before(
        known_day, server_engine):
    before = day_report(server_engine, at(9, 49, 59, day=7))
    first = day_report(server_engine, at(9, 50, day=7))
    both = day_report(server_engine, at(10, day=7))
    assert [th_row(k).defaulted for k in (before, first, both)] == [0, 1, 2]
    assert th_row(both).satisfaction_rate == (3 + 2) / (5 + 2)
    # Computed, not stored: the ratings are the customers' five, and the rated count with them.
    with Session(server_engine) as s:
        assert len(s.scalars(select(FeedbackRow)).all()) == 5
    assert th_row(both).rated == 5 and th_row(both).basically_satisfied == 1
    # The other hall's unrated one, and the total, alike.
    assert next(r for r in both.rows if r.key == YX).defaulted == 1
    assert both.total.defaulted == 3


def test_a_rating_that_arrives_late_takes_the_defaults_place(known_day, server_engine):
    th, ops = known_day
    rate(th, ops["g"], "satisfied", at(10, 5))  # from a terminal that was offline a week
    row = th_row(day_report(server_engine, at(10, day=7)))
    assert (row.rated, row.satisfied, row.defaulted) == (6, 2, 1)
    assert row.satisfaction_rate == (4 + 1) / (6 + 1)


def test_each_bad_rating_has_its_callback(known_day, server_engine):
    row = th_row(day_report(server_engine, at(12)))
    assert (row.callbacks_opened, row.callback_rate) == (2, 1.0)


def test_a_bad_rating_stored_before_callbacks_existed_lowers_the_callback_rate(
        known_day, server_engine):
    _th, ops = known_day
    with Session(server_engine) as s, s.begin():
        s.add(FeedbackRow(operation_id=ops["f"], rating="dissatisfied", reason=None,
                          rated_at=as_utc(at(9, 55)), received_at=as_utc(at(9, 55))))
    row = th_row(day_report(server_engine, at(12)))
    assert (row.dissatisfied, row.callbacks_opened, row.callback_rate) == (2, 2, 2 / 3)


def close_callbacks(engine, ops, done):
    """Mark the call-backs of `done` (operation key -> when) done."""
    with Session(engine) as s, s.begin():
        for key, when in done.items():
            [item] = s.scalars(select(WorkItemRow).where(
                WorkItemRow.operation_id == ops[key], WorkItemRow.step == "callback")).all()
            assert item.due_at == CALLBACKS_DUE + timedelta(hours=23, minutes=59, seconds=59)
            item.done_at = as_utc(when)


def test_callbacks_done_by_their_due_time_over_those_due_in_the_period(
        known_day, server_engine):
    _th, ops = known_day
    close_callbacks(server_engine, ops, {"d": CALLBACKS_DUE + timedelta(hours=12),
                                         "e": CALLBACKS_DUE + timedelta(days=1, hours=9)})
    with Session(server_engine) as s:
        due_day = report(s, CALLBACKS_DUE, CALLBACKS_DUE + timedelta(days=1), Grouping.CLERK,
                         hall=TH, now=CALLBACKS_DUE + timedelta(days=3))
    [row] = due_day.rows
    assert row.key == "gz-th-01-c1"
    assert (row.callbacks_due, row.callbacks_in_time, row.callbacks_in_time_rate) == (
        2, 1, 0.5)
    # Call-backs have figures of their own: the requests' steps due that day are none.
    assert (row.work_items, row.overdue) == (0, 0)
    # The day the ratings were given: the call-backs opened, none due yet.
    rated_day = th_row(day_report(server_engine, at(12)))
    assert (rated_day.callbacks_opened, rated_day.callbacks_due,
            rated_day.callbacks_in_time_rate) == (2, 0, None)
    assert rated_day.work_items == 0  # the suspensions' own steps are due on Tuesday


def test_an_open_callback_counts_as_late_once_its_time_has_passed_not_before(
        known_day, server_engine):
    _th, ops = known_day
    close_callbacks(server_engine, ops, {"d": CALLBACKS_DUE + timedelta(hours=8)})

    def row_at(now):
        with Session(server_engine) as s:
            return report(s, CALLBACKS_DUE, CALLBACKS_DUE + timedelta(days=1), Grouping.HALL,
                          hall=TH, now=now).rows[0]

    # At 20:00 of its last day, e's call-back is still in time: not counted against the hall.
    early = row_at(CALLBACKS_DUE + timedelta(hours=20))
    assert (early.callbacks_due, early.callbacks_in_time, early.callbacks_in_time_rate) == (
        1, 1, 1.0)
    late = row_at(CALLBACKS_DUE + timedelta(days=1, hours=1))
    assert (late.callbacks_due, late.callbacks_in_time) == (2, 1)


@pytest.mark.parametrize("by", list(Grouping))
def test_the_groups_add_up_to_the_total(known_day, server_engine, by):
    _th, ops = known_day
    close_callbacks(server_engine, ops, {"d": CALLBACKS_DUE})
    with Session(server_engine) as s:
        kpi = report(s, DAY, DAY + timedelta(days=14), by, now=at(10, day=7))
    for name in ("very_satisfied", "very_dissatisfied", "defaulted", "callbacks_opened",
                 "callbacks_due", "callbacks_in_time"):
        assert sum(getattr(r, name) for r in kpi.rows) == getattr(kpi.total, name), name
    # e's call-back, open, is due at the end of that day: not counted yet.
    assert (kpi.total.defaulted, kpi.total.callbacks_opened, kpi.total.callbacks_due,
            kpi.total.callbacks_in_time) == (3, 2, 1, 1)


# --- the API and the command line -------------------------------------------------------------


def test_a_supervisor_reads_the_new_figures_in_the_kpi_api(known_day, client):
    supervisor = logged_in(client, TH, "T02", "gz-th-01-s1", SUPERVISOR_PASSWORD)
    body = supervisor.get("/reports/kpi", since="2026-11-02", until="2026-11-03").json()
    [row] = body["rows"]
    # Now (December 2026) both unrated suspensions are more than 7 days old.
    assert {name: row[name] for name in (
        "rated", "very_satisfied", "very_dissatisfied", "defaulted", "satisfaction_rate",
        "callbacks_opened", "callback_rate", "callbacks_due", "callbacks_in_time_rate")} == {
        "rated": 5, "very_satisfied": 1, "very_dissatisfied": 1, "defaulted": 2,
        "satisfaction_rate": 5 / 7, "callbacks_opened": 2, "callback_rate": 1.0,
        "callbacks_due": 0, "callbacks_in_time_rate": None}


def test_the_command_lines_table_and_csv_carry_the_new_figures(known_day, server_engine,
                                                               tmp_path):
    kpi = day_report(server_engine, at(10, day=7))
    lines = table(kpi).splitlines()
    assert lines[0].endswith("unrated 7 days  call-backs  call-backs in time")
    th_line = next(line for line in lines if line.startswith(TH))
    assert th_line.split()[-3:] == ["2", "100.0%", "-"]
    path = tmp_path / "kpi.csv"
    write_csv(kpi, path)
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    th_csv = next(r for r in rows if r["key"] == TH)
    assert (th_csv["defaulted"], th_csv["callback_rate"], th_csv["very_dissatisfied"]) == (
        "2", "1.0000", "1")


def test_an_operation_made_now_is_not_defaulted(client, server_engine):
    th = logged_in(client, TH, "T01", "gz-th-01-c1")
    account = next(a for a in th.all_accounts()
                   if a["status"] == "active" and a["id_number"] and not a["arrears_fen"])
    th.push(th.operation("suspend", holder_of(account), account=account))
    today = datetime.now(HALL_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    with Session(server_engine) as s:
        row = report(s, today, today + timedelta(days=1), Grouping.HALL, hall=TH).rows[0]
    assert (row.operations, row.defaulted, row.satisfaction_rate) == (1, 0, None)
    later = datetime.now(UTC) + timedelta(days=7, minutes=1)
    with Session(server_engine) as s:
        row = report(s, today, today + timedelta(days=1), Grouping.HALL, hall=TH,
                     now=later).rows[0]
    assert (row.defaulted, row.satisfaction_rate) == (1, 1.0)
