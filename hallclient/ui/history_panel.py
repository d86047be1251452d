"""The chosen account's operations at this counter, each with where it stands with the server
(waiting to send, synced, conflict, rejected), and under each the SMS the server sent the
customer about it, fetched off the UI thread (none shown offline)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from hallclient.store.account_history import (
    SYNC_STATE_LABELS,
    OperationEntry,
    SyncState,
    account_history,
)
from hallclient.store.cache import Cache
from hallclient.ui import palette
from hallclient.ui.background import run_in_background
from hallclient.ui.i18n import current_language, follow_language
from hallcore.domain.business import BUSINESS_TYPES
from hallcore.domain.deadlines import HALL_TZ
from hallcore.wire import AccountNotifications, NotificationWire

# (account number) -> the SMS the server sent about it; raises as ServerApi does
FetchNotifications = Callable[[str], AccountNotifications]

_STATE_COLOURS = {SyncState.PENDING: palette.WARNING, SyncState.SYNCED: palette.OK,
                  SyncState.CONFLICT: palette.REFUSED, SyncState.REJECTED: palette.REFUSED}


class HistoryPanel(QWidget):
    def __init__(self, cache: Cache, notifications: FetchNotifications | None, *,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._cache = cache
        self.notifications = notifications  # None: no server to ask (the SMS are not shown)
        self._number: str | None = None
        self._entries: list[OperationEntry] = []
        self._sms: list[NotificationWire] = []
        self.title = QLabel(self)
        self.list = QListWidget(self)
        self.list.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.list, 1)
        follow_language(self, self.retranslate)

    def retranslate(self) -> None:
        self.title.setText(self.tr("Operations at this counter"))
        self._render()  # relabels what is on screen; no database read

    def show_account(self, number: str | None) -> None:
        if number != self._number:
            self._number, self._sms = number, []
        self.refresh()

    def refresh(self) -> None:
        """Read the operations again (their sync state may have changed) and ask the server
        for the SMS."""
        self._entries = []
        number = self._number
        if number is not None:
            with self._cache.read() as session:
                self._entries = account_history(session, number)
            fetch = self.notifications
            if fetch is not None:
                run_in_background(self, lambda: fetch(number), on_done=self._show_sms,
                                  on_error=lambda _exc: None)  # offline: none shown
        self._render()

    def _show_sms(self, sent: AccountNotifications) -> None:
        if sent.account_number != self._number:
            return  # another account was chosen meanwhile
        self._sms = sent.items
        self._render()

    def _sms_line(self, sms: NotificationWire) -> str:
        notice = {"accepted": self.tr("accepted"), "completed": self.tr("completed"),
                  "conflict": self.tr("conflict"), "rejected": self.tr("rejected")
                  }.get(sms.notice, sms.notice)
        if sms.sent_at is None:
            return "    " + self.tr("SMS “{n}” waiting to be sent").format(n=notice)
        sent = sms.sent_at.astimezone(HALL_TZ)
        return "    " + self.tr("SMS “{n}” sent {t}").format(n=notice, t=f"{sent:%m-%d %H:%M}")

    def _render(self) -> None:
        lang = current_language()
        self.list.clear()
        sms_of: dict[str, list[NotificationWire]] = {}
        for sms in self._sms:
            sms_of.setdefault(sms.operation_id, []).append(sms)
        for entry in self._entries:
            made = entry.created_at.astimezone(HALL_TZ)
            item = QListWidgetItem(f"{made:%m-%d %H:%M}  {BUSINESS_TYPES[entry.kind].label[lang]}"
                                   f"  {entry.receipt_no or ''}  "
                                   f"{SYNC_STATE_LABELS[entry.state][lang]}")
            item.setForeground(QColor(_STATE_COLOURS[entry.state]))
            self.list.addItem(item)
            for sms in sms_of.get(entry.operation_id, []):
                self.list.addItem(QListWidgetItem(self._sms_line(sms)))
