"""The chosen account at a glance: holder, status, masked ID and phone, supply address, SMS
notices, community and customer manager, and what the record lacks, with the way to complete
it while the customer is at the counter."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from hallclient.ui.i18n import current_language, follow_language
from hallcore.domain.accounts import STATUS_LABELS, Account, id_validity, missing_information
from hallcore.domain.deadlines import HALL_TZ
from hallcore.domain.masking import mask_id_number, mask_phone
from hallcore.domain.text import Lang


def missing_list(account: Account, lang: Lang) -> str:
    """What the account's record lacks, as a list in `lang`."""
    separator = "、" if lang == "zh" else ", "
    return separator.join(m[lang] for m in missing_information(account))


class AccountPanel(QWidget):
    complete = Signal()  # the clerk asks the customer for what the record lacks

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._account: Account | None = None
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.complete_button = QPushButton(self)
        self.complete_button.clicked.connect(self.complete)
        self.complete_button.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.complete_button)
        follow_language(self, self.retranslate)

    def retranslate(self) -> None:
        self.complete_button.setText(self.tr("Complete the customer record (F8)"))
        self._render()

    def show_account(self, account: Account | None) -> None:
        self._account = account
        self._render()

    def _render(self) -> None:
        a, lang = self._account, current_language()
        self.complete_button.setVisible(a is not None and bool(missing_information(a)))
        if a is None:
            self.summary.setText(self.tr("Find and select an account first"))
            return
        lines = [f"{a.number}  {a.holder_name}  {STATUS_LABELS[a.status][lang]}",
                 f"{mask_id_number(a.id_number or '')}  {mask_phone(a.phone or '')}",
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
        missing = missing_list(a, lang)
        lines.append(self.tr("Missing: {m}").format(m=missing) if missing
                     else self.tr("Customer record complete"))
        self.summary.setText("\n".join(lines))
