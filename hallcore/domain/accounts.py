"""Electricity accounts as the counter sees them, and the states an account moves through."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from hallcore.domain.ids import IdDocType
from hallcore.domain.text import InvalidInput, Lang, Text


class AccountStatus(StrEnum):
    PENDING_CONNECTION = "pending_connection"  # 新装受理，待装表接电
    ACTIVE = "active"  # 正常用电
    SUSPENDED = "suspended"  # 暂停用电
    CLOSED = "closed"  # 已销户


STATUS_LABELS: dict[AccountStatus, Text] = {
    AccountStatus.PENDING_CONNECTION: Text("待接电", "awaiting connection"),
    AccountStatus.ACTIVE: Text("正常用电", "in supply"),
    AccountStatus.SUSPENDED: Text("暂停用电", "suspended"),
    AccountStatus.CLOSED: Text("已销户", "closed"),
}


@dataclass(frozen=True, slots=True)
class Community:
    """A residential community; those of 50+ households have a dedicated customer manager."""

    code: str
    name: str
    households: int
    manager_name: str | None = None
    manager_phone: str | None = None


@dataclass(frozen=True, slots=True)
class Account:
    """One electricity account (户). `version` is the server's, raised by every applied change."""

    number: str
    holder_name: str
    id_type: IdDocType | None
    id_number: str | None
    phone: str | None
    supply_address: str
    mailing_address: str | None
    status: AccountStatus
    version: int
    district: str
    arrears_fen: int = 0  # unpaid charges, in fen (0.01 yuan)
    sms_consent: bool = False
    sms_language: Lang = "zh"  # the customer's SMS come in this language
    community: Community | None = None


# The languages a customer's SMS can be sent in, as the clerk offers them.
SMS_LANGUAGES: dict[str, Text] = {"zh": Text("中文", "Chinese"), "en": Text("英文", "English")}

ACCOUNT_NUMBER_LENGTH = 10
_ACCOUNT_NUMBER = re.compile(r"\d{10}")


def validate_account_number(raw: str) -> str:
    number = "".join(raw.split())
    if not number:
        raise InvalidInput(Text("未输入户号", "no account number entered"))
    if not _ACCOUNT_NUMBER.fullmatch(number):
        raise InvalidInput(
            Text(
                "户号应为 {n} 位数字，输入的是“{v}”",
                "an account number is {n} digits; “{v}” was entered",
            ).format(n=ACCOUNT_NUMBER_LENGTH, v=number)
        )
    return number


def format_yuan(fen: int) -> str:
    return f"¥{fen // 100:,}.{fen % 100:02d}"


# What a complete customer record holds; completeness is a KPI of the hall.
_COMPLETENESS_ITEMS: tuple[tuple[str, Text], ...] = (
    ("id_number", Text("证件号码", "ID number")),
    ("phone", Text("联系电话", "phone")),
    ("mailing_address", Text("通讯地址", "mailing address")),
    ("sms_consent", Text("短信通知授权", "SMS consent")),
)


def missing_information(account: Account) -> list[Text]:
    """The items of the customer record that are empty, for the clerk to fill at the counter."""
    return [label for attr, label in _COMPLETENESS_ITEMS if not getattr(account, attr)]


def completeness_rate(accounts: list[Account]) -> float:
    """Share of accounts with nothing missing, 0.0 .. 1.0 (1.0 for no accounts)."""
    if not accounts:
        return 1.0
    complete = sum(1 for a in accounts if not missing_information(a))
    return complete / len(accounts)
