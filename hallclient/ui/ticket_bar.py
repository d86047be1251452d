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
        self._typed_while_calling = False  # the clerk typed a ticket while a call was out
        self._called: QueueTicket | None = None  # the queue system's ticket, with its times
        self.label = QLabel(self)
        self.field = QLineEdit(self)
        self.field.setMaxLength(64)  # a ticket's barcode payload with its time
        self.label.setBuddy(self.field)
        self.times = QLabel(self)
        self.call_button = QPushButton(self)
        self.call_button.setVisible(queue is not None)
        self.field.textEdited.connect(self._typed)
        self.field.textChanged.connect(lambda _text: self._show_times())
        self.field.returnPressed.connect(self._confirm)
        # Left without Enter (a click into the search): what is not a ticket is said now,
        # not found missing from the receipt.
        self.field.editingFinished.connect(self._left)
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
        self._typed_while_calling = False
        self.call_button.setEnabled(False)
        run_in_background(self, queue.call_next, on_done=self._called_back,
                          on_error=self._not_called)

    def _called_back(self, ticket: QueueTicket | None) -> None:
        self._call_over()
        if ticket is None:
            self.said.emit(lambda: self.tr("Nobody is waiting in the queue."), Severity.NOTE)
            return
        typed = self.field.text().strip()
        if self._typed_while_calling and typed:
            # The customer in front of the counter showed their ticket meanwhile: it stays.
            self.said.emit(lambda: self.tr(
                "Ticket {n} was called to this counter; this customer keeps the ticket typed, "
                "{t}.").format(n=ticket.number, t=typed), Severity.WARNING)
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

    def _typed(self) -> None:
        self._typed_while_calling = self.calling
        self.edited.emit()

    def _confirm(self) -> None:
        """Enter in the field: the ticket taken, or why it is not one."""
        if self._check():
            self.entered.emit()

    def _left(self) -> None:
        if not self.field.hasFocus():  # Enter is _confirm's
            self._check()

    def _check(self) -> bool:
        """The ticket in the field said taken, as it will be recorded (a number typed in
        full-width characters shown as the receipt has it), or why it is not one; True when
        there is none or it is one."""
        text = self.field.text()
        if not text.strip():
            return True  # a customer without a ticket is served too
        try:
            ticket = self.ticket() or parse_ticket(text)
        except InvalidInput as exc:
            self.said.emit(exc.reason, Severity.REFUSED)
            return False
        if ticket.source is TicketSource.TYPED:
            self.field.setText(ticket.number)
        self.said.emit(lambda: self.tr("Ticket {n} is taken for this customer.").format(
            n=ticket.number), Severity.NOTE)
        return True

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
