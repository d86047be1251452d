"""A terminal's ratings on the five levels reach the server; ratings kept in the three levels
of the first terminals, waiting in a cache, still do; a bad one comes back as a call-back in
the hall's work items, done with the same "step done" as every item."""

from datetime import UTC, datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from hallclient.store.feedback import record_feedback, sendable_feedback
from hallclient.store.models import FeedbackRow as TerminalFeedback
from hallcore.wire import Rating
from hallserver.models import FeedbackRow, WorkItemRow
from tests.support.counter import active_accounts, holder


def recorded(counter, n):
    counter.engine.sync_once()
    return [counter.record("suspend", a.number, holder(a)).operation_id
            for a in active_accounts(counter, n)]


def test_ratings_kept_in_three_levels_before_still_sync(counters, server):
    counter = counters()
    ops = recorded(counter, 3)
    # Rows as a terminal of the first version wrote them: the values as they were.
    with counter.cache.write() as s:
        for operation_id, value in zip(ops, ("satisfied", "basically_satisfied",
                                             "dissatisfied"), strict=True):
            s.add(TerminalFeedback(operation_id=operation_id, rating=value, reason=None,
                                   rated_at=datetime.now(UTC), state="pending"))
    counter.engine.sync_once()
    with Session(server.engine) as s:
        assert {r.operation_id: r.rating for r in s.scalars(select(FeedbackRow))} == dict(
            zip(ops, ("satisfied", "basically_satisfied", "dissatisfied"), strict=True))
        [callback] = s.scalars(select(WorkItemRow).where(WorkItemRow.step == "callback")).all()
    assert callback.operation_id == ops[2]
    with counter.cache.read() as s:
        assert {r.state for r in s.scalars(select(TerminalFeedback))} == {"stored"}


def test_the_new_levels_sync_and_a_bad_one_is_called_back_from_the_counters_list(
        counters, server):
    counter = counters()
    best, worst = recorded(counter, 2)
    record_feedback(counter.cache, best, Rating.VERY_SATISFIED, None, datetime.now(UTC))
    record_feedback(counter.cache, worst, Rating.VERY_DISSATISFIED, "  等了两个小时  ",
                    datetime.now(UTC))
    with counter.cache.read() as s:
        assert [f.rating for f in sendable_feedback(s, 10)] == []  # not pushed yet
    counter.engine.sync_once()
    with Session(server.engine) as s:
        assert {r.operation_id: (r.rating, r.reason) for r in s.scalars(select(FeedbackRow))
                } == {best: ("very_satisfied", None), worst: ("very_dissatisfied", "等了两个小时")}
    call = counter.engine.credentials.call
    listed = call(partial(counter.api.work_items, counter.hall_id)).items
    [item] = [i for i in listed if i.step == "callback"]
    assert (item.operation_id, item.step_label.zh, item.step_label.en, item.overdue) == (
        worst, "回访不满意客户（非常不满意：等了两个小时）",
        "call back the dissatisfied customer (very dissatisfied: 等了两个小时)", False)
    done = call(partial(counter.api.complete_work_item, item.id))
    assert done.done_at is not None
    assert item.id not in [i.id for i in call(
        partial(counter.api.work_items, counter.hall_id)).items]
