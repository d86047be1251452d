"""The customer's queue ticket (排队号) at the counter: the field the clerk types it into or a
barcode scanner types it into (F2), and, where the hall has a queue system, "Call next", which
calls the next ticket to this counter off the UI thread (hallclient/devices/queue.py).

The ticket stays until the next customer: every request of the visit carries it. A queue
system that is down, hangs or answers garbage is a message; the clerk types the ticket, or
serves the customer without one.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from hallclient.devices.queue import QueueFailed, QueueSystem, parse_ticket
from hallclient.ui.background import run_in_background
from hallclient.ui.i18n import follow_language
from hallclient.ui.message_bar import Severity
from hallcore.domain.deadlines import HALL_TZ
from hallcore.domain.text import InvalidInput
from hallcore.wire import QueueTicket, TicketSource


class TicketBar(QWidget):
    entered = Signal()  # the clerk confirmed a ticket (Enter): on to the customer's account
    edited = Signal()  # the clerk typed into the field: a customer is being served
    said = Signal(object, object)  # what to tell the clerk: words (Words), Severity

    def __init__(self, queue: QueueSystem | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.queue = queue
        self.calling = False  # a call to the queue system is out
        self._called: QueueTicket | None = None  # the queue system's ticket, with its times
        self.label = QLabel(self)
        self.field = QLineEdit(self)
        self.field.setMaxLength(64)  # a ticket's barcode payload with its time
        self.label.setBuddy(self.field)
        self.times = QLabel(self)
        self.call_button = QPushButton(self)
        self.call_button.setVisible(queue is not None)
        self.field.textEdited.connect(lambda _text: self.edited.emit())
        self.field.textChanged.connect(lambda _text: self._show_times())
        self.field.returnPressed.connect(self._confirm)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.field, 1)
        layout.addWidget(self.times)
        layout.addWidget(self.call_button)
        follow_language(self, self.retranslate)

    def retranslate(self) -> None:
        self.label.setText(self.tr("Ticket (F2)"))
        self.field.setPlaceholderText(self.tr("Type or scan the queue ticket"))
        self.call_button.setText(self.tr("Call next"))
        self._show_times()

    def ticket(self) -> QueueTicket | None:
        """The visit's ticket: the one called, or the one typed or scanned; None when there is
        none (or what was typed is not a ticket: the clerk was told at Enter)."""
        text = self.field.text()
        if self._called is not None and text == self._called.number:
            return self._called
        try:
            return parse_ticket(text) if text.strip() else None
        except InvalidInput:
            return None

    def clear(self) -> None:
        """No ticket: the next customer's comes by the field or the next call."""
        self._called = None
        self.field.clear()

    def focus_field(self) -> None:
        self.field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.field.selectAll()

    def call_next(self) -> None:
        """The queue system calls its next ticket to this counter. One call at a time: a
        second press while one is out would call a customer nobody serves."""
        queue = self.queue
        if queue is None or self.calling:
            return
        self.calling = True
        self.call_button.setEnabled(False)
        run_in_background(self, queue.call_next, on_done=self._called_back,
                          on_error=self._not_called)

    def _called_back(self, ticket: QueueTicket | None) -> None:
        self._call_over()
        if ticket is None:
            self.said.emit(lambda: self.tr("Nobody is waiting in the queue."), Severity.NOTE)
            return
        self._called = ticket
        self.field.setText(ticket.number)
        self.said.emit(lambda: self.tr("Ticket {n} called to this counter.").format(
            n=ticket.number), Severity.NOTE)

    def _not_called(self, exc: Exception) -> None:
        self._call_over()
        if not isinstance(exc, QueueFailed):
            raise exc  # a fault, for the log
        self.said.emit(exc.reason, Severity.WARNING)
        self.focus_field()

    def _call_over(self) -> None:
        self.calling = False
        self.call_button.setEnabled(True)

    def _confirm(self) -> None:
        """Enter in the field: the ticket taken, or why it is not one."""
        if not self.field.text().strip():
            self.entered.emit()  # a customer without a ticket is served too
            return
        try:
            parse_ticket(self.field.text())
        except InvalidInput as exc:
            self.said.emit(exc.reason, Severity.REFUSED)
            return
        self.entered.emit()

    def _show_times(self) -> None:
        """The called ticket's times beside it, in the hall's clock."""
        ticket = self.ticket()
        if ticket is None or ticket.source is not TicketSource.QUEUE or (
                ticket.issued_at is None or ticket.called_at is None):
            self.times.clear()
            self.times.setToolTip("")
            return
        issued = f"{ticket.issued_at.astimezone(HALL_TZ):%H:%M}"
        called = f"{ticket.called_at.astimezone(HALL_TZ):%H:%M}"
        self.times.setText(f"{issued}→{called}")  # short: it shares a row with two buttons
        self.times.setToolTip(self.tr("Ticket issued at {i}, called at {c}").format(
            i=issued, c=called))
