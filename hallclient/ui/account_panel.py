"""The chosen account at a glance: holder, status, arrears, masked ID and phone, supply address, SMS
notices, community and customer manager, and what the record lacks, with the way to complete
it while the customer is at the counter."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from hallclient.ui import palette
from hallclient.ui.i18n import current_language, follow_language
from hallcore.domain.accounts import (
    STATUS_LABELS,
    Account,
    AccountStatus,
    format_yuan,
    id_validity,
    missing_information,
)
from hallcore.domain.deadlines import HALL_TZ
from hallcore.domain.masking import mask_id_number, mask_phone
from hallcore.domain.text import Lang


def missing_list(account: Account, lang: Lang) -> str:
    """What the account's record lacks, as a list in `lang`."""
    separator = "、" if lang == "zh" else ", "
    return separator.join(m[lang] for m in missing_information(account))


class AccountPanel(QWidget):
    """The customer header: the holder's name with the account's status as a chip, arrears
    in red (or "no arrears"), then the details."""

    complete = Signal()  # the clerk asks the customer for what the record lacks

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._account: Account | None = None
        self.holder = QLabel(self)
        self.holder.setStyleSheet("font-size: 15pt; font-weight: bold;")
        self.holder.setTextFormat(Qt.TextFormat.PlainText)
        self.status_chip = QLabel(self)
        self.arrears = QLabel(self)
        self.arrears.setTextFormat(Qt.TextFormat.PlainText)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.missing = QLabel(self)
        self.missing.setWordWrap(True)
        self.missing.setTextFormat(Qt.TextFormat.PlainText)
        self.complete_button = QPushButton(self)
        self.complete_button.clicked.connect(self.complete)
        self.complete_button.hide()
        header = QHBoxLayout()
        header.addWidget(self.holder)
        header.addWidget(self.status_chip)
        header.addStretch(1)
        header.addWidget(self.arrears)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.summary)
        layout.addWidget(self.missing)
        layout.addWidget(self.complete_button)
        follow_language(self, self.retranslate)

    def retranslate(self) -> None:
        self.complete_button.setText(self.tr("Complete the customer record (F8)"))
        self._render()

    def show_account(self, account: Account | None) -> None:
        self._account = account
        self._render()

    def text(self) -> str:
        """Everything the header says, line by line, as the clerk reads it."""
        shown = [w.text() for w in (self.holder, self.status_chip, self.arrears, self.summary,
                                    self.missing) if not w.isHidden() and w.text()]
        return "\n".join(shown)

    def _render(self) -> None:
        a, lang = self._account, current_language()
        for widget in (self.holder, self.status_chip, self.arrears, self.missing):
            widget.setVisible(a is not None)
        self.complete_button.setVisible(a is not None and bool(missing_information(a)))
        if a is None:
            self.summary.setText(self.tr("Find and select an account first"))
            return
        self.holder.setText(a.holder_name)
        self.status_chip.setText(STATUS_LABELS[a.status][lang])
        chip = _STATUS_COLOURS[a.status]
        self.status_chip.setStyleSheet(
            f"color: {palette.PAPER}; background: {chip}; border-radius: 8px; "
            "padding: 2px 8px;")
        if a.arrears_fen > 0:
            self.arrears.setText(self.tr("Arrears {amount}").format(
                amount=format_yuan(a.arrears_fen)))
            self.arrears.setStyleSheet(palette.text_colour(palette.REFUSED)
                                       + " font-weight: bold;")
        else:
            self.arrears.setText(self.tr("No arrears"))
            self.arrears.setStyleSheet(palette.text_colour(palette.MUTED))
        lines = [self.tr("Account {n}").format(n=a.number),
                 self.tr("ID {id}   Phone {phone}").format(
                     id=mask_id_number(a.id_number or "") or "—",
                     phone=mask_phone(a.phone or "") or "—"),
                 a.supply_address]
        validity = id_validity(a, datetime.now(HALL_TZ).date())
        if validity is not None:
            lines.append(validity[lang])
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
        self.summary.setText("\n".join(lines))
        missing = missing_list(a, lang)
        self.missing.setText(self.tr("Missing: {m}").format(m=missing) if missing
                             else self.tr("Customer record complete"))
        self.missing.setStyleSheet(palette.text_colour(
            palette.WARNING if missing else palette.MUTED))


# The status chip's colour; its words say the status too.
_STATUS_COLOURS = {AccountStatus.ACTIVE: palette.OK, AccountStatus.SUSPENDED: palette.WARNING,
                   AccountStatus.PENDING_CONNECTION: palette.MUTED,
                   AccountStatus.CLOSED: palette.REFUSED}
