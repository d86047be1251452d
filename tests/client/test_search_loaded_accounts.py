"""The accounts a search answers are read straight from SQLite (store/search.py `_load`): each
must equal the account the ORM reads from the same row, every field and the community."""

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select, update

from hallclient.store.accounts import account_from_row, save_account, save_community
from hallclient.store.cache import open_cache
from hallclient.store.models import AccountRow
from hallclient.store.search import search_accounts
from hallcore.db.account_columns import read_columns, read_values
from hallcore.domain.accounts import ACCOUNT_FIELDS, AccountStatus
from tests.support.factories import COMMUNITY, account

ACCOUNTS = [
    account(number="1000000001", holder_name="陈伟", id_valid_until=date(2031, 6, 30),
            sms_language="en", arrears_fen=12345),
    account(number="1000000002", holder_name="陈芳", id_type=None, id_number=None, phone=None,
            mailing_address=None, status=AccountStatus.SUSPENDED, sms_consent=False,
            community=None),
    account(number="1000000003", holder_name="陈小明", status=AccountStatus.CLOSED, version=9),
]


@pytest.fixture
def cache(tmp_path):
    c = open_cache(tmp_path / "cache.sqlite3")
    with c.write() as s:
        save_community(s, COMMUNITY)
        s.flush()
        for a in ACCOUNTS:
            save_account(s, a)
        # A language this version does not know reads as the declared default.
        s.execute(update(AccountRow).where(AccountRow.number == "1000000003")
                  .values(sms_language="fr"))
    yield c
    c.close()


def as_the_orm_reads(cache):
    with cache.read() as s:
        return [account_from_row(row) for row in
                s.scalars(select(AccountRow).order_by(AccountRow.number))]


def test_each_account_found_equals_the_one_the_orm_reads(cache):
    orm = as_the_orm_reads(cache)
    assert orm[2] == replace(ACCOUNTS[2], sms_language="zh")
    with cache.read() as s:
        assert search_accounts(s, "陈") == orm  # fragment kinds
        for a in orm:
            assert search_accounts(s, a.number) == [a]  # a whole identifier


def test_read_values_reads_a_row_as_read_columns_does(cache):
    with cache.read() as s:
        for row in s.scalars(select(AccountRow)):
            values = [getattr(row, declared.name) for declared in ACCOUNT_FIELDS]
            assert read_values(values) == read_columns(row)
