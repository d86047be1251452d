"""Every open work item of the hall against its committed limit: time left on each, overdue
ones first (in red, and said in words), and a reminder (in the status bar, and the window asks
for attention) when one comes within a day of its limit. Fetched from the server off the UI
thread every minute; the panel says when the list was last brought up to date."""

from __future__ import annotations

import logging
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

from hallclient.sync.api import in_words
from hallclient.ui import palette
from hallclient.ui.background import run_in_background
from hallclient.ui.i18n import current_language, follow_language
from hallcore.domain.business import BUSINESS_TYPES
from hallcore.domain.deadlines import HALL_TZ, time_left
from hallcore.wire import WorkItemList, WorkItemWire

REFRESH_MS = 60_000

log = logging.getLogger(__name__)


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
        self._updated: datetime | None = None  # the last list the server gave
        self._failure: Callable[[], str] | None = None  # what went wrong since, in words
        self._completing = False
        self._reminded: set[int] = set()
        self.title = QLabel(self)
        self.list = QListWidget(self)
        self.list.setWordWrap(True)
        self.list.itemSelectionChanged.connect(self._enable_done)
        self.empty = QLabel(self)
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.empty.hide()
        self.updated = QLabel(self)
        self.updated.setStyleSheet(palette.text_colour(palette.MUTED))
        self.done_button = QPushButton(self)
        self.done_button.setEnabled(False)
        self.done_button.clicked.connect(self.mark_done)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setStyleSheet(palette.text_colour(palette.REFUSED))
        bar = QHBoxLayout()
        bar.addWidget(self.message, 1)
        bar.addWidget(self.done_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty, 1)
        layout.addWidget(self.updated)
        layout.addLayout(bar)
        self._timer = QTimer(self, interval=REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        follow_language(self, self.retranslate)

    def retranslate(self) -> None:
        self.title.setText(self.tr("Work items of the hall (time left)"))
        self.empty.setText(self.tr("No open work items at this hall."))
        self.done_button.setText(self.tr("Step done"))
        self._say(self._failure)
        self._render()

    def refresh(self) -> None:
        run_in_background(self, self._fetch, on_done=self._show, on_error=self._unavailable)

    def _unavailable(self, error: Exception) -> None:
        # The list keeps what was last fetched, and says how old it is.
        reason = self._reason(error)
        self._say(lambda: self.tr("Not updated: {e}").format(e=reason()))

    def _reason(self, error: Exception) -> Callable[[], str]:
        """Why, in the language of the moment (the server's or the network's failure in the
        clerk's words; anything else is a fault, kept in the log)."""
        words = in_words(error)
        if words is not None:
            return lambda: words[current_language()]
        log.error("work items: %s", type(error).__name__, exc_info=error)
        return lambda: self.tr("an unexpected error, written to the log")

    def _say(self, failure: Callable[[], str] | None) -> None:
        self._failure = failure
        self.message.setText(failure() if failure is not None else "")

    def _show(self, items: WorkItemList) -> None:
        now, lang = self._now(), current_language()
        self._items = sorted(items.items, key=lambda i: (i.due_at, i.id))
        self._updated = now
        self._say(None)
        self._render()
        for item in self._items:
            left = time_left(item.due_at, now)
            if left.due_soon and item.id not in self._reminded:
                self._reminded.add(item.id)
                self.remind.emit(self.tr("Work item due in {t}: {b} {step}, account {no}")
                                 .format(t=self._span(left.remaining),
                                         b=BUSINESS_TYPES[item.business_type].label[lang],
                                         step=getattr(item.step_label, lang),
                                         no=item.account_number))

    def _span(self, delta: timedelta) -> str:
        minutes = int(abs(delta).total_seconds() // 60)
        days, minutes = divmod(minutes, 24 * 60)
        hours, minutes = divmod(minutes, 60)
        if days:
            return self.tr("{d}d {h}h").format(d=days, h=hours)
        return self.tr("{h}h {m}m").format(h=hours, m=f"{minutes:02d}")

    def _line(self, item: WorkItemWire, now: datetime) -> QListWidgetItem:
        lang, left = current_language(), time_left(item.due_at, now)
        state = (self.tr("Overdue by {t}") if left.overdue else
                 self.tr("{t} left")).format(t=self._span(left.remaining))
        due = item.due_at.astimezone(HALL_TZ)
        entry = QListWidgetItem(self.tr("{left} · due {due} · {business}: {step} · account {no}")
                                .format(left=state, due=f"{due:%m-%d %H:%M}",
                                        business=BUSINESS_TYPES[item.business_type].label[lang],
                                        step=getattr(item.step_label, lang),
                                        no=item.account_number))
        if left.overdue:
            entry.setForeground(QColor(palette.REFUSED))
        elif left.due_soon:
            entry.setForeground(QColor(palette.WARNING))
        entry.setData(Qt.ItemDataRole.UserRole, item.id)
        return entry

    def _render(self) -> None:
        """The list as last fetched; the item chosen stays chosen while it is still open."""
        chosen = self._chosen()
        now = self._now()
        self.list.clear()
        for item in self._items:
            entry = self._line(item, now)
            self.list.addItem(entry)
            if item.id == chosen:
                self.list.setCurrentItem(entry)
        fetched_none = self._updated is not None and not self._items
        self.list.setVisible(not fetched_none)
        self.empty.setVisible(fetched_none)
        self.updated.setText("" if self._updated is None else self.tr("Updated at {t}").format(
            t=f"{self._updated.astimezone(HALL_TZ):%H:%M}"))
        self._enable_done()

    def _chosen(self) -> int | None:
        chosen = self.list.selectedItems()
        return int(chosen[0].data(Qt.ItemDataRole.UserRole)) if chosen else None

    def _enable_done(self) -> None:
        self.done_button.setEnabled(not self._completing and self._chosen() is not None)

    def mark_done(self) -> None:
        item_id = self._chosen()
        if item_id is None or self._completing:
            return
        self._completing = True
        self._enable_done()
        run_in_background(self, lambda: self._complete(item_id), on_done=self._done,
                          on_error=self._failed)

    def _done(self, _item: WorkItemWire) -> None:
        self._completing = False
        self._say(None)
        self._enable_done()
        self.refresh()

    def _failed(self, error: Exception) -> None:
        self._completing = False
        reason = self._reason(error)
        self._say(lambda: self.tr("The step was not marked done: {e}").format(e=reason()))
        self._enable_done()
