"""Business forms: the spec in plain Python, and the generated view driven as a clerk would."""

import itertools

import pytest
from PySide6.QtCore import Qt

from hallclient.forms import FORMS
from hallclient.ui.form_view import FormView
from hallclient.ui.i18n import use_language
from hallcore.domain.business import BUSINESS_TYPES, BusinessKind
from tests.support.factories import HOLDER_ID, OTHER_ID

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
    assert reason is not None and "check character" in reason.en
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
    assert "Check character should be" in transfer_view.errors["new_holder_id_number"].text()
    qtbot.keyClick(id_field, Qt.Key.Key_Backspace)
    qtbot.keyClicks(id_field, OTHER_ID[-1])
    assert transfer_view.errors["new_holder_id_number"].text() == ""


def test_enter_walks_every_field_choices_and_boxes_too_and_submits_on_the_last(
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
        qtbot.keyClick(inputs[here], Qt.Key.Key_Return)
        assert inputs[there].hasFocus(), there
    with qtbot.waitSignal(transfer_view.submitted) as sent:
        qtbot.keyClick(inputs["carry_arrears"], Qt.Key.Key_Return)
    payload = sent.args[0]
    assert payload["new_holder_name"] == "Li Na" and "new_holder_sms_consent" not in payload


def test_card_reader_enter_moves_to_the_next_field(qtbot, transfer_view):
    id_field = transfer_view.inputs["new_holder_id_number"]
    type_into(qtbot, id_field, OTHER_ID)
    qtbot.keyClick(id_field, Qt.Key.Key_Return)
    assert transfer_view.inputs["new_holder_phone"].hasFocus()


def test_valid_form_submits_a_clean_payload(qtbot, transfer_view):
    type_into(qtbot, transfer_view.inputs["new_holder_name"], "林晓燕")
    type_into(qtbot, transfer_view.inputs["new_holder_id_number"], OTHER_ID.lower())
    type_into(qtbot, transfer_view.inputs["new_holder_phone"], "139 2233 4455")
    with qtbot.waitSignal(transfer_view.submitted) as sent:
        qtbot.keyClick(transfer_view.inputs["new_holder_phone"], Qt.Key.Key_Return,
                       Qt.KeyboardModifier.ControlModifier)
    assert sent.args[0] == {
        "new_holder_name": "林晓燕", "new_holder_id_type": "resident_id",
        "new_holder_id_number": OTHER_ID, "new_holder_phone": "13922334455"}


def test_submitting_an_incomplete_form_shows_every_missing_field(qtbot, transfer_view):
    with qtbot.assertNotEmitted(transfer_view.submitted):
        transfer_view.submit()
    assert transfer_view.errors["new_holder_name"].text() == "New holder is required"
    assert transfer_view.errors["new_holder_phone"].text() == "New holder's phone is required"
    assert transfer_view.inputs["new_holder_name"].hasFocus()


def test_optional_yes_no_is_left_out_until_the_clerk_says(qtbot):
    view = FormView(FORMS[BusinessKind.CONTACT_CHANGE])
    qtbot.addWidget(view)
    view.fill({"applicant_id_type": "resident_id", "applicant_id_number": HOLDER_ID,
               "phone": "020-87654321"})
    assert "sms_consent" not in view.values()
    view.inputs["sms_consent"].setCheckState(Qt.CheckState.Unchecked)
    assert view.values()["sms_consent"] is False


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
