"""Finding the customer's account: the search box (Ctrl+F) and what it found, searched off the
UI thread as the clerk types."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from hallclient.store.cache import Cache
from hallclient.store.search import search_accounts
from hallclient.ui.background import run_in_background
from hallclient.ui.i18n import follow_language
from hallcore.domain.accounts import Account

TYPING_PAUSE_MS = 150  # a search starts once the clerk stops typing this long


def _result_text(account: Account) -> str:
    return f"{account.number}  {account.holder_name}  {account.supply_address}"


class SearchPanel(QWidget):
    chosen = Signal(object)  # the Account selected in the results, or None
    failed = Signal(str)  # what went wrong, in words

    def __init__(self, cache: Cache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._cache = cache
        self.box = QLineEdit(self)
        self.results = QListWidget(self)
        self.results.currentItemChanged.connect(self._selected)
        self._typing = QTimer(self, singleShot=True, interval=TYPING_PAUSE_MS)
        self._typing.timeout.connect(self.search)
        self.box.textChanged.connect(lambda _text: self._typing.start())
        self.box.returnPressed.connect(self.search)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.box)
        layout.addWidget(self.results, 1)
        follow_language(self, self.retranslate)

    def retranslate(self) -> None:
        self.box.setPlaceholderText(
            self.tr("account, ID number, phone, name or address (Ctrl+F)"))

    def search(self) -> None:
        query, cache = self.box.text(), self._cache

        def find() -> list[Account]:
            with cache.read() as session:
                return search_accounts(session, query)

        run_in_background(self, find, on_done=lambda found: self._show(query, found),
                          on_error=lambda exc: self.failed.emit(str(exc)))

    def _show(self, query: str, found: list[Account]) -> None:
        if query != self.box.text():
            return  # the clerk typed on; a newer search is on its way
        self.results.clear()
        for account in found:
            item = QListWidgetItem(_result_text(account))
            item.setData(Qt.ItemDataRole.UserRole, account)
            self.results.addItem(item)
        if len(found) == 1:
            self.results.setCurrentRow(0)

    def show_changed(self, account: Account) -> None:
        """The result of a changed account shows it as it is now."""
        for row in range(self.results.count()):
            item = self.results.item(row)
            if item.data(Qt.ItemDataRole.UserRole).number == account.number:
                item.setText(_result_text(account))
                item.setData(Qt.ItemDataRole.UserRole, account)

    def _selected(self, item: QListWidgetItem | None) -> None:
        self.chosen.emit(item.data(Qt.ItemDataRole.UserRole) if item else None)
