"""The login window: clerk and password; on a terminal's first start also the server, hall
and terminal (set once, by IT); after a one-time password, the clerk's new password twice.
Logging in runs off the UI thread.

It says which product this is and where it logs in (the hall, the terminal, the server), and
switches the whole application's language as the counter window does (a button naming the
other language in its own words, Ctrl+L): the clerk picks the language before logging in, and
the login keeps it for the terminal's next start."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hallclient.config import Settings
from hallclient.ui.i18n import current_language, follow_language, switch_language
from hallclient.ui.password_prompt import PasswordPrompt

if TYPE_CHECKING:  # the login window comes up before the sync and database libraries load
    from hallclient.auth.login import ClerkSession, PasswordChangeRequired

# (settings, clerk, password, new password or None) -> a session, or raises with a message
# for the clerk (PasswordChangeRequired: the password was a one-time password)
LogIn = Callable[[Settings, str, str, str | None], "ClerkSession"]


class LoginWindow(QDialog):
    logged_in = Signal(object, object)  # ClerkSession, Settings

    def __init__(self, settings: Settings, log_in: LogIn, *,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self._log_in = log_in
        first_run = not (settings.hall_id and settings.terminal_id)
        self.product = QLabel("HallClient", self)
        self.product.setStyleSheet("font-size: 16pt; font-weight: bold;")
        self.purpose = QLabel(self)
        self.language_button = QPushButton(self)
        self.language_button.setAutoDefault(False)  # Enter logs in, whatever has the focus
        self.language_button.clicked.connect(switch_language)
        self.server = QLineEdit(settings.server_url, self)
        self.hall = QLineEdit(settings.hall_id, self)
        self.terminal = QLineEdit(settings.terminal_id, self)
        self.clerk = QLineEdit(self)
        self.button = QPushButton(self)
        self.button.setDefault(True)
        self.button.clicked.connect(self.submit)
        self.password = PasswordPrompt(self.button, self)
        self.message = self.password.message
        # Shown once the server said the password is a one-time password.
        self.new_password = QLineEdit(self)
        self.repeat_password = QLineEdit(self)
        for field in (self.new_password, self.repeat_password):
            field.setEchoMode(QLineEdit.EchoMode.Password)
            field.returnPressed.connect(self.submit)
        self.labels = {name: QLabel(self) for name in
                       ("server", "hall", "terminal", "clerk", "password", "new_password",
                        "repeat_password")}
        form = QFormLayout(self)
        form.addRow(self._header())
        for key, widget in (("server", self.server), ("hall", self.hall),
                            ("terminal", self.terminal)):
            form.addRow(self.labels[key], widget)
        # Later runs show where the terminal is; a supervisor may move it (hallclient/ui/app.py
        # keeps changed settings only after a supervisor's online login).
        self.terminal_summary = QLabel(self)
        self.move_button = QPushButton(self)
        self.move_button.setFlat(True)
        self.move_button.clicked.connect(self.show_terminal_settings)
        if not first_run:
            form.addRow(self.terminal_summary, self.move_button)
            self._terminal_rows(False)
        else:
            self.terminal_summary.hide()
            self.move_button.hide()
        form.addRow(self.labels["clerk"], self.clerk)
        form.addRow(self.labels["password"], self.password)
        form.addRow(self.labels["new_password"], self.new_password)
        form.addRow(self.labels["repeat_password"], self.repeat_password)
        self._changing_password = False
        self._new_password_rows(False)
        form.addRow(self.message)
        form.addRow(self.button)
        self.setMinimumWidth(420)  # the server address is read in full
        self.clerk.setFocus()
        follow_language(self, self.retranslate)

    def _header(self) -> QHBoxLayout:
        """The product and what it is for; the language switch at the right."""
        named = QVBoxLayout()
        named.addWidget(self.product)
        named.addWidget(self.purpose)
        header = QHBoxLayout()
        header.addLayout(named, 1)
        header.addWidget(self.language_button)
        return header

    def retranslate(self) -> None:
        lang = current_language()
        self.setWindowTitle(self.tr("HallClient login"))
        self.purpose.setText(self.tr("Service hall counter"))
        # Names the other language in its own words: the way back for a clerk who cannot
        # read the current one.
        self.language_button.setText("English (Ctrl+L)" if lang == "zh" else "中文 (Ctrl+L)")
        self.terminal_summary.setText(self.tr("Hall / terminal: {hall} / {terminal}\n"
                                              "Server: {server}").format(
            hall=self.settings.hall_id, terminal=self.settings.terminal_id,
            server=self.settings.server_url))
        for name, text in (("server", self.tr("Server address")),
                           ("hall", self.tr("Hall id")),
                           ("terminal", self.tr("Terminal id")),
                           ("clerk", self.tr("Clerk id")),
                           ("password", self.tr("Password")),
                           ("new_password", self.tr("New password")),
                           ("repeat_password", self.tr("New password again"))):
            self.labels[name].setText(text)
        self.button.setText(self.tr("Set the new password and log in")
                            if self._changing_password else self.tr("Log in"))
        self.move_button.setText(self.tr("Change (supervisor)…"))

    def _new_password_rows(self, shown: bool) -> None:
        for key, widget in (("new_password", self.new_password),
                            ("repeat_password", self.repeat_password)):
            widget.setVisible(shown)
            self.labels[key].setVisible(shown)

    def _terminal_rows(self, shown: bool) -> None:
        for key, widget in (("server", self.server), ("hall", self.hall),
                            ("terminal", self.terminal)):
            widget.setVisible(shown)
            self.labels[key].setVisible(shown)

    def show_terminal_settings(self) -> None:
        """A supervisor changes the server address, hall or terminal id, then logs in."""
        self._terminal_rows(True)
        self.terminal_summary.hide()
        self.move_button.hide()
        self.password.say(lambda: self.tr("A supervisor logs in to keep the new settings."))
        self.server.setFocus()

    def submit(self) -> None:
        fields = (self.server.text(), self.hall.text(), self.terminal.text(),
                  self.clerk.text(), self.password.text())
        if not all(f.strip() for f in fields):
            self.password.say(lambda: self.tr("Fill in every field"))
            return
        settings = replace(self.settings, server_url=self.server.text().strip(),
                           hall_id=self.hall.text().strip(),
                           terminal_id=self.terminal.text().strip(),
                           language=current_language())
        clerk = self.clerk.text().strip()
        new_password = None
        if self._changing_password:
            new_password = self.new_password.text()
            if not new_password or new_password != self.repeat_password.text():
                self.repeat_password.clear()
                self.new_password.setFocus()
                self.password.say(lambda: self.tr("Type the same new password twice"))
                return
        self.password.say(lambda: self.tr("Logging in…"))
        self.password.check(
            lambda password: self._attempt(settings, clerk, password, new_password),
            on_passed=lambda outcome: self._done(outcome, settings))

    def _attempt(self, settings: Settings, clerk: str, password: str,
                 new_password: str | None) -> ClerkSession | PasswordChangeRequired:
        """A session; or, for a one-time password, the server's request for a new one."""
        from hallclient.auth.login import PasswordChangeRequired

        try:
            return self._log_in(settings, clerk, password, new_password)
        except PasswordChangeRequired as required:
            return required

    def _done(self, outcome: ClerkSession | PasswordChangeRequired,
              settings: Settings) -> None:
        from hallclient.auth.login import PasswordChangeRequired

        if isinstance(outcome, PasswordChangeRequired):
            self._changing_password = True
            self._new_password_rows(True)
            self.button.setEnabled(True)
            self.retranslate()
            self.password.say(lambda: self.tr(
                "This was a one-time password. Type it again, then your own new password "
                "twice (at least 8 characters, letters and digits)."))
            self.password.setFocus()
            return
        session = outcome
        if not session.online:
            self.password.say(lambda: self.tr("Server unreachable: logged in offline"))
        self.logged_in.emit(session, settings)
        self.accept()
