"""The counter window: find the account, pick the business, fill one form, hand over the
receipt; the sync status always in view.

A frame over one widget per panel: search, account, forms, the account's history, the clerk's
tasks, the hall's work items, the sync status. It routes what one panel does to the others,
runs each request off the UI thread (hallclient/counter/requests.py) and refreshes the views
that the request's changes name; it also holds the window's keys, the language switch, the
lock and logging out.

One customer at a time: "Next customer" (F12) empties the search, the account, the forms and
the messages; the customer's session (hallclient/counter/session.py) times each request from
the first search keystroke or that key, not from the business key. The customer's queue ticket
(ticket_bar.py, F2) goes with every request of the visit; where the hall has a queue system,
F12 calls its next ticket to this counter.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from hallclient.auth.approval import EXTENSION_REASON
from hallclient.counter.approval import ApprovalSubject
from hallclient.counter.availability import business_state
from hallclient.counter.customer_view import customer_view
from hallclient.counter.requests import (
    CounterChanges,
    CounterDesk,
    CounterRequest,
    DrawnReceipt,
    View,
    make_request,
    reprint_receipt,
)
from hallclient.counter.session import CustomerSession
from hallclient.devices.idcard import (
    CARD_FORMS,
    CardData,
    CardReader,
    CardRefused,
    card_refusal,
)
from hallclient.devices.queue import QueueSystem
from hallclient.failures import said
from hallclient.forms import FORMS
from hallclient.receipts.content import HallInfo
from hallclient.receipts.history import ReceiptUnavailable, receipt_history
from hallclient.store.accounts import load_account
from hallclient.store.cache import Cache, CacheUnwritable
from hallclient.store.feedback import record_feedback
from hallclient.store.operations import (
    OverrideNeeded,
    RecordedOperation,
    RequestRefused,
    SignOff,
    TerminalIdentity,
)
from hallclient.store.outbox_backup import refresh_backup
from hallclient.store.tasks import Task
from hallclient.sync.claims import ClaimBoard, claim_notice
from hallclient.sync.work_calendar import hall_calendar
from hallclient.sync.worker import SyncStatus
from hallclient.ui.about import AboutDialog
from hallclient.ui.account_panel import AccountPanel, missing_list
from hallclient.ui.background import run_in_background
from hallclient.ui.card_reader import CardPhotoPanel, CardReaderService, fill_form
from hallclient.ui.customer_screen import CustomerScreen
from hallclient.ui.dashboard import KpiDashboard
from hallclient.ui.form_host import FormHost
from hallclient.ui.form_view import FormView
from hallclient.ui.history_panel import HistoryPanel
from hallclient.ui.i18n import current_language, follow_language, switch_language, use_language
from hallclient.ui.idle_lock import CheckPassword, LockDialog
from hallclient.ui.message_bar import MessageBar, Severity, Words
from hallclient.ui.rating import RatingWindow
from hallclient.ui.receipt_history import ReceiptHistoryDialog
from hallclient.ui.receipt_preview import ReceiptPreview
from hallclient.ui.search_panel import SearchPanel
from hallclient.ui.supervisor_dialog import Approve, SupervisorDialog
from hallclient.ui.sync_status import StatusBridge, SyncStatusView
from hallclient.ui.tasks_panel import TasksPanel
from hallclient.ui.ticket_bar import TicketBar
from hallclient.ui.work_items import WorkItemsPanel
from hallcore.domain.accounts import Account
from hallcore.domain.business import BUSINESS_TYPES, BusinessKind, PayloadInvalid
from hallcore.domain.deadlines import HALL_TZ
from hallcore.domain.text import Lang, Text
from hallcore.wire import (
    AccountNotifications,
    KpiReport,
    Rating,
    TerminalFacts,
    WorkItemList,
    WorkItemWire,
)

NEXT_TURN_MS = 1  # work split over turns of the event loop (see _recorded)


@dataclass
class CounterServices:
    """What the window works with; made by the application's composition root."""

    cache: Cache
    terminal: TerminalIdentity
    clerk: str
    hall: HallInfo
    online: Callable[[], bool] = lambda: True
    online_only: frozenset[BusinessKind] = frozenset({BusinessKind.CLOSE})
    on_recorded: Callable[[], None] = lambda: None  # e.g. wake the sync worker
    show_preview: Callable[[ReceiptPreview], None] = field(
        default=lambda preview: preview.open())
    ask_rating: Callable[[RatingWindow], None] = field(
        default=lambda window: window.show_to_customer())
    # Where the customer checks and signs a request that needs their signature.
    ask_signature: Callable[[CustomerScreen], None] = field(
        default=lambda screen: screen.show_to_customer())
    # Checks the clerk's password to unlock the idle-locked window; None: no idle lock.
    check_password: CheckPassword | None = None
    # Checks a supervisor's sign-off at the counter; None: such requests are only explained.
    approve: Approve | None = None
    # From the server (called off the UI thread); None: not shown (no server, as in tests).
    work_items: Callable[[], WorkItemList] | None = None
    complete_work_item: Callable[[int], WorkItemWire] | None = None
    notifications: Callable[[str], AccountNotifications] | None = None
    # The hall's service KPIs (supervisors; the server refuses clerks with a message).
    kpi_report: Callable[[datetime, datetime, str], KpiReport] | None = None
    # A supervisor's extension of this terminal's offline window (supervisor id, password).
    extend_offline_window: Callable[[str, str], TerminalFacts] | None = None
    clock: Callable[[], float] = time.monotonic  # times each customer's visit (seconds)
    # The ID card reader's backend, opened by the window; None: the keyboard (the clerk or a
    # keyboard-wedge reader types the number).
    card_reader: CardReader | None = None
    # The hall's queue system (叫号系统); None: tickets are typed or scanned, or there are none.
    queue: QueueSystem | None = None
    # The district's claims ("being changed at hall X") and this counter's own; None: none.
    claims: ClaimBoard | None = None


class CounterWindow(QMainWindow):
    logged_out = Signal()  # from the lock screen: the next clerk logs in
    request_finished = Signal()  # a submitted request was recorded or refused, and said so

    def __init__(self, services: CounterServices, *, lang: Lang = "zh") -> None:
        super().__init__()
        self.services = services
        self.account: Account | None = None
        self._claimed: str | None = None  # the account this counter has a form open on
        self.redoing: Task | None = None  # the task whose request is being taken again
        self.lock_dialog: LockDialog | None = None
        self.dashboard: KpiDashboard | None = None
        self._hidden_while_locked: list[QWidget] = []
        self._request_running = False
        self._typing_in: QWidget | None = None  # the form's field the cursor was in at submit
        self._signing: CustomerScreen | None = None  # the customer's screen, while they sign
        self.session = CustomerSession(services.clock)
        self._closed = False
        self.status_bridge = StatusBridge(self)
        self.status_bridge.changed.connect(self.show_sync_status)
        # The working-day calendar the buttons' dates are counted on: read again for each
        # customer, not at each sync status (the receipt reads it as the request is recorded).
        self.calendar = hall_calendar(services.cache)
        use_language(lang)
        self._build()
        self._keys()
        follow_language(self, self.retranslate)
        self.show_business_states()
        self.tasks_panel.refresh()

    # --- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        s = self.services
        self.message = MessageBar(self)
        self.search_panel = SearchPanel(s.cache, self)
        self.search_panel.chosen.connect(self._chosen)
        self.search_panel.typed.connect(self.session.begin)
        self.search_panel.failed.connect(
            lambda words: self.message.say(words, Severity.REFUSED))
        self.next_button = QPushButton(self)
        self.next_button.clicked.connect(self.next_customer)
        # The customer rates once the receipt is handed over: a deliberate step (F11) on a
        # single screen; on a customer's screen it opens by itself.
        self.rate_button = QPushButton(self)
        self.rate_button.clicked.connect(self.ask_customer_to_rate)
        self.rate_button.hide()
        self._to_rate: RecordedOperation | None = None
        self.account_panel = AccountPanel(self)
        self.account_panel.complete.connect(self.complete_record)
        self.history_panel = HistoryPanel(s.cache, s.notifications, parent=self)
        self.tasks_panel = TasksPanel(s.cache, s.clerk, self)
        self.tasks_panel.redo.connect(self.redo_task)
        self.tasks_panel.failed.connect(
            lambda words: self.message.say(words, Severity.REFUSED))
        self.reprint_button = QPushButton(self)
        self.reprint_button.clicked.connect(self.show_receipt_history)
        self.language_button = QPushButton(self)
        self.language_button.clicked.connect(self.toggle_language)
        # What the last step did, and beside it the next step it calls for (the rating).
        notice = QWidget(self)
        notice_row = QHBoxLayout(notice)
        notice_row.setContentsMargins(0, 0, 0, 0)
        notice_row.addWidget(self.message, 1)
        notice_row.addWidget(self.rate_button)
        self.form_host = FormHost([self.reprint_button, self.language_button], notice, self)
        self.form_host.chosen.connect(self.open_form)
        self.form_host.submitted.connect(self._submit)
        self.form_host.edited.connect(self._form_edited)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        # The customer's queue ticket beside "Next customer": every request of the visit
        # carries it. On the same row: the column's height is the small screen's.
        self.ticket_bar = TicketBar(s.queue, self)
        self.ticket_bar.edited.connect(self.session.begin)
        self.ticket_bar.entered.connect(self._ticket_entered)
        self.ticket_bar.said.connect(self.message.say)
        self.ticket_bar.call_button.clicked.connect(self.next_customer)
        visit_row = QHBoxLayout()
        visit_row.addWidget(self.next_button)
        visit_row.addWidget(self.ticket_bar, 1)
        left_layout.addLayout(visit_row)
        left_layout.addWidget(self.search_panel, 1)
        left_layout.addWidget(self.account_panel)
        self.card_panel = CardPhotoPanel(self)
        left_layout.addWidget(self.card_panel)
        self.card_reader: CardReaderService | None = None
        if s.card_reader is not None:
            self.card_reader = CardReaderService(s.card_reader, self)
            self.card_reader.card_read.connect(self.card_read)
            # The counter works on without the reader: the number is typed.
            self.card_reader.failed.connect(
                lambda words: self.message.say(words, Severity.WARNING))
            self.card_reader.start()
        left_layout.addWidget(self.history_panel, 1)
        left_layout.addWidget(self.tasks_panel, 1)
        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.form_host, 3)  # the form first; the rest for the items
        self.work_items: WorkItemsPanel | None = None
        if s.work_items is not None and s.complete_work_item is not None:
            self.work_items = WorkItemsPanel(s.work_items, s.complete_work_item, parent=self)
            self.work_items.remind.connect(self._remind)
            right_layout.addWidget(self.work_items, 1)
            QTimer.singleShot(0, self.work_items.refresh)
        splitter = QSplitter(self)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([460, 740])  # room for an address in the results, a task's reason
        self.central = splitter
        self.setCentralWidget(splitter)
        self.sync_status = SyncStatusView(self)
        self.statusBar().addPermanentWidget(self.sync_status, 1)
        # At 150% a 1080p screen has 1280x720 logical pixels: never open larger than the screen.
        room = self.screen().availableGeometry()
        self.resize(min(1200, room.width()), min(760, room.height()))

    def _keys(self) -> None:
        """The window's own keys; each business's key is the form host's."""
        for keys, action in (("Ctrl+F", self.search.setFocus),
                             ("Ctrl+L", self.toggle_language),
                             ("Ctrl+R", self.show_receipt_history),
                             ("Ctrl+D", self.show_dashboard),
                             ("Ctrl+Shift+W", self.extend_offline_window),
                             ("F12", self.next_customer),
                             ("F2", self.ticket_bar.focus_field),
                             ("F11", self.ask_customer_to_rate),
                             ("F1", lambda: AboutDialog(self).exec())):
            QShortcut(QKeySequence(keys), self, action)

    @property
    def search(self) -> QLineEdit:
        """The search box (Ctrl+F)."""
        return self.search_panel.box

    @property
    def form_views(self) -> Mapping[BusinessKind, FormView]:
        return self.form_host.views

    @property
    def lang(self) -> Lang:
        return current_language()

    def set_language(self, lang: Lang) -> None:
        """Switch the whole application's language (every open window follows)."""
        use_language(lang)

    def toggle_language(self) -> None:
        switch_language()

    def retranslate(self) -> None:
        lang = self.lang
        self.setWindowTitle(f"HallClient — {self.services.hall.name[lang]}")
        # Names the other language in its own words: the way back for a clerk who cannot
        # read the current one.
        self.language_button.setText("English (Ctrl+L)" if lang == "zh" else "中文 (Ctrl+L)")
        self.reprint_button.setText(self.tr("Reprint (Ctrl+R)"))
        self.next_button.setText(self.tr("Next customer (F12)"))
        self.rate_button.setText(self.tr("Ask the customer to rate (F11)"))

    # --- the account -----------------------------------------------------------------------

    def _chosen(self, account: Account) -> None:
        self.session.begin()
        self._show_account(account)

    def _show_account(self, account: Account | None) -> None:
        """The account the counter works on. A form opened for another account is closed
        and emptied (and a task being redone on it set aside): a transfer, a close, must never
        reach the next customer's account with the previous customer's answers."""
        number = account.number if account else None
        if self.form_host.kind is not None and self.form_host.account_number != number:
            self._close_customer_screen()
            self.form_host.close_form()
            self._claim(None)
            self.message.clear()
        if self.redoing is not None and self.redoing.account_number != number:
            self.redoing = None
        if number != (self.account.number if self.account else None):
            self._no_rating()  # the next customer must not rate the previous one's request
        self.account = account
        self.calendar = hall_calendar(self.services.cache)
        self.show_business_states()
        self.account_panel.show_account(account)
        self.history_panel.show_account(number)
        self._say_claimed(number)

    def next_customer(self) -> None:
        """The next customer (F12): nothing of the previous one left on screen, the cursor in
        the search box, the new customer's time running."""
        self.session.next_customer()
        self._close_customer_screen()
        self.search_panel.reset()
        self.card_panel.clear()
        self.form_host.close_form()
        self._claim(None)
        self._show_account(None)
        self.message.clear()
        self._no_rating()
        self.ticket_bar.clear()
        self.ticket_bar.call_next()  # with a queue system: its next ticket, to this visit
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _ticket_entered(self) -> None:
        """The ticket is taken (or there is none): on to the customer's account."""
        self.session.begin()
        self.search.setFocus(Qt.FocusReason.OtherFocusReason)

    def card_read(self, card: CardData) -> None:
        """A card laid on the reader fills the new holder or applicant of the form on screen,
        whole or not at all; with no such form, its number is searched. Not while a request
        is with the customer or being recorded: what they sign, and the form kept should they
        decline, stay as they were."""
        if self._request_running:
            self.message.say(lambda: self.tr(
                "A card was laid while the request is being signed or recorded: nothing was "
                "taken from it. Once the request is done, lay it again."), Severity.WARNING)
            return
        self.session.begin()
        today = datetime.now(HALL_TZ).date()
        kind = self.form_host.kind
        if kind is None or kind not in CARD_FORMS:
            self.card_panel.show_card(card)
            self.search.setText(card.id_number)
            self.search_panel.search()
            refusal = card_refusal(card, today)
            if refusal is not None:
                self.message.say(refusal, Severity.REFUSED)
            else:
                self.message.say(lambda: self.tr("The card is read and its holder's accounts "
                                                 "searched: compare its photo with the "
                                                 "customer."))
            return
        try:
            fill_form(self.form_views[kind], card, today)
        except CardRefused as refused:
            self.card_panel.clear()
            self.message.say(refused.reason, Severity.REFUSED)
            return
        self.card_panel.show_card(card)
        self.message.say(lambda: self.tr("The card is read into the form: compare its photo "
                                         "with the customer."), Severity.DONE)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.card_reader is not None:
            self.card_reader.stop()
        self._closed = True
        super().closeEvent(event)

    def complete_record(self) -> None:
        """Open the contact change with the record's gaps named, to ask the customer now."""
        if self.account is None:
            return
        account = self.account
        self.open_form(BusinessKind.CONTACT_CHANGE)
        self.message.say(lambda: self.tr("Ask the customer for: {m}").format(
            m=missing_list(account, self.lang)))

    def redo_task(self, task: Task) -> None:
        """Open the request again on the account as it is now, filled in as it was asked."""
        if task.account_number:
            with self.services.cache.read() as session:
                self._show_account(load_account(session, task.account_number))
        self.redoing = task
        self.open_form(task.business)
        self.form_views[task.business].fill(task.asked)

    # --- the request -----------------------------------------------------------------------

    def show_business_states(self) -> None:
        """Each business button as it stands for the account on screen, now."""
        s, now = self.services, datetime.now(UTC)
        self.form_host.show_states({kind: business_state(
            kind, self.account, online=s.online(), online_only=s.online_only, now=now,
            calendar=self.calendar) for kind in FORMS})

    def open_form(self, kind: BusinessKind) -> None:
        account = self.account
        self.show_business_states()  # the network may have come or gone since
        state = self.form_host.states[kind]
        if state.why_not is not None:
            self.message.say(state.why_not, Severity.REFUSED)
            return
        self.session.begin()  # a customer served without a search first
        prefill = {} if account is None else {
            name: getattr(account, attr)
            for name, attr in FORMS[kind].prefill_from_account.items()}
        self.form_host.show_form(kind, prefill, account)
        self._claim(account.number if account else None)
        # A colleague's claim is said first: the clerk may go on, knowing.
        if self._say_claimed(account.number if account else None):
            return
        if state.needs:
            self.message.say(_joined(*state.needs), Severity.WARNING)
        else:
            self.message.clear()

    def _claim(self, number: str | None) -> None:
        """Tell the district this counter has a form open on `number` (None: no form);
        the previous claim is released."""
        claims = self.services.claims
        if claims is None or number == self._claimed:
            return
        if self._claimed is not None:
            claims.release(self._claimed)
        if number is not None:
            claims.claim(number)
        self._claimed = number

    def _say_claimed(self, number: str | None) -> bool:
        """Whether another counter has a form open on the account: said, not refused."""
        claims = self.services.claims
        standing = claims.standing(number) if claims is not None and number else []
        if standing:
            self.message.say(claim_notice(standing[0]), Severity.WARNING)
        return bool(standing)

    def _desk(self) -> CounterDesk:
        s = self.services
        return CounterDesk(s.cache, s.terminal, s.clerk, s.hall)

    def _submit(self, kind: BusinessKind, payload: dict[str, object],
                signed: tuple[OverrideNeeded, SignOff] | None = None,
                customer_signature: bytes | None = None) -> None:
        """Record the request, signed by the customer first where its business needs their
        signature; `signed`: again, with the supervisor's sign-off of the operation the first
        try's OverrideNeeded named (on its account), and the customer's signature given."""
        if self._request_running:
            return  # a second Enter while the first is recorded: one request, not two
        self._request_running = True
        focused = QApplication.focusWidget()  # may be another window's, even a deleted one's
        self._typing_in = focused if focused is not None and self.form_host.isAncestorOf(
            focused) else None
        self.form_host.setEnabled(False)  # nothing typed into a request being recorded
        if BUSINESS_TYPES[kind].customer_signs and customer_signature is None:
            self._ask_signature(kind, payload, signed)
        else:
            self._record(kind, payload, signed, customer_signature)

    def _record(self, kind: BusinessKind, payload: dict[str, object],
                signed: tuple[OverrideNeeded, SignOff] | None,
                customer_signature: bytes | None) -> None:
        s = self.services
        redoes = self.redoing if self.redoing and self.redoing.business is kind else None
        # The account the form was opened for: a form never outlives its account.
        number = signed[0].account_number if signed else self.form_host.account_number
        request = CounterRequest(
            kind, number, payload, online=s.online(), online_only=s.online_only,
            facts=self.form_views[kind].counter_facts(self.session.handling_seconds(),
                                                      self.ticket_bar.ticket()),
            sign_off=signed[1] if signed else None, redoes_task=redoes.id if redoes else None,
            customer_signature=customer_signature, scans=self.form_host.attached_scans())
        desk, now, visit = self._desk(), datetime.now(UTC), self.session.visit
        run_in_background(self, lambda: make_request(desk, request, now),
                          on_done=lambda changes: self._recorded(changes, visit),
                          on_error=lambda exc: self._not_recorded(
                              exc, kind, payload, customer_signature))

    def _ask_signature(self, kind: BusinessKind, payload: dict[str, object],
                       signed: tuple[OverrideNeeded, SignOff] | None) -> None:
        """The customer's screen shows the request; the customer signs it (then it is
        recorded) or declines (then nothing is, and the form keeps its values)."""
        number = signed[0].account_number if signed else self.form_host.account_number
        try:
            view = customer_view(kind, self._account_numbered(number), payload,
                                 now=datetime.now(UTC), calendar=self.calendar)
        except (PayloadInvalid, RequestRefused) as exc:
            self._not_recorded(exc, kind, payload)
            return
        screen = CustomerScreen(view, self)
        screen.signed.connect(lambda png: self._signed(kind, payload, signed, png))
        screen.declined.connect(self._not_signed)
        screen.moved_to_clerk.connect(self._customer_screen_lost)
        self._signing = screen
        self.message.say(lambda: self.tr(
            "The customer is checking the request on their screen and signing it: nothing is "
            "recorded until they confirm."))
        self.services.ask_signature(screen)

    def _account_numbered(self, number: str | None) -> Account | None:
        """The account the form was opened for: the one on screen, or as cached."""
        if number is None:
            return None
        if self.account is not None and self.account.number == number:
            return self.account
        with self.services.cache.read() as session:
            return load_account(session, number)

    def _signed(self, kind: BusinessKind, payload: dict[str, object],
                signed: tuple[OverrideNeeded, SignOff] | None, png: bytes) -> None:
        self._signing = None
        self.activateWindow()  # the keyboard back to the clerk (the customer used the screen)
        self._record(kind, payload, signed, png)

    def _not_signed(self) -> None:
        self._signing = None
        self.activateWindow()
        self._form_back()
        self.message.say(lambda: self.tr(
            "The customer did not sign: the request cannot be accepted without their "
            "signature. Nothing was recorded; the form keeps what was entered."),
            Severity.REFUSED)
        self.request_finished.emit()

    def _customer_screen_lost(self) -> None:
        self.message.say(lambda: self.tr(
            "The customer's screen is disconnected: turn this screen to the customer to "
            "finish."), Severity.WARNING)

    def _close_customer_screen(self) -> None:
        """The counter turned to another account or customer: what was being signed goes
        unsigned."""
        if self._signing is not None:
            self._signing.reject()

    def _recorded(self, changes: CounterChanges, visit: int) -> None:
        self._form_back()
        recorded = changes.recorded
        self.message.say(lambda: self.tr("Accepted, receipt {n}").format(n=recorded.receipt_no),
                         Severity.DONE)
        if View.TASKS in changes.refresh:
            self.redoing = None
        self._claim(None)  # recorded: the account is no longer being changed here
        self.form_views[recorded.kind].clear()  # the next customer starts from an empty form
        self.form_host.scans.clear()  # recorded with the request
        # The account as it is now, unless the clerk has turned to another account or
        # customer meanwhile; a new connection's form now belongs to the account it opened.
        shown = self.account.number if self.account else None
        if changes.account is not None and visit == self.session.visit and shown in (
                None, changes.account.number):
            self.account = changes.account
            if self.form_host.kind is not None:
                self.form_host.account_number = changes.account.number
            self.show_business_states()
        self.services.on_recorded()
        self.request_finished.emit()
        # The rest in later turns of the event loop: all at once it kept the window from
        # answering for over 100 ms (bench/ui_stalls.py). A 1 ms timer, not a queued call:
        # what is already due (input, paint) goes first.
        QTimer.singleShot(NEXT_TURN_MS, self, lambda: self._refresh(changes))

    def _refresh(self, changes: CounterChanges) -> None:
        """The views the request changed, then the receipt, then the customer's rating."""
        if View.ACCOUNT in changes.refresh and changes.account is not None:
            self.search_panel.show_changed(changes.account)
            if self.account is changes.account:
                self.account_panel.show_account(changes.account)
        if View.HISTORY in changes.refresh:
            self.history_panel.refresh()
        if View.TASKS in changes.refresh:
            self.tasks_panel.refresh()
        self._to_rate = changes.recorded
        self.rate_button.show()
        QTimer.singleShot(NEXT_TURN_MS, self, lambda: self._show_receipt(
            changes.receipt, then=self._receipt_handed_over))

    def _not_recorded(self, exc: Exception, kind: BusinessKind,
                      payload: dict[str, object],
                      customer_signature: bytes | None = None) -> None:
        self._form_back()
        try:
            # A sign-off still to give is a step to take, not a refusal.
            self.message.say(self._refusal(exc, kind, payload, customer_signature),
                             Severity.WARNING if isinstance(exc, OverrideNeeded)
                             else Severity.REFUSED)
        finally:
            self.request_finished.emit()

    def _form_edited(self) -> None:
        """A refusal is about what was submitted: once the clerk corrects it, it goes."""
        if self.message.severity is Severity.REFUSED:
            self.message.clear()

    def _form_back(self) -> None:
        """The form answers again, the cursor where it was when the request was submitted."""
        self._request_running = False
        self.form_host.setEnabled(True)
        typing_in, self._typing_in = self._typing_in, None
        if typing_in is not None and typing_in.isVisible():
            typing_in.setFocus(Qt.FocusReason.OtherFocusReason)

    def _refusal(self, exc: Exception, kind: BusinessKind, payload: dict[str, object],
                 customer_signature: bytes | None = None) -> Words:
        """What to tell the clerk of a request that was not recorded (the form stays filled
        for a second try); anything else is a fault, raised for the log. A supervisor's
        sign-off records it with the customer's signature already given."""
        if isinstance(exc, RequestRefused):
            return exc.reason
        if isinstance(exc, OverrideNeeded):
            approve = self.services.approve
            if approve is not None:  # the supervisor signs off here and now
                needed = exc
                dialog = SupervisorDialog(
                    needed.warnings,
                    lambda supervisor, password: approve(supervisor, password, needed), self,
                    subject=ApprovalSubject.of(kind, self.account, payload))
                dialog.approved.connect(lambda sign_off: self._submit(
                    kind, payload, (needed, sign_off), customer_signature))
                dialog.open()
            warnings = exc.warnings
            return lambda: self.tr("A supervisor must confirm: {w}").format(
                w="; ".join(w[self.lang] for w in warnings))
        if isinstance(exc, PayloadInvalid):
            return _joined(*exc.errors.values())
        if isinstance(exc, CacheUnwritable):  # a full disk: nothing recorded
            return exc.reason
        raise exc

    def _receipt_handed_over(self) -> None:
        """The receipt step is over: a customer's screen asks for the rating by itself; on a
        single screen the clerk turns it to the customer with F11 (the button says so)."""
        if self._to_rate is not None and len(QGuiApplication.screens()) > 1:
            self.ask_customer_to_rate()

    def _no_rating(self) -> None:
        self._to_rate = None
        self.rate_button.hide()

    def ask_customer_to_rate(self) -> None:
        """The customer rates the transaction just done (satisfaction per transaction)."""
        recorded = self._to_rate
        self._no_rating()
        if recorded is not None:
            self._ask_rating(recorded)

    def _ask_rating(self, recorded: RecordedOperation) -> None:
        window = RatingWindow(recorded.receipt_no, self)
        window.rated.connect(lambda rating, reason: self._rated(recorded, rating, reason))
        visit = self.session.visit
        window.finished.connect(lambda _result: self.session.end(visit))  # rated or not
        window.moved_to_clerk.connect(self._customer_screen_lost)
        self.services.ask_rating(window)

    def _rated(self, recorded: RecordedOperation, rating: Rating, reason: str | None) -> None:
        try:
            record_feedback(self.services.cache, recorded.operation_id, rating, reason,
                            datetime.now(UTC))
        except CacheUnwritable as exc:  # a full disk: the rating is lost, the clerk told
            self.message.say(exc.reason, Severity.REFUSED)
            return
        cache = self.services.cache  # the backup off the UI thread; it never raises
        run_in_background(self, lambda: refresh_backup(cache), on_done=lambda _: None,
                          on_error=lambda _: None)
        self.services.on_recorded()  # the worker sends it with the next round

    def extend_offline_window(self) -> None:
        """Requests older than the hall's offline window wait on this terminal until a
        supervisor extends it here (Ctrl+Shift+W); then the next sync sends them."""
        extend = self.services.extend_offline_window
        if extend is None:
            return
        dialog = SupervisorDialog((EXTENSION_REASON,), extend, self)
        dialog.approved.connect(self._window_extended)
        dialog.open()

    def _window_extended(self, facts: TerminalFacts) -> None:
        self.message.say(lambda: self.tr("The offline window is {h} hours for a day: the "
                                         "waiting requests are sent now.").format(
                                             h=facts.offline_window_hours), Severity.DONE)
        self.services.on_recorded()

    # --- receipts --------------------------------------------------------------------------

    def show_receipt_history(self) -> None:
        """The latest receipts; the one chosen is printed again, marked as a copy."""
        dialog = ReceiptHistoryDialog(receipt_history(self.services.cache), self)
        if dialog.exec() and (receipt_no := dialog.chosen()) is not None:
            self.reprint(receipt_no)

    def reprint(self, receipt_no: str) -> None:
        desk, now = self._desk(), datetime.now(UTC)
        run_in_background(self, lambda: reprint_receipt(desk, receipt_no, now),
                          on_done=self._show_receipt, on_error=self._not_reprinted)

    def _not_reprinted(self, exc: Exception) -> None:
        if not isinstance(exc, ReceiptUnavailable):
            raise exc  # a fault, for the log
        number = exc.receipt_no
        self.message.say(lambda: self.tr("Receipt {n} is not kept on this terminal.").format(
            n=number), Severity.REFUSED)

    def _show_receipt(self, receipt: DrawnReceipt,
                      then: Callable[[], None] = lambda: None) -> None:
        """The receipt's preview; `then` once it is closed (at once when it is not drawn)."""
        if receipt.pdf is None:
            number = receipt.content.receipt_no
            assert receipt.failure is not None  # no PDF: the failure that stopped it
            failure = said(receipt.failure, "drawing a receipt")
            self.message.say(lambda: self.tr(
                "Receipt {n} is recorded but could not be drawn: {e}. Print it again with "
                "Ctrl+R.").format(n=number, e=failure[self.lang]), Severity.WARNING)
            then()
            return
        preview = ReceiptPreview(receipt.pdf, receipt.content.receipt_no, parent=self,
                                 drawn=receipt)
        preview.finished.connect(lambda _result: then())
        self.services.show_preview(preview)

    # --- sync status, dashboard, work items ------------------------------------------------

    def show_sync_status(self, status: SyncStatus) -> None:
        if self._closed:
            # The sync worker stops after the window's event loop: a status it sent meanwhile
            # arrives later, when this window's cache may be closed or gone.
            return
        self.sync_status.show_status(status)
        self.show_business_states()  # online-only businesses follow the network
        if status.open_tasks != self.tasks_panel.open_count:
            self.tasks_panel.refresh()
        self.history_panel.refresh()  # an operation's sync state may have changed

    def show_dashboard(self) -> None:
        """The hall's service KPIs (Ctrl+D), beside the counter window."""
        fetch = self.services.kpi_report
        if fetch is None:
            return
        if self.dashboard is None:
            self.dashboard = KpiDashboard(fetch, hall=self.services.hall.name, parent=self)
        else:
            self.dashboard.refresh()
        self.dashboard.show()
        self.dashboard.raise_()
        self.dashboard.activateWindow()

    def _remind(self, text: str) -> None:
        self.statusBar().showMessage(text, 120_000)
        QApplication.alert(self)  # the taskbar entry asks for attention

    # --- idle lock -------------------------------------------------------------------------

    def lock(self) -> None:
        """Hide the customer's data and the open receipts until the clerk's password."""
        check_password = self.services.check_password
        if check_password is None or self.lock_dialog is not None:
            return
        self._hidden_while_locked = [w for w in self.findChildren(QDialog) if w.isVisible()]
        for widget in [*self._hidden_while_locked, self.central]:
            widget.hide()
        self.lock_dialog = LockDialog(self.services.clerk, check_password, self)
        self.lock_dialog.unlocked.connect(self._unlocked)
        self.lock_dialog.logged_out.connect(self._log_out)
        self.lock_dialog.open()

    def _unlocked(self) -> None:
        self.lock_dialog = None
        for widget in [self.central, *self._hidden_while_locked]:
            widget.show()
        self._hidden_while_locked = []
        self.search.setFocus()

    def _log_out(self) -> None:
        self.lock_dialog = None
        self.logged_out.emit()
        self.close()


def _joined(*reasons: Text) -> Text:
    """Reasons as one message, in both languages (the message bar makes it a sentence)."""
    return Text("；".join(r.zh for r in reasons), "; ".join(r.en for r in reasons))
