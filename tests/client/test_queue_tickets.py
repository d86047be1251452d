"""Queue tickets: what the ticket field takes, typed or scanned, and the queue system's adapter
against a real (simulated) queue system that serves, fails, hangs and answers garbage."""

from datetime import datetime, timedelta

import httpx
import pytest

from hallclient.devices.queue import QueueFailed, QueueSystem, parse_ticket
from hallclient.devices.queue_sim import Mode, queue_sim
from hallcore.domain.deadlines import HALL_TZ
from hallcore.domain.text import InvalidInput
from hallcore.wire import TicketSource

NOW = datetime(2026, 12, 7, 9, 31, 40, tzinfo=HALL_TZ)

# --- typed and scanned -------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "number"), [
    ("A023", "A023"), ("a023", "A023"), ("Ａ０２３", "A023"), (" A 023\t", "A023"),
    ("023", "023"), ("VIP-05", "VIP-05"), ("\u200bB12", "B12"),
])
def test_a_typed_ticket_is_normalised_as_id_input_is(raw, number):
    ticket = parse_ticket(raw)
    assert (ticket.number, ticket.source) == (number, TicketSource.TYPED)
    assert (ticket.issued_at, ticket.called_at) == (None, None)


def test_a_scanned_ticket_carries_its_issue_time():
    ticket = parse_ticket("Q:A023:2026-12-07T09:12:00+08:00")
    assert (ticket.number, ticket.source) == ("A023", TicketSource.SCANNED)
    assert ticket.issued_at == datetime(2026, 12, 7, 9, 12, tzinfo=HALL_TZ)
    assert ticket.called_at is None


def test_a_scanned_time_without_offset_is_the_halls_clock_and_full_width_is_read():
    ticket = parse_ticket("ｑ：ａ０２３：２０２６－１２－０７Ｔ０９：１２：００")
    assert ticket.number == "A023"
    assert ticket.issued_at == datetime(2026, 12, 7, 9, 12, tzinfo=HALL_TZ)


@pytest.mark.parametrize(("raw", "en"), [
    ("", "type the ticket number"),
    ("  ", "type the ticket number"),
    ("A", "a ticket number is letters and digits"),
    ("A0#3", "a ticket number is letters and digits"),
    ("44010619900307002X", "at most 16"),  # an ID number read into the wrong field
    ("Q::2026-12-07T09:12:00+08:00", "a ticket number is letters and digits"),
    ("Q:A023:yesterday", "the ticket barcode's issue time cannot be read"),
    ("Q:A023", "the ticket barcode's issue time cannot be read"),
])
def test_what_is_not_a_ticket_is_refused_in_both_languages(raw, en):
    with pytest.raises(InvalidInput) as refused:
        parse_ticket(raw)
    assert en in refused.value.reason.en
    assert refused.value.reason.zh and refused.value.reason.zh != refused.value.reason.en
    assert "44010619900307002X" not in str(refused.value)


# --- the queue system --------------------------------------------------------------------------


def test_call_next_takes_the_next_ticket_with_the_systems_times():
    with queue_sim(clock=lambda: NOW) as sim:
        first = sim.take_ticket(waited=timedelta(minutes=19, seconds=40))
        sim.take_ticket()
        ticket = QueueSystem(sim.url + "/", 3).call_next()
        assert ticket is not None
        assert (ticket.number, ticket.source) == (first.number, TicketSource.QUEUE)
        assert ticket.issued_at == datetime(2026, 12, 7, 9, 12, tzinfo=HALL_TZ)
        assert ticket.called_at == NOW
        assert sim.calls == {3: 1} and [t.number for t in sim.waiting] == ["A002"]


def test_nobody_waiting_is_no_ticket():
    with queue_sim() as sim:
        assert QueueSystem(sim.url, 1).call_next() is None


@pytest.mark.parametrize(("mode", "en"), [
    (Mode.FAIL, "the queue system refused the call"),
    (Mode.GARBAGE, "the queue system's answer cannot be read"),
    (Mode.HANG, "the queue system did not answer in time"),
])
def test_a_failing_queue_system_is_a_message_that_says_what_to_do(mode, en):
    with queue_sim() as sim:
        sim.mode = mode
        sim.take_ticket()
        with pytest.raises(QueueFailed) as failed:
            QueueSystem(sim.url, 1, timeout=0.3).call_next()
        assert failed.value.reason.en == (
            f"{en}: type the ticket number, or serve the customer without one")
        assert failed.value.reason.zh.endswith("请手工输入排队号，或不带排队号继续办理")


def test_a_queue_system_that_is_not_there_is_a_message():
    with queue_sim() as sim:
        url = sim.url  # its port, closed once it stops
    with pytest.raises(QueueFailed) as failed:
        QueueSystem(url, 1).call_next()
    assert failed.value.reason.en.startswith("the queue system cannot be reached")


@pytest.mark.parametrize("body", [
    b"[]", b'{"number": 23, "issued_at": "2026-12-07T09:12:00", "called_at": '
    b'"2026-12-07T09:31:40"}',
    b'{"number": "A#1", "issued_at": "2026-12-07T09:12:00", "called_at": '
    b'"2026-12-07T09:31:40"}',
    b'{"number": "A001", "issued_at": "now", "called_at": "2026-12-07T09:31:40"}',
    b'{"number": "A001", "issued_at": "2026-12-07T09:12:00"}',
    b"\xff\xfe",
])
def test_each_kind_of_garbage_is_unreadable_not_a_crash(body):
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=body))
    with pytest.raises(QueueFailed) as failed:
        QueueSystem("http://queue.hall", 1, transport=transport).call_next()
    assert failed.value.reason.en.startswith("the queue system's answer cannot be read")
