"""The KPI's arithmetic on known counts, the one-stop rule, the SQL count of complete accounts
against the domain's rule, `hallserver report` and a real terminal's requests in a report."""

import csv
import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hallclient.store.feedback import record_feedback
from hallclient.store.operations import CounterFacts
from hallcore.db.account_columns import write_columns
from hallcore.demodata import DISTRICTS
from hallcore.domain.accounts import missing_information
from hallcore.domain.deadlines import HALL_TZ
from hallcore.wire import KpiRow, NotSettledReason, Outcome, Rating
from hallserver.__main__ import main
from hallserver.accounts import to_domain
from hallserver.app import create_app
from hallserver.db import make_engine
from hallserver.kpi import COMPLETE_ACCOUNT, Completeness, Counts, Grouping, kpi_row, report
from hallserver.models import AccountRow
from hallserver.push import settled_at_first_contact
from hallserver.seed import seed
from tests.support.counter import active_accounts, holder
from tests.support.factories import account
from tests.support.server import Terminal, allow_old_operations, holder_of

DAY = datetime(2026, 11, 2, tzinfo=HALL_TZ)  # a Monday

# --- arithmetic --------------------------------------------------------------------------------


def test_rates_from_known_counts():
    row = kpi_row("GZ-TH-01", Counts(
        operations=40, satisfied=18, basically_satisfied=6, dissatisfied=6,
        first_contact_recorded=32, first_contact=28, handling_recorded=30,
        handling_seconds=5400, work_items=10, overdue=1), Completeness(200, 150))
    assert (row.rated, row.satisfaction_rate) == (30, 0.8)
    assert row.one_stop_ratio == 0.875
    assert row.avg_handling_seconds == 180.0
    assert (row.work_items, row.overdue) == (10, 1)
    assert (row.accounts, row.complete_accounts, row.completeness_rate) == (200, 150, 0.75)


def test_rates_are_none_where_nothing_was_counted():
    row = kpi_row("gz-th-01-c1", Counts(operations=3))
    assert (row.rated, row.satisfaction_rate, row.one_stop_ratio,
            row.avg_handling_seconds) == (0, None, None, None)
    assert (row.accounts, row.complete_accounts, row.completeness_rate) == (None, None, None)
    assert kpi_row("GZ-YX-01", Counts(), Completeness(0, 0)).completeness_rate is None
    # Recorded, and none settled: a ratio of 0, not "nothing counted".
    assert kpi_row("x", Counts(first_contact_recorded=2)).one_stop_ratio == 0.0


def test_counts_add_up_field_by_field():
    ones = Counts(**{f.name: 1 for f in dataclasses.fields(Counts)})
    assert ones + ones == Counts(**{f.name: 2 for f in dataclasses.fields(Counts)})
    assert sum([ones, ones, ones], Counts()) == Counts(
        **{f.name: 3 for f in dataclasses.fields(Counts)})


@pytest.mark.parametrize(("recorded", "outcome", "counted"), [
    (True, Outcome.APPLIED, True),
    (False, Outcome.APPLIED, False),
    (True, Outcome.REJECTED, False),
    (True, Outcome.CONFLICT, False),
    (False, Outcome.CONFLICT, False),
    (None, Outcome.APPLIED, None),
    (None, Outcome.REJECTED, None),
])
def test_settled_at_first_contact_unless_refused(recorded, outcome, counted):
    assert settled_at_first_contact(recorded, outcome) is counted


# --- completeness: the SQL count is the domain's rule ----------------------------------------


def _blank(value):
    return {str: "", bool: False, int: 0}.get(type(value))


def test_the_sql_count_of_complete_accounts_is_the_domains_rule(server_engine):
    seed(server_engine, accounts=300, halls=1)
    # A complete account, and one more for each of its fields left empty (where the database
    # can hold it so): whatever item the domain adds to a complete record, one of these
    # accounts lacks it.
    full = account()
    assert not missing_information(full)
    variants = [full] + [dataclasses.replace(full, **{f.name: _blank(getattr(full, f.name))})
                         for f in dataclasses.fields(full)
                         if f.name not in ("number", "district", "community", "status")
                         and _blank(getattr(full, f.name)) is not None]
    variants += [dataclasses.replace(full, id_type=None, id_number=None),
                 dataclasses.replace(full, phone=None),
                 dataclasses.replace(full, mailing_address=None)]
    with Session(server_engine) as s, s.begin():
        district = s.scalar(select(AccountRow.district).limit(1))
        for i, variant in enumerate(variants):
            row = AccountRow(number=f"99{i:08d}", district=district, community_code=None,
                             seq=0)
            write_columns(row, dataclasses.replace(variant, district=district))
            s.add(row)
    with Session(server_engine) as s:
        rows = s.scalars(select(AccountRow)).all()
        by_domain = sum(1 for r in rows if not missing_information(to_domain(s, r)))
        by_sql = s.scalar(select(func.count()).select_from(AccountRow).where(COMPLETE_ACCOUNT))
    assert 0 < by_sql == by_domain < len(rows)


def test_halls_of_one_district_share_its_accounts_and_the_total_counts_them_once(
        server_engine):
    seed(server_engine, accounts=60, halls=len(DISTRICTS) + 1)  # two halls in the first one
    with Session(server_engine) as s:
        kpi = report(s, DAY, DAY + timedelta(days=1), Grouping.HALL)
    first = DISTRICTS[0].code
    sharing = [r for r in kpi.rows if r.key.startswith(f"{first}-")]
    assert len(sharing) == 2 and sharing[0].accounts == sharing[1].accounts > 0
    assert kpi.total.accounts == 60
    assert kpi.total.complete_accounts == sum(
        r.complete_accounts for r in kpi.rows if r not in sharing[1:])


# --- hallserver report -----------------------------------------------------------------------


@pytest.fixture
def reported_db(tmp_path):
    """A SQLite database with a Monday's requests at two halls."""
    url = f"sqlite+pysqlite:///{tmp_path / 'db.sqlite3'}"
    assert main(["migrate", "--db", url]) == 0
    engine = make_engine(url)
    seed(engine, accounts=100, halls=2)
    allow_old_operations(engine)  # the reported Monday is in the past
    with TestClient(create_app(engine)) as client:
        for hall in ("GZ-TH-01", "GZ-YX-01"):
            t = Terminal(client, hall, "T01")
            assert t.login(f"{hall.lower()}-c1").status_code == 200
            accounts = [a for a in t.all_accounts() if a["status"] == "active"
                        and a["id_number"] and not a["arrears_fen"]]
            for i, a in enumerate(accounts[:3]):
                op = {**t.operation("suspend", holder_of(a), account=a,
                                    created_at=DAY + timedelta(hours=9 + i)),
                      "first_contact": i != 1, "handling_seconds": 60 * (i + 1)}
                assert t.push(op)[0]["outcome"] == "applied"
    yield url, engine
    engine.dispose()


def cell(value):
    if value is None:
        return ""
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def test_report_writes_csv_a_row_per_group_and_the_total_last(reported_db, tmp_path, capsys):
    url, engine = reported_db
    out = tmp_path / "kpi.csv"
    assert main(["report", "--db", url, "--since", "2026-11-02", "--until", "2026-11-03",
                 "--by", "hall", "--csv", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    with out.open(encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    assert header == list(KpiRow.model_fields)
    with Session(engine) as s:
        kpi = report(s, DAY, DAY + timedelta(days=1), Grouping.HALL)
    assert rows == [[cell(getattr(r, name)) for name in header] for r in [*kpi.rows, kpi.total]]
    assert [r[0] for r in rows] == ["GZ-TH-01", "GZ-YX-01", "total"]
    total = dict(zip(header, rows[-1], strict=True))
    assert (total["operations"], total["first_contact"], total["one_stop_ratio"]) == (
        "6", "4", "0.6667")
    assert total["avg_handling_seconds"] == "120.0000" and total["accounts"] == "100"


def test_report_prints_a_table(reported_db, capsys):
    url, _ = reported_db
    assert main(["report", "--db", url, "--since", "2026-11-02", "--until", "2026-11-03",
                 "--by", "business_type"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["group", "operations", "rated"]
    assert "due in period  overdue" in lines[0]  # work items by deadline, as the dashboard says
    assert lines[2].split()[:2] == ["suspend", "6"]
    assert lines[-1].split()[:2] == ["total", "6"] and "66.7%" in lines[-1]


def test_report_refuses_an_empty_period_and_an_unmigrated_database(tmp_path, capsys):
    url = f"sqlite+pysqlite:///{tmp_path / 'db.sqlite3'}"
    assert main(["report", "--db", url, "--since", "2026-11-03", "--until", "2026-11-03",
                 "--by", "hall"]) == 2
    assert "--until must be after --since" in capsys.readouterr().err
    assert main(["report", "--db", url, "--since", "2026-11-01", "--until", "2026-11-03",
                 "--by", "hall"]) == 2
    assert "hallserver migrate" in capsys.readouterr().err


# --- a real terminal -------------------------------------------------------------------------


def test_a_terminals_requests_and_rating_reach_the_report(counters, server):
    counter = counters()
    counter.engine.sync_once()
    first, second = active_accounts(counter, 2)
    rated = counter.record("suspend", first.number, holder(first),
                           facts=CounterFacts(first_contact=True, handling_seconds=90))
    counter.record("suspend", second.number, holder(second), facts=CounterFacts(
        first_contact=False, not_settled_reason=NotSettledReason.DOCUMENTS_MISSING,
        handling_seconds=150))
    record_feedback(counter.cache, rated.operation_id, Rating.BASICALLY_SATISFIED, "很快",
                    datetime.now(UTC))
    counter.engine.sync_once()
    today = datetime.now(HALL_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    with Session(server.engine) as s:
        kpi = report(s, today, today + timedelta(days=1), Grouping.CLERK)
        yesterday = report(s, today - timedelta(days=1), today, Grouping.CLERK)
    [row] = kpi.rows
    assert (row.key, row.operations, row.first_contact_recorded, row.first_contact) == (
        "gz-th-01-c1", 2, 2, 1)
    assert (row.one_stop_ratio, row.avg_handling_seconds) == (0.5, 120.0)
    assert (row.rated, row.basically_satisfied, row.satisfaction_rate) == (1, 1, 1.0)
    assert yesterday.rows == []


@pytest.mark.parametrize("day", ["0001-01-01", "9999-01-01", "2026-13-01"])
def test_report_refuses_a_day_it_cannot_count(tmp_path, day):
    url = f"sqlite+pysqlite:///{tmp_path / 'db.sqlite3'}"
    with pytest.raises(SystemExit) as ended:
        main(["report", "--db", url, "--since", day, "--until", "2026-11-03", "--by", "hall"])
    assert ended.value.code == 2


def test_report_says_when_its_csv_cannot_be_written(reported_db, tmp_path, capsys):
    url, _engine = reported_db
    assert main(["report", "--db", url, "--since", "2026-11-02", "--until", "2026-11-03",
                 "--by", "hall", "--csv", str(tmp_path)]) == 2
    assert f"cannot write {tmp_path}" in capsys.readouterr().err
