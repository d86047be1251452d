"""What the customer's screen shows before they sign: the receipt's description of the
request, masked, with the committed date, in the customer's language."""

from datetime import UTC, datetime

import pytest

from hallclient.counter.customer_view import customer_view
from hallclient.store.operations import RequestRefused
from hallcore.domain.accounts import AccountStatus
from hallcore.domain.business import BusinessKind, PayloadInvalid
from tests.support.factories import NEW_CONNECTION, OTHER_ID, WEEKDAYS, account

NOON_CST = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)  # a Wednesday
TRANSFER = {"new_holder_name": "林晓燕", "new_holder_id_type": "resident_id",
            "new_holder_id_number": OTHER_ID, "new_holder_phone": "13800138000",
            "new_holder_sms_consent": True}


def view(kind, payload, holder=None, **changes):
    return customer_view(BusinessKind(kind), holder or account(**changes), payload,
                         now=NOON_CST, calendar=WEEKDAYS)


def test_a_transfer_shows_the_business_account_new_holder_masked_and_the_date():
    shown = view("transfer", TRANSFER)
    text = shown.text()
    assert "过户" in text and "1000000001" in text and "林晓燕" in text
    # Personal data masked as on the receipt: neither ID number nor phone in full.
    assert OTHER_ID not in text and account().id_number not in text
    assert "13800138000" not in text and "138****8000" in text
    assert OTHER_ID[:4] + "*" * 10 + OTHER_ID[-4:] in text
    # Three working days from a Wednesday: the Monday after.
    assert str(shown.due) == "2026-11-30" and "2026-11-30" in text
    assert "English" not in text and "Transfer" not in text  # a Chinese reader: Chinese


def test_an_english_reader_gets_both_languages_chinese_first():
    text = view("transfer", TRANSFER | {"new_holder_sms_language": "en"}).text()
    lines = text.splitlines()
    business = lines.index("业务类型：过户")
    assert lines[business + 1] == "Business: Transfer of account"


def test_a_new_connection_has_no_account_yet():
    shown = customer_view(BusinessKind.NEW_CONNECTION, None, NEW_CONNECTION, now=NOON_CST,
                          calendar=WEEKDAYS)
    assert shown.account_number is None and "待分配" in shown.text()
    assert NEW_CONNECTION["applicant_id_number"] not in shown.text()


def test_a_form_that_does_not_validate_is_not_shown_to_the_customer():
    with pytest.raises(PayloadInvalid):
        view("transfer", TRANSFER | {"new_holder_id_number": "440106198005171230"})


def test_a_request_the_rules_refuse_is_not_shown_to_the_customer():
    with pytest.raises(RequestRefused):
        view("transfer", TRANSFER, status=AccountStatus.CLOSED)
