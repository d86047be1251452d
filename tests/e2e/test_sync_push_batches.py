"""A push of many batches: each batch is sent once its previous one is answered, while that
answer is written into the cache; nothing sent twice, nothing lost when a batch fails."""

import pytest

from hallclient.store.models import OutboxRow
from hallclient.sync.api import ServerUnreachable
from hallcore.domain.accounts import AccountStatus
from tests.support.counter import active_accounts, holder, server_account, server_ops


def sent_batches(counter):
    """The operation ids of each batch the terminal sends, in order."""
    batches: list[list[str]] = []
    real = counter.api.push

    def push(operations):
        batches.append([op.operation_id for op in operations])
        return real(operations)

    counter.api.push = push
    return batches


def pending(counter):
    with counter.cache.read() as s:
        return {row.operation_id for row in s.query(OutboxRow).filter_by(state="pending")}


def test_a_request_answered_in_the_batch_before_is_followed_by_the_next_one(counters, server):
    counter = counters()
    counter.engine.sync_once()
    accounts = active_accounts(counter, 3)
    made = []
    for a in accounts:  # suspended and resumed: the resumption needs the suspension applied
        made.append(counter.record("suspend", a.number, holder(a)).operation_id)
        made.append(counter.record("resume", a.number, holder(a)).operation_id)
    counter.engine.push_batch = 1
    batches = sent_batches(counter)
    summary = counter.engine.sync_once()
    assert [ids for batch in batches for ids in batch] == made  # each once, in order
    assert (summary.pushed, summary.applied, summary.pending) == (6, 6, 0)
    for a in accounts:
        assert server_account(server, a.number).version == a.version + 2
        assert counter.account(a.number).status is AccountStatus.ACTIVE
        assert counter.account(a.number).version == a.version + 2


def test_a_batch_without_an_answer_leaves_the_answers_before_it_written(counters, server):
    counter = counters()
    counter.engine.sync_once()
    accounts = active_accounts(counter, 12)
    made = [counter.record("suspend", a.number, holder(a)).operation_id for a in accounts]
    counter.engine.push_batch = 5
    batches = sent_batches(counter)
    answered = counter.api.push

    def second_lost(operations):
        if not batches:
            return answered(operations)
        batches.append([op.operation_id for op in operations])
        raise ServerUnreachable("network cut")

    counter.api.push = second_lost
    with pytest.raises(ServerUnreachable):
        counter.engine.sync_once()
    assert batches == [made[:5], made[5:10]]
    assert pending(counter) == set(made[5:])
    assert server_ops(server) == 5
    counter.api.push = answered
    summary = counter.engine.sync_once()
    assert (summary.pushed, summary.applied, summary.pending) == (7, 7, 0)
    assert server_ops(server) == 12


def test_a_batch_the_server_finds_too_large_is_sent_again_in_halves(
        counters, server, monkeypatch):
    # A server whose body limit is set below what the terminal cuts its batches at.
    server.stop()
    monkeypatch.setenv("HALLSERVER_MAX_BODY_BYTES", "6000")
    server.start()
    counter = counters()
    counter.engine.sync_once()
    accounts = active_accounts(counter, 12)
    made = [counter.record("suspend", a.number, holder(a)).operation_id for a in accounts]
    batches = sent_batches(counter)
    summary = counter.engine.sync_once()
    assert (summary.pushed, summary.applied, summary.pending) == (12, 12, 0)
    assert server_ops(server) == 12
    # The whole batch first, refused; then halves of it until each half was taken, in order.
    assert batches[0] == made and len(batches) > 2
    taken = [ids for ids in batches[1:] if not any(
        set(ids) > set(other) for other in batches[1:])]
    assert [i for ids in taken for i in ids] == made
