"""The queue ticket pushed with an operation: kept as given, its waiting time counted only from
a pair of times the server can believe."""

from datetime import UTC, datetime, time, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from hallcore.domain.deadlines import HALL_TZ
from hallcore.wire import QueueTicket, TicketSource
from hallserver.app import create_app
from hallserver.models import OperationRow
from hallserver.queue_tickets import waiting_seconds
from hallserver.seed import seed
from tests.support.factories import NEW_CONNECTION
from tests.support.server import Terminal

MADE = datetime(2026, 12, 7, 10, 0, tzinfo=HALL_TZ)  # the request at the counter
SKEW = timedelta(minutes=5)


def _ticket(issued: datetime | None, called: datetime | None,
            source: TicketSource = TicketSource.QUEUE) -> QueueTicket:
    return QueueTicket(number="A023", source=source, issued_at=issued, called_at=called)


@pytest.mark.parametrize(("ticket", "waited"), [
    # Issued 09:12, called 09:31:40, served at 10:00: a believable 19 min 40 s.
    (_ticket(MADE.replace(hour=9, minute=12), MADE.replace(hour=9, minute=31, second=40)),
     1180),
    # Called at once.
    (_ticket(MADE.replace(hour=9), MADE.replace(hour=9)), 0),
    # The queue system's clock 4 minutes ahead of the counter's: within the skew allowed.
    (_ticket(MADE - timedelta(minutes=30), MADE + timedelta(minutes=4)), 34 * 60),
    # In UTC, as a shim might send it.
    (_ticket(datetime(2026, 12, 7, 1, 0, tzinfo=UTC), datetime(2026, 12, 7, 1, 30, tzinfo=UTC)),
     1800),
])
def test_a_believable_pair_of_times_is_the_wait(ticket, waited):
    assert waiting_seconds(ticket, MADE, SKEW) == waited


@pytest.mark.parametrize("ticket", [
    # A typed or scanned ticket: no call time of the queue system's, whatever was sent.
    _ticket(None, None, TicketSource.TYPED),
    _ticket(MADE.replace(hour=9), MADE.replace(hour=9, minute=30), TicketSource.TYPED),
    _ticket(MADE.replace(hour=9), None, TicketSource.SCANNED),
    _ticket(MADE.replace(hour=9), MADE.replace(hour=9, minute=30), TicketSource.SCANNED),
    # From the queue system, but a time missing.
    _ticket(MADE.replace(hour=9), None),
    _ticket(None, MADE.replace(hour=9)),
    # Called before it was issued.
    _ticket(MADE.replace(hour=9, minute=30), MADE.replace(hour=9)),
    # Called after the request, beyond the clock skew.
    _ticket(MADE.replace(hour=9), MADE + SKEW + timedelta(seconds=1)),
    # Issued the day before (a ticket of yesterday), called today.
    _ticket(MADE - timedelta(hours=11), MADE - timedelta(minutes=10)),
    # Issued and called the day before the request.
    _ticket(MADE - timedelta(days=1, minutes=30), MADE - timedelta(days=1)),
])
def test_a_pair_the_server_cannot_believe_has_no_wait(ticket):
    assert waiting_seconds(ticket, MADE, SKEW) is None


def test_a_wait_of_12_hours_is_too_long_just_under_counts():
    made = MADE.replace(hour=20)
    ticket = _ticket(made.replace(hour=8, second=1), made)
    assert waiting_seconds(ticket, made, SKEW) == 12 * 3600 - 1
    assert waiting_seconds(_ticket(made.replace(hour=8), made), made, SKEW) is None


def test_a_batch_keeps_each_ticket_as_given_and_the_believable_waits(server_engine):
    seed(server_engine, accounts=10, halls=1)
    # Yesterday at noon at the hall, within the offline window: the ticket's times fall on
    # the request's hall day whenever the test runs (just after midnight too).
    now = datetime.combine(datetime.now(HALL_TZ).date() - timedelta(days=1), time(12, 0),
                           HALL_TZ)
    called = {"number": "A023", "source": "queue",
              "issued_at": (now - timedelta(minutes=20)).isoformat(),
              "called_at": (now - timedelta(minutes=2)).isoformat()}
    backwards = {**called, "number": "A024", "issued_at": now.isoformat()}
    with TestClient(create_app(server_engine)) as client:
        t = Terminal(client, "GZ-TH-01", "T01")
        t.login("gz-th-01-c1")
        ops = [t.operation("new_connection", NEW_CONNECTION, created_at=now) for _ in range(4)]
        ops[0]["ticket"] = called
        ops[1]["ticket"] = {"number": "B007", "source": "typed"}
        ops[2]["ticket"] = backwards
        results = t.push(*ops)  # the last one without a ticket
    assert [r["outcome"] for r in results] == ["applied"] * 4
    with Session(server_engine) as s:
        rows = {row.operation_id: row for row in s.scalars(select(OperationRow))}
    stored = [rows[op["operation_id"]] for op in ops]
    assert [(r.ticket_no, r.ticket_source, r.waiting_seconds) for r in stored] == [
        ("A023", "queue", 18 * 60), ("B007", "typed", None), ("A024", "queue", None),
        (None, None, None)]
    assert stored[0].ticket_called_at == now - timedelta(minutes=2)
    assert stored[2].ticket_issued_at == now  # kept as the terminal said, counted nowhere
    assert stored[1].ticket_issued_at is None and stored[3].ticket_called_at is None
