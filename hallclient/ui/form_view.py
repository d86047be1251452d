"""A business form on screen, generated from its FormSpec.

Messages appear beside each field as the clerk types; Enter in a field — a text, a choice or a
yes/no box — moves to the next one (an ID-card reader types the number and presses Enter),
Enter on the last field or Ctrl+Enter submits. A submission that passes the domain's
validation is emitted as a cleaned payload.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hallclient.forms.spec import CHOICES, NOT_SETTLED_LABELS, FormField, FormSpec
from hallclient.store.operations import CounterFacts
from hallclient.ui import palette
from hallclient.ui.i18n import current_language, follow_language
from hallcore.domain.business import FieldKind, PayloadInvalid
from hallcore.domain.text import Lang, Text, sentence

FieldWidget = QLineEdit | QComboBox | QCheckBox


class FormView(QWidget):
    submitted = Signal(dict)  # the cleaned payload

    def __init__(self, spec: FormSpec, *, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.inputs: dict[str, FieldWidget] = {}
        self.labels: dict[str, QLabel] = {}
        self.errors: dict[str, QLabel] = {}
        self.title = QLabel(self)
        self.title.setStyleSheet("font-size: 16pt; font-weight: bold;")
        form = QFormLayout()
        for field in spec.fields:
            widget = self._make_input(field)
            self.inputs[field.name] = widget
            self.labels[field.name] = QLabel(self)
            self.labels[field.name].setBuddy(widget)
            error = QLabel(self)
            error.setStyleSheet(palette.text_colour(palette.REFUSED))
            error.setWordWrap(True)
            self.errors[field.name] = error
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(widget)
            column.addWidget(error)
            form.addRow(self.labels[field.name], column)
        self.submit_button = QPushButton(self)
        self.submit_button.clicked.connect(self.submit)
        QShortcut(QKeySequence("Ctrl+Return"), self, self.submit)
        # One-stop: settled at this visit unless the clerk says why not.
        self.settled = QCheckBox(self)
        self.settled.setChecked(True)
        self.not_settled_reason = QComboBox(self)
        for reason in NOT_SETTLED_LABELS:
            self.not_settled_reason.addItem("", reason)
        self.not_settled_reason.setEnabled(False)
        self.settled.toggled.connect(lambda on: self.not_settled_reason.setEnabled(not on))
        footer = QHBoxLayout()
        footer.addWidget(self.settled)
        footer.addWidget(self.not_settled_reason)
        footer.addStretch(1)
        footer.addWidget(self.submit_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addLayout(footer)
        layout.addStretch(1)
        follow_language(self, self.retranslate)

    # --- building --------------------------------------------------------------------------

    def _make_input(self, field: FormField) -> FieldWidget:
        kind = field.field.kind
        widget: FieldWidget
        if kind in CHOICES:
            widget = QComboBox(self)
            for value, _label in CHOICES[kind]:
                widget.addItem("", value)
            if kind is FieldKind.ID_TYPE:
                widget.currentIndexChanged.connect(
                    lambda _i, n=field.name: self._recheck_ids(n))
            widget.installEventFilter(self)
        elif kind is FieldKind.BOOL:
            # Three states: not stated (left out of the request), yes, no.
            widget = QCheckBox(self)
            widget.setTristate(True)
            widget.setCheckState(Qt.CheckState.PartiallyChecked)
            widget.installEventFilter(self)
        else:
            widget = QLineEdit(self)
            widget.textChanged.connect(lambda _t, n=field.name: self._check(n))
            widget.installEventFilter(self)
        return widget

    @property
    def lang(self) -> Lang:
        return current_language()

    def retranslate(self) -> None:
        """Relabel in the current language; what was typed stays."""
        lang = self.lang
        self.title.setText(self.spec.title[lang])
        for field in self.spec.fields:
            label = sentence(field.field.label[lang])
            if not field.field.required:
                label += self.tr(" (optional)")
            self.labels[field.name].setText(label)
            widget = self.inputs[field.name]
            if isinstance(widget, QLineEdit):
                widget.setPlaceholderText(field.hint[lang])
            elif isinstance(widget, QComboBox):
                for i, (_value, choice) in enumerate(CHOICES[field.field.kind]):
                    widget.setItemText(i, sentence(choice[lang]))
        self.submit_button.setText(self.tr("Submit (Ctrl+Enter)"))
        self.settled.setText(self.tr("Settled at this visit (one-stop)"))
        for i, reason in enumerate(NOT_SETTLED_LABELS.values()):
            self.not_settled_reason.setItemText(i, reason[lang])
        for name in self.errors:
            self._check(name)

    # --- values and messages ---------------------------------------------------------------

    def values(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for name, widget in self.inputs.items():
            if isinstance(widget, QLineEdit):
                out[name] = widget.text()
            elif isinstance(widget, QComboBox):
                if widget.currentData() is not None:  # "not chosen" leaves the field out
                    out[name] = widget.currentData()
            elif widget.checkState() != Qt.CheckState.PartiallyChecked:
                out[name] = widget.checkState() == Qt.CheckState.Checked
        return out

    def fill(self, values: Mapping[str, object]) -> None:
        for name, value in values.items():
            widget = self.inputs.get(name)
            if isinstance(widget, QLineEdit):
                widget.setText(str(value))
            elif isinstance(widget, QComboBox):
                widget.setCurrentIndex(max(widget.findData(value), 0))
            elif isinstance(widget, QCheckBox):
                widget.setCheckState(Qt.CheckState.Checked if value else Qt.CheckState.Unchecked)

    def counter_facts(self, handling_seconds: int | None) -> CounterFacts:
        """How the request went at the counter: one-stop, and the customer's time at the
        counter so far (the window's customer session)."""
        settled = self.settled.isChecked()
        return CounterFacts(
            first_contact=settled,
            not_settled_reason=None if settled else self.not_settled_reason.currentData(),
            handling_seconds=handling_seconds)

    def clear(self) -> None:
        """Empty for the next customer; what comes from the account is filled in again."""
        for widget in self.inputs.values():
            if isinstance(widget, QLineEdit):
                widget.clear()
            elif isinstance(widget, QComboBox):
                widget.setCurrentIndex(0)
            else:
                widget.setCheckState(Qt.CheckState.PartiallyChecked)
        for error in self.errors.values():
            error.clear()
        self.settled.setChecked(True)

    def _show(self, name: str, reason: Text | None) -> None:
        self.errors[name].setText(sentence(reason[self.lang]) if reason else "")

    def _check(self, name: str) -> None:
        self._show(name, self.spec.check_field(name, self.values()))

    def _recheck_ids(self, type_field: str) -> None:
        for field in self.spec.fields:
            if field.field.id_type_field == type_field:
                self._check(field.name)

    def submit(self) -> None:
        try:
            payload = self.spec.payload(self.values())
        except PayloadInvalid as exc:
            for name in self.errors:
                self._show(name, exc.errors.get(name))
            first_bad = next(n for n in self.inputs if n in exc.errors)
            self.inputs[first_bad].setFocus()
            return
        for name in self.errors:
            self._show(name, None)
        self.submitted.emit(payload)

    def focus_first_field(self) -> None:
        """Where the clerk types first: the first empty text field (the ID type comes from
        the account), else the first field."""
        empty: list[FieldWidget] = [w for w in self.inputs.values()
                                    if isinstance(w, QLineEdit) and not w.text()]
        (empty or list(self.inputs.values()))[0].setFocus(Qt.FocusReason.ShortcutFocusReason)

    # --- keyboard --------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) and (
                event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
                and not event.modifiers() & Qt.KeyboardModifier.ControlModifier):
            if watched is list(self.inputs.values())[-1]:
                self.submit()
            else:
                self.focusNextChild()
            return True
        return super().eventFilter(watched, event)
