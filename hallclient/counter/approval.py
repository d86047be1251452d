"""What a supervisor signs off at the counter, said plainly: the business, the account, its
holder and what it owes, and the values the request would record.

A supervisor asked only for the reasons ("needs a supervisor's sign-off") approved blind. The
counter's screen is seen from the customer's side of the desk, so ID numbers and phones are
masked here as on the account panel and the receipt. Plain Python, no Qt: the sign-off dialog
shows it in the clerk's language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from hallcore.domain.accounts import SMS_LANGUAGES, Account
from hallcore.domain.business import BUSINESS_TYPES, BusinessKind, FieldKind
from hallcore.domain.ids import DOC_TYPE_LABELS, IdDocType
from hallcore.domain.masking import mask_id_number, mask_phone
from hallcore.domain.text import Text

# How a value of each kind of field is shown; a kind not named is shown as it was typed (a
# name, an address, a date).
_SHOWN: dict[FieldKind, Callable[[object], Text | str]] = {
    FieldKind.ID_NUMBER: lambda v: mask_id_number(str(v)),
    FieldKind.PHONE: lambda v: mask_phone(str(v)),
    FieldKind.ID_TYPE: lambda v: DOC_TYPE_LABELS[IdDocType(str(v))],
    FieldKind.LANGUAGE: lambda v: SMS_LANGUAGES[str(v)],
    FieldKind.BOOL: lambda v: Text("是", "yes") if v else Text("否", "no"),
}


@dataclass(frozen=True, slots=True)
class ApprovalSubject:
    """One request awaiting a supervisor's sign-off, as the supervisor reads it."""

    business: BusinessKind
    account_number: str | None  # None: a new connection, whose account does not exist yet
    holder_name: str | None
    arrears_fen: int | None  # what the account owes, in fen; None without an account
    # The request's values in the business's field order: (the field's label, the value
    # shown), ID numbers and phones masked. A document type, a yes or no, an SMS language
    # are words, in both languages.
    values: tuple[tuple[Text, Text | str], ...]

    @classmethod
    def of(cls, kind: BusinessKind, account: Account | None,
           payload: Mapping[str, object]) -> ApprovalSubject:
        """The subject of a `kind` request on `account` with `payload`, the form's validated
        payload; fields left out of it are not shown. A new connection has no account yet,
        whatever account the counter has open."""
        btype = BUSINESS_TYPES[kind]
        values = tuple(
            (field.label, _SHOWN.get(field.kind, str)(payload[field.name]))
            for field in btype.fields
            if payload.get(field.name) is not None)
        if account is None or btype.opens_account:
            return cls(kind, None, None, None, values)
        return cls(kind, account.number, account.holder_name, account.arrears_fen, values)

    @property
    def business_label(self) -> Text:
        return BUSINESS_TYPES[self.business].label
