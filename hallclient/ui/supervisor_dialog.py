"""The supervisor signs off at the counter: what needs the sign-off, their id and password.
The check itself (hallclient/auth/approval.py: a request's sign-off online or offline, or an
extension of the offline window) is given by the window, bound to what needs it; the dialog
only says what it answered."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QLineEdit, QPushButton, QWidget

from hallclient.store.operations import OverrideNeeded, SignOff
from hallclient.ui.i18n import current_language, follow_language
from hallclient.ui.password_prompt import PasswordPrompt
from hallcore.domain.text import Text

# (supervisor id, password, what needs the sign-off) -> the sign-off of the operation the
# OverrideNeeded names, or raises with the reason in words
Approve = Callable[[str, str, OverrideNeeded], SignOff]
# (supervisor id, password) -> what the supervisor's sign-off gave (a SignOff bound to one
# OverrideNeeded, an extension), or raises with the reason in words: what the dialog checks
SignOffCheck = Callable[[str, str], object]


class SupervisorDialog(QDialog):
    approved = Signal(object)  # what the check gave

    def __init__(self, reasons: tuple[Text, ...], approve: SignOffCheck,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reasons = reasons
        self._approve = approve
        self.setModal(True)
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
        form.addRow(self.reason)
        form.addRow(self.supervisor_label, self.supervisor)
        form.addRow(self.password_label, self.password)
        form.addRow(self.message)
        form.addRow(self.cancel_button, self.sign_off_button)
        self.setMinimumWidth(460)
        follow_language(self, self.retranslate)
        self.supervisor.setFocus()

    def retranslate(self) -> None:
        lang = current_language()
        self.setWindowTitle(self.tr("Supervisor sign-off"))
        self.reason.setText("\n".join(r[lang] for r in self.reasons))
        self.supervisor_label.setText(self.tr("Supervisor id"))
        self.password_label.setText(self.tr("Password"))
        self.sign_off_button.setText(self.tr("Sign off"))
        self.cancel_button.setText(self.tr("Cancel"))

    def sign_off(self) -> None:
        supervisor = self.supervisor.text().strip()
        if supervisor:
            self.password.check(lambda password: self._approve(supervisor, password),
                                on_passed=self._approved)

    def _approved(self, given: object) -> None:
        self.approved.emit(given)
        self.accept()
