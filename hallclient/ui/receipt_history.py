"""The latest receipts issued at this terminal, to choose one to print again (Ctrl+R): a table
of receipt number, time, business, account, where its request stands with the server and the
copies printed; Enter or a double click prints the one chosen."""

from __future__ import annotations

from datetime import UTC

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
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
        headers = [self.tr("Receipt"), self.tr("Issued"), self.tr("Business"),
                   self.tr("Account"), self.tr("State"), self.tr("Copies")]
        self.listing = QTableWidget(len(entries), len(headers), self)
        self.listing.setHorizontalHeaderLabels(headers)
        self.listing.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.listing.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.listing.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.listing.setTabKeyNavigation(False)
        self.listing.verticalHeader().hide()
        self.listing.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.listing.horizontalHeader().setStretchLastSection(True)
        for row, entry in enumerate(entries):
            issued = entry.issued_at.replace(tzinfo=UTC).astimezone(HALL_TZ)
            cells = (entry.receipt_no, f"{issued:%m-%d %H:%M}",
                     BUSINESS_TYPES[entry.kind].label[lang], entry.account_number or "—",
                     SYNC_STATE_LABELS[entry.state][lang], str(entry.copies_printed))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, entry.receipt_no)
                self.listing.setItem(row, column, item)
        reprint_button = QPushButton(self.tr("Reprint (Ctrl+R)"), self)
        reprint_button.setDefault(True)
        reprint_button.clicked.connect(self.accept)
        self.listing.itemActivated.connect(lambda _item: self.accept())
        layout = QVBoxLayout(self)
        layout.addWidget(self.listing)
        layout.addWidget(reprint_button)
        self.resize(760, 420)
        if entries:
            self.listing.selectRow(0)

    def lines(self) -> list[str]:
        """Each receipt's row as the clerk reads it, cells apart by two spaces."""
        table = self.listing
        return ["  ".join(item.text() for column in range(table.columnCount())
                          if (item := table.item(row, column)) is not None)
                for row in range(table.rowCount())]

    def chosen(self) -> str | None:
        """The receipt number chosen, if any."""
        item = self.listing.currentItem()
        return None if item is None else str(item.data(Qt.ItemDataRole.UserRole))
