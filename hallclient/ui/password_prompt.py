"""The password field of the login, the lock screen and the supervisor's sign-off, with the
line under it that says why a password was refused.

The check (the server, or a slow local hash) runs off the UI thread with the dialog's button
disabled, so a second Enter does not check twice; a refused password is emptied and the
cursor put back for another try, the reason in the refusal colour.

The line is in the clerk's language and is said again when it changes (Ctrl+L, in each of
these dialogs as in the counter window). A refusal is said in its own words where it carries
them in both languages, else in a fixed sentence: an exception's text is never shown, since it
may be English only, or a programmer's words. A longer message grows the dialog: a window does
not grow by itself for a word-wrapped line, and a two-line refusal lost its second line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QLineEdit, QPushButton, QWidget

from hallclient.failures import causes, reason_of, said
from hallclient.ui.background import run_in_background
from hallclient.ui.i18n import follow_language, switch_language
from hallclient.ui.message_bar import MessageBar, Severity, Words

T = TypeVar("T")

LANGUAGE_KEY = "Ctrl+L"


def _is_refusal(exc: BaseException) -> bool:
    """The check said no (a wrong password, a clerk locked out for a while) rather than failed
    (no keyring, a fault)."""
    from hallclient.auth.approval import ApprovalRefused
    from hallclient.auth.login import LoginRefused
    from hallclient.auth.offline import OfflineLoginRefused

    refusals = (ApprovalRefused, LoginRefused, OfflineLoginRefused)
    return all(isinstance(found, refusals) for found in causes(exc))


class PasswordPrompt(QLineEdit):
    """The field; `message` is the line its dialog lays out for what the check said."""

    def __init__(self, button: QPushButton, parent: QWidget) -> None:
        super().__init__(parent)
        self.setEchoMode(QLineEdit.EchoMode.Password)
        self._button = button  # the dialog's button that starts the check
        self.message = MessageBar(parent)
        QShortcut(QKeySequence(LANGUAGE_KEY), parent, switch_language)
        # The bar says its words again before its label hears of the switch: the dialog is
        # grown then, to the words of the new language.
        follow_language(self.message.label, self._show_in_full)

    def check(self, check: Callable[[str], T], on_passed: Callable[[T], None]) -> None:
        """Check the typed password off the UI thread; `on_passed` gets what `check` returned,
        and an exception it raised is said as the refusal. Nothing happens without a password
        or while a check runs."""
        password = self.text()
        if not password or not self._button.isEnabled():
            return
        self._button.setEnabled(False)
        run_in_background(self, lambda: check(password),
                          on_done=lambda result: self._passed(result, on_passed),
                          on_error=self.refuse)

    def _passed(self, result: T, on_passed: Callable[[T], None]) -> None:
        self.clear()
        on_passed(result)

    def refuse(self, reason: Exception) -> None:
        self._button.setEnabled(True)
        self.clear()
        self.setFocus()
        self.message.say(self._refusal(reason), Severity.REFUSED)
        self._show_in_full()

    def say(self, words: Words) -> None:
        """A message that is no refusal (what is going on, what is missing)."""
        self.message.say(words)
        self._show_in_full()

    def _refusal(self, exc: Exception) -> Words:
        reason = reason_of(exc)
        if reason is not None:
            return reason
        if _is_refusal(exc):
            return lambda: self.tr("Not accepted: the id or password is wrong, or too many "
                                   "wrong passwords have locked it for a while. Check them and "
                                   "try again.")
        said(exc, "checking a password")  # logs the type and the place, never the text
        return lambda: self.tr("The password could not be checked on this terminal. Try "
                               "again; if it fails again, call IT (the log file says what "
                               "failed).")

    def _show_in_full(self) -> None:
        """Grow the dialog to the height its words need at its width (never shrink it)."""
        dialog = self.window()
        layout = dialog.layout()
        if layout is None or not dialog.isVisible():
            return  # a window is first shown at the size its words need
        layout.activate()
        height = layout.totalHeightForWidth(dialog.width())
        if dialog.height() < height:
            dialog.resize(dialog.width(), height)
