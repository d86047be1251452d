"""The login window: clerk and password; on a terminal's first start also the server, hall
and terminal (set once, by IT). Logging in runs off the UI thread."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QLineEdit, QPushButton, QWidget

from hallclient.auth.login import ClerkSession
from hallclient.config import Settings
from hallclient.domain.text import Lang, Text
from hallclient.ui.background import run_in_background

_L = {
    "title": Text("HallClient 登录", "HallClient login"),
    "server": Text("服务器地址", "Server address"),
    "hall": Text("营业厅编号", "Hall id"),
    "terminal": Text("终端编号", "Terminal id"),
    "clerk": Text("工号", "Clerk id"),
    "password": Text("密码", "Password"),
    "login": Text("登录", "Log in"),
    "working": Text("正在登录…", "Logging in…"),
    "offline": Text("服务器不可达，已离线登录", "Server unreachable: logged in offline"),
    "missing": Text("请填写所有项目", "Fill in every field"),
}

# (settings, clerk, password) -> a session, or raises with a message for the clerk
LogIn = Callable[[Settings, str, str], ClerkSession]


class LoginWindow(QDialog):
    logged_in = Signal(object, object)  # ClerkSession, Settings

    def __init__(self, settings: Settings, log_in: LogIn, *, lang: Lang = "zh",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self._log_in = log_in
        self.setWindowTitle(_L["title"][lang])
        self.lang = lang
        first_run = not (settings.hall_id and settings.terminal_id)
        self.server = QLineEdit(settings.server_url, self)
        self.hall = QLineEdit(settings.hall_id, self)
        self.terminal = QLineEdit(settings.terminal_id, self)
        self.clerk = QLineEdit(self)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.button = QPushButton(_L["login"][lang], self)
        self.button.setDefault(True)
        self.button.clicked.connect(self.submit)
        form = QFormLayout(self)
        if first_run:
            for key, widget in (("server", self.server), ("hall", self.hall),
                                ("terminal", self.terminal)):
                form.addRow(_L[key][lang], widget)
        else:
            self.server.hide()
            self.hall.hide()
            self.terminal.hide()
            form.addRow(QLabel(f"{settings.hall_id} / {settings.terminal_id}", self))
        form.addRow(_L["clerk"][lang], self.clerk)
        form.addRow(_L["password"][lang], self.password)
        form.addRow(self.message)
        form.addRow(self.button)
        self.setMinimumWidth(420)  # the server address is read in full
        self.clerk.setFocus()

    def submit(self) -> None:
        fields = (self.server.text(), self.hall.text(), self.terminal.text(),
                  self.clerk.text(), self.password.text())
        if not all(f.strip() for f in fields):
            self.message.setText(_L["missing"][self.lang])
            return
        settings = Settings(server_url=self.server.text().strip(),
                            hall_id=self.hall.text().strip(),
                            terminal_id=self.terminal.text().strip(),
                            installation_id=self.settings.installation_id,
                            language=self.lang, online_only=self.settings.online_only)
        clerk, password = self.clerk.text().strip(), self.password.text()
        self.button.setEnabled(False)
        self.message.setText(_L["working"][self.lang])
        run_in_background(lambda: self._log_in(settings, clerk, password),
                          on_done=lambda session: self._done(session, settings),
                          on_error=self._failed)

    def _done(self, session: ClerkSession, settings: Settings) -> None:
        self.password.clear()
        if not session.online:
            self.message.setText(_L["offline"][self.lang])
        self.logged_in.emit(session, settings)
        self.accept()

    def _failed(self, error: Exception) -> None:
        self.button.setEnabled(True)
        self.password.clear()
        self.password.setFocus()
        self.message.setText(str(error))
