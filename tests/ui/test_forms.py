"""Business forms: the spec in plain Python, and the generated view driven as a clerk would."""

import dataclasses
import itertools
from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import Qt

from hallclient.forms import FORMS
from hallclient.forms.spec import CHOICES, ID_END_DAYS_BACK, KEEP_CURRENT
from hallclient.ui.form_view import DateField, FormView
from hallclient.ui.i18n import use_language
from hallcore.domain.accounts import Account
from hallcore.domain.business import (
    BUSINESS_TYPES,
    MAX_SUSPENSION,
    BusinessKind,
    apply_change,
    validate_payload,
)
from hallcore.domain.deadlines import HALL_TZ
from tests.support.factories import HOLDER_ID, OTHER_ID, account, holder_presents

TRANSFER = FORMS[BusinessKind.TRANSFER]


def test_every_business_type_has_a_form_with_its_own_shortcut():
    assert set(FORMS) == set(BusinessKind)
    shortcuts = [spec.shortcut for spec in FORMS.values()]
    assert len(set(shortcuts)) == len(shortcuts)
    for kind, spec in FORMS.items():
        assert [f.name for f in spec.fields] == [f.name for f in BUSINESS_TYPES[kind].fields]


def test_field_check_names_the_problem_but_not_a_blank_while_typing():
    values = {"new_holder_id_type": "resident_id", "new_holder_id_number": OTHER_ID[:-1] + "0"}
    reason = TRANSFER.check_field("new_holder_id_number", values)
    assert reason is not None and "every digit" in reason.en
    assert TRANSFER.check_field("new_holder_name", values) is None  # not typed yet


def test_holder_forms_take_the_id_type_from_the_account():
    assert FORMS[BusinessKind.SUSPEND].prefill_from_account == {"applicant_id_type": "id_type"}
    assert TRANSFER.prefill_from_account == {}


@pytest.fixture
def transfer_view(qtbot, english):
    view = FormView(TRANSFER)
    qtbot.addWidget(view)
    view.show()
    return view


def type_into(qtbot, widget, text):
    widget.setFocus()
    if text.isascii():
        qtbot.keyClicks(widget, text)
    else:
        widget.insert(text)  # Chinese arrives from the input method as committed text


def test_message_appears_beside_the_field_as_the_clerk_types(qtbot, transfer_view):
    id_field = transfer_view.inputs["new_holder_id_number"]
    type_into(qtbot, id_field, OTHER_ID[:-1] + "0")
    assert transfer_view.errors["new_holder_id_number"].text() == (
        "The number fails its check: read the card again, or compare every digit with the "
        "document")
    qtbot.keyClick(id_field, Qt.Key.Key_Backspace)
    qtbot.keyClicks(id_field, OTHER_ID[-1])
    assert transfer_view.errors["new_holder_id_number"].text() == ""


def test_enter_walks_every_field_choices_and_dates_too_and_submits_on_the_last(
        qtbot, transfer_view):
    inputs = transfer_view.inputs
    type_into(qtbot, inputs["new_holder_name"], "Li Na")
    order = ["new_holder_name", "new_holder_id_type", "new_holder_id_number",
             "new_holder_phone", "new_holder_sms_consent", "new_holder_sms_language",
             "new_holder_id_valid_until", "carry_arrears"]
    assert list(inputs) == order
    for here, there in itertools.pairwise(order):
        if here == "new_holder_id_number":
            type_into(qtbot, inputs[here], OTHER_ID)
        elif here == "new_holder_phone":
            type_into(qtbot, inputs[here], "13922334455")
        elif here == "new_holder_sms_consent":
            qtbot.keyClick(inputs[here], Qt.Key.Key_Down)  # "Yes"
        qtbot.keyClick(inputs[here], Qt.Key.Key_Return)
        assert inputs[there].hasFocus(), there
    with qtbot.waitSignal(transfer_view.submitted) as sent:
        qtbot.keyClick(inputs["carry_arrears"], Qt.Key.Key_Return)
    payload = sent.args[0]
    assert payload["new_holder_name"] == "Li Na" and payload["new_holder_sms_consent"] is True
    assert "carry_arrears" not in payload and "new_holder_id_valid_until" not in payload


def test_card_reader_enter_moves_to_the_next_field(qtbot, transfer_view):
    id_field = transfer_view.inputs["new_holder_id_number"]
    type_into(qtbot, id_field, OTHER_ID)
    qtbot.keyClick(id_field, Qt.Key.Key_Return)
    assert transfer_view.inputs["new_holder_phone"].hasFocus()


def test_valid_form_submits_a_clean_payload(qtbot, transfer_view):
    type_into(qtbot, transfer_view.inputs["new_holder_name"], "林晓燕")
    type_into(qtbot, transfer_view.inputs["new_holder_id_number"], OTHER_ID.lower())
    type_into(qtbot, transfer_view.inputs["new_holder_phone"], "139 2233 4455")
    consent = transfer_view.inputs["new_holder_sms_consent"]
    consent.setFocus()
    qtbot.keyClicks(consent, "n")  # "No", as a clerk picks it by its first letter
    with qtbot.waitSignal(transfer_view.submitted) as sent:
        qtbot.keyClick(consent, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert sent.args[0] == {
        "new_holder_name": "林晓燕", "new_holder_id_type": "resident_id",
        "new_holder_id_number": OTHER_ID, "new_holder_phone": "13922334455",
        "new_holder_sms_consent": False}


def test_submitting_an_incomplete_form_shows_every_missing_field(qtbot, transfer_view):
    with qtbot.assertNotEmitted(transfer_view.submitted):
        transfer_view.submit()
    assert transfer_view.errors["new_holder_name"].text() == "New holder is required"
    assert transfer_view.errors["new_holder_phone"].text() == "New holder's phone is required"
    assert transfer_view.inputs["new_holder_name"].hasFocus()


def test_optional_yes_no_is_left_out_until_the_clerk_says(qtbot, english):
    view = FormView(FORMS[BusinessKind.CONTACT_CHANGE])
    qtbot.addWidget(view)
    view.show()
    view.fill({"applicant_id_type": "resident_id", "applicant_id_number": HOLDER_ID,
               "phone": "13812345678"})
    consent = view.inputs["sms_consent"]
    assert "sms_consent" not in view.values()
    consent.setFocus()
    qtbot.keyClick(consent, Qt.Key.Key_Down)
    assert view.values()["sms_consent"] is True
    qtbot.keyClick(consent, Qt.Key.Key_Down)
    assert view.values()["sms_consent"] is False
    qtbot.keyClick(consent, Qt.Key.Key_Home)
    assert "sms_consent" not in view.values()


def choices(combo):
    return [combo.itemText(i) for i in range(combo.count())]


@pytest.mark.parametrize(("kind", "field", "unset"), [
    (BusinessKind.NEW_CONNECTION, "sms_consent", "— not asked —"),
    (BusinessKind.TRANSFER, "new_holder_sms_consent", "— not asked —"),
    (BusinessKind.TRANSFER, "carry_arrears", "— not asked —"),
    (BusinessKind.CONTACT_CHANGE, "sms_consent", "— keep current —"),
])
def test_a_yes_no_is_a_labelled_three_way_choice_that_says_what_leaving_it_does(
        qtbot, english, kind, field, unset):
    view = FormView(FORMS[kind])
    qtbot.addWidget(view)
    assert choices(view.inputs[field]) == [unset, "Yes", "No"]
    use_language("zh")
    assert choices(view.inputs[field])[1:] == ["是", "否"]


def test_the_sms_language_left_alone_in_a_contact_change_says_it_stays(qtbot, english):
    view = FormView(FORMS[BusinessKind.CONTACT_CHANGE])
    qtbot.addWidget(view)
    assert choices(view.inputs["sms_language"]) == ["— keep current —", "Chinese", "English"]


def test_keep_current_is_what_the_domain_does_with_a_field_left_out():
    """A choice labelled "keep current" must not change the account when left out."""
    before = account(sms_consent=True, sms_language="en")
    payloads = {BusinessKind.CONTACT_CHANGE: {**holder_presents(before), "phone": "13800138000"}}
    for kind, spec in FORMS.items():
        for name in (n for n in spec.current_from_account
                     if spec.business.field(n).kind in CHOICES
                     and spec.choices(n)[0] == (None, KEEP_CURRENT)):
            payload = validate_payload(kind, payloads[kind])
            assert name not in payload
            attribute = spec.current_from_account[name]
            after = apply_change(kind, before, payload)
            assert getattr(after, attribute) == getattr(before, attribute), (kind, name)


def test_every_current_value_names_an_account_attribute():
    attributes = {f.name for f in dataclasses.fields(Account)}
    for spec in FORMS.values():
        assert set(spec.current_from_account.values()) <= attributes
        assert set(spec.current_from_account) <= {f.name for f in spec.fields}


def test_a_transfer_asks_the_new_holder_about_sms_rather_than_turning_it_off(
        qtbot, transfer_view):
    """Left out, a transfer turns SMS notices off: the form does not send it unanswered."""
    type_into(qtbot, transfer_view.inputs["new_holder_name"], "Li Na")
    type_into(qtbot, transfer_view.inputs["new_holder_id_number"], OTHER_ID)
    type_into(qtbot, transfer_view.inputs["new_holder_phone"], "13922334455")
    consent = transfer_view.inputs["new_holder_sms_consent"]
    assert transfer_view.labels["new_holder_sms_consent"].text() == "Agrees to SMS notices"
    with qtbot.assertNotEmitted(transfer_view.submitted):
        transfer_view.submit()
    assert transfer_view.errors["new_holder_sms_consent"].text() == (
        "Ask the customer, then choose")
    assert consent.hasFocus()
    qtbot.keyClick(consent, Qt.Key.Key_Down)  # "Yes"
    assert transfer_view.errors["new_holder_sms_consent"].text() == ""
    with qtbot.waitSignal(transfer_view.submitted) as sent:
        qtbot.keyClick(consent, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert sent.args[0]["new_holder_sms_consent"] is True


def hall_today():
    return datetime.now(HALL_TZ).date()


@pytest.fixture
def suspend_view(qtbot, english):
    view = FormView(FORMS[BusinessKind.SUSPEND])
    qtbot.addWidget(view)
    view.show()
    qtbot.waitActive(view)
    view.fill({"applicant_id_number": HOLDER_ID})
    return view


def test_a_date_is_picked_from_a_calendar_and_offers_only_the_days_the_domain_takes(
        suspend_view):
    resume = suspend_view.inputs["resume_on"]
    assert isinstance(resume, DateField) and resume.calendarPopup()
    assert resume.displayFormat() == "yyyy-MM-dd"
    assert resume.text() == f"— not given; at most {MAX_SUSPENSION.days} days —"
    assert "resume_on" not in suspend_view.values()
    first = resume.minimumDate().addDays(1).toPython()
    assert first == hall_today() + timedelta(days=1)  # a resumption is after today
    valid_until = FormView(FORMS[BusinessKind.TRANSFER]).inputs["new_holder_id_valid_until"]
    # An ID document's end date is typed as on the document, expired or not (and then refused).
    assert valid_until.minimumDate().addDays(1).toPython() == hall_today() - timedelta(
        days=ID_END_DAYS_BACK)


@pytest.mark.parametrize("typed", ["{d:%Y-%m-%d}", "{d:%Y%m%d}"])
def test_a_typed_date_gives_the_iso_day_and_enter_on_it_submits(qtbot, suspend_view, typed):
    resume = suspend_view.inputs["resume_on"]
    day = hall_today() + timedelta(days=40)
    resume.setFocus()
    qtbot.keyClicks(resume, typed.format(d=day))
    with qtbot.waitSignal(suspend_view.submitted) as sent:
        qtbot.keyClick(resume, Qt.Key.Key_Return)  # the last field: submit
    assert sent.args[0]["resume_on"] == day.isoformat()


def test_delete_leaves_a_date_out_again(qtbot, suspend_view):
    resume = suspend_view.inputs["resume_on"]
    resume.setFocus()
    qtbot.keyClicks(resume, (hall_today() + timedelta(days=9)).strftime("%Y%m%d"))
    assert "resume_on" in suspend_view.values()
    qtbot.keyClick(resume, Qt.Key.Key_Delete)
    assert "resume_on" not in suspend_view.values()
    assert resume.text().startswith("— not given")


def test_a_day_asked_earlier_is_filled_in_as_asked_for_the_rules_to_judge(suspend_view):
    suspend_view.fill({"resume_on": "2020-01-31"})
    assert suspend_view.values()["resume_on"] == "2020-01-31"
    suspend_view.clear()
    assert "resume_on" not in suspend_view.values()
    assert suspend_view.inputs["resume_on"].minimumDate().toPython() == hall_today()


def test_the_contact_change_shows_the_accounts_values_now_masked(qtbot, english):
    view = FormView(FORMS[BusinessKind.CONTACT_CHANGE])
    qtbot.addWidget(view)
    view.show()
    assert not any(label.isVisible() for label in view.current.values())  # no account
    view.show_current(account(phone="13812341234", mailing_address=None, sms_consent=True,
                              sms_language="zh"))
    assert {name: label.text() for name, label in view.current.items()} == {
        "phone": "now: 138****1234", "mailing_address": "now: nothing on record",
        "sms_consent": "now: Yes", "sms_language": "now: Chinese"}
    assert all(label.isVisible() for label in view.current.values())
    use_language("zh")
    assert view.current["sms_consent"].text().endswith("是")
    view.clear()  # the next customer sees nothing of this one
    assert not any(label.isVisible() or label.text() for label in view.current.values())


@pytest.mark.parametrize(("kind", "field"), [(BusinessKind.TRANSFER, "new_holder_name"),
                                             (BusinessKind.RENAME, "new_name")])
def test_a_change_of_holder_or_name_shows_the_name_now(qtbot, english, kind, field):
    view = FormView(FORMS[kind])
    qtbot.addWidget(view)
    view.show_current(account(holder_name="陈伟"))
    assert view.current[field].text() == "now: 陈伟"


def test_an_id_number_or_phone_now_is_masked(qtbot, english):
    spec = dataclasses.replace(TRANSFER, current_from_account={
        "new_holder_id_number": "id_number", "new_holder_phone": "phone"})
    view = FormView(spec)
    qtbot.addWidget(view)
    view.show_current(account(id_number=HOLDER_ID, phone="020-87654321"))
    assert view.current["new_holder_id_number"].text() == (
        f"now: {HOLDER_ID[:4]}{'*' * 10}{HOLDER_ID[-4:]}")
    assert view.current["new_holder_phone"].text() == "now: 020-****4321"


def test_language_switch_relabels_at_once_and_keeps_the_input(qtbot, transfer_view):
    type_into(qtbot, transfer_view.inputs["new_holder_id_number"], "123")
    assert transfer_view.title.text() == "Transfer of account"
    english_error = transfer_view.errors["new_holder_id_number"].text()
    use_language("zh")
    assert transfer_view.title.text() == "过户"
    assert transfer_view.labels["new_holder_name"].text() == "新户主姓名"
    assert transfer_view.inputs["new_holder_id_number"].text() == "123"
    chinese_error = transfer_view.errors["new_holder_id_number"].text()
    assert chinese_error and chinese_error != english_error
    assert transfer_view.submit_button.text().startswith("提交受理")
