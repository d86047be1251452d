"""What a supervisor is shown of the request they sign off, without Qt: the business, the
account, its holder and arrears, and the request's values with personal data masked."""

from hallclient.counter.approval import ApprovalSubject
from hallcore.domain.business import BusinessKind, validate_payload
from hallcore.domain.masking import mask_id_number, mask_phone
from hallcore.domain.text import Text
from tests.support.factories import NEW_CONNECTION, OTHER_ID, account, holder_presents

TRANSFER = {
    "new_holder_name": "李娜", "new_holder_id_type": "resident_id",
    "new_holder_id_number": OTHER_ID, "new_holder_phone": "13800138000",
    "new_holder_sms_consent": False, "carry_arrears": True,
}


def shown(subject: ApprovalSubject, lang: str) -> dict[str, str]:
    return {label[lang]: value[lang] if isinstance(value, Text) else value
            for label, value in subject.values}


def test_a_transfer_names_the_account_its_holder_and_arrears_and_masks_the_new_holders_id():
    owing = account(arrears_fen=12_345)
    subject = ApprovalSubject.of(BusinessKind.TRANSFER, owing,
                                 validate_payload(BusinessKind.TRANSFER, TRANSFER))
    assert (subject.business, subject.account_number, subject.holder_name,
            subject.arrears_fen) == (BusinessKind.TRANSFER, "1000000001", "陈伟", 12_345)
    assert subject.business_label == Text("过户", "Transfer of account")
    assert shown(subject, "en") == {
        "new holder": "李娜",
        "new holder's ID type": "Resident Identity Card",
        "new holder's ID number": mask_id_number(OTHER_ID),
        "new holder's phone": mask_phone("13800138000"),
        "agrees to SMS notices": "no",
        "new holder takes on arrears": "yes",
    }
    assert shown(subject, "zh")["新户主证件类型"] == "居民身份证"
    assert shown(subject, "zh")["新户主承接欠费"] == "是"
    # Neither the ID number nor the phone is anywhere in what the supervisor is shown.
    assert OTHER_ID not in repr(subject) and "13800138000" not in repr(subject)


def test_values_follow_the_business_field_order_and_fields_left_out_are_not_shown():
    subject = ApprovalSubject.of(BusinessKind.CLOSE, account(),
                                 validate_payload(BusinessKind.CLOSE, holder_presents()))
    assert [label.en for label, _ in subject.values] == ["holder's ID type",
                                                         "holder's ID number"]
    suspend = ApprovalSubject.of(BusinessKind.SUSPEND, account(), holder_presents())
    assert "planned resumption date" not in shown(suspend, "en")  # optional, not given
    dated = ApprovalSubject.of(BusinessKind.SUSPEND, account(),
                               {**holder_presents(), "resume_on": "2027-03-01"})
    assert shown(dated, "en")["planned resumption date"] == "2027-03-01"


def test_a_new_connection_has_no_account_yet_whatever_account_is_open():
    payload = validate_payload(BusinessKind.NEW_CONNECTION, NEW_CONNECTION)
    subject = ApprovalSubject.of(BusinessKind.NEW_CONNECTION, None, payload)
    assert (subject.account_number, subject.holder_name, subject.arrears_fen) == (
        None, None, None)
    assert ApprovalSubject.of(BusinessKind.NEW_CONNECTION, account(), payload) == subject
    values = shown(subject, "en")
    assert values["phone"] == "138****8000"
    assert values["applicant's ID number"] == mask_id_number(OTHER_ID) != OTHER_ID
    assert values["supply address"] == NEW_CONNECTION["supply_address"]
