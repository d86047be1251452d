"""The business buttons, each with its key (F2, F3...), over the form of the business chosen:
one form on screen at a time, each generated from its spec (form_view.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QGridLayout, QPushButton, QStackedWidget, QVBoxLayout, QWidget

from hallclient.forms import FORMS
from hallclient.ui.form_view import FormView
from hallclient.ui.i18n import current_language, follow_language
from hallcore.domain.business import BUSINESS_TYPES, BusinessKind

_PER_ROW = 4  # two rows of four: English labels are long, and the window must fit 1280 px


class FormHost(QWidget):
    chosen = Signal(object)  # the BusinessKind of the button or key pressed
    submitted = Signal(object, dict)  # the BusinessKind and its cleaned payload

    def __init__(self, side_buttons: Sequence[QPushButton],
                 parent: QWidget | None = None) -> None:
        """`side_buttons` stand beside the business buttons, one per row."""
        super().__init__(parent)
        self.kind: BusinessKind | None = None  # the business on screen
        self.business_buttons: dict[BusinessKind, QPushButton] = {}
        self.views: dict[BusinessKind, FormView] = {}
        buttons = QGridLayout()
        self.stack = QStackedWidget(self)
        for n, (kind, spec) in enumerate(FORMS.items()):
            button = QPushButton(self)
            button.clicked.connect(lambda _c=False, k=kind: self.chosen.emit(k))
            QShortcut(QKeySequence(spec.shortcut), self, lambda k=kind: self.chosen.emit(k))
            self.business_buttons[kind] = button
            buttons.addWidget(button, n // _PER_ROW, n % _PER_ROW)
            view = FormView(spec, parent=self)
            view.submitted.connect(lambda payload, k=kind: self.submitted.emit(k, payload))
            self.views[kind] = view
            self.stack.addWidget(view)
        for row, button in enumerate(side_buttons):
            buttons.addWidget(button, row, _PER_ROW)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.stack, 1)
        follow_language(self, self.retranslate)

    def retranslate(self) -> None:
        lang = current_language()
        for kind, button in self.business_buttons.items():
            button.setText(f"{BUSINESS_TYPES[kind].label[lang]} ({FORMS[kind].shortcut})")

    def show_form(self, kind: BusinessKind, prefill: Mapping[str, object]) -> None:
        """The form of `kind` on screen, filled with `prefill`, its handling time started and
        the cursor where the clerk types first."""
        self.kind = kind
        view = self.views[kind]
        view.fill(prefill)
        self.stack.setCurrentWidget(view)
        view.start()
        view.focus_first_field()
