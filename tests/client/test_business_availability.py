"""What each business button says before the form: can it be done, why not, by when."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from hallclient.counter.availability import business_state
from hallclient.samples import sample_payload
from hallcore.domain.accounts import AccountStatus
from hallcore.domain.business import BusinessKind, check, may_start
from tests.support.factories import WEEKDAYS, account

# A Thursday: a committed limit of working days runs over the weekend.
NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


def state(kind, acc, *, online=True):
    return business_state(kind, acc, online=online, online_only={BusinessKind.CLOSE}, now=NOW,
                          calendar=WEEKDAYS)


def test_without_an_account_only_a_new_connection_can_be_done():
    available = [k for k in BusinessKind if state(k, None).available]
    assert available == [BusinessKind.NEW_CONNECTION]
    assert state(BusinessKind.TRANSFER, None).short.en == "select an account"


def test_the_accounts_status_says_which_businesses_are_open():
    suspended = account(status=AccountStatus.SUSPENDED)
    assert state(BusinessKind.RESUME, suspended).available
    suspend = state(BusinessKind.SUSPEND, suspended)
    assert not suspend.available and suspend.short.en == "suspended"
    assert suspend.why_not is not None and "while the account is suspended" in suspend.why_not.en


def test_arrears_stop_a_close_and_make_a_transfer_need_them_settled_or_taken_on():
    owing = account(arrears_fen=12_345)
    close = state(BusinessKind.CLOSE, owing)
    assert not close.available and close.short.zh == "欠费 ¥123.45"
    transfer = state(BusinessKind.TRANSFER, owing)
    assert transfer.available
    assert ["¥123.45" in need.en and "take it on" in need.en for need in transfer.needs] == [
        True]


def test_offline_an_online_only_business_says_it_needs_the_network():
    close = state(BusinessKind.CLOSE, account(), online=False)
    assert not close.available and close.short.en == "needs the network"
    assert state(BusinessKind.CLOSE, account()).needs[0].en.endswith("sign-off")


def test_by_when_counts_working_days_or_says_done_at_the_counter():
    assert state(BusinessKind.CONTACT_CHANGE, account()).short.en == "done at the counter"
    # Thursday 10:00 in the hall: three working days skip the weekend.
    assert state(BusinessKind.NEW_CONNECTION, None).short.en == "done by 12-08"
    assert state(BusinessKind.SUSPEND, account()).short.zh == "12-04 前办结"


@pytest.mark.parametrize("status", list(AccountStatus))
@pytest.mark.parametrize("kind", list(BusinessKind))
@pytest.mark.parametrize("arrears", [0, 500])
def test_a_button_refuses_only_what_the_full_check_refuses_for_the_same_reason(
        kind, status, arrears):
    acc = account(status=status, arrears_fen=arrears)
    start = may_start(kind, acc)
    if start.allowed:
        return
    payload = sample_payload(kind, acc, date(2026, 12, 3))
    decision = check(kind, acc, payload, today=date(2026, 12, 3))
    assert not decision.allowed and decision.reason == start.reason
