"""The clerk's tasks: requests the server answered with a conflict or a rejection, each with
the customer and what the server said, until a clerk redoes one on the account as it is now
or cancels it with a reason."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hallclient.store.cache import Cache, CacheUnwritable
from hallclient.store.tasks import Task, close_task, open_tasks
from hallclient.ui.i18n import current_language, follow_language
from hallcore.domain.business import BUSINESS_TYPES
from hallcore.domain.masking import mask_phone


class TasksPanel(QWidget):
    redo = Signal(object)  # the Task to take again on the account as it is now
    failed = Signal(object)  # what went wrong, in words (a Text)

    def __init__(self, cache: Cache, clerk: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._cache = cache
        self._clerk = clerk
        self._tasks: list[Task] = []
        self.title = QLabel(self)
        self.list = QListWidget(self)
        self.list.setWordWrap(True)  # the server's reason is read in full
        self.redo_button = QPushButton(self)
        self.redo_button.clicked.connect(self._redo)
        self.cancel_button = QPushButton(self)
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QHBoxLayout()
        buttons.addWidget(self.redo_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        follow_language(self, self.retranslate)

    @property
    def open_count(self) -> int:
        return len(self._tasks)

    def retranslate(self) -> None:
        self.title.setText(self.tr("Tasks (conflicts and rejections)"))
        self.redo_button.setText(self.tr("Redo on current details"))
        self.cancel_button.setText(self.tr("Cancel with a reason…"))
        self._render()  # relabels what is on screen; no database read

    def refresh(self) -> None:
        self._tasks = open_tasks(self._cache)
        self._render()

    def _render(self) -> None:
        lang = current_language()
        self.list.clear()
        for task in self._tasks:
            marker = self.tr("[conflict]") if task.kind == "conflict" else self.tr("[rejected]")
            item = QListWidgetItem(self.tr("{kind} {b} account {no} {name} {phone}: {said}").format(
                kind=marker, b=BUSINESS_TYPES[task.business].label[lang],
                no=task.account_number or "—", name=task.customer_name or "",
                phone=mask_phone(task.customer_phone or ""), said=task.server_said[lang]))
            item.setData(Qt.ItemDataRole.UserRole, task)
            self.list.addItem(item)

    def _current(self) -> Task | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def _redo(self) -> None:
        task = self._current()
        if task is not None:
            self.redo.emit(task)

    def cancel(self) -> None:
        """Close the chosen task with the reason the clerk gives."""
        task = self._current()
        if task is None:
            return
        reason, ok = QInputDialog.getText(self, self.tr("Cancel with a reason…"),
                                          self.tr("Reason for cancelling:"))
        if ok and reason.strip():
            try:
                close_task(self._cache, task.id, clerk=self._clerk, resolution=reason,
                           now=datetime.now(UTC))
            except CacheUnwritable as exc:  # the task stays open
                self.failed.emit(exc.reason)
            self.refresh()
