"""The hall's work items against their committed limits: time left on each, overdue ones in
red, and a reminder (in the status bar, and the window asks for attention) when one comes
within a day of its limit. Fetched from the server off the UI thread every minute."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hallclient.ui import palette
from hallclient.ui.background import run_in_background
from hallclient.ui.i18n import current_language, follow_language
from hallcore.domain.business import BUSINESS_TYPES
from hallcore.domain.deadlines import HALL_TZ, time_left
from hallcore.domain.text import Lang
from hallcore.wire import WorkItemList, WorkItemWire

REFRESH_MS = 60_000


def _span(delta: timedelta) -> str:
    minutes = int(abs(delta).total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    return f"{days}d {hours}h" if days else f"{hours}h {minutes:02d}m"


def _business(item: WorkItemWire, lang: Lang) -> str:
    return BUSINESS_TYPES[item.business_type].label[lang]


class WorkItemsPanel(QWidget):
    remind = Signal(str)  # a work item came within a day of its limit: what to say

    def __init__(self, fetch: Callable[[], WorkItemList],
                 complete: Callable[[int], WorkItemWire], *,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._fetch = fetch
        self._complete = complete
        self._now = now
        self._items: list[WorkItemWire] = []
        self._reminded: set[int] = set()
        self.title = QLabel(self)
        self.list = QListWidget(self)
        self.list.setWordWrap(True)
        self.done_button = QPushButton(self)
        self.done_button.clicked.connect(self.mark_done)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        bar = QHBoxLayout()
        bar.addWidget(self.message, 1)
        bar.addWidget(self.done_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.list, 1)
        layout.addLayout(bar)
        self._timer = QTimer(self, interval=REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        follow_language(self, self.retranslate)

    def retranslate(self) -> None:
        self.title.setText(self.tr("Work items of the hall (time left)"))
        self.done_button.setText(self.tr("Step done"))
        self._render()

    def refresh(self) -> None:
        run_in_background(self, self._fetch, on_done=self._show, on_error=self._unavailable)

    def _unavailable(self, error: Exception) -> None:
        # The list keeps what was last fetched; offline is shown in the status bar already.
        self.message.setText(self.tr("Not updated: {e}").format(e=error))

    def _show(self, items: WorkItemList) -> None:
        self._items = sorted(items.items, key=lambda i: i.due_at)
        self.message.clear()
        self._render()
        now, lang = self._now(), current_language()
        for item in self._items:
            left = time_left(item.due_at, now)
            if left.due_soon and item.id not in self._reminded:
                self._reminded.add(item.id)
                self.remind.emit(self.tr("Work item due in {t}: {b} {step}, account {no}")
                                 .format(t=_span(left.remaining), b=_business(item, lang),
                                         step=getattr(item.step_label, lang),
                                         no=item.account_number))

    def _render(self) -> None:
        lang, now = current_language(), self._now()
        self.list.clear()
        for item in self._items:
            left = time_left(item.due_at, now)
            due = item.due_at.astimezone(HALL_TZ)
            state = (self.tr("overdue by {t}") if left.overdue else
                     self.tr("{t} left")).format(t=_span(left.remaining))
            entry = QListWidgetItem(
                f"{due:%m-%d %H:%M}  {_business(item, lang)}  "
                f"{getattr(item.step_label, lang)}  {item.account_number}  {state}")
            if left.overdue:
                entry.setForeground(QColor(palette.REFUSED))
            elif left.due_soon:
                entry.setForeground(QColor(palette.WARNING))
            entry.setData(Qt.ItemDataRole.UserRole, item.id)
            self.list.addItem(entry)

    def mark_done(self) -> None:
        current = self.list.currentItem()
        if current is None:
            return
        item_id = int(current.data(Qt.ItemDataRole.UserRole))
        self.done_button.setEnabled(False)
        run_in_background(self, lambda: self._complete(item_id), on_done=self._done,
                          on_error=self._failed)

    def _done(self, _item: WorkItemWire) -> None:
        self.done_button.setEnabled(True)
        self.refresh()

    def _failed(self, error: Exception) -> None:
        self.done_button.setEnabled(True)
        self.message.setText(str(error))
