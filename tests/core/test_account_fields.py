"""One declaration of an account's fields (hallcore.domain.accounts.Account): the wire model,
both databases' account tables and the row mapping all follow it."""

import dataclasses
import json
from datetime import date

import pytest
from sqlalchemy import Date, String

from hallclient.store.models import AccountRow as CachedAccount
from hallcore.db.account_columns import read_columns, stored_values, write_columns
from hallcore.domain.accounts import ACCOUNT_FIELDS, Account
from hallcore.wire import ACCOUNT_ROW_FIELDS, AccountWire, BootstrapRows
from hallserver.models import AccountRow as ServerAccount
from tests.support.factories import account

DECLARED = [f.name for f in dataclasses.fields(Account) if f.name != "community"]
TABLES = [CachedAccount.__table__, ServerAccount.__table__]


def test_every_declared_field_is_on_the_wire_in_both_tables_and_in_a_compact_row():
    assert [f.name for f in ACCOUNT_FIELDS] == DECLARED
    assert set(DECLARED) <= set(AccountWire.model_fields)
    assert ACCOUNT_ROW_FIELDS[:len(DECLARED)] == tuple(DECLARED)
    for table in TABLES:
        assert [c.name for c in table.columns][:len(DECLARED)] == DECLARED, table


@pytest.mark.parametrize("table", TABLES, ids=["cache", "server"])
def test_columns_take_length_nullability_and_type_from_the_declaration(table):
    for declared in ACCOUNT_FIELDS:
        column = table.c[declared.name]
        assert column.nullable is declared.optional, declared.name
        if declared.max_length is not None:
            assert isinstance(column.type, String) and column.type.length == declared.max_length
    assert isinstance(table.c.id_valid_until.type, Date)
    assert table.c.number.primary_key


@pytest.mark.parametrize("row_class", [CachedAccount, ServerAccount], ids=["cache", "server"])
def test_an_account_comes_back_from_its_row_unchanged(row_class):
    original = account(id_valid_until=date(2031, 6, 30), sms_language="en", community=None)
    row = row_class(number=original.number)
    write_columns(row, original)
    assert Account(**read_columns(row)) == original
    assert stored_values(original)["id_type"] == "resident_id"  # as the column keeps it


def test_an_unknown_sms_language_in_a_row_reads_as_the_declared_default():
    row = CachedAccount(number="1000000001")
    write_columns(row, account())
    row.sms_language = "fr"
    assert read_columns(row)["sms_language"] == "zh"


def test_the_wire_carries_every_field_both_ways():
    original = account(id_valid_until=date(2031, 6, 30), community=None)
    wire = AccountWire(**dataclasses.asdict(original), seq=7)
    again = AccountWire.model_validate_json(wire.model_dump_json())
    assert again.to_domain() == original and again.seq == 7
    compact = BootstrapRows(rows=[(*(getattr(original, n) for n in DECLARED), None, 7)],
                            communities=[], next_after=None, cursor=7)
    page = BootstrapRows.model_validate_json(compact.model_dump_json())
    assert page.account(page.rows[0]).to_domain() == original


def test_a_server_that_predates_a_field_is_still_understood():
    """Fields declared with a default may be missing from an older server's answer."""
    body = AccountWire(**dataclasses.asdict(account(community=None)), seq=1).model_dump(
        mode="json")
    del body["id_valid_until"]
    assert AccountWire.model_validate_json(json.dumps(body)).to_domain().id_valid_until is None
