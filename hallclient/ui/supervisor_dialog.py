"""The supervisor signs off at the counter: what is signed off and why it needs the sign-off,
their id and password. The check itself (hallclient/auth/approval.py: a request's sign-off
online or offline, or an extension of the offline window) is given by the window, bound to what
needs it; the dialog only says what it answered."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from hallclient.counter.approval import ApprovalSubject
from hallclient.store.operations import OverrideNeeded, SignOff
from hallclient.ui.i18n import current_language, follow_language
from hallclient.ui.password_prompt import PasswordPrompt
from hallcore.domain.accounts import format_yuan
from hallcore.domain.text import Lang, Text, sentence

# (supervisor id, password, what needs the sign-off) -> the sign-off of the operation the
# OverrideNeeded names, or raises ApprovalRefused with the reason in both languages
Approve = Callable[[str, str, OverrideNeeded], SignOff]
# (supervisor id, password) -> what the supervisor's sign-off gave (a SignOff bound to one
# OverrideNeeded, an extension), or raises with the reason (as CheckPassword of
# hallclient/ui/idle_lock.py): what the dialog checks
SignOffCheck = Callable[[str, str], object]


class SupervisorDialog(QDialog):
    approved = Signal(object)  # what the check gave

    def __init__(self, reasons: tuple[Text, ...], approve: SignOffCheck,
                 parent: QWidget | None = None, *,
                 subject: ApprovalSubject | None = None) -> None:
        super().__init__(parent)
        self.reasons = reasons
        self.subject = subject
        self._approve = approve
        self.setModal(True)
        # What is signed off, when it is a request: titled with its business.
        self.subject_box = QGroupBox(self)
        self.subject_box.setVisible(subject is not None)
        self._subject_form = QFormLayout(self.subject_box)
        self._subject_labels: list[tuple[QLabel, QLabel]] = []
        self.reason = QLabel(self)
        self.reason.setWordWrap(True)
        self.supervisor = QLineEdit(self)
        self.sign_off_button = QPushButton(self)
        self.sign_off_button.setDefault(True)
        self.sign_off_button.clicked.connect(self.sign_off)
        self.password = PasswordPrompt(self.sign_off_button, self)
        self.password.returnPressed.connect(self.sign_off)
        self.message = self.password.message
        self.cancel_button = QPushButton(self)
        self.cancel_button.clicked.connect(self.reject)
        self.supervisor_label = QLabel(self)
        self.password_label = QLabel(self)
        form = QFormLayout(self)
        form.addRow(self.subject_box)
        form.addRow(self.reason)
        form.addRow(self.supervisor_label, self.supervisor)
        form.addRow(self.password_label, self.password)
        form.addRow(self.message)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.sign_off_button)
        form.addRow(buttons)
        # Id, password, then the buttons: the password field is made after its button.
        self.setTabOrder(self.supervisor, self.password)
        self.setTabOrder(self.password, self.sign_off_button)
        self.setTabOrder(self.sign_off_button, self.cancel_button)
        self.setMinimumWidth(460)
        follow_language(self, self.retranslate)
        self.supervisor.setFocus()

    def retranslate(self) -> None:
        lang = current_language()
        self.setWindowTitle(self.tr("Supervisor sign-off"))
        if self.subject is not None:
            self.subject_box.setTitle(self.subject.business_label[lang])
            self._show_subject(self._subject_rows(self.subject, lang))
        self.reason.setText("\n".join(sentence(r[lang]) for r in self.reasons))
        self.supervisor_label.setText(self.tr("Supervisor id"))
        self.password_label.setText(self.tr("Password"))
        self.sign_off_button.setText(self.tr("Sign off"))
        self.cancel_button.setText(self.tr("Cancel"))

    def _subject_rows(self, subject: ApprovalSubject, lang: Lang) -> list[tuple[str, str]]:
        """(label, value) of each line of what is signed off: the account, then the values
        the request records."""
        rows = []
        if subject.account_number is not None:
            rows.append((self.tr("Account"), subject.account_number))
        if subject.holder_name is not None:
            rows.append((self.tr("Holder"), subject.holder_name))
        if subject.arrears_fen is not None:
            rows.append((self.tr("Arrears"), format_yuan(subject.arrears_fen)))
        rows.extend((sentence(label[lang]), value[lang] if isinstance(value, Text) else value)
                    for label, value in subject.values)
        return rows

    def _show_subject(self, rows: list[tuple[str, str]]) -> None:
        """The rows in the subject's box: made at the first call, relabelled at the others
        (a language switch changes the words, not the rows)."""
        while len(self._subject_labels) < len(rows):
            label, value = QLabel(self.subject_box), QLabel(self.subject_box)
            value.setWordWrap(True)  # an address
            self._subject_form.addRow(label, value)
            self._subject_labels.append((label, value))
        for (label, value), (label_text, value_text) in zip(self._subject_labels, rows,
                                                            strict=True):
            label.setText(label_text)
            value.setText(value_text)

    def sign_off(self) -> None:
        supervisor = self.supervisor.text().strip()
        if supervisor:
            self.password.check(lambda password: self._approve(supervisor, password),
                                on_passed=self._approved)

    def _approved(self, given: object) -> None:
        self.approved.emit(given)
        self.accept()
