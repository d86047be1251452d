"""The latest receipts issued at this terminal, to choose one to print again (Ctrl+R)."""

from __future__ import annotations

from datetime import UTC

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hallclient.receipts.history import ReceiptEntry
from hallclient.store.account_history import SYNC_STATE_LABELS
from hallclient.ui.i18n import current_language
from hallcore.domain.business import BUSINESS_TYPES
from hallcore.domain.deadlines import HALL_TZ


class ReceiptHistoryDialog(QDialog):
    def __init__(self, entries: list[ReceiptEntry], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lang = current_language()
        self.setWindowTitle(self.tr("Receipt history"))
        self.listing = QListWidget(self)
        for entry in entries:
            issued = entry.issued_at.replace(tzinfo=UTC).astimezone(HALL_TZ)
            item = QListWidgetItem(self.tr("{no}  {t}  {b}  account {acct}  {state}  copies {c}")
                                   .format(no=entry.receipt_no, t=f"{issued:%m-%d %H:%M}",
                                           b=BUSINESS_TYPES[entry.kind].label[lang],
                                           acct=entry.account_number or "—",
                                           state=SYNC_STATE_LABELS[entry.state][lang],
                                           c=entry.copies_printed))
            item.setData(Qt.ItemDataRole.UserRole, entry.receipt_no)
            self.listing.addItem(item)
        reprint_button = QPushButton(self.tr("Reprint (Ctrl+R)"), self)
        reprint_button.setDefault(True)
        reprint_button.clicked.connect(self.accept)
        self.listing.itemActivated.connect(lambda _item: self.accept())
        layout = QVBoxLayout(self)
        layout.addWidget(self.listing)
        layout.addWidget(reprint_button)
        self.resize(720, 420)
        self.listing.setCurrentRow(0)

    def chosen(self) -> str | None:
        """The receipt number chosen, if any."""
        item = self.listing.currentItem()
        return None if item is None else str(item.data(Qt.ItemDataRole.UserRole))
