from datetime import date

import pytest

from hallcore.domain.accounts import (
    completeness_rate,
    format_yuan,
    id_validity,
    missing_information,
    validate_account_number,
)
from hallcore.domain.text import InvalidInput
from tests.support.factories import account


def test_complete_record_misses_nothing():
    assert missing_information(account()) == []


def test_missing_items_are_named_in_both_languages():
    missing = missing_information(account(phone=None, sms_consent=False))
    assert [m.en for m in missing] == ["phone", "SMS consent"]
    assert [m.zh for m in missing] == ["联系电话", "短信通知授权"]


def test_completeness_rate_counts_complete_records():
    records = [account(), account(phone=None), account(mailing_address=None), account()]
    assert completeness_rate(records) == 0.5
    assert completeness_rate([]) == 1.0


def test_account_number_typed_with_spaces_is_accepted():
    assert validate_account_number(" 10 0000 0001 ") == "1000000001"


@pytest.mark.parametrize("raw", ["", "123", "10000000011", "10000A0001"])
def test_bad_account_numbers_say_what_is_expected(raw):
    with pytest.raises(InvalidInput) as err:
        validate_account_number(raw)
    assert "10" in err.value.reason.en or "no account number" in err.value.reason.en


def test_yuan_formatting():
    assert format_yuan(0) == "¥0.00"
    assert format_yuan(12880) == "¥128.80"
    assert format_yuan(123456789) == "¥1,234,567.89"


def test_the_ids_validity_is_said_and_an_expired_one_flagged():
    today = date(2026, 12, 3)
    assert id_validity(account(id_valid_until=None), today) is None
    valid = id_validity(account(id_valid_until=date(2026, 12, 3)), today)
    assert (valid.zh, valid.en) == ("证件有效期至 2026-12-03", "ID document valid until 2026-12-03")
    expired = id_validity(account(id_valid_until=date(2026, 12, 2)), today)
    assert expired.zh == "证件已于 2026-12-02 过期，请核验新证件"
    assert expired.en == "ID document expired on 2026-12-02: check a new one"
