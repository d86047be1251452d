"""The sync engine against a real HallServer on a loopback port."""

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hallclient.store.models import OutboxRow, SyncStateRow, TaskRow
from hallclient.store.tasks import open_tasks
from hallclient.sync.api import ServerUnreachable
from hallclient.sync.engine import LoginNeeded
from hallcore.domain.accounts import AccountStatus
from hallcore.wire import PushResponse
from hallserver.models import AccountRow as ServerAccount
from tests.support.counter import (
    HALL,
    Counter,
    active_accounts,
    cached_accounts,
    collide,
    holder,
    server_account,
    server_accounts,
    server_ops,
)
from tests.support.factories import OTHER_ID
from tests.support.sign_off import record_signed


def test_bootstrap_fills_the_cache_with_the_halls_district(counters):
    counter = counters()
    summary = counter.engine.sync_once()
    assert summary.bootstrapped == 250
    with counter.cache.read() as s:
        from hallclient.store.accounts import count_accounts
        assert count_accounts(s) == 250
        assert s.get(SyncStateRow, 1).bootstrap_done


def test_interrupted_bootstrap_resumes_where_it_stopped(counters, server):
    counter = counters()
    calls = []
    real = counter.api.bootstrap

    def failing_after_two_pages(after, limit, communities):
        calls.append(after)
        if len(calls) == 3:
            raise ServerUnreachable("network cut")
        return real(after, limit, communities)

    counter.api.bootstrap = failing_after_two_pages
    with pytest.raises(ServerUnreachable):
        counter.engine.bootstrap()
    resumed_from = calls[-1]
    counter.api.bootstrap = lambda after, limit, communities: (
        calls.append(after) or real(after, limit, communities))
    assert counter.engine.bootstrap() == 50  # the 250 - 2 pages of 100 not yet received
    assert calls[3] == resumed_from is not None


def test_operations_made_offline_land_once_when_the_server_returns(counters, server):
    counter = counters()
    counter.engine.sync_once()
    accounts = active_accounts(counter, 20)
    server.stop()
    made = [counter.record("suspend", a.number, holder(a)) for a in accounts]
    with pytest.raises(ServerUnreachable):
        counter.engine.sync_once()
    assert counter.account(accounts[0].number).status is AccountStatus.SUSPENDED  # optimistic
    server.start()
    summary = counter.engine.sync_once()
    assert (summary.pushed, summary.applied, summary.pending) == (20, 20, 0)
    assert server_ops(server) == len(made)
    for a in accounts:
        assert server_account(server, a.number).status == "suspended"
        assert counter.account(a.number).version == a.version + 1


def test_lost_answer_is_pushed_again_and_applied_once(counters, server):
    counter = counters()
    counter.engine.sync_once()
    [a] = active_accounts(counter, 1)
    counter.record("suspend", a.number, holder(a))
    real_push = counter.api.push

    def server_commits_but_answer_is_lost(batch):
        real_push(batch)
        raise ServerUnreachable("connection cut after the request")

    counter.api.push = server_commits_but_answer_is_lost
    with pytest.raises(ServerUnreachable):
        counter.engine.sync_once()
    counter.api.push = real_push
    summary = counter.engine.sync_once()
    assert summary.applied == 1 and summary.pending == 0
    assert server_ops(server) == 1
    assert server_account(server, a.number).version == a.version + 1
    assert counter.account(a.number).version == a.version + 1


def test_conflict_becomes_a_task_and_the_cache_takes_the_servers_state(counters, server):
    first, second = counters("T01"), counters("T02", "gz-th-01-c2")
    a = collide(first, second)
    summary = second.engine.sync_once()
    assert summary.conflicts == 1
    with second.cache.read() as s:
        task = s.scalars(select(TaskRow)).one()
        op = s.scalars(select(OutboxRow)).one()
    assert task.kind == "conflict" and task.state == "open"
    assert task.account_number == a.number and task.customer_phone == "13911112222"
    assert "version" in task.server_reason_en and task.server_reason_zh
    assert op.state == "conflict"
    cached = second.account(a.number)
    assert cached.status is AccountStatus.SUSPENDED and cached.phone == a.phone


def test_rejection_becomes_a_task_and_the_optimistic_change_is_undone(counters, server):
    counter = counters()
    counter.engine.sync_once()
    [a] = active_accounts(counter, 1)
    with Session(server.engine) as s, s.begin():  # a bill the cache has not heard of yet
        s.get(ServerAccount, a.number).arrears_fen = 5000
    record_signed(counter, "close", a.number, holder(a))
    assert counter.account(a.number).status is AccountStatus.CLOSED  # optimistic
    summary = counter.engine.sync_once()
    assert summary.rejected == 1
    with counter.cache.read() as s:
        task = s.scalars(select(TaskRow)).one()
    assert task.kind == "rejected" and "¥50.00" in task.server_reason_en
    restored = counter.account(a.number)
    assert restored.status is AccountStatus.ACTIVE and restored.arrears_fen == 5000
    assert restored.version == a.version


def test_pull_brings_another_terminals_change(counters):
    first, second = counters("T01"), counters("T02", "gz-th-01-c2")
    first.engine.sync_once()
    second.engine.sync_once()
    [a] = active_accounts(first, 1)
    first.record("contact_change", a.number, {**holder(a), "phone": "13911112222"})
    first.engine.sync_once()
    assert second.engine.sync_once().pulled >= 1
    assert second.account(a.number).phone == "13911112222"


def test_pending_change_stays_visible_when_the_servers_state_arrives(counters):
    first, second = counters("T01"), counters("T02", "gz-th-01-c2")
    first.engine.sync_once()
    second.engine.sync_once()
    [a] = active_accounts(first, 1)
    second.record("contact_change", a.number,
                  {**holder(a), "mailing_address": "广州市天河区体育西路1号"})
    first.record("contact_change", a.number, {**holder(a), "phone": "13911112222"})
    first.engine.sync_once()
    second.engine.pull()  # the server's new state, while second's change is still pending
    seen = second.account(a.number)
    assert seen.phone == "13911112222"
    assert seen.mailing_address == "广州市天河区体育西路1号"


def test_new_connection_gets_its_account_number_from_the_server(counters, server):
    counter = counters()
    counter.engine.sync_once()
    counter.record("new_connection", None, {
        "applicant_name": "陈志明", "applicant_id_type": "resident_id",
        "applicant_id_number": "440106199203154429", "phone": "13800138000",
        "supply_address": "广州市天河区天河路385号12栋1803房"})
    counter.engine.sync_once()
    with counter.cache.read() as s:
        op = s.scalars(select(OutboxRow)).one()
    assert op.state == "applied" and op.account_number.startswith("10")
    assert counter.account(op.account_number).status is AccountStatus.PENDING_CONNECTION


def test_no_session_means_login_needed(tmp_path, server):
    counter = Counter(tmp_path / "c", server.url, HALL, "T01", "gz-th-01-c1")
    try:
        with pytest.raises(LoginNeeded):
            counter.engine.sync_once()
    finally:
        counter.close()


def test_expired_access_token_is_refreshed_from_the_keyring(counters):
    counter = counters()
    counter.api.access_token = "expired-or-revoked"
    assert counter.engine.sync_once().bootstrapped == 250


def test_thousand_operations_made_offline_land_exactly_once(counters, server):
    counter = counters()
    counter.engine.sync_once()
    accounts = active_accounts(counter, 100)
    server.stop()
    for round_no in range(10):  # suspend, resume, ... ten times over a hundred accounts
        kind = "suspend" if round_no % 2 == 0 else "resume"
        for a in accounts:
            counter.record(kind, a.number, holder(a))
    server.start()
    summary = counter.engine.sync_once()
    assert (summary.pushed, summary.applied, summary.pending) == (1000, 1000, 0)
    assert server_ops(server) == 1000
    for a in accounts:
        on_server = server_account(server, a.number)
        assert (on_server.version, on_server.status) == (a.version + 10, "active")
        cached = counter.account(a.number)
        assert (cached.version, cached.status) == (on_server.version, AccountStatus.ACTIVE)


def test_an_answer_that_does_not_match_the_batch_changes_nothing(counters):
    counter = counters()
    counter.engine.sync_once()
    [a] = active_accounts(counter, 1)
    counter.record("suspend", a.number, holder(a))
    counter.api.push = lambda batch: PushResponse(results=[])
    with pytest.raises(ServerUnreachable, match="does not match"):
        counter.engine.sync_once()
    with counter.cache.read() as s:
        assert s.scalars(select(OutboxRow.state)).all() == ["pending"]


def test_conflict_task_is_listed_with_what_was_asked_and_closed_with_a_reason(counters):
    from datetime import UTC, datetime

    from hallclient.store.tasks import TaskAlreadyClosed, close_task

    second = counters("T02", "gz-th-01-c2")
    collide(counters("T01"), second)
    second.engine.sync_once()
    [task] = open_tasks(second.cache)
    assert task.kind == "conflict" and task.asked["phone"] == "13911112222"
    assert task.business.value == "contact_change" and "version" in task.server_said.en
    with pytest.raises(ValueError):
        close_task(second.cache, task.id, clerk="gz-th-01-c2", resolution=" ",
                   now=datetime.now(UTC))
    close_task(second.cache, task.id, clerk="gz-th-01-c2", resolution="redone as a new request",
               now=datetime.now(UTC))
    assert open_tasks(second.cache) == []
    with pytest.raises(TaskAlreadyClosed):
        close_task(second.cache, task.id, clerk="gz-th-01-c2", resolution="again",
                   now=datetime.now(UTC))


def test_a_terminal_on_an_empty_cache_numbers_after_the_last_receipt_the_server_holds(
        counters, server, tmp_path):
    first = counters()
    first.engine.sync_once()
    a, b = active_accounts(first, 2)
    pushed = first.record("suspend", a.number, holder(a))
    first.engine.sync_once()
    # The same terminal starts again on an empty cache (a damaged one replaced) the same day:
    # it learns its last receipt number from the server and never issues it again.
    again = Counter(tmp_path / "replaced", server.url, HALL, "T01", "gz-th-01-c1",
                    keyring=first.keyring)
    again.settings = first.settings
    try:
        again.engine.sync_once()
        made = again.record("suspend", b.number, holder(b))
        summary = again.engine.sync_once()
    finally:
        again.close()
    assert pushed.receipt_no.endswith("-0001") and made.receipt_no.endswith("-0002")
    assert summary.applied == 1 and server_ops(server) == 2


def test_the_id_documents_validity_goes_from_one_terminal_through_the_server_to_another(
        counters, server):
    first, second = counters(), counters("T02")
    first.engine.sync_once()
    second.engine.sync_once()
    [a] = active_accounts(first, 1)
    first.record("transfer", a.number, {
        "new_holder_name": "林晓燕", "new_holder_id_type": "resident_id",
        "new_holder_id_number": OTHER_ID, "new_holder_phone": "13922334455",
        "new_holder_id_valid_until": "2036-05-31"})
    assert first.engine.sync_once().applied == 1
    assert server_account(server, a.number).id_valid_until == date(2036, 5, 31)
    second.engine.sync_once()
    assert second.account(a.number).id_valid_until == date(2036, 5, 31)
    assert cached_accounts(second.cache)[a.number] == server_accounts(
        server.engine, a.district)[a.number]
