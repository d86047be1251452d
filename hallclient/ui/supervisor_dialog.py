"""The supervisor signs off at the counter: what needs the sign-off, their id and password."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from hallclient.ui import palette
from hallclient.ui.background import run_in_background
from hallclient.ui.i18n import current_language, follow_language
from hallcore.domain.text import Text

# (supervisor id, password) -> the supervisor's id, or raises with the reason in words
Approve = Callable[[str, str], str]


class SupervisorDialog(QDialog):
    approved = Signal(str)  # the supervisor's id

    def __init__(self, reasons: tuple[Text, ...], approve: Approve,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reasons = reasons
        self._approve = approve
        self.setModal(True)
        self.reason = QLabel(self)
        self.reason.setWordWrap(True)
        self.supervisor = QLineEdit(self)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.returnPressed.connect(self.sign_off)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setStyleSheet(palette.text_colour(palette.REFUSED))
        self.sign_off_button = QPushButton(self)
        self.sign_off_button.setDefault(True)
        self.sign_off_button.clicked.connect(self.sign_off)
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
        supervisor, password = self.supervisor.text().strip(), self.password.text()
        if not supervisor or not password or not self.sign_off_button.isEnabled():
            return
        self.sign_off_button.setEnabled(False)
        run_in_background(self, lambda: self._approve(supervisor, password),
                          on_done=self._approved, on_error=self._refused)

    def _approved(self, supervisor: str) -> None:
        self.password.clear()
        self.approved.emit(supervisor)
        self.accept()

    def _refused(self, error: Exception) -> None:
        self.sign_off_button.setEnabled(True)
        self.password.clear()
        self.password.setFocus()
        self.message.setText(str(error))
