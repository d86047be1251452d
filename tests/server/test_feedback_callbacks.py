"""Ratings on the five levels of the national scheme (好差评), and the call-back (回访) a bad
one opens for the hall that served the customer: on SQLite and PostgreSQL."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hallcore.domain.deadlines import HALL_TZ
from hallcore.wire import API_PREFIX, Rating
from hallserver.models import AuditEntryRow, FeedbackRow, NotificationRow, WorkItemRow
from hallserver.settings import ServerSettings
from hallserver.workitems import list_open
from tests.support.factories import NEW_CONNECTION
from tests.support.server import allow_old_operations, holder_of, logged_in, seeded_client

TH, YX = "GZ-TH-01", "GZ-YX-01"
MONDAY = datetime(2026, 11, 2, 9, tzinfo=HALL_TZ)
# Five working days after Monday 2 November 2026, no holiday between: Monday 9 November.
FIVE_WORKING_DAYS_LATER = datetime(2026, 11, 9, 23, 59, 59, tzinfo=HALL_TZ)


def _client(engine, settings=None):
    clients = seeded_client(engine, accounts=300, halls=2, settings=settings)
    client = next(clients)
    allow_old_operations(engine)  # the known Monday is in the past
    return clients, client


@pytest.fixture
def client(server_engine):
    clients, client = _client(server_engine)
    yield client
    next(clients, None)


@pytest.fixture
def th(client):
    return logged_in(client, TH, "T01", "gz-th-01-c1")


@pytest.fixture
def yx(client):
    return logged_in(client, YX, "T01", "gz-yx-01-c1")


def suspended(terminal, *, at=MONDAY, n=0):
    """A suspension made at the terminal at `at` (the n-th usable account): its operation id."""
    accounts = [a for a in terminal.all_accounts()
                if a["status"] == "active" and a["id_number"] and not a["arrears_fen"]]
    account = accounts[n]
    op = terminal.operation("suspend", holder_of(account), account=account,
                            created_at=at.isoformat())
    [result] = terminal.push(op)
    assert result["outcome"] == "applied", result
    return op["operation_id"]


def send_rating(terminal, operation_id, rating, *, at=MONDAY + timedelta(minutes=5),
                reason=None):
    return terminal.client.post(f"{API_PREFIX}/feedback", headers=terminal.headers, json={
        "items": [{"operation_id": operation_id, "rating": rating, "rated_at": at.isoformat(),
                   "reason": reason}]})


def rated(terminal, operation_id, rating, **kwargs):
    response = send_rating(terminal, operation_id, rating, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def callbacks(engine, operation_id=None):
    query = select(WorkItemRow).where(WorkItemRow.step == "callback")
    if operation_id is not None:
        query = query.where(WorkItemRow.operation_id == operation_id)
    with Session(engine) as s:
        return s.scalars(query.order_by(WorkItemRow.id)).all()


def audited(engine, action):
    with Session(engine) as s:
        return [(e.subject, e.actor, e.detail) for e in s.scalars(
            select(AuditEntryRow).where(AuditEntryRow.action == action)
            .order_by(AuditEntryRow.id))]


# --- five levels ------------------------------------------------------------------------------


def test_the_five_levels_are_the_national_schemes_best_first_with_their_scores():
    assert [(r.value, r.score, r.is_bad) for r in Rating] == [
        ("very_satisfied", 5, False), ("satisfied", 4, False),
        ("basically_satisfied", 3, False), ("dissatisfied", 2, True),
        ("very_dissatisfied", 1, True)]


@pytest.mark.parametrize("rating", [r.value for r in Rating])
def test_every_level_is_kept_as_sent(th, server_engine, rating):
    operation_id = suspended(th)
    assert rated(th, operation_id, rating) == {"stored": [operation_id], "unknown": []}
    with Session(server_engine) as s:
        assert s.get(FeedbackRow, operation_id).rating == rating


@pytest.mark.parametrize("value", ["excellent", "SATISFIED", "very satisfied", "", "5"])
def test_an_unknown_rating_is_refused_with_the_levels_it_may_be(th, server_engine, value):
    operation_id = suspended(th)
    response = send_rating(th, operation_id, value)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_request"
    said = body["fields"]["items.0.rating"]
    for level in Rating:
        assert level.value in said["en"] and level.value in said["zh"]
    assert said["zh"].startswith("应为以下之一：") and "Input should" not in said["zh"]
    assert callbacks(server_engine) == []
    with Session(server_engine) as s:
        assert s.scalars(select(FeedbackRow)).all() == []


# --- the call-back ----------------------------------------------------------------------------


@pytest.mark.parametrize("rating", ["dissatisfied", "very_dissatisfied"])
def test_a_bad_rating_opens_one_callback_due_five_working_days_later(
        th, server_engine, rating):
    operation_id = suspended(th)
    rated(th, operation_id, rating, reason="跑了两趟")
    [item] = callbacks(server_engine)
    assert (item.operation_id, item.hall_id, item.business_type) == (
        operation_id, TH, "suspend")
    assert item.due_at == FIVE_WORKING_DAYS_LATER and item.done_at is None
    [(subject, actor, detail)] = audited(server_engine, "callback_opened")
    assert (subject, actor, detail) == (operation_id, "gz-th-01-c1", {"work_item": item.id})


def test_the_callback_shows_in_the_halls_list_and_turns_overdue_after_its_due_time(
        th, server_engine):
    operation_id = suspended(th)
    rated(th, operation_id, "dissatisfied")
    [item] = callbacks(server_engine)
    with Session(server_engine) as s:
        def listed(now):
            return [i for i in list_open(s, TH, now, overdue_only=False, within=None)
                    if i.step == "callback"]

        [on_time] = listed(FIVE_WORKING_DAYS_LATER)
        [late] = listed(FIVE_WORKING_DAYS_LATER + timedelta(seconds=1))
        overdue_then = list_open(s, TH, FIVE_WORKING_DAYS_LATER, overdue_only=True,
                                 within=None)
    assert (on_time.id, on_time.overdue, late.overdue) == (item.id, False, True)
    assert item.id not in [i.id for i in overdue_then]
    assert (on_time.step_label.zh, on_time.step_label.en) == (
        "回访不满意客户（不满意）", "call back the dissatisfied customer (dissatisfied)")
    # Over the API, now (December 2026): overdue, with its label.
    [shown] = [i for i in th.get(f"/halls/{TH}/work-items").json()["items"]
               if i["step"] == "callback"]
    assert shown["overdue"] and shown["step_label"]["zh"] == "回访不满意客户（不满意）"


def test_the_callback_says_the_level_and_the_customers_words_to_whoever_calls_back(th):
    rated(th, suspended(th), "very_dissatisfied", reason="等了四十分钟")
    [shown] = [i for i in th.get(f"/halls/{TH}/work-items").json()["items"]
               if i["step"] == "callback"]
    assert shown["step_label"] == {"zh": "回访不满意客户（非常不满意：等了四十分钟）",
                                   "en": "call back the dissatisfied customer (very "
                                         "dissatisfied: 等了四十分钟)"}


@pytest.mark.parametrize("rating", ["very_satisfied", "satisfied", "basically_satisfied"])
def test_a_good_rating_opens_no_callback(th, server_engine, rating):
    rated(th, suspended(th), rating)
    assert callbacks(server_engine) == []
    assert audited(server_engine, "callback_opened") == []


def test_a_rating_sent_again_keeps_its_one_callback(th, server_engine):
    operation_id = suspended(th)
    for _ in range(3):
        assert rated(th, operation_id, "very_dissatisfied")["stored"] == [operation_id]
    rated(th, operation_id, "satisfied")  # a changed repeat changes nothing either
    assert len(callbacks(server_engine)) == 1
    assert len(audited(server_engine, "callback_opened")) == 1


def test_a_rating_sent_in_parallel_opens_one_callback(th, server_engine):
    operation_id = suspended(th)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(
            lambda _: send_rating(th, operation_id, "dissatisfied").json(), range(8)))
    assert all(a == {"stored": [operation_id], "unknown": []} for a in answers)
    assert len(callbacks(server_engine)) == 1


def test_another_halls_bad_rating_opens_nothing(th, yx, server_engine):
    operation_id = suspended(th)
    assert rated(yx, operation_id, "very_dissatisfied") == {
        "stored": [], "unknown": [operation_id]}
    assert callbacks(server_engine) == []


def test_a_colleagues_terminal_cannot_rate_an_operation_before_its_customer_does(
        th, client, server_engine):
    """The rating comes from the device at the counter that served the customer: another
    counter of the same hall, which can see the operation's id in the hall's work items, does
    not get to answer for them (and so keep a bad rating and its call-back out)."""
    colleague = logged_in(client, TH, "T02", "gz-th-01-c2")
    operation_id = suspended(th)
    assert rated(colleague, operation_id, "very_satisfied") == {
        "stored": [], "unknown": [operation_id]}
    assert rated(th, operation_id, "very_dissatisfied") == {
        "stored": [operation_id], "unknown": []}
    assert len(callbacks(server_engine, operation_id)) == 1


@pytest.mark.parametrize("rating", ["satisfied", "basically_satisfied", "dissatisfied"])
def test_a_three_level_rating_from_an_older_terminal_still_syncs(th, server_engine, rating):
    """The body an outbox of the first terminals holds: the three values, no reason key."""
    operation_id = suspended(th)
    response = th.client.post(f"{API_PREFIX}/feedback", headers=th.headers, json={"items": [
        {"operation_id": operation_id, "rating": rating,
         "rated_at": (MONDAY + timedelta(minutes=3)).isoformat()}]})
    assert response.status_code == 200 and response.json()["stored"] == [operation_id]
    assert len(callbacks(server_engine)) == (rating == "dissatisfied")


def test_a_terminals_clock_cannot_move_the_callback_out_of_reach(th, server_engine):
    """The deadline counts from when the rating was given, but not from after the server had
    it, nor from before the operation it rates."""
    future, past = suspended(th, n=0), suspended(th, n=1)
    rated(th, future, "dissatisfied", at=datetime(8000, 1, 1, tzinfo=UTC))
    rated(th, past, "dissatisfied", at=datetime(1990, 1, 1, tzinfo=UTC))
    [ahead] = callbacks(server_engine, future)
    [behind] = callbacks(server_engine, past)
    assert ahead.due_at < datetime.now(UTC) + timedelta(days=14)
    assert behind.due_at == FIVE_WORKING_DAYS_LATER


def test_the_callback_limit_is_a_setting(server_engine):
    clients, client = _client(server_engine, ServerSettings(callback_working_days=2))
    try:
        th = logged_in(client, TH, "T01", "gz-th-01-c1")
        rated(th, suspended(th), "dissatisfied")
        [item] = callbacks(server_engine)
        assert item.due_at == datetime(2026, 11, 4, 23, 59, 59, tzinfo=HALL_TZ)
    finally:
        next(clients, None)


def test_the_callback_limit_is_read_from_the_environment(monkeypatch):
    from hallserver.settings import SettingsError, load_settings

    assert load_settings().callback_working_days == 5
    monkeypatch.setenv("HALLSERVER_CALLBACK_WORKING_DAYS", "3")
    assert load_settings().callback_working_days == 3
    monkeypatch.setenv("HALLSERVER_CALLBACK_WORKING_DAYS", "0")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert refused.value.env == "HALLSERVER_CALLBACK_WORKING_DAYS"


# --- done: the one "step done" of every work item ---------------------------------------------


def done(terminal, item_id):
    return terminal.client.post(f"{API_PREFIX}/work-items/{item_id}/done",
                                headers=terminal.headers)


def test_a_callback_is_done_by_step_done_and_audited_with_who_called(th, server_engine):
    operation_id = suspended(th, at=datetime.now(HALL_TZ))
    rated(th, operation_id, "dissatisfied", at=datetime.now(UTC))
    [item] = callbacks(server_engine)
    response = done(th, item.id)
    assert response.status_code == 200, response.text
    assert response.json()["done_at"] and response.json()["step"] == "callback"
    assert item.id not in [i["id"] for i in th.get(f"/halls/{TH}/work-items").json()["items"]]
    assert audited(server_engine, "callback_done") == [
        (operation_id, "gz-th-01-c1", {"work_item": item.id, "in_time": True})]
    assert done(th, item.id).status_code == 200  # again: changes nothing
    assert len(audited(server_engine, "callback_done")) == 1


def test_another_hall_cannot_close_a_callback(th, yx, server_engine):
    rated(th, suspended(th), "dissatisfied")
    [item] = callbacks(server_engine)
    assert done(yx, item.id).status_code == 404
    assert callbacks(server_engine)[0].done_at is None


def test_an_open_callback_does_not_hold_back_the_request_nor_completes_it_again(
        th, server_engine):
    """A new connection rated badly at the counter: energising it still completes it (the
    account becomes active, the customer is told once), and the call-back done afterwards
    completes nothing a second time."""
    op = th.operation("new_connection", NEW_CONNECTION)
    [result] = th.push(op)
    number = result["account"]["number"]
    rated(th, op["operation_id"], "very_dissatisfied", at=datetime.now(UTC))
    items = th.get(f"/halls/{TH}/work-items", within_hours=24 * 30).json()["items"]
    steps = {i["step"]: i for i in items if i["operation_id"] == op["operation_id"]}
    assert set(steps) == {"site_survey", "energise", "callback"}
    assert steps["callback"]["account_number"] == number
    for step in ("site_survey", "energise"):
        assert done(th, steps[step]["id"]).status_code == 200
    [account] = th.get("/changes", after=result["account"]["seq"]).json()["accounts"]
    assert (account["number"], account["status"]) == (number, "active")
    response = done(th, steps["callback"]["id"])
    assert response.status_code == 200, response.text
    with Session(server_engine) as s:
        assert [n.notice for n in s.scalars(select(NotificationRow).where(
            NotificationRow.operation_id == op["operation_id"]).order_by(
            NotificationRow.id))] == ["accepted", "completed"]


def test_a_callback_done_first_leaves_the_request_open(th, server_engine):
    op = th.operation("new_connection", NEW_CONNECTION)
    [result] = th.push(op)
    rated(th, op["operation_id"], "dissatisfied", at=datetime.now(UTC))
    [item] = callbacks(server_engine)
    assert done(th, item.id).status_code == 200
    assert th.get("/changes", after=result["account"]["seq"]).json()["accounts"] == []
    with Session(server_engine) as s:
        assert [n.notice for n in s.scalars(select(NotificationRow).where(
            NotificationRow.operation_id == op["operation_id"]))] == ["accepted"]


def test_a_refused_new_connection_rated_badly_is_called_back_without_an_account(
        th, server_engine):
    op = th.operation("new_connection", {**NEW_CONNECTION, "applicant_id_number": "1"})
    [result] = th.push(op)
    assert result["outcome"] == "rejected"
    rated(th, op["operation_id"], "dissatisfied", at=datetime.now(UTC))
    [shown] = [i for i in th.get(f"/halls/{TH}/work-items").json()["items"]
               if i["step"] == "callback"]
    assert shown["account_number"] == "" and shown["operation_id"] == op["operation_id"]


def test_a_rating_names_an_unknown_operation_as_before(th, server_engine):
    nobody = str(uuid.uuid4())
    assert rated(th, nobody, "very_dissatisfied") == {"stored": [], "unknown": [nobody]}
    assert callbacks(server_engine) == []
