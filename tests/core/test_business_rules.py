from datetime import date, timedelta

import pytest

from hallcore.domain.accounts import AccountStatus
from hallcore.domain.business import (
    BUSINESS_TYPES,
    MAX_SUSPENSION,
    BusinessKind,
    FieldKind,
    PayloadInvalid,
    apply_change,
    check,
    open_account,
    validate_payload,
)
from hallcore.domain.ids import IdDocType, validate_id
from hallcore.domain.text import InvalidInput
from tests.support.factories import HOLDER_ID, OTHER_ID, TODAY, account, holder_presents

NEW_HOLDER = {
    "new_holder_name": "林晓燕",
    "new_holder_id_type": "resident_id",
    "new_holder_id_number": OTHER_ID,
    "new_holder_phone": "139 2233 4455",
}


def checked(kind, acct, raw):
    return check(kind, acct, validate_payload(kind, raw), today=TODAY)


# --- declarations ----------------------------------------------------------------------------


def test_every_business_type_is_declared_with_its_rules():
    assert set(BUSINESS_TYPES) == set(BusinessKind)
    for kind, btype in BUSINESS_TYPES.items():
        assert btype.kind is kind
        assert btype.label.zh and btype.label.en
        assert btype.fields, kind
        assert btype.notices, kind
        assert btype.time_limit.working_days >= 0


def test_id_number_fields_name_an_existing_id_type_field():
    for btype in BUSINESS_TYPES.values():
        for f in btype.fields:
            if f.kind is FieldKind.ID_NUMBER:
                assert btype.field(f.id_type_field).kind is FieldKind.ID_TYPE


def test_new_connection_opens_an_account_and_has_timed_site_steps():
    btype = BUSINESS_TYPES[BusinessKind.NEW_CONNECTION]
    assert btype.opens_account and btype.site_visit
    assert [s.code for s in btype.steps] == ["site_survey", "energise"]
    assert all(s.limit.working_days <= btype.time_limit.working_days for s in btype.steps)


def test_closing_needs_a_supervisor_and_a_site_visit():
    btype = BUSINESS_TYPES[BusinessKind.CLOSE]
    assert btype.needs_supervisor and btype.site_visit


# --- payload validation ----------------------------------------------------------------------


def test_payload_is_normalised_and_json_ready():
    raw = {**NEW_HOLDER, "new_holder_id_number": OTHER_ID.lower() + " ", "carry_arrears": False}
    clean = validate_payload(BusinessKind.TRANSFER, raw)
    assert clean["new_holder_id_number"] == OTHER_ID
    assert clean["new_holder_phone"] == "13922334455"
    assert clean["new_holder_id_type"] == "resident_id"
    assert "new_holder_sms_consent" not in clean


def test_every_missing_required_field_is_named():
    with pytest.raises(PayloadInvalid) as err:
        validate_payload(BusinessKind.TRANSFER, {})
    assert set(err.value.errors) == {
        "new_holder_name", "new_holder_id_type", "new_holder_id_number", "new_holder_phone"}
    assert err.value.errors["new_holder_name"].zh == "请填写新户主姓名"
    assert err.value.errors["new_holder_name"].en == "New holder is required"


def test_bad_id_number_reason_comes_from_the_id_validator():
    raw = {**NEW_HOLDER, "new_holder_id_number": OTHER_ID[:-1] + ("0" if OTHER_ID[-1] != "0"
                                                                    else "1")}
    with pytest.raises(PayloadInvalid) as err:
        validate_payload(BusinessKind.TRANSFER, raw)
    with pytest.raises(InvalidInput) as direct:
        validate_id(IdDocType.RESIDENT_ID, raw["new_holder_id_number"])
    assert err.value.errors["new_holder_id_number"] == direct.value.reason


def test_unknown_id_type_is_reported_once_not_twice():
    raw = {**NEW_HOLDER, "new_holder_id_type": "library_card"}
    with pytest.raises(PayloadInvalid) as err:
        validate_payload(BusinessKind.TRANSFER, raw)
    assert set(err.value.errors) == {"new_holder_id_type"}
    assert "library_card" in err.value.errors["new_holder_id_type"].en


def test_unknown_fields_are_refused_not_dropped():
    with pytest.raises(PayloadInvalid) as err:
        validate_payload(BusinessKind.RESUME, {**holder_presents(), "discount": "50%"})
    assert "discount" in err.value.errors["discount"].en


def test_dates_must_be_iso_dates():
    with pytest.raises(PayloadInvalid) as err:
        validate_payload(BusinessKind.SUSPEND, {**holder_presents(), "resume_on": "next week"})
    assert "next week" in err.value.errors["resume_on"].en


def test_yes_no_fields_take_only_booleans():
    with pytest.raises(PayloadInvalid) as err:
        validate_payload(BusinessKind.TRANSFER, {**NEW_HOLDER, "carry_arrears": "yes"})
    assert "carry_arrears" in err.value.errors


def test_blank_optional_fields_are_left_out():
    clean = validate_payload(BusinessKind.SUSPEND, {**holder_presents(), "resume_on": "  "})
    assert "resume_on" not in clean


# --- the rule check --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "allowed"),
    [
        (BusinessKind.SUSPEND, AccountStatus.ACTIVE, True),
        (BusinessKind.SUSPEND, AccountStatus.SUSPENDED, False),
        (BusinessKind.SUSPEND, AccountStatus.CLOSED, False),
        (BusinessKind.RESUME, AccountStatus.SUSPENDED, True),
        (BusinessKind.RESUME, AccountStatus.ACTIVE, False),
        (BusinessKind.CLOSE, AccountStatus.ACTIVE, True),
        (BusinessKind.CLOSE, AccountStatus.SUSPENDED, True),
        (BusinessKind.CLOSE, AccountStatus.CLOSED, False),
        (BusinessKind.CLOSE, AccountStatus.PENDING_CONNECTION, False),
    ],
)
def test_allowed_states(kind, status, allowed):
    acct = account(status=status)
    assert checked(kind, acct, holder_presents(acct)).allowed is allowed


def test_wrong_state_reason_names_the_state_and_what_is_needed():
    decision = checked(BusinessKind.RESUME, account(), holder_presents())
    assert not decision.allowed
    assert "正常用电" in decision.reason.zh and "暂停用电" in decision.reason.zh
    assert "in supply" in decision.reason.en and "suspended" in decision.reason.en


def test_transfer_to_a_new_holder_is_allowed():
    assert checked(BusinessKind.TRANSFER, account(), NEW_HOLDER).allowed


def test_transfer_refused_on_a_closed_account():
    assert not checked(BusinessKind.TRANSFER, account(status=AccountStatus.CLOSED),
                       NEW_HOLDER).allowed


def test_transfer_to_the_same_holder_is_refused():
    raw = {**NEW_HOLDER, "new_holder_id_number": HOLDER_ID}
    decision = checked(BusinessKind.TRANSFER, account(), raw)
    assert not decision.allowed
    assert "Change of name" in decision.reason.en


def test_transfer_with_arrears_needs_them_settled_or_carried():
    owing = account(arrears_fen=12880)
    refused = checked(BusinessKind.TRANSFER, owing, NEW_HOLDER)
    assert not refused.allowed
    assert "¥128.80" in refused.reason.zh and "¥128.80" in refused.reason.en
    carried = checked(BusinessKind.TRANSFER, owing, {**NEW_HOLDER, "carry_arrears": True})
    assert carried.allowed
    assert "¥128.80" in carried.warnings[0].en


def test_holder_must_present_their_own_id():
    decision = checked(BusinessKind.SUSPEND, account(),
                       {"applicant_id_type": "resident_id", "applicant_id_number": OTHER_ID})
    assert not decision.allowed
    assert "holder" in decision.reason.en


def test_id_of_the_right_number_but_another_document_type_is_not_the_holders():
    acct = account(id_type=IdDocType.PASSPORT, id_number="E12345678")
    decision = checked(BusinessKind.CLOSE, acct,
                       {"applicant_id_type": "travel_permit_hkmo",
                        "applicant_id_number": "H12345678"})
    assert not decision.allowed


def test_account_without_id_on_record_needs_an_override_warning():
    acct = account(id_type=None, id_number=None, status=AccountStatus.SUSPENDED)
    decision = checked(BusinessKind.RESUME, acct,
                       {"applicant_id_type": "resident_id", "applicant_id_number": OTHER_ID})
    assert decision.allowed
    assert decision.warnings and "not on record" in decision.warnings[0].en


def test_rename_to_the_same_name_is_refused():
    decision = checked(BusinessKind.RENAME, account(), {**holder_presents(), "new_name": "陈伟"})
    assert not decision.allowed


def test_suspension_resume_date_must_be_future_and_within_the_maximum():
    base = holder_presents()
    today = {**base, "resume_on": TODAY.isoformat()}
    too_long = {**base, "resume_on": (TODAY + MAX_SUSPENSION + timedelta(days=1)).isoformat()}
    longest = {**base, "resume_on": (TODAY + MAX_SUSPENSION).isoformat()}
    assert not checked(BusinessKind.SUSPEND, account(), today).allowed
    decision = checked(BusinessKind.SUSPEND, account(), too_long)
    assert not decision.allowed and "180" in decision.reason.en
    assert checked(BusinessKind.SUSPEND, account(), longest).allowed


def test_closing_with_arrears_is_refused():
    decision = checked(BusinessKind.CLOSE, account(arrears_fen=3250), holder_presents())
    assert not decision.allowed and "¥32.50" in decision.reason.en


def test_contact_change_needs_something_that_changes():
    acct = account()
    assert not checked(BusinessKind.CONTACT_CHANGE, acct, holder_presents()).allowed
    same = checked(BusinessKind.CONTACT_CHANGE, acct, {**holder_presents(), "phone": acct.phone})
    assert not same.allowed and "nothing changes" in same.reason.en
    assert checked(BusinessKind.CONTACT_CHANGE, acct,
                   {**holder_presents(), "sms_consent": False}).allowed


def test_the_sms_language_alone_is_a_contact_change():
    acct = account()
    assert acct.sms_language == "zh"
    english = validate_payload(BusinessKind.CONTACT_CHANGE,
                               {**holder_presents(), "sms_language": " en "})
    assert english["sms_language"] == "en"
    assert checked(BusinessKind.CONTACT_CHANGE, acct, english).allowed
    after = apply_change(BusinessKind.CONTACT_CHANGE, acct, english)
    assert (after.sms_language, after.phone, after.sms_consent) == ("en", acct.phone, True)
    same = checked(BusinessKind.CONTACT_CHANGE, after, english)
    assert not same.allowed and "nothing changes" in same.reason.en
    with pytest.raises(PayloadInvalid) as refused:
        validate_payload(BusinessKind.CONTACT_CHANGE, {**holder_presents(), "sms_language": "fr"})
    assert refused.value.errors["sms_language"].zh == "短信语言只能是中文或英文"


def test_a_new_holder_or_customer_gets_sms_in_the_language_they_chose():
    transferred = apply_change(BusinessKind.TRANSFER, account(sms_language="en"),
                               validate_payload(BusinessKind.TRANSFER, NEW_HOLDER))
    assert transferred.sms_language == "zh"  # the old holder's choice is not the new one's
    chosen = validate_payload(BusinessKind.TRANSFER,
                              {**NEW_HOLDER, "new_holder_sms_language": "en"})
    assert apply_change(BusinessKind.TRANSFER, account(), chosen).sms_language == "en"


def test_contact_change_allowed_while_awaiting_connection():
    acct = account(status=AccountStatus.PENDING_CONNECTION)
    assert checked(BusinessKind.CONTACT_CHANGE, acct,
                   {**holder_presents(acct), "phone": "13812345678"}).allowed


# --- SMS consent goes with a mainland mobile number ----------------------------------------

NEW_CONNECTION = {
    "applicant_name": "陈志明", "applicant_id_type": "resident_id",
    "applicant_id_number": OTHER_ID, "supply_address": "广州市天河区天河路385号12栋1803房",
}


def sms_refusal(kind, raw):
    with pytest.raises(PayloadInvalid) as refused:
        validate_payload(kind, raw)
    return refused.value.errors


@pytest.mark.parametrize("phone", ["020-87654321", "010-62345678-12", "+852 9123 4567",
                                   "+44 20 7946 0958"])
def test_a_new_connection_with_sms_consent_needs_a_mainland_mobile(phone):
    errors = sms_refusal(BusinessKind.NEW_CONNECTION,
                         {**NEW_CONNECTION, "phone": phone, "sms_consent": True})
    assert set(errors) == {"sms_consent"}
    assert "短信只能发到大陆手机号码" in errors["sms_consent"].zh
    assert "mainland mobile number" in errors["sms_consent"].en
    assert phone.replace(" ", "") not in str(errors["sms_consent"])  # no number in a reason


@pytest.mark.parametrize("consent", [False, None])
def test_a_landline_without_sms_consent_is_fine(consent):
    raw = {**NEW_CONNECTION, "phone": "020-87654321", "sms_consent": consent}
    assert checked(BusinessKind.NEW_CONNECTION, None, raw).allowed


@pytest.mark.parametrize("phone", ["13812345678", "19912345678", "16612345678",
                                   "+86 170 1234 5678"])
def test_a_mainland_mobile_takes_sms_consent(phone):
    raw = {**NEW_CONNECTION, "phone": phone, "sms_consent": True}
    assert checked(BusinessKind.NEW_CONNECTION, None, raw).allowed


def test_a_transfer_with_sms_consent_needs_the_new_holders_mobile():
    errors = sms_refusal(BusinessKind.TRANSFER, {**NEW_HOLDER, "new_holder_phone": "020-87654321",
                                                 "new_holder_sms_consent": True})
    assert set(errors) == {"new_holder_sms_consent"}
    assert "new holder's phone is not one" in errors["new_holder_sms_consent"].en
    # The old holder's consent does not pass on: a landline without consent is fine.
    assert checked(BusinessKind.TRANSFER, account(),
                   {**NEW_HOLDER, "new_holder_phone": "020-87654321"}).allowed


def test_a_contact_change_to_a_landline_with_consent_is_refused():
    errors = sms_refusal(BusinessKind.CONTACT_CHANGE, {
        **holder_presents(), "phone": "020-87654321", "sms_consent": True})
    assert set(errors) == {"sms_consent"}


def test_a_contact_change_to_a_landline_keeping_the_consent_on_record_is_refused():
    """The request does not say "no SMS", so the consent on record would stay with a
    landline: the clerk must ask the customer."""
    decision = checked(BusinessKind.CONTACT_CHANGE, account(sms_consent=True),
                       {**holder_presents(), "phone": "020-87654321"})
    assert not decision.allowed
    assert "短信只能发到大陆手机号码" in decision.reason.zh
    assert "the phone is not one" in decision.reason.en
    assert checked(BusinessKind.CONTACT_CHANGE, account(sms_consent=True), {
        **holder_presents(), "phone": "020-87654321", "sms_consent": False}).allowed
    assert checked(BusinessKind.CONTACT_CHANGE, account(sms_consent=False),
                   {**holder_presents(), "phone": "020-87654321"}).allowed


@pytest.mark.parametrize(("phone", "says"), [
    ("020-87654321", "phone on record is not one"),
    ("+85291234567", "phone on record is not one"),
    (None, "no phone on record"),
])
def test_consent_given_alone_is_judged_on_the_phone_on_record(phone, says):
    acct = account(phone=phone, sms_consent=False)
    decision = checked(BusinessKind.CONTACT_CHANGE, acct,
                       {**holder_presents(), "sms_consent": True})
    assert not decision.allowed and says in decision.reason.en
    assert decision.reason.zh.startswith("短信只能发到大陆手机号码")


def test_consent_given_with_a_new_mobile_does_not_look_at_the_phone_on_record():
    acct = account(phone="020-87654321", sms_consent=False)
    assert checked(BusinessKind.CONTACT_CHANGE, acct, {
        **holder_presents(), "phone": "13812345678", "sms_consent": True}).allowed


def test_a_contact_change_not_about_sms_leaves_an_old_landline_consent_alone():
    """Records from before the rule may hold a consent on a landline: changing the mailing
    address is not refused for it (the SMS queue sends nothing to a landline)."""
    acct = account(phone="020-87654321", sms_consent=True)
    assert checked(BusinessKind.CONTACT_CHANGE, acct, {
        **holder_presents(), "mailing_address": "广州市越秀区中山五路1号2栋301房"}).allowed


def test_business_on_an_existing_account_needs_one_selected():
    decision = checked(BusinessKind.RESUME, None, holder_presents())
    assert not decision.allowed and "select the account" in decision.reason.en


# --- applying a change -----------------------------------------------------------------------


def test_suspend_and_resume_move_the_state_and_raise_the_version():
    acct = account(version=7)
    suspended = apply_change(BusinessKind.SUSPEND, acct, validate_payload(
        BusinessKind.SUSPEND, holder_presents()))
    assert suspended.status is AccountStatus.SUSPENDED and suspended.version == 8
    resumed = apply_change(BusinessKind.RESUME, suspended, holder_presents())
    assert resumed.status is AccountStatus.ACTIVE and resumed.version == 9


def test_transfer_replaces_the_holder_and_resets_sms_consent():
    after = apply_change(BusinessKind.TRANSFER, account(),
                         validate_payload(BusinessKind.TRANSFER, NEW_HOLDER))
    assert (after.holder_name, after.id_number, after.phone) == (
        "林晓燕", OTHER_ID, "13922334455")
    assert after.sms_consent is False
    assert after.status is AccountStatus.ACTIVE


def test_contact_change_touches_only_what_was_given():
    acct = account()
    after = apply_change(BusinessKind.CONTACT_CHANGE, acct, validate_payload(
        BusinessKind.CONTACT_CHANGE, {**holder_presents(), "phone": "020-8765 4321"}))
    assert after.phone == "020-87654321"
    assert after.mailing_address == acct.mailing_address and after.sms_consent is True


def test_close_leaves_the_account_closed():
    after = apply_change(BusinessKind.CLOSE, account(), holder_presents())
    assert after.status is AccountStatus.CLOSED


def test_new_connection_opens_an_account_awaiting_connection():
    payload = validate_payload(BusinessKind.NEW_CONNECTION, {
        "applicant_name": "陈志明", "applicant_id_type": "resident_id",
        "applicant_id_number": OTHER_ID, "phone": "13800138000",
        "supply_address": "广州市天河区天河路385号12栋1803房", "sms_consent": True})
    assert checked(BusinessKind.NEW_CONNECTION, None, payload).allowed
    opened = open_account(payload, number="1000000999", district="GZ-TH")
    assert opened.status is AccountStatus.PENDING_CONNECTION and opened.version == 1
    assert opened.sms_consent and opened.mailing_address is None
    with pytest.raises(ValueError):
        apply_change(BusinessKind.NEW_CONNECTION, opened, payload)


def test_every_rule_reason_exists_in_both_languages():
    """A refused request must be explainable to the customer in Chinese and in English."""
    cases = [
        (BusinessKind.SUSPEND, account(status=AccountStatus.CLOSED), holder_presents()),
        (BusinessKind.CLOSE, account(arrears_fen=1), holder_presents()),
        (BusinessKind.RENAME, account(), {**holder_presents(), "new_name": "陈伟"}),
        (BusinessKind.CONTACT_CHANGE, account(), holder_presents()),
        (BusinessKind.TRANSFER, account(arrears_fen=5), NEW_HOLDER),
    ]
    for kind, acct, raw in cases:
        reason = checked(kind, acct, raw).reason
        assert reason is not None
        assert any("\u4e00" <= c <= "\u9fff" for c in reason.zh)
        assert not any("\u4e00" <= c <= "\u9fff" for c in reason.en)


# --- the validity of the ID document presented ------------------------------------------------


def test_a_transfer_records_the_new_holders_id_validity():
    payload = validate_payload(BusinessKind.TRANSFER,
                               {**NEW_HOLDER, "new_holder_id_valid_until": "2036-05-31"})
    assert check(BusinessKind.TRANSFER, account(), payload, today=TODAY).allowed
    after = apply_change(BusinessKind.TRANSFER, account(id_valid_until=date(2027, 1, 1)), payload)
    assert after.id_valid_until == date(2036, 5, 31)


def test_a_transfer_without_the_validity_forgets_the_old_holders():
    after = apply_change(BusinessKind.TRANSFER, account(id_valid_until=date(2027, 1, 1)),
                         validate_payload(BusinessKind.TRANSFER, NEW_HOLDER))
    assert after.id_valid_until is None


@pytest.mark.parametrize("kind, raw", [
    (BusinessKind.TRANSFER, {**NEW_HOLDER, "new_holder_id_valid_until": "2026-11-24"}),
    (BusinessKind.NEW_CONNECTION, {
        "applicant_name": "陈志明", "applicant_id_type": "resident_id",
        "applicant_id_number": OTHER_ID, "phone": "13800138000",
        "supply_address": "广州市天河区天河路385号12栋1803房",
        "applicant_id_valid_until": "2026-11-24"}),
])
def test_an_expired_id_document_is_refused_with_its_end_date(kind, raw):
    decision = check(kind, account(), validate_payload(kind, raw), today=date(2026, 11, 25))
    assert not decision.allowed
    assert decision.reason.zh == "出示的证件已于 2026-11-24 过期，请出示有效证件"
    assert "expired on 2026-11-24" in decision.reason.en


def test_an_id_valid_through_today_is_accepted():
    payload = validate_payload(BusinessKind.TRANSFER,
                               {**NEW_HOLDER, "new_holder_id_valid_until": "2026-11-25"})
    assert check(BusinessKind.TRANSFER, account(), payload, today=date(2026, 11, 25)).allowed
