"""Service quality on the server, on SQLite and PostgreSQL: one-stop and handling time kept with
each operation, the customers' ratings, the SMS progress of an account and the KPI report."""

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from hallcore.audit_chain import as_utc
from hallcore.domain.accounts import missing_information
from hallcore.domain.deadlines import HALL_TZ
from hallserver.accounts import rows_to_wire
from hallserver.db import SERVER_SCHEMA
from hallserver.kpi import Grouping, report
from hallserver.models import (
    AccountRow,
    AuditEntryRow,
    FeedbackRow,
    NotificationRow,
    OperationRow,
    WorkItemRow,
)
from hallserver.notifications import LogFileGateway, deliver_due
from tests.support.factories import NEW_CONNECTION
from tests.support.server import (
    SUPERVISOR_PASSWORD,
    allow_old_operations,
    holder_of,
    logged_in,
    seeded_client,
)

TH, YX = "GZ-TH-01", "GZ-YX-01"


@pytest.fixture
def client(server_engine):
    clients = seeded_client(server_engine, accounts=400, halls=2)
    client = next(clients)
    allow_old_operations(server_engine)  # the reports' known days are in the past
    yield client
    next(clients, None)


@pytest.fixture
def th(client):
    return logged_in(client, TH, "T01", "gz-th-01-c1")


@pytest.fixture
def yx(client):
    return logged_in(client, YX, "T01", "gz-yx-01-c1")


@pytest.fixture
def th_supervisor(client):
    return logged_in(client, TH, "T02", "gz-th-01-s1", SUPERVISOR_PASSWORD)


def usable(terminal, n, **wanted):
    """`n` accounts of the terminal's district: active, an ID on record, nothing owed."""
    found = [a for a in terminal.all_accounts()
             if a["status"] == "active" and a["id_number"] and not a["arrears_fen"]
             and all(a[k] == v for k, v in wanted.items())]
    return found[:n]


def reachable(terminal, n):
    """`n` usable accounts whose holders take SMS: a phone and consent."""
    return [a for a in usable(terminal, 100, sms_consent=True) if a["phone"]][:n]


def push_one(terminal, kind, account, payload=None, *, created_at=None, **fields):
    op = {**terminal.operation(kind, payload or holder_of(account), account=account,
                               created_at=created_at), **fields}
    [result] = terminal.push(op)
    return op, result


def stored(engine, op):
    with Session(engine) as s:
        return s.get(OperationRow, op["operation_id"])


def rate(terminal, *items):
    response = terminal.client.post("/api/v1/feedback", json={"items": [
        {"rated_at": datetime.now(UTC).isoformat(), **item} for item in items]},
        headers=terminal.headers)
    assert response.status_code == 200, response.text
    return response.json()


# --- one-stop and handling time --------------------------------------------------------------


def test_push_keeps_first_contact_its_reason_and_the_handling_time(th, server_engine):
    one, two, three = usable(th, 3)
    op, result = push_one(th, "suspend", one, first_contact=False,
                          not_settled_reason="documents_missing", handling_seconds=95)
    assert result["outcome"] == "applied"
    row = stored(server_engine, op)
    assert (row.first_contact, row.not_settled_reason, row.handling_seconds) == (
        False, "documents_missing", 95)
    # A reason given with a settled request means nothing: it is not kept.
    op, _ = push_one(th, "suspend", two, first_contact=True, not_settled_reason="other")
    row = stored(server_engine, op)
    assert (row.first_contact, row.not_settled_reason) == (True, None)
    # A terminal that does not say: not recorded, not "settled".
    op, _ = push_one(th, "suspend", three)
    row = stored(server_engine, op)
    assert (row.first_contact, row.not_settled_reason, row.handling_seconds) == (None, None, None)


def test_a_refused_request_is_not_settled_at_first_contact_whatever_the_terminal_said(
        th, server_engine):
    one, two = usable(th, 2)
    rejected, result = push_one(th, "resume", one, first_contact=True)  # it is not suspended
    assert result["outcome"] == "rejected"
    push_one(th, "suspend", two)
    conflict, result = push_one(th, "close", two, first_contact=True)  # on the old version
    assert result["outcome"] == "conflict"
    unrecorded, _ = push_one(th, "resume", one)
    assert [stored(server_engine, op).first_contact
            for op in (rejected, conflict, unrecorded)] == [False, False, None]


# --- ratings ---------------------------------------------------------------------------------


def test_a_rating_is_kept_once_and_a_repeat_changes_nothing(th, server_engine, caplog):
    caplog.set_level(logging.DEBUG)
    [account] = usable(th, 1)
    op, _ = push_one(th, "suspend", account)
    words = "窗口人员态度很好，但排队太久"
    first = {"operation_id": op["operation_id"], "rating": "satisfied", "reason": words}
    assert rate(th, first) == {"stored": [op["operation_id"]], "unknown": []}
    again = {**first, "rating": "dissatisfied", "reason": None}
    assert rate(th, again) == {"stored": [op["operation_id"]], "unknown": []}
    with Session(server_engine) as s:
        row = s.get(FeedbackRow, op["operation_id"])
        assert (row.rating, row.reason) == ("satisfied", words)
        entries = s.scalars(select(AuditEntryRow).where(AuditEntryRow.action == "feedback")).all()
    assert [(e.subject, e.detail) for e in entries] == [(op["operation_id"],
                                                        {"rating": "satisfied"})]
    # The customer's words: stored, never logged.
    assert words not in caplog.text


def test_ratings_of_another_halls_or_an_unknown_operation_are_unknown(th, yx, server_engine):
    [account] = usable(th, 1)
    op, _ = push_one(th, "suspend", account)
    nobody = str(uuid.uuid4())
    answer = rate(yx, {"operation_id": op["operation_id"], "rating": "dissatisfied"},
                  {"operation_id": nobody, "rating": "satisfied"})
    assert answer == {"stored": [], "unknown": [op["operation_id"], nobody]}
    with Session(server_engine) as s:
        assert s.scalars(select(FeedbackRow)).all() == []
    # The hall that served the customer rates it.
    assert rate(th, {"operation_id": op["operation_id"], "rating": "satisfied"})["stored"] == [
        op["operation_id"]]


def test_the_same_rating_sent_in_parallel_is_kept_once(th, server_engine):
    [account] = usable(th, 1)
    op, _ = push_one(th, "suspend", account)
    item = {"operation_id": op["operation_id"], "rating": "basically_satisfied"}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: rate(th, item), range(8)))
    assert all(a == {"stored": [op["operation_id"]], "unknown": []} for a in answers)
    with Session(server_engine) as s:
        assert len(s.scalars(select(FeedbackRow)).all()) == 1
        assert len(s.scalars(select(AuditEntryRow).where(
            AuditEntryRow.action == "feedback")).all()) == 1


# --- SMS progress ----------------------------------------------------------------------------


def notices(terminal, number):
    response = terminal.get(f"/accounts/{number}/notifications")
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_an_accounts_sms_progress_is_listed_without_the_phone_or_the_text(
        th, server_engine, tmp_path):
    op, result = push_one(th, "new_connection", None, NEW_CONNECTION)
    number = result["account"]["number"]
    for item in th.get(f"/halls/{TH}/work-items", within_hours=24 * 10).json()["items"]:
        th.client.post(f"/api/v1/work-items/{item['id']}/done", headers=th.headers)
    listed = notices(th, number)
    assert [(n["operation_id"], n["notice"], n["state"], n["sent_at"]) for n in listed] == [
        (op["operation_id"], "accepted", "pending", None),
        (op["operation_id"], "completed", "pending", None)]
    assert datetime.fromisoformat(listed[0]["queued_at"]) <= datetime.fromisoformat(
        listed[1]["queued_at"])
    assert deliver_due(server_engine, LogFileGateway(tmp_path / "sms.log")) == (2, 0)
    response = th.get(f"/accounts/{number}/notifications")
    items = response.json()["items"]
    assert [n["state"] for n in items] == ["sent", "sent"]
    assert all(datetime.fromisoformat(n["sent_at"]) >= datetime.fromisoformat(n["queued_at"])
               for n in items)
    assert set(items[0]) == {"operation_id", "notice", "state", "queued_at", "sent_at"}
    assert NEW_CONNECTION["phone"] not in response.text and "受理" not in response.text


def test_sms_progress_of_an_account_outside_the_district_is_refused(th, yx):
    [other] = usable(yx, 1)
    for number in (other["number"], "9999999999"):  # another district's, and none at all
        response = th.get(f"/accounts/{number}/notifications")
        assert response.status_code == 403
        body = response.json()
        assert body["code"] == "other_district"
        assert body["message"]["zh"] and "district" in body["message"]["en"]
    assert th.get("/accounts/12345/notifications").status_code == 422


def test_no_sms_without_consent(th):
    [account] = usable(th, 1, sms_consent=False)
    push_one(th, "suspend", account)
    push_one(th, "resume", account)  # on the old version: a conflict
    assert notices(th, account["number"]) == []


def test_a_conflict_tells_a_consenting_customer(th):
    [account] = reachable(th, 1)
    push_one(th, "suspend", account)
    op, result = push_one(th, "close", account)
    assert result["outcome"] == "conflict"
    assert [(n["operation_id"], n["notice"]) for n in notices(th, account["number"])
            if n["operation_id"] == op["operation_id"]] == [(op["operation_id"], "conflict")]


def test_a_customer_who_withdraws_consent_gets_no_sms_about_it(th):
    withdrawn, refused = reachable(th, 2)
    # Done: the change leaves no consent, so no "completed" SMS.
    payload = {**holder_of(withdrawn), "sms_consent": False}
    _, result = push_one(th, "contact_change", withdrawn, payload)
    assert result["outcome"] == "applied"
    assert notices(th, withdrawn["number"]) == []
    # Refused: the account still has consent, but the customer has just said no.
    push_one(th, "suspend", refused)
    op, result = push_one(th, "contact_change", refused,
                          {**holder_of(refused), "sms_consent": False})
    assert result["outcome"] == "conflict"
    assert op["operation_id"] not in {n["operation_id"] for n in notices(th, refused["number"])}


def sms_texts(engine, op):
    with Session(engine) as s:
        return s.scalars(select(NotificationRow.text)
                         .where(NotificationRow.operation_id == op["operation_id"])
                         .order_by(NotificationRow.id)).all()


def test_sms_come_in_the_language_the_customer_chose(th, server_engine):
    chinese, english = reachable(th, 2)
    assert chinese["sms_language"] == english["sms_language"] == "zh"
    # Asked at the counter: the change is done, and its "completed" SMS is already in English.
    op, result = push_one(th, "contact_change", english,
                          {**holder_of(english), "sms_language": "en"})
    assert result["outcome"] == "applied" and result["account"]["sms_language"] == "en"
    [completed] = sms_texts(server_engine, op)
    assert completed.startswith("[Power Supply Hall] Your request (Change of contact details)")
    # Every later SMS too, a refusal's reason included; the other customer's stay in Chinese.
    english = result["account"]
    op, _ = push_one(th, "suspend", english)
    assert ["Your request (Suspension of supply) is accepted" in t
            for t in sms_texts(server_engine, op)] == [True]
    refused, result = push_one(th, "close", english)
    assert result["outcome"] == "conflict"
    [conflict] = sms_texts(server_engine, refused)
    assert "needs to be checked again" in conflict
    assert not any("\u4e00" <= c <= "\u9fff" for c in conflict)
    op, _ = push_one(th, "suspend", chinese)
    assert all(t.startswith("【供电营业厅】您的暂停用电") for t in sms_texts(server_engine, op))


def test_a_new_customer_chooses_the_sms_language_at_the_counter(th, server_engine):
    op, result = push_one(th, "new_connection", None, {**NEW_CONNECTION, "sms_language": "en"})
    assert result["account"]["sms_language"] == "en"
    assert [t[:34] for t in sms_texts(server_engine, op)] == [
        "[Power Supply Hall] Your request ("]
    op, result = push_one(th, "new_connection", None, NEW_CONNECTION)
    assert result["account"]["sms_language"] == "zh"  # not chosen: Chinese
    assert sms_texts(server_engine, op)[0].startswith("【供电营业厅】")


def test_an_unknown_sms_language_is_refused_with_its_reason(th):
    [account] = reachable(th, 1)
    _, result = push_one(th, "contact_change", account,
                          {**holder_of(account), "sms_language": "fr"})
    assert result["outcome"] == "rejected"
    assert result["field_errors"]["sms_language"]["en"] == "the SMS language is Chinese or English"


def test_the_migration_dates_each_queued_sms_and_moves_sqlite_due_times_to_utc(server_engine):
    config = SERVER_SCHEMA.config()
    with server_engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0004")
    received = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    due = datetime(2026, 3, 4, 23, 59, 59, tzinfo=HALL_TZ)  # as the old code wrote it
    done = [received + timedelta(days=1), received + timedelta(days=2)]
    when = sa.DateTime(timezone=True)
    with server_engine.begin() as conn:
        conn.execute(sa.table("operations", *(sa.column(c) for c in (
            "operation_id", "hall_id", "terminal_id", "clerk", "business_type",
            "receipt_no", "receipt_signature", "outcome")),
            sa.column("payload", sa.JSON), sa.column("result", sa.JSON),
            sa.column("created_at", when), sa.column("received_at", when)).insert().values(
            operation_id="op-000001", hall_id=TH, terminal_id="T01", clerk="c1",
            business_type="new_connection", receipt_no="R-1", receipt_signature="0" * 64,
            outcome="applied", payload={}, result={}, created_at=received,
            received_at=received))
        conn.execute(sa.table("work_items", *(sa.column(c) for c in (
            "operation_id", "account_number", "hall_id", "business_type", "step")),
            sa.column("due_at", when), sa.column("done_at", when)).insert(), [
            {"operation_id": "op-000001", "account_number": "1000000001", "hall_id": TH,
             "business_type": "new_connection", "step": step, "due_at": due, "done_at": at}
            for step, at in zip(("site_survey", "energise"), done, strict=True)])
        conn.execute(sa.table("notifications", *(sa.column(c) for c in (
            "operation_id", "notice", "phone", "text", "state", "attempts")),
            sa.column("next_attempt_at", when)).insert(), [
            {"operation_id": "op-000001", "notice": notice, "phone": "13800138000",
             "text": "…", "state": "pending", "attempts": 0, "next_attempt_at": received}
            for notice in ("accepted", "completed")])
    SERVER_SCHEMA.upgrade(server_engine)
    with Session(server_engine) as s:
        queued = {n.notice: as_utc(n.queued_at) for n in s.scalars(select(NotificationRow))}
        assert queued == {"accepted": received, "completed": done[1]}
        assert {as_utc(w.due_at) for w in s.scalars(select(WorkItemRow))} == {due}


def test_a_work_items_due_time_is_kept_as_the_instant_it_is(th):
    [account] = usable(th, 1)
    op, _ = push_one(th, "suspend", account,
                     created_at=datetime(2026, 11, 2, 9, tzinfo=HALL_TZ).isoformat())  # Monday
    [item] = [i for i in th.get(f"/halls/{TH}/work-items", state="overdue").json()["items"]
              if i["operation_id"] == op["operation_id"]]
    assert datetime.fromisoformat(item["due_at"]) == datetime(2026, 11, 3, 23, 59, 59,
                                                              tzinfo=HALL_TZ)


# --- the KPI report: who may see it ----------------------------------------------------------


def test_a_clerk_cannot_see_the_kpi_report(th):
    response = th.get("/reports/kpi", since="2026-11-01", until="2026-12-01")
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "supervisor_only"
    assert body["message"]["zh"] and "supervisor" in body["message"]["en"]


def test_a_supervisor_sees_their_own_halls_figures_only(th_supervisor):
    period = {"since": "2026-11-01", "until": "2026-12-01"}
    body = th_supervisor.get("/reports/kpi", **period).json()
    assert [r["key"] for r in body["rows"]] == [TH] and body["by"] == "hall"
    assert th_supervisor.get("/reports/kpi", hall=TH, **period).status_code == 200
    response = th_supervisor.get("/reports/kpi", hall=YX, **period)
    assert response.status_code == 403 and response.json()["code"] == "other_hall"


def test_a_period_must_end_after_it_starts(th_supervisor):
    response = th_supervisor.get("/reports/kpi", since="2026-11-02", until="2026-11-02")
    assert response.status_code == 422 and response.json()["code"] == "empty_period"
    assert th_supervisor.get("/reports/kpi", since="2026-11-01", until="2026-12-01",
                             by="terminal").status_code == 422


# --- the KPI report: a day of known figures ---------------------------------------------------


DAY = (datetime.now(HALL_TZ) - timedelta(days=10)).replace(hour=0, minute=0, second=0,
                                                             microsecond=0)


def at(hour, minute=0, second=0, day=0):
    return DAY + timedelta(days=day, hours=hour, minutes=minute, seconds=second)


def as_of(moment):
    return {"created_at": moment.isoformat()}


@pytest.fixture
def known_day(th, yx, server_engine):
    """A day at two halls. At GZ-TH-01: clerk c1 suspends (settled, 120 s), rejects a resume
    (the terminal said settled: 30 s) and renames (not settled, 300 s); clerk c2 changes a
    phone (settled, 60 s) and loses a conflict (not recorded). One suspension just after the
    day and a change just before it. At GZ-YX-01: one suspension (settled). Ratings and work
    items set as each comment says."""
    a1, a2, a3, a4, a5, a6 = usable(th, 6)
    [y1] = usable(yx, 1)
    c2 = "gz-th-01-c2"
    # c2 worked at T01 too: an operation may name only a clerk who logged in at its terminal.
    assert th.login(c2).status_code == th.login("gz-th-01-c1").status_code == 200
    ops = {}
    ops["a"], _ = push_one(th, "suspend", a1, first_contact=True, handling_seconds=120,
                           **as_of(at(9)))
    ops["b"], _ = push_one(th, "contact_change", a2, {**holder_of(a2), "phone": "13911112222"},
                           clerk=c2, first_contact=True, handling_seconds=60, **as_of(at(10)))
    ops["c"], _ = push_one(th, "resume", a3, first_contact=True, handling_seconds=30,
                           **as_of(at(11)))
    ops["d"], _ = push_one(th, "suspend", a1, clerk=c2, **as_of(at(12)))
    ops["e"], _ = push_one(th, "rename", a4, {**holder_of(a4), "new_name": "王小明"},
                           first_contact=False, not_settled_reason="documents_missing",
                           handling_seconds=300, **as_of(at(13)))
    ops["f"], _ = push_one(th, "suspend", a5, first_contact=True, **as_of(at(0, day=1)))
    ops["g"], _ = push_one(th, "contact_change", a6, {**holder_of(a6), "phone": "13911113333"},
                           clerk=c2, first_contact=True, **as_of(at(23, 59, 59, day=-1)))
    ops["h"], _ = push_one(yx, "suspend", y1, first_contact=True, **as_of(at(9)))
    with Session(server_engine) as s:
        outcomes = {k: s.get(OperationRow, op["operation_id"]).outcome for k, op in ops.items()}
    assert outcomes == {"a": "applied", "b": "applied", "c": "rejected", "d": "conflict",
                        "e": "applied", "f": "applied", "g": "applied", "h": "applied"}
    rate(th, {"operation_id": ops["a"]["operation_id"], "rating": "satisfied"},
         {"operation_id": ops["b"]["operation_id"], "rating": "basically_satisfied"},
         {"operation_id": ops["c"]["operation_id"], "rating": "dissatisfied",
          "reason": "跑了两趟"},
         {"operation_id": ops["f"]["operation_id"], "rating": "satisfied"})  # after the day
    rate(yx, {"operation_id": ops["h"]["operation_id"], "rating": "satisfied"})
    # (due, done) of each request's one work item.
    times = {"a": (at(12), at(11)),  # done in time
             "e": (at(15), at(16)),  # done late
             "f": (at(18), None),  # still open: its request is after the day, its deadline not
             "h": (at(12, day=2), None)}  # due after the day
    with Session(server_engine) as s, s.begin():
        for key, (due, done) in times.items():
            [item] = s.scalars(select(WorkItemRow).where(
                WorkItemRow.operation_id == ops[key]["operation_id"])).all()
            item.due_at, item.done_at = as_utc(due), done and as_utc(done)
        # And the call-back of c's bad rating, due after the day.
        assert s.scalar(select(sa.func.count()).select_from(WorkItemRow)) == 5
    return ops


FIGURES = ("operations", "rated", "satisfied", "basically_satisfied", "dissatisfied",
           "satisfaction_rate", "first_contact_recorded", "first_contact", "one_stop_ratio",
           "avg_handling_seconds", "work_items", "overdue")


def figures(row):
    return tuple(row[name] for name in FIGURES)


def test_a_known_day_is_reported_as_counted_by_hand(known_day, th_supervisor):
    body = th_supervisor.get("/reports/kpi", since=DAY.date().isoformat(),
                             until=(DAY + timedelta(days=1)).date().isoformat()).json()
    [row] = body["rows"]
    assert row["key"] == TH
    # d and e, unrated 10 days on, count as basically satisfied: (1 + 1 + 2) / (3 + 2).
    assert figures(row) == (5, 3, 1, 1, 1, 4 / 5, 4, 2, 0.5, 127.5, 3, 2)
    assert figures(body["total"]) == figures(row)
    by_clerk = th_supervisor.get("/reports/kpi", since=DAY.isoformat(),
                                 until=(DAY + timedelta(days=1)).isoformat(), by="clerk").json()
    assert {r["key"]: figures(r) for r in by_clerk["rows"]} == {
        "gz-th-01-c1": (3, 2, 1, 0, 1, 2 / 3, 3, 1, 1 / 3, 150.0, 3, 2),
        "gz-th-01-c2": (2, 1, 0, 1, 0, 1.0, 1, 1, 1.0, 60.0, 0, 0)}
    assert by_clerk["rows"][0]["accounts"] is None  # completeness is a hall's
    assert by_clerk["total"]["accounts"] == 200  # the total carries its hall's


def plain_sql(engine, group, since, until, cutoff):
    """The figures of each group, counted again with plain SQL."""
    params = {"since": as_utc(since), "until": as_utc(until), "cutoff": as_utc(cutoff)}
    when = [bindparam(name, type_=sa.DateTime(timezone=True)) for name in params]
    period = "o.created_at >= :since AND o.created_at < :until"
    found = {}
    with engine.connect() as conn:
        def rows(sql):
            used = [b for b in when if f":{b.key}" in sql]
            return conn.execute(text(sql).bindparams(*used),
                                {b.key: params[b.key] for b in used}).all()

        for key, n, recorded, settled, avg in rows(
                f"SELECT o.{group}, COUNT(*), COUNT(o.first_contact), "
                "SUM(CASE WHEN o.first_contact THEN 1 ELSE 0 END), AVG(o.handling_seconds) "
                f"FROM operations o WHERE {period} GROUP BY o.{group}"):
            found[key] = {"operations": n, "first_contact_recorded": recorded,
                          "first_contact": settled,
                          "avg_handling_seconds": None if avg is None else float(avg),
                          "satisfied": 0, "basically_satisfied": 0, "dissatisfied": 0,
                          "work_items": 0, "overdue": 0}
        for key, rating, n in rows(
                f"SELECT o.{group}, f.rating, COUNT(*) FROM feedback f JOIN operations o "
                f"ON o.operation_id = f.operation_id WHERE {period} GROUP BY o.{group}, f.rating"):
            found[key][rating] = n
        for key, n, late in rows(
                f"SELECT o.{group}, COUNT(*), SUM(CASE WHEN (w.done_at > w.due_at) OR "
                "(w.done_at IS NULL AND w.due_at < :cutoff) THEN 1 ELSE 0 END) "
                "FROM work_items w JOIN operations o ON o.operation_id = w.operation_id "
                f"WHERE w.due_at >= :since AND w.due_at < :until GROUP BY o.{group}"):
            found.setdefault(key, {"operations": 0, "first_contact_recorded": 0,
                                   "first_contact": 0, "avg_handling_seconds": None,
                                   "satisfied": 0, "basically_satisfied": 0,
                                   "dissatisfied": 0})
            found[key].update(work_items=n, overdue=late)
    return found


def complete_accounts(engine, district):
    with Session(engine) as s:
        rows = s.scalars(select(AccountRow).where(AccountRow.district == district)).all()
        accounts = [w.to_domain() for w in rows_to_wire(s, list(rows))]
    return len(accounts), sum(1 for a in accounts if not missing_information(a))


@pytest.mark.parametrize("by", list(Grouping))
def test_a_known_day_is_reported_as_plain_sql_counts_it(known_day, server_engine, by):
    since, until = DAY, DAY + timedelta(days=1)
    with Session(server_engine) as s:
        kpi = report(s, since, until, by)
    column = {Grouping.HALL: "hall_id"}.get(by, by.value)
    expected = plain_sql(server_engine, column, since, until, cutoff=until)
    counted = {name for name in FIGURES if not name.endswith(("_rate", "_ratio", "rated"))}
    rows = {r.key: r for r in kpi.rows}
    for key, figures_of in expected.items():
        assert {name: getattr(rows[key], name) for name in counted} == figures_of, key
    assert {k for k, r in rows.items() if r.operations or r.work_items} == set(expected)
    assert kpi.total.operations == 6 and kpi.total.rated == 4 and kpi.total.overdue == 2
    if by is Grouping.HALL:
        for key, district in ((TH, "GZ-TH"), (YX, "GZ-YX")):
            accounts, complete = complete_accounts(server_engine, district)
            assert (rows[key].accounts, rows[key].complete_accounts) == (accounts, complete)
            assert rows[key].completeness_rate == complete / accounts
        assert kpi.total.accounts == 400
        assert kpi.total.complete_accounts == sum(r.complete_accounts for r in kpi.rows)
    else:  # completeness belongs to halls: only the total carries it, for the headline
        assert all(r.accounts is None for r in kpi.rows)
        assert kpi.total.accounts == 400


def test_an_open_item_is_overdue_only_once_its_time_has_passed(known_day, server_engine):
    with Session(server_engine) as s:
        before = report(s, DAY, DAY + timedelta(days=1), Grouping.HALL, hall=TH, now=at(17))
        after = report(s, DAY, DAY + timedelta(days=1), Grouping.HALL, hall=TH, now=at(19))
    assert (before.total.work_items, before.total.overdue) == (3, 1)  # done late only
    assert (after.total.work_items, after.total.overdue) == (3, 2)


def test_an_item_due_this_instant_is_not_yet_listed_as_overdue(th, server_engine):
    from hallcore.domain.deadlines import time_left
    from hallserver.workitems import list_open

    th.push(th.operation("new_connection", NEW_CONNECTION))
    with Session(server_engine) as s:
        item = s.scalars(select(WorkItemRow).order_by(WorkItemRow.due_at)).first()
        due = item.due_at.replace(tzinfo=UTC) if item.due_at.tzinfo is None else item.due_at
        assert not time_left(due, due).overdue
        listed = list_open(s, TH, due, overdue_only=True, within=None)
    assert [i.id for i in listed] == []  # the list and each item's own flag agree
