"""The business buttons, each with its key (F3...F9), over the form of the business chosen:
one form on screen at a time, each generated from its spec (form_view.py).

A form belongs to the account it was opened for: closed, every form emptied, when the counter
turns to another account, so nothing the previous customer gave stays on screen or can be
submitted against the next one's account. A business that cannot be done now (no account,
the account's status, arrears, offline) has its button disabled with the reason under it;
its key still answers, with the reason in the window's message."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QGridLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from hallclient.counter.availability import BusinessState
from hallclient.devices.scans import wanted_scans
from hallclient.forms import FORMS
from hallclient.store.operations import DocumentScan
from hallclient.ui.form_view import FormView
from hallclient.ui.i18n import current_language, follow_language
from hallclient.ui.scan_dialog import AttachedScans
from hallcore.domain.accounts import Account
from hallcore.domain.business import BUSINESS_TYPES, BusinessKind
from hallcore.domain.text import sentence

_PER_ROW = 4  # two rows of four: English labels are long, and the window must fit 1280 px


class FormHost(QWidget):
    chosen = Signal(object)  # the BusinessKind of the button or key pressed
    submitted = Signal(object, dict)  # the BusinessKind and its cleaned payload
    edited = Signal()  # the clerk changed a field of the form on screen

    def __init__(self, side_buttons: Sequence[QPushButton], message: QWidget,
                 parent: QWidget | None = None) -> None:
        """`side_buttons` stand beside the business buttons, one per row; `message` between
        the buttons and the form."""
        super().__init__(parent)
        self.kind: BusinessKind | None = None  # the business on screen
        self.account_number: str | None = None  # the account the form on screen is for
        self.business_buttons: dict[BusinessKind, QPushButton] = {}
        self.views: dict[BusinessKind, FormView] = {}
        self.states: dict[BusinessKind, BusinessState] = {}
        buttons = QGridLayout()
        self.stack = QStackedWidget(self)
        self.no_form = QLabel(self)
        self.no_form.setWordWrap(True)
        self.no_form.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.stack.addWidget(self.no_form)
        for n, (kind, spec) in enumerate(FORMS.items()):
            button = QPushButton(self)
            button.clicked.connect(lambda _c=False, k=kind: self.chosen.emit(k))
            # The key stays live without an account: the window then says what is needed.
            QShortcut(QKeySequence(spec.shortcut), self, lambda k=kind: self.chosen.emit(k))
            self.business_buttons[kind] = button
            buttons.addWidget(button, n // _PER_ROW, n % _PER_ROW)
            view = FormView(spec, parent=self)
            view.submitted.connect(lambda payload, k=kind: self.submitted.emit(k, payload))
            view.edited.connect(self.edited)
            self.views[kind] = view
            self.stack.addWidget(view)
        for row, button in enumerate(side_buttons):
            buttons.addWidget(button, row, _PER_ROW)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(message)
        # A long form scrolls rather than push the window past a 1280x800 screen; the stack
        # is as tall as the form on screen, not as the longest form.
        self.stack.currentChanged.connect(self._fit_to_current)
        scroller = QScrollArea(self)
        scroller.setWidget(self.stack)
        scroller.setWidgetResizable(True)
        scroller.setFrameShape(QFrame.Shape.NoFrame)
        scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout.addWidget(scroller, 1)
        # The documents scanned for the request on screen (F10), shown with a form only.
        self.scans = AttachedScans(self)
        self.scans.hide()
        layout.addWidget(self.scans)
        QShortcut(QKeySequence("F10"), self, self.scan_document)
        self.scroller = scroller
        app = QApplication.instance()
        if isinstance(app, QApplication):  # the field the cursor moves to is scrolled to
            app.focusChanged.connect(self._follow_focus)
        follow_language(self, self.retranslate)

    def retranslate(self) -> None:
        self.no_form.setText(self.tr("Open the customer's account, then choose the business "
                                     "(F3-F9). A new connection (F9) needs no account."))
        if self.states:
            self.show_states(self.states)

    def show_states(self, states: Mapping[BusinessKind, BusinessState]) -> None:
        """Each business button as it stands for the account on screen: enabled when the
        business can be done now; under its name, why not or by when; in its tooltip, the
        reason in full and what it will need (a supervisor's sign-off)."""
        self.states = dict(states)
        lang = current_language()
        for kind, button in self.business_buttons.items():
            state = states[kind]
            button.setEnabled(state.available)
            short = state.short[lang]
            # The key on the second line: the row of buttons leaves the search room.
            button.setText(f"{BUSINESS_TYPES[kind].label[lang]}\n"
                           f"{FORMS[kind].shortcut} · {short[:1].upper()}{short[1:]}")
            details = [state.why_not] if state.why_not else list(state.needs)
            button.setToolTip("\n".join(sentence(t[lang]) for t in details))

    def show_form(self, kind: BusinessKind, prefill: Mapping[str, object],
                  account: Account | None) -> None:
        """The form of `kind` for `account` (None: no account) on screen, filled with
        `prefill`, the account's current values beside the fields that change them, the
        cursor where the clerk types first."""
        self.kind, self.account_number = kind, account.number if account else None
        view = self.views[kind]
        view.fill(prefill)
        view.show_current(account)
        self.stack.setCurrentWidget(view)
        view.focus_first_field()
        self.scans.ask_for(wanted_scans(kind))
        self.scans.show()

    def scan_document(self) -> None:
        """The scan dialog, for the request on screen (none without a form)."""
        if self.kind is not None:
            self.scans.open_dialog()

    def attached_scans(self) -> tuple[DocumentScan, ...]:
        return tuple(self.scans.scans)

    def _follow_focus(self, _old: QWidget | None, new: QWidget | None) -> None:
        if new is not None and self.stack.isAncestorOf(new):
            # Next turn: a message just shown under a field moves the fields below it.
            QTimer.singleShot(0, self, lambda: self.scroller.ensureWidgetVisible(new))

    def _fit_to_current(self, index: int) -> None:
        for page in range(self.stack.count()):
            policy = (QSizePolicy.Policy.Preferred if page == index
                      else QSizePolicy.Policy.Ignored)
            widget = self.stack.widget(page)
            if widget is not None:
                widget.setSizePolicy(policy, policy)
        self.stack.adjustSize()

    def close_form(self) -> None:
        """No form on screen, and every form emptied: the next customer starts from none."""
        self.kind, self.account_number = None, None
        self.stack.setCurrentWidget(self.no_form)
        for view in self.views.values():
            view.clear()
        self.scans.clear()
        self.scans.hide()
