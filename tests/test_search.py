import pytest
from sqlalchemy import select

from hallclient.demodata import DISTRICTS, accounts, communities
from hallclient.store.accounts import account_from_row, save_account, save_community
from hallclient.store.cache import open_cache
from hallclient.store.models import AccountRow
from hallclient.store.search import search_accounts


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    c = open_cache(tmp_path_factory.mktemp("search") / "cache.sqlite3")
    district = DISTRICTS[0]
    comms = list(communities(district, 5))
    with c.write() as s:
        for community in comms:
            save_community(s, community)
        s.flush()
        for a in accounts(district, 500, comms):
            save_account(s, a)
    yield c
    c.close()


@pytest.fixture(scope="module")
def sample(cache):
    """An account with an ID number and a phone on record."""
    with cache.read() as s:
        row = s.scalars(select(AccountRow).where(
            AccountRow.id_number.is_not(None), AccountRow.phone.is_not(None))).first()
        return account_from_row(row)


def found(cache, query):
    with cache.read() as s:
        return [a.number for a in search_accounts(s, query)]


def test_by_account_number(cache, sample):
    assert found(cache, sample.number)[0] == sample.number


def test_by_id_number_as_a_card_reader_or_clerk_types_it(cache, sample):
    typed = " ".join(sample.id_number[i:i + 6] for i in range(0, 18, 6)).lower()
    assert found(cache, typed)[0] == sample.number


def test_by_phone_with_separators_or_its_last_digits(cache, sample):
    phone = sample.phone
    assert found(cache, f"{phone[:3]}-{phone[3:7]} {phone[7:]}")[0] == sample.number
    assert sample.number in found(cache, phone[-8:])


def test_by_name_or_address_fragment(cache, sample):
    name = sample.holder_name
    assert sample.number in found(cache, name[-2:])
    street = sample.supply_address[6:10]
    assert sample.number in found(cache, street)


def test_blank_query_finds_nothing_and_wildcards_are_literal(cache):
    assert found(cache, "   ") == []
    assert found(cache, "%") == []
    assert found(cache, "_") == []
