"""The supervisor's sign-off at the counter (pytest-qt): what is signed off, shown above why;
what the check answered, in the clerk's language, whole, and again after Ctrl+L."""

import logging

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from hallclient.auth.approval import EXTENSION_REASON, ApprovalRefused
from hallclient.counter.approval import ApprovalSubject
from hallclient.ui.i18n import current_language
from hallclient.ui.supervisor_dialog import SupervisorDialog
from hallcore.domain.business import BusinessKind, validate_payload
from hallcore.domain.masking import mask_id_number
from hallcore.domain.text import Text
from tests.support.factories import OTHER_ID, account

WARNING = Text("新户主将承接欠费 ¥123.45", "the new holder takes on arrears of ¥123.45")
TRANSFER = {
    "new_holder_name": "李娜", "new_holder_id_type": "resident_id",
    "new_holder_id_number": OTHER_ID, "new_holder_phone": "13800138000",
    "carry_arrears": True,
}
WRONG = Text("主管工号或密码不对", "the supervisor id or password is wrong")


def shown(qtbot, dialog):
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    return dialog


def subject_texts(dialog):
    return [label.text() for label in dialog.subject_box.findChildren(QLabel)]


def switch_language(qtbot, dialog):
    """Ctrl+L, as the clerk presses it in the dialog."""
    qtbot.keyClick(dialog.supervisor, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)


def sign_off(qtbot, dialog, supervisor="gz-th-01-s1", password="guess"):
    qtbot.keyClicks(dialog.supervisor, supervisor)
    qtbot.keyClicks(dialog.password, password)
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)


def refused_with(qtbot, dialog, exc):
    def check(supervisor, password):
        raise exc

    dialog._approve = check
    sign_off(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.message.text() != "" and dialog.sign_off_button.isEnabled())


@pytest.fixture
def transfer_dialog(qtbot, english):
    subject = ApprovalSubject.of(BusinessKind.TRANSFER, account(arrears_fen=12_345),
                                 validate_payload(BusinessKind.TRANSFER, TRANSFER))
    return shown(qtbot, SupervisorDialog((WARNING,), lambda s, p: None, subject=subject))


def test_the_supervisor_sees_the_business_account_holder_arrears_and_new_values(
        qtbot, transfer_dialog):
    dialog = transfer_dialog
    assert dialog.subject_box.isVisible()
    assert dialog.subject_box.title() == "Transfer of account"
    texts = subject_texts(dialog)
    for expected in ("1000000001", "陈伟", "¥123.45", "New holder", "李娜",
                     "Resident Identity Card", mask_id_number(OTHER_ID), "138****8000"):
        assert expected in texts, expected
    assert OTHER_ID not in texts and "13800138000" not in texts
    # What is signed off comes first, then why it needs the sign-off.
    assert dialog.subject_box.geometry().bottom() < dialog.reason.geometry().top()
    assert dialog.reason.text() == "The new holder takes on arrears of ¥123.45"
    switch_language(qtbot, transfer_dialog)
    assert current_language() == "zh"
    assert dialog.subject_box.title() == "过户"
    assert {"新户主姓名", "居民身份证", "是"} <= set(subject_texts(dialog))
    assert dialog.reason.text() == "新户主将承接欠费 ¥123.45"


def test_the_offline_window_extension_has_no_subject_and_still_signs_off(qtbot, english):
    given = []
    dialog = shown(qtbot, SupervisorDialog(
        (EXTENSION_REASON,), lambda supervisor, password: given.append(supervisor) or "facts"))
    assert not dialog.subject_box.isVisible()
    assert "offline window" in dialog.reason.text()
    with qtbot.waitSignal(dialog.approved) as approved:
        sign_off(qtbot, dialog, password="right")
    assert approved.args == ["facts"] and given == ["gz-th-01-s1"]


def test_a_refusal_is_said_in_the_clerks_language_and_again_after_ctrl_l(
        qtbot, transfer_dialog):
    refused_with(qtbot, transfer_dialog, ApprovalRefused(WRONG))
    assert transfer_dialog.message.text() == "The supervisor id or password is wrong"
    assert transfer_dialog.password.text() == ""
    switch_language(qtbot, transfer_dialog)
    assert transfer_dialog.message.text() == "主管工号或密码不对"


def test_a_fault_is_never_shown_raw_and_its_text_stays_out_of_the_log(
        qtbot, transfer_dialog, caplog):
    leak = f"cannot read the keyring entry of {OTHER_ID}"
    with caplog.at_level(logging.WARNING):
        refused_with(qtbot, transfer_dialog, RuntimeError(leak))
    said = transfer_dialog.message.text()
    assert said.startswith("The password could not be checked") and OTHER_ID not in said
    assert "RuntimeError" in caplog.text and OTHER_ID not in caplog.text


def test_a_two_line_refusal_is_shown_whole_in_either_language(qtbot, transfer_dialog):
    long = ApprovalRefused(Text(
        "主管在本终端没有签批密钥（或此后改过密码）：须先在服务器连得上时，在本终端联网签批一次，"
        "之后才能在这里离线签批",
        "the supervisor has no sign-off key on this terminal (or their password has changed "
        "since it was made): they must sign off online once at this terminal, while the "
        "server can be reached, before they can sign off here offline"))
    refused_with(qtbot, transfer_dialog, ApprovalRefused(WRONG))  # one line, then two
    height = transfer_dialog.height()
    refused_with(qtbot, transfer_dialog, long)
    label = transfer_dialog.message.label
    assert label.heightForWidth(label.width()) >= 2 * label.fontMetrics().lineSpacing()
    qtbot.waitUntil(lambda: nothing_cut(transfer_dialog))
    assert transfer_dialog.height() > height  # the dialog grew for it
    switch_language(qtbot, transfer_dialog)
    assert label.text().startswith("主管在本终端没有签批密钥")
    qtbot.waitUntil(lambda: nothing_cut(transfer_dialog))


def nothing_cut(dialog):
    """The message, and what is signed off above it, each as tall as its words need at its
    width (a squeezed box loses its last rows)."""
    return all(w.height() >= w.heightForWidth(w.width())
               for w in (dialog.message.label, dialog.subject_box, dialog.reason))


def test_tab_goes_from_the_id_to_the_password_then_to_sign_off(qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    dialog = SupervisorDialog((Text("须主管确认", "needs a supervisor"),),
                              lambda supervisor, password: None)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.supervisor.hasFocus)
    order = []
    for _ in range(3):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        order.append(QApplication.focusWidget())
    assert order == [dialog.password, dialog.sign_off_button, dialog.cancel_button]
