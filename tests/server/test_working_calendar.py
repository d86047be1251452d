"""The working-day calendar the server owns: seeded with the years the chinese-calendar
package knows, loaded by an administrator from the State Council's notice as CSV, every
deadline of a pushed request counted on it (work items and SMS), given to the terminals. On
SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from hallcore.audit_chain import as_utc
from hallcore.domain.deadlines import HALL_TZ
from hallserver import working_days
from hallserver.__main__ import main
from hallserver.models import (
    AuditEntryRow,
    CalendarDayRow,
    CalendarYearRow,
    HallRow,
    NotificationRow,
    WorkItemRow,
)
from tests.support.server import allow_old_operations, holder_of, logged_in, seeded_client
from tests.support.statements import reads_of

TH = "GZ-TH-01"

NOTICE_2027 = """日期,类型,名称
2027-01-01,休,元旦
2027-02-05~2027-02-11,休,春节
2027-02-14,班,春节
2027-10-01~2027-10-07,休,国庆节
2027-09-26,班,国庆节
"""


@pytest.fixture
def client(server_engine):
    clients = seeded_client(server_engine, accounts=200, halls=1)
    client = next(clients)
    allow_old_operations(server_engine)  # requests of days long past
    yield client
    next(clients, None)


@pytest.fixture
def th(client):
    return logged_in(client, TH, "T01", "gz-th-01-c1")


@pytest.fixture
def db(server_engine):
    return server_engine.url.render_as_string(hide_password=False)


@pytest.fixture
def calendar_cli(db, capsys, server_engine):
    """Runs `hallserver calendar …` on the test database, as an operator does from another
    process: (exit code, stdout, stderr)."""
    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["calendar", *argv, "--db", db])
        out, err = capsys.readouterr()
        return code, out, err
    return run


def reachable(terminal):
    """An account of the terminal's district that can be served and takes SMS."""
    return next(a for a in terminal.all_accounts()
                if a["status"] == "active" and a["id_number"] and not a["arrears_fen"]
                and a["phone"] and a["sms_consent"])


def pushed_on(terminal, kind, accepted: datetime):
    account = reachable(terminal)
    payload = {**holder_of(account), **({"new_name": "陈伟明"} if kind == "rename" else {})}
    op = terminal.operation(kind, payload, account=account,
                            created_at=accepted.isoformat())
    [result] = terminal.push(op)
    assert result["outcome"] == "applied", result
    return op


def due_of(engine, op, step=None) -> datetime:
    """The due time of the request's own work item (or of its item `step`)."""
    with Session(engine) as s:
        [due] = s.scalars(select(WorkItemRow.due_at).where(
            WorkItemRow.operation_id == op["operation_id"],
            WorkItemRow.step == step if step else WorkItemRow.step != "callback")).all()
    return as_utc(due).astimezone(HALL_TZ)


def callback_due(engine, op) -> datetime:
    return due_of(engine, op, "callback")


def accepted_sms(engine, op) -> str:
    with Session(engine) as s:
        return s.scalars(select(NotificationRow.text).where(
            NotificationRow.operation_id == op["operation_id"],
            NotificationRow.notice == "accepted")).one()


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=HALL_TZ)


def end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=HALL_TZ)


def test_the_migrations_seed_every_year_the_package_knows(server_engine):
    with Session(server_engine) as s:
        years = set(s.scalars(select(CalendarYearRow.year)))
        national_day = s.get(CalendarDayRow, date(2026, 10, 1))
        worked = s.get(CalendarDayRow, date(2026, 10, 10))
    assert set(range(2004, 2027)) <= years
    assert national_day is not None and not national_day.working
    assert national_day.name == "国庆节"
    assert worked is not None and worked.working


@pytest.mark.parametrize(("kind", "accepted", "due"), [
    # the dates testers found wrong: National Day, its make-up Saturday, Spring Festival
    ("suspend", at(date(2026, 9, 30)), date(2026, 10, 8)),
    ("rename", at(date(2026, 9, 30)), date(2026, 10, 10)),
    ("rename", at(date(2026, 2, 13)), date(2026, 2, 25)),
    # after the hall's closing time (17:30): counted from the next working day
    ("suspend", at(date(2026, 11, 27), 18), date(2026, 12, 1)),
    ("suspend", at(date(2026, 11, 27), 17), date(2026, 11, 30)),
])
def test_work_items_and_the_sms_promise_the_notices_dates(th, server_engine, kind, accepted,
                                                          due):
    op = pushed_on(th, kind, accepted)
    assert due_of(server_engine, op) == end_of(due)
    assert f"{due:%Y-%m-%d}" in accepted_sms(server_engine, op)


def test_the_halls_own_closing_time_counts(th, server_engine):
    with Session(server_engine) as s, s.begin():
        s.execute(update(HallRow).where(HallRow.id == TH).values(closes_at=time(19, 0)))
    op = pushed_on(th, "suspend", at(date(2026, 11, 27), 18))
    assert due_of(server_engine, op) == end_of(date(2026, 11, 30))


def forget_2026(engine) -> None:
    """A database where this year's notice was never loaded."""
    with Session(engine) as s, s.begin():
        s.execute(delete(CalendarDayRow).where(CalendarDayRow.day >= date(2026, 1, 1)))
        s.execute(delete(CalendarYearRow).where(CalendarYearRow.year == 2026))
    working_days.forget(engine)


NOTICE_2026 = """2026-02-15~2026-02-23,休,春节
2026-02-14,班,春节
2026-02-28,班,春节
2026-09-25~2026-09-27,休,中秋节
2026-09-20,班,国庆节
2026-10-01~2026-10-07,休,国庆节
2026-10-10,班,国庆节
"""


def test_a_year_without_a_notice_is_counted_on_weekends_and_said_in_the_log(
        th, server_engine, caplog):
    forget_2026(server_engine)
    with caplog.at_level(logging.WARNING, logger="hallserver.working_days"):
        op = pushed_on(th, "suspend", at(date(2026, 9, 30)))
    assert due_of(server_engine, op) == end_of(date(2026, 10, 1))  # not known as a holiday
    assert accepted_sms(server_engine, op).endswith("我们将于2026-10-01前办结。如遇节假日顺延。")
    [warning] = [r for r in caplog.records if r.name == "hallserver.working_days"]
    assert "2026" in warning.getMessage() and TH in warning.getMessage()


def suspensions(terminal, count: int, accepted: datetime) -> list[dict]:
    """Requests to suspend `count` accounts, each its own, accepted at `accepted`."""
    accounts = [a for a in terminal.all_accounts() if a["status"] == "active"
                and a["id_number"] and not a["arrears_fen"]][:count]
    return [terminal.operation("suspend", holder_of(a), account=a,
                               created_at=accepted.isoformat()) for a in accounts]


def test_pushes_count_on_the_calendar_read_once_not_again_for_each(th, server_engine):
    # Each push's transaction is on an engine of its own options (SQLite's write lock), which
    # the kept calendar had been told apart by: read again, 800 days, for every push.
    ops = suspensions(th, 4, at(date(2026, 9, 30)))
    th.push(ops[0])
    with reads_of(server_engine, "calendar_days") as reads:
        results = [th.push(op) for op in ops[1:]]
    assert [r["outcome"] for [r] in results] == ["applied"] * 3
    assert reads == []


def test_a_push_of_many_requests_into_a_year_without_a_notice_reads_the_calendar_once(
        th, server_engine, caplog):
    """Each estimate is worth a look for a notice loaded since, but not one per request: in
    December every request whose deadline reaches into January is one, and a batch of 200
    read the whole calendar 200 times and said so 200 times in the log."""
    forget_2026(server_engine)
    ops = suspensions(th, 5, at(date(2026, 9, 30)))
    with reads_of(server_engine, "calendar_years") as reads, caplog.at_level(
            logging.WARNING, logger="hallserver.working_days"):
        results = th.push(*ops)
    assert [r["outcome"] for r in results] == ["applied"] * 5
    assert all(due_of(server_engine, op) == end_of(date(2026, 10, 1)) for op in ops)
    assert len(reads) == 1
    assert len([r for r in caplog.records if r.name == "hallserver.working_days"]) == 1


def test_an_imported_notice_is_what_later_deadlines_are_counted_on(
        th, server_engine, calendar_cli, tmp_path, caplog):
    forget_2026(server_engine)
    notice = tmp_path / "2026.csv"
    notice.write_text(NOTICE_2026, encoding="utf-8")
    code, out, err = calendar_cli("import", str(notice), "--source", "国办发明电〔2025〕7号")
    assert code == 0, err
    assert "loaded 2026: 19 days off, 4 make-up working days; 0 open work items" in out
    with caplog.at_level(logging.WARNING, logger="hallserver.working_days"):
        op = pushed_on(th, "rename", at(date(2026, 9, 30)))
    assert due_of(server_engine, op) == end_of(date(2026, 10, 10))
    assert accepted_sms(server_engine, op).endswith("我们将于2026-10-10前办结。")
    assert not [r for r in caplog.records if r.name == "hallserver.working_days"]
    code, out, _ = calendar_cli("show", "2026")
    assert code == 0
    assert out.splitlines()[0].startswith("2026: 国办发明电〔2025〕7号")
    assert "2026-10-10 周六 班 国庆节" in out and "2026-10-07 周三 休 国庆节" in out
    with Session(server_engine) as s:
        [entry] = s.scalars(select(AuditEntryRow)
                            .where(AuditEntryRow.action == "calendar_import")).all()
    assert entry.subject == "2026" and entry.actor.startswith("operator")


def test_an_import_replaces_the_whole_year_it_names(server_engine, calendar_cli, tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text(NOTICE_2027, encoding="utf-8")
    second.write_text("2027-02-06~2027-02-12,休,春节\n", encoding="utf-8")
    assert calendar_cli("import", str(first))[0] == 0
    assert calendar_cli("import", str(second))[0] == 0
    with Session(server_engine) as s:
        days = s.scalar(select(func.count()).select_from(CalendarDayRow)
                        .where(CalendarDayRow.day >= date(2027, 1, 1)))
        kept_2026 = s.get(CalendarDayRow, date(2026, 10, 1))
    assert days == 7 and kept_2026 is not None


def test_a_notice_saved_by_a_chinese_spreadsheet_is_read(server_engine, calendar_cli,
                                                         tmp_path):
    notice = tmp_path / "gbk.csv"
    notice.write_bytes(NOTICE_2027.encode("gb18030"))
    assert calendar_cli("import", str(notice))[0] == 0
    with Session(server_engine) as s:
        assert s.get(CalendarDayRow, date(2027, 2, 5)).name == "春节"


@pytest.mark.parametrize(("text", "said"), [
    ("2027-13-01,休,元旦\n", "第1行：“2027-13-01”不是日期"),
    ("date,kind,name\n2027-01-01,假,元旦\n", "第2行：类型“假”应为“休”或“班”"),
    ("2027-01-01,休,元旦\n2027-01-04,班,元旦\n", "第2行：2027-01-04 是工作日"),
    ("2027-01-02,休,元旦\n2027-01-02,班,元旦\n", "第2行：2027-01-02 既列为放假又列为上班"),
    ("2027-02-11~2027-02-05,休,春节\n", "日期范围“2027-02-11~2027-02-05”的结束早于开始"),
    ("2072-01-02,班,元旦\n", "没有2072年的春节假期"),
    ("2027-02-05~2027-02-11,休,春节\n2027-12-31~2028-01-02,休,元旦\n", "没有2028年的春节假期"),
    ("2027-02-05~2027-02-11,休,春节,extra\n", "第1行：多出了列"),
    ("2027-02-05~2027-03-11,休,春节\n", "日期范围“2027-02-05~2027-03-11”超过 31 天"),
    ("2027-02-05~2027-02-07~2027-02-11,休,春节\n", "不是日期，也不是日期范围"),
    ("2027-02-05~2027-02-11,休," + "春" * 61 + "\n", "名称应为不超过 60 个可打印字符"),
    ("2027-02-05~2027-02-11,休,春节\x00\n", "文件中有空字符"),
    ("2027-02-05~2027-02-11,休,\"" + "x" * 200_000 + "\"\n", "第1行：无法按 CSV 读取"),
    ("2027-01-01\n", "每行应为"),
    ("date,kind,name\n", "文件中没有日期"),
])
def test_a_notice_that_cannot_be_right_is_refused_and_changes_nothing(
        server_engine, calendar_cli, tmp_path, text, said):
    notice = tmp_path / "bad.csv"
    notice.write_text(text, encoding="utf-8")
    code, _, err = calendar_cli("import", str(notice))
    assert code == 2
    assert said in err
    with Session(server_engine) as s:
        assert s.get(CalendarYearRow, 2027) is None and s.get(CalendarYearRow, 2072) is None


def test_a_missing_file_is_said(calendar_cli, tmp_path):
    code, _, err = calendar_cli("import", str(tmp_path / "nowhere.csv"))
    assert code == 2 and "无法读取" in err


def test_show_names_a_year_not_loaded(calendar_cli):
    code, out, _ = calendar_cli("show", "2031")
    assert code == 0 and "2031: 未载入，按周末推算" in out


def test_terminals_get_the_calendar_and_learn_when_it_changes(
        th, server_engine, calendar_cli, tmp_path):
    stamp = th.get("/terminal").json()["calendar_stamp"]
    pulled = th.get("/changes", after=0, limit=1).json()
    assert stamp and pulled["terminal"]["calendar_stamp"] == stamp
    calendar = th.get("/calendar").json()
    assert calendar["stamp"] == stamp
    assert (calendar["opens"], calendar["closes"]) == ("08:30", "17:30")
    this_year = datetime.now(UTC).year
    assert min(calendar["years"]) == this_year - 1 and this_year in calendar["years"]
    assert "2026-10-01" in calendar["holidays"] and "2026-10-10" in calendar["workdays"]
    assert not [d for d in calendar["holidays"] if d < f"{this_year - 1}"]

    notice = tmp_path / "2027.csv"
    notice.write_text(NOTICE_2027, encoding="utf-8")
    assert calendar_cli("import", str(notice))[0] == 0
    assert th.get("/terminal").json()["calendar_stamp"] == stamp  # read again within a minute
    working_days.forget(server_engine)  # the minute has passed
    after_import = th.get("/terminal").json()["calendar_stamp"]
    assert after_import != stamp and 2027 in th.get("/calendar").json()["years"]

    with Session(server_engine) as s, s.begin():
        s.execute(update(HallRow).where(HallRow.id == TH).values(closes_at=time(20, 0)))
    assert th.get("/terminal").json()["calendar_stamp"] != after_import
    assert th.get("/calendar").json()["closes"] == "20:00"


def test_the_calendar_is_for_logged_in_terminals_only(client):
    assert client.get("/api/v1/calendar").status_code == 401


def test_a_notice_loaded_later_moves_the_open_items_it_concerns_later_never_sooner(
        th, server_engine, calendar_cli, tmp_path):
    """Items counted on weekends alone, before the year's notice was loaded, are counted again
    when it is: later by its holidays (as the customer was told), never sooner by a worked
    Saturday; an item done is left as it was."""
    forget_2026(server_engine)
    eve = pushed_on(th, "suspend", at(date(2026, 9, 30)))  # 10-01 on weekends alone
    friday = pushed_on(th, "rename", at(date(2026, 10, 9)))  # 10-14; 10-13 with Sat 10-10
    done = pushed_on(th, "suspend", at(date(2026, 9, 29)))  # 09-30 either way
    with Session(server_engine) as s, s.begin():
        s.execute(update(WorkItemRow).where(WorkItemRow.operation_id == done["operation_id"])
                  .values(done_at=datetime(2026, 9, 30, tzinfo=UTC)))
    assert due_of(server_engine, eve) == end_of(date(2026, 10, 1))
    # The customer of the eve rated it badly an hour later: a call-back, 5 working days.
    rated = th.client.post("/api/v1/feedback", headers=th.headers, json={"items": [{
        "operation_id": eve["operation_id"], "rating": "dissatisfied",
        "rated_at": at(date(2026, 9, 30), 11).isoformat()}]})
    assert rated.status_code == 200, rated.text
    assert callback_due(server_engine, eve) == end_of(date(2026, 10, 7))

    notice = tmp_path / "2026.csv"
    notice.write_text(NOTICE_2026, encoding="utf-8")
    code, out, err = calendar_cli("import", str(notice))
    assert code == 0, err
    assert "2 open work items due then moved later" in out
    assert calendar_cli("import", str(notice))[1].startswith(  # again: nothing more to move
        "loaded 2026: 19 days off, 4 make-up working days; 0 open work items")
    assert due_of(server_engine, eve) == end_of(date(2026, 10, 8))
    assert callback_due(server_engine, eve) == end_of(date(2026, 10, 13))
    assert due_of(server_engine, friday) == end_of(date(2026, 10, 14))
    assert due_of(server_engine, done) == end_of(date(2026, 9, 30))


def test_show_on_a_calendar_with_no_year_says_so(server_engine, calendar_cli):
    with Session(server_engine) as s, s.begin():
        s.execute(delete(CalendarDayRow))
        s.execute(delete(CalendarYearRow))
    code, out, _ = calendar_cli("show")
    assert code == 0 and "no year loaded" in out


def test_a_notice_reaching_back_into_december_leaves_the_year_before_loaded(
        server_engine, calendar_cli, tmp_path):
    """The 2023 notice gave New Year's Day from 2022-12-31: that day is the new year's, and the
    year before keeps its own notice."""
    notice = tmp_path / "2027.csv"
    notice.write_text("2026-12-31~2027-01-02,休,元旦\n2027-02-05~2027-02-11,休,春节\n",
                      encoding="utf-8")
    code, out, err = calendar_cli("import", str(notice))
    assert code == 0, err
    assert out.startswith("loaded 2027: 10 days off")
    with Session(server_engine) as s:
        assert s.get(CalendarDayRow, date(2026, 10, 1)).name == "国庆节"  # 2026 as it was
        assert s.get(CalendarDayRow, date(2026, 12, 31)).name == "元旦"
        assert {y.year for y in s.scalars(select(CalendarYearRow))} >= {2026, 2027}


@pytest.mark.parametrize("year", ["0", "1999", "3000000000", "-1", "twenty"])
def test_show_takes_a_year_that_can_be_one(calendar_cli, year):
    with pytest.raises(SystemExit) as ended:
        calendar_cli("show", year)
    assert ended.value.code == 2
