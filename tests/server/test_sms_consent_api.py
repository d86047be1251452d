"""The server runs the terminals' rule: SMS consent goes with a mainland mobile number only,
whether the phone is the request's own or the one on record. On SQLite and PostgreSQL."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hallserver.models import AccountRow, NotificationRow
from tests.support.factories import NEW_CONNECTION
from tests.support.server import holder_of, logged_in, seeded_client

TH = "GZ-TH-01"


@pytest.fixture
def th(server_engine):
    for client in seeded_client(server_engine, accounts=200, halls=1):
        yield logged_in(client, TH, "T01", "gz-th-01-c1")


def usable(th, **wanted):
    """An active account with the wanted fields, its holder's ID on record, nothing owed."""
    return next(a for a in th.all_accounts()
                if a["status"] == "active" and a["id_number"] and not a["arrears_fen"]
                and all(a[k] == v for k, v in wanted.items()))


def notices(engine):
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(NotificationRow))


@pytest.mark.parametrize("phone", ["020-87654321", "+852 9123 4567"])
def test_a_new_connection_with_consent_and_no_mobile_is_rejected(th, server_engine, phone):
    [result] = th.push(th.operation("new_connection", {
        **NEW_CONNECTION, "phone": phone, "sms_consent": True}))
    assert result["outcome"] == "rejected"
    reason = result["field_errors"]["sms_consent"]
    assert "短信只能发到大陆手机号码" in reason["zh"] and "mainland mobile" in reason["en"]
    with Session(server_engine) as s:
        assert s.scalar(select(func.count()).select_from(AccountRow)
                        .where(AccountRow.phone == "020-87654321")) == 0
    assert notices(server_engine) == 0


def test_a_new_connection_with_a_landline_and_no_consent_is_applied(th):
    [result] = th.push(th.operation("new_connection", {
        **NEW_CONNECTION, "phone": "020-87654321", "sms_consent": False}))
    assert result["outcome"] == "applied"
    assert result["account"]["phone"] == "020-87654321"


def test_a_contact_change_to_a_landline_keeping_the_consent_on_record_is_rejected(
        th, server_engine):
    account = usable(th, sms_consent=True)
    assert account["phone"]
    [result] = th.push(th.operation("contact_change", {
        **holder_of(account), "phone": "020-87654321"}, account=account))
    assert result["outcome"] == "rejected"
    assert "phone is not one" in result["reason"]["en"]
    assert result["account"]["phone"] == account["phone"]  # unchanged


def test_consent_given_alone_is_judged_on_the_phone_on_record(th):
    account = usable(th, phone=None)
    [result] = th.push(th.operation("contact_change", {
        **holder_of(account), "sms_consent": True}, account=account))
    assert result["outcome"] == "rejected"
    assert "no phone on record" in result["reason"]["en"]
    assert result["reason"]["zh"].startswith("短信只能发到大陆手机号码")


def test_a_new_connection_on_an_expired_id_document_is_rejected_by_the_server(
        th, server_engine):
    """The server judges an opening request by the rules the counter does, not only by its
    fields: a terminal that skipped the check cannot open an account on an expired card."""
    with Session(server_engine) as s:
        before = s.scalar(select(func.count()).select_from(AccountRow))
    [result] = th.push(th.operation("new_connection", {
        **NEW_CONNECTION, "applicant_id_valid_until": "2020-01-31"}))
    assert result["outcome"] == "rejected"
    assert "2020-01-31" in result["reason"]["zh"] and "expired" in result["reason"]["en"]
    with Session(server_engine) as s:
        assert s.scalar(select(func.count()).select_from(AccountRow)) == before
