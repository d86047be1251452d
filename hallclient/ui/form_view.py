"""A business form on screen, generated from its FormSpec.

Messages appear beside each field as the clerk types; Enter in a field — a text, a choice
(yes/no included) or a date — moves to the next one (an ID-card reader types the number and
presses Enter), Enter on the last field or Ctrl+Enter submits. A submission that passes the
domain's validation is emitted as a cleaned payload. Beside each field that changes the account
stands the account's value now, so the clerk reads both to the customer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime

from PySide6.QtCore import QDate, QEvent, QObject, Qt, Signal
from PySide6.QtGui import QFont, QKeyEvent, QKeySequence, QShortcut, QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hallclient.forms import FORMS
from hallclient.forms.spec import CHOICES, NOT_SETTLED_LABELS, FormField, FormSpec
from hallclient.store.operations import CounterFacts
from hallclient.ui import palette
from hallclient.ui.i18n import current_language, follow_language
from hallcore.domain.accounts import Account
from hallcore.domain.business import FieldKind, PayloadInvalid
from hallcore.domain.deadlines import HALL_TZ
from hallcore.domain.masking import mask_id_number, mask_phone
from hallcore.domain.text import Lang, Text, sentence
from hallcore.wire import QueueTicket

_DATE_SEPARATORS = frozenset("-/.")


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _today() -> date:
    return datetime.now(HALL_TZ).date()


class DateField(QDateEdit):
    """A day picked from the calendar (Alt+Down) or typed as 2027-03-01 or 20270301. Until then
    it is not given: the day before the first offered stands for that (shown as the special
    value text, "— not given —"), and Delete returns to it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDisplayFormat("yyyy-MM-dd")
        self.setCalendarPopup(True)

    def offer_from(self, first: date) -> None:
        """Offer the days from `first` on."""
        self.setMinimumDate(_qdate(first).addDays(-1))

    def iso(self) -> str:
        """The day as the domain takes it, "" when not given. What is typed counts before the
        field is left (Enter on the last field submits at once)."""
        if self.date() == self.minimumDate():
            return ""
        typed = self.dateTimeFromText(self.text())
        day = typed.date() if typed.isValid() else self.date()
        return day.toString(Qt.DateFormat.ISODate)

    def set_iso(self, text: str) -> None:
        """Show the day `text` names, "" or no day for not given. A day outside those offered
        (a request asked days ago, redone) is shown as asked, for the rules to judge."""
        day = QDate.fromString(text, Qt.DateFormat.ISODate)
        if not day.isValid():
            self.clear_date()
            return
        self.setMinimumDate(min(self.minimumDate(), day.addDays(-1)))
        self.setDate(day)

    def clear_date(self) -> None:
        self.setDate(self.minimumDate())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        text = event.text()
        if event.key() == Qt.Key.Key_Delete:
            self.clear_date()
            return
        if text.isdigit() and not self.iso():
            # Typing starts a day: from the first offered, the year section to type over.
            self.setDate(self.minimumDate().addDays(1))
            self.setSelectedSection(QDateEdit.Section.YearSection)
        elif text and text in _DATE_SEPARATORS and self.lineEdit().hasSelectedText():
            # The section before was complete and the next one is selected already: a typed
            # "-" would skip it.
            return
        super().keyPressEvent(event)


FieldWidget = QLineEdit | QComboBox | DateField


class FormView(QWidget):
    submitted = Signal(dict)  # the cleaned payload
    edited = Signal()  # the clerk changed a field (not fill or clear)

    def __init__(self, spec: FormSpec, *, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.inputs: dict[str, FieldWidget] = {}
        self._setting = False  # fields set by fill or clear, not typed
        self.labels: dict[str, QLabel] = {}
        self.errors: dict[str, QLabel] = {}
        self.current: dict[str, QLabel] = {}  # the account's value now, under its field
        self._account: Account | None = None
        self.title = QLabel(self)
        self.title.setStyleSheet("font-size: 16pt; font-weight: bold;")
        form = QFormLayout()
        for field in spec.fields:
            widget = self._make_input(field)
            self.inputs[field.name] = widget
            self.labels[field.name] = QLabel(self)
            self.labels[field.name].setBuddy(widget)
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(widget)
            if field.name in spec.current_from_account:
                now = QLabel(self)
                now.setStyleSheet(palette.text_colour(palette.MUTED))
                now.setTextFormat(Qt.TextFormat.PlainText)
                now.setWordWrap(True)
                now.hide()
                self.current[field.name] = now
                column.addWidget(now)
            error = QLabel(self)
            error.setStyleSheet(palette.text_colour(palette.REFUSED))
            error.setWordWrap(True)
            error.hide()  # takes room only while it says something
            self.errors[field.name] = error
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
            for value, _label in self.spec.choices(field.name):
                widget.addItem("", value)
            widget.currentIndexChanged.connect(lambda _i, n=field.name: self._changed(n))
        elif kind is FieldKind.DATE:
            widget = DateField(self)
            widget.offer_from(field.first_date(_today()))
            widget.clear_date()  # not given: a date edit starts on 2000-01-01, maybe offered
            widget.dateChanged.connect(lambda _d, n=field.name: self._changed(n))
        else:
            widget = QLineEdit(self)
            widget.textChanged.connect(lambda _t, n=field.name: self._changed(n))
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
            self.labels[field.name].setText(self._label_text(self.spec, field, lang))
            widget = self.inputs[field.name]
            if isinstance(widget, QLineEdit):
                widget.setPlaceholderText(field.hint[lang])
            elif isinstance(widget, QComboBox):
                for i, (_value, choice) in enumerate(self.spec.choices(field.name)):
                    widget.setItemText(i, sentence(choice[lang]))
            else:
                widget.setSpecialValueText(field.no_date[lang])
        self._align_labels(lang)
        self._show_current()
        self.submit_button.setText(self.tr("Submit (Ctrl+Enter)"))
        self.settled.setText(self.tr("Settled at this visit (one-stop)"))
        for i, reason in enumerate(NOT_SETTLED_LABELS.values()):
            self.not_settled_reason.setItemText(i, reason[lang])
        for name in self.errors:
            self._check(name)

    def _label_text(self, spec: FormSpec, field: FormField, lang: Lang) -> str:
        label = sentence(field.field.label[lang])
        return label if spec.required(field.name) else label + self.tr(" (optional)")

    def _align_labels(self, lang: Lang) -> None:
        """The label column as wide as the widest label of every form: the inputs start at the
        same place whichever form is open, and the eye finds them there."""
        texts = {self._label_text(spec, field, lang)
                 for spec in (*FORMS.values(), self.spec) for field in spec.fields}
        widest = _widest(texts, next(iter(self.labels.values())).font())
        for label in self.labels.values():
            label.setMinimumWidth(widest)

    # --- the account's values now ----------------------------------------------------------

    def show_current(self, account: Account | None) -> None:
        """Show, under each field that changes the account, its value now (a phone or ID
        masked); nothing without an account."""
        self._account = account
        self._show_current()
        sms = self.spec.business.sms
        if sms is not None:  # the SMS consent may rest on the phone on record
            self._check(sms.consent)

    def _show_current(self) -> None:
        account = self._account
        for name, label in self.current.items():
            label.setVisible(account is not None)
            if account is None:
                label.clear()
                continue
            value = getattr(account, self.spec.current_from_account[name])
            shown = _shown(self.spec.business.field(name).kind, value, self.lang)
            label.setText(self.tr("now: {value}").format(
                value=self.tr("nothing on record") if shown is None else shown))

    # --- values and messages ---------------------------------------------------------------

    def values(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for name, widget in self.inputs.items():
            if isinstance(widget, QLineEdit):
                out[name] = widget.text()
            elif isinstance(widget, QComboBox):
                if widget.currentData() is not None:  # "not asked" leaves the field out
                    out[name] = widget.currentData()
            elif day := widget.iso():  # a day not given is left out
                out[name] = day
        return out

    def fill(self, values: Mapping[str, object]) -> None:
        with self._set_by_program():
            self._fill(values)

    def _fill(self, values: Mapping[str, object]) -> None:
        for name, value in values.items():
            widget = self.inputs.get(name)
            if isinstance(widget, QLineEdit):
                widget.setText(str(value))
            elif isinstance(widget, QComboBox):
                widget.setCurrentIndex(max(widget.findData(value), 0))
            elif isinstance(widget, DateField):
                widget.set_iso(str(value))

    def counter_facts(self, handling_seconds: int | None,
                      ticket: QueueTicket | None = None) -> CounterFacts:
        """How the request went at the counter: one-stop, the customer's time at the counter
        so far (the window's customer session) and their queue ticket."""
        settled = self.settled.isChecked()
        return CounterFacts(
            first_contact=settled,
            not_settled_reason=None if settled else self.not_settled_reason.currentData(),
            handling_seconds=handling_seconds, ticket=ticket)

    def clear(self) -> None:
        """Empty for the next customer; what comes from the account is filled in again. The
        days a date offers start from today again (a counter runs for days)."""
        with self._set_by_program():
            self._clear()

    def _clear(self) -> None:
        for field in self.spec.fields:
            widget = self.inputs[field.name]
            if isinstance(widget, QLineEdit):
                widget.clear()
            elif isinstance(widget, QComboBox):
                widget.setCurrentIndex(0)
            else:
                widget.offer_from(field.first_date(_today()))
                widget.clear_date()
        for error in self.errors.values():
            error.clear()
            error.hide()
        self.settled.setChecked(True)
        self.show_current(None)

    def _show(self, name: str, reason: Text | None, *, note: bool = False) -> None:
        """A reason the value cannot be taken; a `note` says what cannot be chosen."""
        self.errors[name].setStyleSheet(
            palette.text_colour(palette.MUTED if note else palette.REFUSED))
        self.errors[name].setText(sentence(reason[self.lang]) if reason else "")
        self.errors[name].setVisible(reason is not None)

    def _check(self, name: str) -> None:
        values = self.values()
        reason = self.spec.check_field(name, values, self._account)
        sms = self.spec.business.sms
        if sms is None or name != sms.consent:
            self._show(name, reason)
            return
        # SMS reach mainland mobiles only: with another phone "yes" cannot be chosen, and the
        # choice says why.
        no_yes = self.spec.sms_refusal(values, self._account, saying_yes=True)
        self._offer_yes(name, no_yes)
        self._show(name, reason or no_yes, note=reason is None)

    def _offer_yes(self, name: str, refusal: Text | None) -> None:
        combo = self.inputs[name]
        assert isinstance(combo, QComboBox)
        model = combo.model()
        assert isinstance(model, QStandardItemModel)
        item = model.item(combo.findData(True))
        item.setEnabled(refusal is None)
        item.setToolTip("" if refusal is None else sentence(refusal[self.lang]))

    @contextmanager
    def _set_by_program(self) -> Iterator[None]:
        self._setting = True
        try:
            yield
        finally:
            self._setting = False

    def _changed(self, name: str) -> None:
        """Check the field, and an ID number typed against it if it is an ID type, or the SMS
        consent if it is the phone the SMS would go to."""
        self._check(name)
        for field in self.spec.fields:
            if field.field.id_type_field == name:
                self._check(field.name)
        sms = self.spec.business.sms
        if sms is not None and name == sms.phone:
            self._check(sms.consent)
        if not self._setting:
            self.edited.emit()

    def submit(self) -> None:
        try:
            payload = self.spec.payload(self.values(), self._account)
        except PayloadInvalid as exc:
            for name in self.errors:
                self._show(name, exc.errors.get(name))
            sms = self.spec.business.sms
            if sms is not None and sms.consent not in exc.errors:
                self._check(sms.consent)  # its note on what cannot be chosen stays
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


def _widest(texts: Iterable[str], font: QFont) -> int:
    """The width a label in `font` asks for to show the longest of `texts`."""
    probe = QLabel()
    probe.setFont(font)
    widths = []
    for text in texts:
        probe.setText(text)
        widths.append(probe.sizeHint().width())
    return max(widths)


def _shown(kind: FieldKind, value: object, lang: Lang) -> str | None:
    """An account's value as a field of `kind` would offer it, masked where it is personal;
    None where the account has none."""
    if value is None or value == "":
        return None
    if kind is FieldKind.PHONE:
        return mask_phone(str(value))
    if kind is FieldKind.ID_NUMBER:
        return mask_id_number(str(value))
    labels = dict(CHOICES.get(kind, ()))
    return sentence(labels[value][lang]) if value in labels else str(value)
