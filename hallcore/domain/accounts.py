"""Electricity accounts as the counter sees them, and the states an account moves through."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import date
from enum import StrEnum
from types import UnionType
from typing import Any, get_args, get_origin, get_type_hints

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


_MAX_LENGTH = "max_length"


def _text(max_length: int) -> dict[str, int]:
    """A text field's metadata: `max_length` characters at most where it is stored."""
    return {_MAX_LENGTH: max_length}


@dataclass(frozen=True, slots=True)
class Account:
    """One electricity account (户). `version` is the server's, raised by every applied change.

    The one declaration of an account's fields: the wire model, both databases' account
    columns and the mapping between rows and accounts are derived from it
    (hallcore/wire.py, hallcore/db/account_columns.py). A new field is declared here, with a
    default, and added to each database by a migration."""

    number: str = field(metadata=_text(10))
    holder_name: str = field(metadata=_text(60))
    id_type: IdDocType | None = field(metadata=_text(32))
    id_number: str | None = field(metadata=_text(32))
    phone: str | None = field(metadata=_text(32))
    supply_address: str = field(metadata=_text(120))
    mailing_address: str | None = field(metadata=_text(120))
    status: AccountStatus = field(metadata=_text(24))
    version: int
    district: str = field(metadata=_text(16))
    arrears_fen: int = 0  # unpaid charges, in fen (0.01 yuan)
    sms_consent: bool = False
    sms_language: Lang = field(default="zh", metadata=_text(2))  # the SMS's language
    # The last day the holder's ID document is valid (证件有效期至); None where not known.
    id_valid_until: date | None = None
    community: Community | None = None


@dataclass(frozen=True, slots=True)
class AccountField:
    """One declared field of Account, as the wire and the databases need to know it."""

    name: str
    value_type: Any  # str, int, bool, date, an enum or a Literal, None taken out
    optional: bool  # None is a value
    default: Any  # dataclasses.MISSING where the field has none
    max_length: int | None  # of a text field

    @property
    def hint(self) -> Any:
        return self.value_type | None if self.optional else self.value_type


def _declared_fields() -> tuple[AccountField, ...]:
    hints = get_type_hints(Account)
    declared = []
    for f in fields(Account):
        if f.name == "community":  # a row of its own, referred to by its code
            continue
        members = set(get_args(hints[f.name])) if get_origin(hints[f.name]) is UnionType else set()
        optional = type(None) in members
        value_type = (members - {type(None)}).pop() if optional else hints[f.name]
        declared.append(AccountField(f.name, value_type, optional, f.default,
                                     f.metadata.get(_MAX_LENGTH)))
    return tuple(declared)


# Every field of an account but its community, in declaration order.
ACCOUNT_FIELDS = _declared_fields()


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


def id_validity(account: Account, today: date) -> Text | None:
    """What the counter says of the holder's ID document's validity on record; None where
    it is not known."""
    until = account.id_valid_until
    if until is None:
        return None
    if until < today:
        return Text("证件已于 {d} 过期，请核验新证件", "ID document expired on {d}: check a new "
                    "one").format(d=until.isoformat())
    return Text("证件有效期至 {d}", "ID document valid until {d}").format(d=until.isoformat())


def missing_information(account: Account) -> list[Text]:
    """The items of the customer record that are empty, for the clerk to fill at the counter."""
    return [label for attr, label in _COMPLETENESS_ITEMS if not getattr(account, attr)]


def completeness_rate(accounts: list[Account]) -> float:
    """Share of accounts with nothing missing, 0.0 .. 1.0 (1.0 for no accounts)."""
    if not accounts:
        return 1.0
    complete = sum(1 for a in accounts if not missing_information(a))
    return complete / len(accounts)
