"""The SMS consent on the forms: SMS reach mainland mobile numbers only, so with another phone
the choice says why "yes" cannot be given and does not offer it."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox

from hallclient.forms import FORMS
from hallclient.ui import palette
from hallclient.ui.form_view import FormView
from hallclient.ui.i18n import use_language
from hallcore.domain.business import BusinessKind
from tests.support.factories import HOLDER_ID, account

NOT_A_MOBILE = "SMS can only be sent to a mainland mobile number"


def form(qtbot, kind):
    view = FormView(FORMS[kind])
    qtbot.addWidget(view)
    view.show()
    return view


def yes_offered(combo: QComboBox) -> bool:
    model = combo.model()
    assert isinstance(model, QStandardItemModel)
    return model.item(combo.findData(True)).isEnabled()


def type_phone(qtbot, view, text):
    field = view.inputs["phone"]
    field.setFocus()
    field.clear()
    qtbot.keyClicks(field, text)


@pytest.mark.parametrize("phone", ["020-87654321", "+852 9123 4567"])
def test_a_phone_that_is_no_mainland_mobile_takes_yes_off_the_consent_and_says_why(
        qtbot, english, phone):
    view = form(qtbot, BusinessKind.NEW_CONNECTION)
    consent = view.inputs["sms_consent"]
    assert yes_offered(consent)
    type_phone(qtbot, view, phone)
    assert not yes_offered(consent)
    note = view.errors["sms_consent"]
    assert note.isVisible() and note.text().startswith(NOT_A_MOBILE)
    assert note.styleSheet() == palette.text_colour(palette.MUTED)  # a note, not an error
    assert note.text().endswith("consent can be given once a mobile number is entered")
    consent.setFocus()
    qtbot.keyClick(consent, Qt.Key.Key_Down)  # past "not asked": "yes" is skipped
    assert view.values()["sms_consent"] is False
    # Beside a "no" already chosen: not "or set SMS consent to no".
    assert note.text().endswith("consent can be given once a mobile number is entered")


def test_a_mobile_offers_yes_again(qtbot, english):
    view = form(qtbot, BusinessKind.NEW_CONNECTION)
    type_phone(qtbot, view, "020-87654321")
    type_phone(qtbot, view, "139 2233 4455")
    assert yes_offered(view.inputs["sms_consent"])
    assert view.errors["sms_consent"].text() == ""


def test_a_phone_still_being_typed_does_not_take_yes_off(qtbot, english):
    view = form(qtbot, BusinessKind.NEW_CONNECTION)
    type_phone(qtbot, view, "0208765")
    assert yes_offered(view.inputs["sms_consent"])


def test_yes_given_before_the_phone_turned_landline_is_refused_beside_the_consent(
        qtbot, english):
    view = form(qtbot, BusinessKind.NEW_CONNECTION)
    view.fill({"sms_consent": True})
    type_phone(qtbot, view, "020-87654321")
    error = view.errors["sms_consent"]
    assert error.text().startswith(NOT_A_MOBILE)
    assert error.styleSheet() == palette.text_colour(palette.REFUSED)
    with qtbot.assertNotEmitted(view.submitted):
        view.submit()
    assert view.errors["sms_consent"].text().startswith(NOT_A_MOBILE)


def test_the_new_holders_phone_governs_the_transfers_consent(qtbot, english):
    view = form(qtbot, BusinessKind.TRANSFER)
    field = view.inputs["new_holder_phone"]
    field.setFocus()
    qtbot.keyClicks(field, "010-62345678-12")
    assert not yes_offered(view.inputs["new_holder_sms_consent"])
    assert "new holder's phone is not one" in view.errors["new_holder_sms_consent"].text()


def contact_change(qtbot, **on_record):
    view = form(qtbot, BusinessKind.CONTACT_CHANGE)
    view.fill({"applicant_id_type": "resident_id", "applicant_id_number": HOLDER_ID})
    view.show_current(account(**on_record))
    return view


def test_a_contact_change_judges_the_consent_on_the_phone_on_record(qtbot, english):
    view = contact_change(qtbot, phone="020-87654321", sms_consent=False)
    assert not yes_offered(view.inputs["sms_consent"])
    assert "phone on record is not one" in view.errors["sms_consent"].text()
    type_phone(qtbot, view, "13812345678")  # a new mobile: yes is possible again
    assert yes_offered(view.inputs["sms_consent"])


def test_keeping_the_consent_on_record_with_a_new_landline_is_an_error(qtbot, english):
    view = contact_change(qtbot, phone="13912345678", sms_consent=True)
    type_phone(qtbot, view, "020-87654321")
    error = view.errors["sms_consent"]
    assert error.text().startswith(NOT_A_MOBILE)
    assert error.styleSheet() == palette.text_colour(palette.REFUSED)
    with qtbot.assertNotEmitted(view.submitted):
        view.submit()
    consent = view.inputs["sms_consent"]
    consent.setCurrentIndex(consent.findData(False))  # the customer says no
    assert view.errors["sms_consent"].text().startswith(NOT_A_MOBILE)  # why yes is not offered
    with qtbot.waitSignal(view.submitted) as sent:
        view.submit()
    assert sent.args[0]["phone"] == "020-87654321" and sent.args[0]["sms_consent"] is False


def test_the_reason_follows_the_language(qtbot, english):
    view = form(qtbot, BusinessKind.NEW_CONNECTION)
    type_phone(qtbot, view, "020-87654321")
    use_language("zh")
    assert view.errors["sms_consent"].text().startswith("短信只能发到大陆手机号码")
