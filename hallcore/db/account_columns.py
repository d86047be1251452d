"""The account columns the terminal's cache and the central database share, mapped to and
from the domain's Account in one place."""

from __future__ import annotations

from typing import Any, Protocol

from hallcore.domain.accounts import Account, AccountStatus
from hallcore.domain.ids import IdDocType


class AccountColumns(Protocol):
    number: str
    holder_name: str
    id_type: str | None
    id_number: str | None
    phone: str | None
    supply_address: str
    mailing_address: str | None
    status: str
    version: int
    district: str
    arrears_fen: int
    sms_consent: bool
    sms_language: str


def read_columns(row: AccountColumns) -> dict[str, Any]:
    """The row's values as the domain types them (community aside)."""
    return {
        "number": row.number, "holder_name": row.holder_name,
        "id_type": IdDocType(row.id_type) if row.id_type else None,
        "id_number": row.id_number, "phone": row.phone,
        "supply_address": row.supply_address, "mailing_address": row.mailing_address,
        "status": AccountStatus(row.status), "version": row.version,
        "district": row.district, "arrears_fen": row.arrears_fen,
        "sms_consent": row.sms_consent,
        "sms_language": "en" if row.sms_language == "en" else "zh",
    }


def write_columns(row: AccountColumns, account: Account) -> None:
    row.holder_name = account.holder_name
    row.id_type = account.id_type.value if account.id_type else None
    row.id_number = account.id_number
    row.phone = account.phone
    row.supply_address = account.supply_address
    row.mailing_address = account.mailing_address
    row.status = account.status.value
    row.version = account.version
    row.district = account.district
    row.arrears_fen = account.arrears_fen
    row.sms_consent = account.sms_consent
    row.sms_language = account.sms_language
