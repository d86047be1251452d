"""The keystroke walk of bench/walk.py, for one customer: the keys it counts are the keys the
clerk needs, and the walk still gets through the counter window to a recorded receipt."""

import pytest
from sqlalchemy import select

from bench.walk import counter, customers, demo_cache, minimum_keys, visit_for, walk
from hallclient.store.models import AccountRow
from hallcore.domain.accounts import AccountStatus
from hallcore.domain.business import BusinessKind


@pytest.fixture
def at(qtbot, tmp_path):
    cache = demo_cache(tmp_path / "cache.sqlite3", count=100)
    walking = counter(cache, "en")
    qtbot.addWidget(walking.window)
    yield walking
    cache.close()


def status_of(cache, number):
    with cache.read() as session:
        return session.scalar(select(AccountRow.status).where(AccountRow.number == number))


def test_a_suspension_takes_the_typed_characters_and_four_keys(at):
    cache = at.window.services.cache
    account = next(a for a in customers(cache) if a.status is AccountStatus.ACTIVE)
    visit = visit_for(BusinessKind.SUSPEND, account)
    walked = walk(at, visit)
    typed = len(account.number) + len(account.id_number)
    # F12, Enter in the search box, F5, Ctrl+Enter on the ID number.
    assert walked.keys == typed + 4
    assert walked.minimum == minimum_keys(visit) == typed + 2
    assert walked.receipt_no.startswith("GZ-TH-01-T01-")
    assert status_of(cache, account.number) == AccountStatus.SUSPENDED.value

