"""The customer's visit and what the search shows of an account: plain Python, no Qt."""

from dataclasses import replace

from hallclient.counter.results import id_tail, is_exact_match, result_row
from hallclient.counter.session import MAX_HANDLING_SECONDS, CustomerSession
from hallcore.domain.accounts import AccountStatus
from tests.support.factories import HOLDER_ID, account


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_visit_is_timed_from_its_start_and_a_second_start_changes_nothing():
    clock = Clock()
    session = CustomerSession(clock)
    assert not session.running and session.handling_seconds() is None
    session.begin()
    clock.now += 30
    session.begin()  # the clerk searches again for the same customer
    clock.now += 12.7
    assert session.running and session.handling_seconds() == 42


def test_the_next_customer_starts_a_new_visit_and_a_late_rating_does_not_end_it():
    clock = Clock()
    session = CustomerSession(clock)
    session.begin()
    first = session.visit
    clock.now += 300
    session.next_customer()
    clock.now += 5
    assert session.handling_seconds() == 5
    session.end(first)  # the previous customer rates only now
    assert session.running and session.handling_seconds() == 5
    session.end(session.visit)
    assert not session.running and session.handling_seconds() is None


def test_a_visit_left_running_counts_a_day_at_most():
    clock = Clock()
    session = CustomerSession(clock)
    session.begin()
    clock.now += 3 * 86_400
    assert session.handling_seconds() == MAX_HANDLING_SECONDS


def test_only_the_last_four_characters_of_an_id_number_are_shown():
    assert id_tail("44010619800517123X") == "****123X"
    assert id_tail("G1234567") == "****4567"  # the length of the rest is not shown either
    assert id_tail("1234") == "****" and id_tail("12") == "**"
    assert id_tail(None) == "" and id_tail("") == ""


def test_a_result_row_in_either_language():
    a = account(status=AccountStatus.SUSPENDED)
    row = result_row(a, "zh")
    assert row.cells() == (a.number, a.holder_name, "暂停用电", id_tail(a.id_number),
                           a.supply_address)
    assert result_row(a, "en").status == "suspended"
    assert a.id_number not in "".join(row.cells())


def test_only_a_whole_identifier_is_an_exact_match():
    a = account(phone="13812345678", id_number=HOLDER_ID)
    assert is_exact_match(a.number, a) and is_exact_match(f" {a.number} ", a)
    assert is_exact_match("138-1234-5678", a) and is_exact_match("１３８１２３４５６７８", a)
    assert is_exact_match(HOLDER_ID, a)
    assert is_exact_match("44010619800517123x", replace(a, id_number="44010619800517123X"))
    assert not is_exact_match("1381234567", a)  # a digit short: someone else's, perhaps
    assert not is_exact_match(a.number[:-1], a) and not is_exact_match("", a)
    assert not is_exact_match("13812345678", replace(a, phone=None))
