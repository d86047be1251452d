"""The counter window: find the account, pick the business, fill one form, hand over the
receipt. Searching runs off the UI thread; the sync status is always in view."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from hallclient.forms import FORMS
from hallclient.receipts.content import HallInfo, ReceiptContent, build_receipt
from hallclient.receipts.history import ReceiptUnavailable, receipt_history, reprint
from hallclient.receipts.render import render_pdf
from hallclient.store.account_history import (
    SYNC_STATE_LABELS,
    OperationEntry,
    SyncState,
    account_history,
)
from hallclient.store.accounts import load_account
from hallclient.store.cache import Cache, CacheUnwritable
from hallclient.store.feedback import record_feedback
from hallclient.store.operations import (
    OverrideNeeded,
    RecordedOperation,
    RequestRefused,
    TerminalIdentity,
    record_operation,
)
from hallclient.store.search import search_accounts
from hallclient.store.tasks import Task, close_task, open_tasks
from hallclient.sync.engine import BootstrapProgress
from hallclient.sync.worker import SyncStatus
from hallclient.ui import palette
from hallclient.ui.about import AboutDialog
from hallclient.ui.background import run_in_background
from hallclient.ui.dashboard import KpiDashboard
from hallclient.ui.form_view import FormView
from hallclient.ui.i18n import current_language, follow_language, use_language
from hallclient.ui.idle_lock import CheckPassword, LockDialog
from hallclient.ui.rating import RatingWindow
from hallclient.ui.receipt_preview import ReceiptPreview
from hallclient.ui.supervisor_dialog import Approve, SupervisorDialog
from hallclient.ui.work_items import WorkItemsPanel
from hallcore.domain.accounts import STATUS_LABELS, Account, missing_information
from hallcore.domain.business import BUSINESS_TYPES, BusinessKind, PayloadInvalid
from hallcore.domain.deadlines import HALL_TZ
from hallcore.domain.masking import mask_id_number, mask_phone
from hallcore.domain.text import Lang, sentence
from hallcore.wire import (
    AccountNotifications,
    KpiReport,
    NotificationWire,
    Rating,
    WorkItemList,
    WorkItemWire,
)

NEXT_TURN_MS = 1  # work split over turns of the event loop (see _submit)

_STATE_COLOURS = {SyncState.PENDING: palette.WARNING, SyncState.SYNCED: palette.OK,
                  SyncState.CONFLICT: palette.REFUSED, SyncState.REJECTED: palette.REFUSED}


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


class StatusBridge(QObject):
    """Carries SyncStatus from the sync worker's thread to the UI thread."""

    changed = Signal(object)


class CounterWindow(QMainWindow):
    logged_out = Signal()  # from the lock screen: the next clerk logs in

    def __init__(self, services: CounterServices, *, lang: Lang = "zh") -> None:
        super().__init__()
        self.services = services
        self.account: Account | None = None
        self.kind: BusinessKind | None = None
        self.status_bridge = StatusBridge(self)
        self.status_bridge.changed.connect(self.show_sync_status)
        self._last_status: SyncStatus | None = None
        self.redoing: Task | None = None
        self.lock_dialog: LockDialog | None = None
        self._history_entries: list[OperationEntry] = []
        self._sms: list[NotificationWire] = []
        self._open_tasks: list[Task] = []
        self._hidden_while_locked: list[QWidget] = []
        use_language(lang)
        self._build()
        follow_language(self, self.retranslate)
        self.refresh_tasks()

    # --- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        self.search = QLineEdit(self)
        self.results = QListWidget(self)
        self.results.currentItemChanged.connect(self._selected)
        self.account_panel = QLabel(self)
        self.account_panel.setWordWrap(True)
        self.account_panel.setTextFormat(Qt.TextFormat.PlainText)
        self.account_panel.setAlignment(Qt.AlignmentFlag.AlignTop)
        self._debounce = QTimer(self, singleShot=True, interval=150)
        self._debounce.timeout.connect(self._run_search)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.search.returnPressed.connect(self._run_search)
        QShortcut(QKeySequence("Ctrl+F"), self, self.search.setFocus)
        QShortcut(QKeySequence("Ctrl+L"), self, self.toggle_language)
        self.business_buttons: dict[BusinessKind, QPushButton] = {}
        # Two rows of four: English labels are long, and the window must fit 1280 px.
        buttons = QGridLayout()
        for n, (kind, spec) in enumerate(FORMS.items()):
            button = QPushButton(self)
            button.clicked.connect(lambda _c=False, k=kind: self.open_form(k))
            QShortcut(QKeySequence(spec.shortcut), self, lambda k=kind: self.open_form(k))
            self.business_buttons[kind] = button
            buttons.addWidget(button, n // 4, n % 4)
        self.language_button = QPushButton(self)
        self.language_button.clicked.connect(self.toggle_language)
        self.reprint_button = QPushButton(self)
        self.reprint_button.clicked.connect(self.show_history)
        QShortcut(QKeySequence("Ctrl+R"), self, self.show_history)
        QShortcut(QKeySequence("Ctrl+D"), self, self.show_dashboard)
        QShortcut(QKeySequence("F1"), self, lambda: AboutDialog(self).exec())
        self.dashboard: KpiDashboard | None = None
        buttons.addWidget(self.reprint_button, 0, 4)
        buttons.addWidget(self.language_button, 1, 4)
        self.forms = QStackedWidget(self)
        self.form_views: dict[BusinessKind, FormView] = {}
        for kind, spec in FORMS.items():
            view = FormView(spec, parent=self)
            view.submitted.connect(self._submit)
            self.form_views[kind] = view
            self.forms.addWidget(view)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.search)
        left_layout.addWidget(self.results, 1)
        left_layout.addWidget(self.account_panel)
        # Information completeness: while the customer is here, fill what the record lacks.
        self.complete_button = QPushButton(self)
        self.complete_button.clicked.connect(self.complete_record)
        self.complete_button.hide()
        left_layout.addWidget(self.complete_button)
        self.history_title = QLabel(self)
        self.history = QListWidget(self)
        self.history.setWordWrap(True)
        left_layout.addWidget(self.history_title)
        left_layout.addWidget(self.history, 1)
        self.tasks_title = QLabel(self)
        self.tasks = QListWidget(self)
        self.tasks.setWordWrap(True)  # the server's reason is read in full
        self.redo_button = QPushButton(self)
        self.redo_button.clicked.connect(self.redo_task)
        self.cancel_task_button = QPushButton(self)
        self.cancel_task_button.clicked.connect(self.cancel_task)
        task_buttons = QHBoxLayout()
        task_buttons.addWidget(self.redo_button)
        task_buttons.addWidget(self.cancel_task_button)
        left_layout.addWidget(self.tasks_title)
        left_layout.addWidget(self.tasks, 1)
        left_layout.addLayout(task_buttons)
        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.addLayout(buttons)
        right_layout.addWidget(self.forms, 1)
        right_layout.addWidget(self.message)
        self.work_items: WorkItemsPanel | None = None
        s = self.services
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
        self.sync_label = QLabel(self)
        self.statusBar().addPermanentWidget(self.sync_label, 1)
        # Shown while a bootstrap fills the cache: a new terminal's first minutes.
        self.bootstrap_progress = QProgressBar(self)
        self.bootstrap_progress.hide()
        self.statusBar().addPermanentWidget(self.bootstrap_progress)
        # At 150% a 1080p screen has 1280x720 logical pixels: never open larger than the screen.
        room = self.screen().availableGeometry()
        self.resize(min(1200, room.width()), min(760, room.height()))

    @property
    def lang(self) -> Lang:
        return current_language()

    def set_language(self, lang: Lang) -> None:
        """Switch the whole application's language (every open window follows)."""
        use_language(lang)

    def toggle_language(self) -> None:
        self.set_language("en" if self.lang == "zh" else "zh")

    def retranslate(self) -> None:
        lang = self.lang
        self.setWindowTitle(f"HallClient — {self.services.hall.name[lang]}")
        self.search.setPlaceholderText(
            self.tr("account, ID number, phone, name or address (Ctrl+F)"))
        for kind, button in self.business_buttons.items():
            button.setText(f"{BUSINESS_TYPES[kind].label[lang]} ({FORMS[kind].shortcut})")
        # Names the other language in its own words: the way back for a clerk who cannot
        # read the current one.
        self.language_button.setText("English (Ctrl+L)" if lang == "zh" else "中文 (Ctrl+L)")
        self.reprint_button.setText(self.tr("Reprint (Ctrl+R)"))
        self.history_title.setText(self.tr("Operations at this counter"))
        self.complete_button.setText(self.tr("Complete the customer record (F8)"))
        self.tasks_title.setText(self.tr("Tasks (conflicts and rejections)"))
        self.redo_button.setText(self.tr("Redo on current details"))
        self.cancel_task_button.setText(self.tr("Cancel with a reason…"))
        # Relabels what is on screen; no database read (a language switch does no I/O).
        self._render_tasks()
        self._show_account()
        if self._last_status is not None:
            self._render_sync_label(self._last_status)

    # --- search and the account ------------------------------------------------------------

    def _run_search(self) -> None:
        query = self.search.text()
        cache = self.services.cache

        def find() -> list[Account]:
            with cache.read() as session:
                return search_accounts(session, query)

        run_in_background(self, find, on_done=lambda found: self._show_results(query, found),
                          on_error=lambda exc: self.message.setText(str(exc)))

    def _show_results(self, query: str, found: list[Account]) -> None:
        if query != self.search.text():
            return  # the clerk typed on; a newer search is on its way
        self.results.clear()
        for account in found:
            item = QListWidgetItem(self._result_text(account))
            item.setData(Qt.ItemDataRole.UserRole, account)
            self.results.addItem(item)
        if len(found) == 1:
            self.results.setCurrentRow(0)

    def _result_text(self, account: Account) -> str:
        return f"{account.number}  {account.holder_name}  {account.supply_address}"

    def _update_result(self, account: Account) -> None:
        """The search result of a changed account shows it as it is now."""
        for row in range(self.results.count()):
            item = self.results.item(row)
            if item.data(Qt.ItemDataRole.UserRole).number == account.number:
                item.setText(self._result_text(account))
                item.setData(Qt.ItemDataRole.UserRole, account)

    def _selected(self, item: QListWidgetItem | None) -> None:
        self.account = item.data(Qt.ItemDataRole.UserRole) if item else None
        self._sms = []
        self._load_history()
        self._show_account()
        if self.kind is not None:
            self.open_form(self.kind)

    def _show_account(self) -> None:
        a, lang = self.account, self.lang
        self._render_history()
        self.complete_button.setVisible(a is not None and bool(missing_information(a)))
        if a is None:
            self.account_panel.setText(self.tr("Find and select an account first"))
            return
        lines = [f"{a.number}  {a.holder_name}  {STATUS_LABELS[a.status][lang]}",
                 f"{mask_id_number(a.id_number or '')}  {mask_phone(a.phone or '')}",
                 a.supply_address]
        if not a.sms_consent:
            lines.append(self.tr("No SMS notices"))
        elif a.sms_language == "en":
            lines.append(self.tr("SMS notices in English"))
        else:
            lines.append(self.tr("SMS notices in Chinese"))
        if a.community:
            lines.append(a.community.name)
        if a.community and a.community.manager_name:
            lines.append(self.tr("Customer manager: {n} {p}").format(
                n=a.community.manager_name, p=mask_phone(a.community.manager_phone or "")))
        missing = missing_information(a)
        separator = "、" if lang == "zh" else ", "
        lines.append(self.tr("Missing: {m}").format(m=separator.join(m[lang] for m in missing))
                     if missing else self.tr("Customer record complete"))
        self.account_panel.setText("\n".join(lines))

    def complete_record(self) -> None:
        """Open the contact change with the record's gaps named, to ask the customer now."""
        if self.account is None:
            return
        missing = missing_information(self.account)
        self.open_form(BusinessKind.CONTACT_CHANGE)
        separator = "、" if self.lang == "zh" else ", "
        self.message.setText(self.tr("Ask the customer for: {m}").format(
            m=separator.join(m[self.lang] for m in missing)))

    def _load_history(self) -> None:
        """The account's operations made here, each with where it stands with the server,
        and the SMS the server sent the customer about them (fetched off the UI thread)."""
        self._history_entries = []
        if self.account is not None:
            with self.services.cache.read() as session:
                self._history_entries = account_history(session, self.account.number)
            fetch = self.services.notifications
            if fetch is not None:
                number = self.account.number
                run_in_background(self, lambda: fetch(number), on_done=self._show_sms,
                                  on_error=lambda _exc: None)  # offline: none shown
        self._render_history()

    def _show_sms(self, sent: AccountNotifications) -> None:
        if self.account is None or sent.account_number != self.account.number:
            return  # another account was chosen meanwhile
        self._sms = sent.items
        self._render_history()

    def _sms_line(self, sms: NotificationWire) -> str:
        notice = {"accepted": self.tr("accepted"), "completed": self.tr("completed"),
                  "conflict": self.tr("conflict"), "rejected": self.tr("rejected")
                  }.get(sms.notice, sms.notice)
        if sms.sent_at is None:
            return "    " + self.tr("SMS “{n}” waiting to be sent").format(n=notice)
        sent = sms.sent_at.astimezone(HALL_TZ)
        return "    " + self.tr("SMS “{n}” sent {t}").format(n=notice,
                                                                   t=f"{sent:%m-%d %H:%M}")

    def _render_history(self) -> None:
        self.history.clear()
        sms_of: dict[str, list[NotificationWire]] = {}
        for sms in self._sms:
            sms_of.setdefault(sms.operation_id, []).append(sms)
        for entry in self._history_entries:
            made = entry.created_at.astimezone(HALL_TZ)
            item = QListWidgetItem(f"{made:%m-%d %H:%M}  "
                                   f"{BUSINESS_TYPES[entry.kind].label[self.lang]}  "
                                   f"{entry.receipt_no or ''}  "
                                   f"{SYNC_STATE_LABELS[entry.state][self.lang]}")
            item.setForeground(QColor(_STATE_COLOURS[entry.state]))
            self.history.addItem(item)
            for sms in sms_of.get(entry.operation_id, []):
                self.history.addItem(QListWidgetItem(self._sms_line(sms)))

    # --- the request -----------------------------------------------------------------------

    def open_form(self, kind: BusinessKind) -> None:
        self.kind = kind
        view = self.form_views[kind]
        if self.account is not None:
            view.fill({name: getattr(self.account, attr)
                       for name, attr in FORMS[kind].prefill_from_account.items()})
        self.forms.setCurrentWidget(view)
        self.message.clear()
        view.start()
        view.focus_first_field()

    def _submit(self, payload: dict[str, object], approved_by: str | None = None) -> None:
        assert self.kind is not None
        kind, before = self.kind, self.account
        s = self.services
        receipts: list[ReceiptContent] = []

        def describe(recorded: RecordedOperation, account: Account | None,
                     clean: Mapping[str, Any]) -> dict[str, Any]:
            receipts.append(build_receipt(recorded, account, clean, hall=s.hall,
                                          terminal_id=s.terminal.terminal_id, clerk=s.clerk,
                                          pending=True))
            return receipts[0].to_json()

        try:
            recorded = record_operation(
                s.cache, s.terminal, clerk=s.clerk, kind=kind,
                account_number=before.number if before else None, raw_payload=payload,
                now=datetime.now(UTC), online=s.online(), online_only=s.online_only,
                approved_by=approved_by, facts=self.form_views[kind].counter_facts(),
                describe=describe)
        except RequestRefused as exc:
            self.message.setText(sentence(exc.reason[self.lang]))
            return
        except OverrideNeeded as exc:
            self.message.setText(self.tr("A supervisor must confirm: {w}").format(
                w="; ".join(w[self.lang] for w in exc.warnings)))
            if s.approve is not None:  # the supervisor signs off here and now
                dialog = SupervisorDialog(exc.warnings, s.approve, self)
                dialog.approved.connect(lambda supervisor: self._submit(payload, supervisor))
                dialog.open()
            return
        except PayloadInvalid as exc:
            self.message.setText(sentence("; ".join(r[self.lang] for r in exc.errors.values())))
            return
        except CacheUnwritable as exc:  # a full disk: nothing recorded, the form stays filled
            self.message.setText(exc.reason[self.lang])
            return
        self.message.setText(self.tr("Accepted, receipt {n}").format(n=recorded.receipt_no))
        if self.redoing is not None and self.redoing.business is kind:
            close_task(s.cache, self.redoing.id, clerk=s.clerk, now=datetime.now(UTC),
                       resolution=f"redone, receipt {recorded.receipt_no}")
            self.redoing = None
            self.refresh_tasks()
        self.form_views[kind].clear()  # the next customer starts from an empty form
        if recorded.account is not None:
            self.account = recorded.account
        s.on_recorded()
        # The rest in later turns of the event loop: all at once, beside the receipt being
        # drawn on another thread, it kept the window from answering for over 100 ms
        # (bench/ui_stalls.py). A 1 ms timer, not a queued call: what is already due (input,
        # paint) goes first.
        QTimer.singleShot(NEXT_TURN_MS, self,
                          lambda: self._show_recorded(recorded, receipts[0]))

    def _show_recorded(self, recorded: RecordedOperation, receipt: ReceiptContent) -> None:
        """The account as the request left it, the customer's rating window, then the
        receipt, drawn off the UI thread."""
        if recorded.account is not None:
            self._update_result(recorded.account)
        self._load_history()
        self._show_account()
        self._ask_rating(recorded)
        QTimer.singleShot(NEXT_TURN_MS, self, lambda: self._preview(receipt))

    def _ask_rating(self, recorded: RecordedOperation) -> None:
        """The customer rates the transaction (satisfaction per transaction)."""
        window = RatingWindow(recorded.receipt_no, self)
        window.rated.connect(lambda rating, reason: self._rated(recorded, rating, reason))
        self.services.ask_rating(window)

    def _rated(self, recorded: RecordedOperation, rating: Rating, reason: str | None) -> None:
        try:
            record_feedback(self.services.cache, recorded.operation_id, rating, reason,
                            datetime.now(UTC))
        except CacheUnwritable as exc:  # a full disk: the rating is lost, the clerk told
            self.message.setText(exc.reason[self.lang])
            return
        self.services.on_recorded()  # the worker sends it with the next round

    # --- receipts --------------------------------------------------------------------------

    def show_history(self) -> None:
        """The latest receipts; choosing one prints it again, marked as a copy."""
        lang = self.lang
        dialog = QDialog(self)
        dialog.setWindowTitle(self.tr("Receipt history"))
        listing = QListWidget(dialog)
        for entry in receipt_history(self.services.cache):
            issued = entry.issued_at.replace(tzinfo=UTC).astimezone(HALL_TZ)
            item = QListWidgetItem(self.tr("{no}  {t}  {b}  account {acct}  {state}  copies {c}")
                                   .format(no=entry.receipt_no, t=f"{issued:%m-%d %H:%M}",
                                           b=BUSINESS_TYPES[entry.kind].label[lang],
                                           acct=entry.account_number or "—",
                                           state=entry.state, c=entry.copies_printed))
            item.setData(Qt.ItemDataRole.UserRole, entry.receipt_no)
            listing.addItem(item)
        reprint_button = QPushButton(self.tr("Reprint (Ctrl+R)"), dialog)
        reprint_button.setDefault(True)
        reprint_button.clicked.connect(dialog.accept)
        listing.itemActivated.connect(lambda _item: dialog.accept())
        layout = QVBoxLayout(dialog)
        layout.addWidget(listing)
        layout.addWidget(reprint_button)
        dialog.resize(720, 420)
        listing.setCurrentRow(0)
        if dialog.exec() and listing.currentItem() is not None:
            self.reprint(listing.currentItem().data(Qt.ItemDataRole.UserRole))

    def reprint(self, receipt_no: str) -> None:
        s = self.services
        try:
            content = reprint(s.cache, receipt_no, clerk=s.clerk, now=datetime.now(UTC))
        except ReceiptUnavailable as exc:
            self.message.setText(str(exc))
            return
        self._preview(content)

    def _preview(self, content: ReceiptContent) -> None:
        """Render the receipt off the UI thread (the first one loads the font: ~0.3 s), then
        show it to print."""
        run_in_background(
            self, lambda: render_pdf(content, layout="80mm"),
            on_done=lambda pdf: self.services.show_preview(
                ReceiptPreview(pdf, content.receipt_no, parent=self)),
            on_error=lambda exc: self.message.setText(
                self.tr("Receipt {n} is recorded but could not be drawn: {e}. Print it again "
                        "with Ctrl+R.").format(n=content.receipt_no, e=exc)))

    # --- tasks -----------------------------------------------------------------------------

    def refresh_tasks(self) -> None:
        self._open_tasks = open_tasks(self.services.cache)
        self._render_tasks()

    def _render_tasks(self) -> None:
        lang = self.lang
        self.tasks.clear()
        for task in self._open_tasks:
            marker = (self.tr("[conflict]") if task.kind == "conflict" else
                      self.tr("[rejected]"))
            item = QListWidgetItem(self.tr("{kind} {b} account {no} {name} {phone}: {said}").format(
                kind=marker, b=BUSINESS_TYPES[task.business].label[lang],
                no=task.account_number or "—", name=task.customer_name or "",
                phone=mask_phone(task.customer_phone or ""), said=task.server_said[lang]))
            item.setData(Qt.ItemDataRole.UserRole, task)
            self.tasks.addItem(item)

    def _current_task(self) -> Task | None:
        item = self.tasks.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def redo_task(self) -> None:
        """Open the request again on the account as it is now, filled in as it was asked."""
        task = self._current_task()
        if task is None:
            return
        self.redoing = task
        if task.account_number:
            with self.services.cache.read() as session:
                self.account = load_account(session, task.account_number)
            self._load_history()
            self._show_account()
        self.open_form(task.business)
        self.form_views[task.business].fill(task.asked)

    def cancel_task(self) -> None:
        task = self._current_task()
        if task is None:
            return
        reason, ok = QInputDialog.getText(self, self.tr("Cancel with a reason…"),
                                          self.tr("Reason for cancelling:"))
        if ok and reason.strip():
            try:
                close_task(self.services.cache, task.id, clerk=self.services.clerk,
                           resolution=reason, now=datetime.now(UTC))
            except CacheUnwritable as exc:  # the task stays open
                self.message.setText(exc.reason[self.lang])
            self.refresh_tasks()

    # --- sync status -----------------------------------------------------------------------

    def show_sync_status(self, status: SyncStatus) -> None:
        self._last_status = status
        self._render_sync_label(status)
        if status.open_tasks != len(self._open_tasks):
            self.refresh_tasks()
        self._load_history()  # an operation's sync state may have changed

    def _render_sync_label(self, status: SyncStatus) -> None:
        online = self.tr("● online") if status.online else self.tr("● offline")
        last = (f"{status.last_pull_at.astimezone(HALL_TZ):%H:%M}" if status.last_pull_at
                else self.tr("never"))
        self.sync_label.setText(self.tr("{s}   pending {p}   conflicts {c}   last sync {t}")
                                .format(s=online, p=status.pending, c=status.open_tasks, t=last))
        self.sync_label.setStyleSheet(palette.text_colour(
            palette.OK if status.online else palette.REFUSED))
        self._show_bootstrap(status.bootstrap)

    def _show_bootstrap(self, progress: BootstrapProgress | None) -> None:
        bar = self.bootstrap_progress
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

    # --- work items ------------------------------------------------------------------------

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
