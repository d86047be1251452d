"""The sync status, always in view in the status bar: online or offline, requests waiting to
be sent, open conflicts, the last sync, and while a bootstrap fills the cache (a new
terminal's first minutes) its progress."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from hallclient.sync.engine import BootstrapProgress
from hallclient.sync.terminal_facts import CLOCK_WARNING
from hallclient.sync.worker import SyncStatus
from hallclient.ui import palette
from hallclient.ui.i18n import follow_language
from hallcore.domain.deadlines import HALL_TZ


class StatusBridge(QObject):
    """Carries SyncStatus from the sync worker's thread to the UI thread."""

    changed = Signal(object)


class SyncStatusView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._status: SyncStatus | None = None
        self.label = QLabel(self)
        self.progress = QProgressBar(self)
        self.progress.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.progress)
        follow_language(self, self.retranslate)

    def retranslate(self) -> None:
        if self._status is not None:
            self.show_status(self._status)

    def show_status(self, status: SyncStatus) -> None:
        self._status = status
        online = self.tr("● online") if status.online else self.tr("● offline")
        last = (f"{status.last_pull_at.astimezone(HALL_TZ):%H:%M}" if status.last_pull_at
                else self.tr("never"))
        text = self.tr("{s}   pending {p}   conflicts {c}   last sync {t}").format(
            s=online, p=status.pending, c=status.open_tasks, t=last)
        warnings = []
        if status.held:
            warnings.append(self.tr("{n} waiting longer than the offline window: a supervisor "
                                    "must extend it (Ctrl+Shift+W)").format(n=status.held))
        offset = status.clock_offset
        if offset is not None and abs(offset) > CLOCK_WARNING:
            minutes = round(offset.total_seconds() / 60)
            warnings.append(self.tr("this PC's clock is {m:+d} min off the server's: correct "
                                    "it").format(m=minutes))
        self.label.setText("   ⚠ ".join([text, *warnings]))
        self.label.setStyleSheet(palette.text_colour(
            palette.OK if status.online and not warnings else palette.REFUSED))
        self._show_bootstrap(status.bootstrap)

    def _show_bootstrap(self, progress: BootstrapProgress | None) -> None:
        bar = self.progress
        bar.setVisible(progress is not None)
        if progress is None:
            return
        if progress.total:
            bar.setRange(0, progress.total)
            bar.setValue(min(progress.received, progress.total))
            bar.setFormat(self.tr("Loading accounts: %v of %m"))
            bar.setMinimumWidth(bar.fontMetrics().horizontalAdvance(bar.text()) + 24)
        else:  # resumed after a restart: the district's size is not known here
            bar.setRange(0, 0)
            bar.setFormat(self.tr("Loading accounts: {n}").format(n=progress.received))
