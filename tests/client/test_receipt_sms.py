"""A receipt promises SMS only to a number the SMS can reach: a mainland mobile."""

import uuid
from datetime import UTC, datetime

import pytest

from hallclient.receipts.content import HallInfo, build_receipt
from hallclient.store.operations import RecordedOperation
from hallcore.domain.business import BusinessKind, apply_change
from hallcore.domain.text import Text
from tests.support.factories import OTHER_ID, WEEKDAYS, account, holder_presents

HALL = HallInfo("GZ-TH-01", Text("天河营业厅", "Tianhe Service Hall"))
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
NEW_CONNECTION = {
    "applicant_name": "陈志明", "applicant_id_type": "resident_id",
    "applicant_id_number": OTHER_ID, "supply_address": "广州市天河区天河路385号12栋1803房",
}


def steps(kind, before, payload):
    after = None if before is None else apply_change(kind, before, payload)
    recorded = RecordedOperation(str(uuid.uuid4()), "GZ-TH-01-T01-20261125-0001", "sig", NOW,
                                 kind, after, ())
    content = build_receipt(recorded, before, payload, hall=HALL, terminal_id="T01",
                            clerk="c1", pending=False, calendar=WEEKDAYS)
    return " ".join(f"{step.zh} {step.en}" for step in content.next_steps)


def test_a_mobile_with_consent_is_promised_the_sms_masked():
    said = steps(BusinessKind.NEW_CONNECTION, None,
                 {**NEW_CONNECTION, "phone": "13800138000", "sms_consent": True})
    assert "短信通知 138****8000" in said and "SMS to 138****8000" in said


@pytest.mark.parametrize("phone", ["020-87654321", "+85291234567", "14012345678"])
def test_a_new_connection_never_promises_sms_to_a_number_that_cannot_take_it(phone):
    said = steps(BusinessKind.NEW_CONNECTION, None,
                 {**NEW_CONNECTION, "phone": phone, "sms_consent": True})
    assert "短信" not in said and "SMS" not in said


def test_an_old_consent_on_a_landline_promises_no_sms():
    """Records from before the rule may hold a consent with a landline: a change of the
    mailing address leaves both, and the receipt promises nothing it cannot keep."""
    before = account(phone="020-87654321", sms_consent=True)
    said = steps(BusinessKind.CONTACT_CHANGE, before, {
        **holder_presents(before), "mailing_address": "广州市越秀区中山五路1号2栋301房"})
    assert "短信" not in said and "SMS" not in said
