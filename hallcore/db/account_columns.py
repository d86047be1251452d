"""The account columns the terminal's cache and the central database share, derived from the
one declaration of an account's fields (`hallcore.domain.accounts.Account`), and the mapping
between such a row and the domain's Account.

Each side's `AccountRow` takes its shared columns from `AccountColumns` and adds its own (the
server's district foreign key and change sequence, the cache's server sequence, community code
and indexes); a field added to Account becomes a column of both, mapped both ways, and needs
only a migration on each side.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal, get_args, get_origin

from sqlalchemy import Boolean, Date, Integer, String
from sqlalchemy.orm import mapped_column
from sqlalchemy.types import TypeEngine

from hallcore.domain.accounts import ACCOUNT_FIELDS, Account, AccountField, Community


def _column_type(declared: AccountField) -> TypeEngine[Any]:
    kind = declared.value_type
    if kind is bool:
        return Boolean()
    if kind is int:
        return Integer()
    if kind is date:
        return Date()
    if declared.max_length is None:
        raise TypeError(f"Account.{declared.name}: a text field needs its max_length")
    return String(declared.max_length)


def _stored_default(declared: AccountField) -> dict[str, Any]:
    if declared.default is dataclasses.MISSING or declared.default is None:
        return {}
    if isinstance(declared.default, str):
        # A text default is the database's too: a row written by an older program gets it.
        return {"default": declared.default, "server_default": declared.default}
    return {"default": declared.default}


def _column(position: int, declared: AccountField) -> Any:
    # The declared columns come first, in declaration order, before a table's own.
    return mapped_column(_column_type(declared), primary_key=declared.name == "number",
                         nullable=declared.optional, sort_order=position - len(ACCOUNT_FIELDS),
                         **_stored_default(declared))


def _from_stored(declared: AccountField) -> Any:
    """How a column's value becomes the field's: enums by value, a Literal's unknown value as
    the field's default."""
    kind = declared.value_type
    if isinstance(kind, type) and issubclass(kind, Enum):
        return lambda value: None if value is None else kind(value)
    if get_origin(kind) is Literal:
        allowed = set(get_args(kind))
        return lambda value: value if value in allowed else declared.default
    return lambda value: value


def _to_stored(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


_READERS = tuple((declared.name, _from_stored(declared)) for declared in ACCOUNT_FIELDS)


if TYPE_CHECKING:
    from sqlalchemy.orm import InstrumentedAttribute
    from sqlalchemy.orm.decl_api import DeclarativeAttributeIntercept

    class _DeclaredColumns(DeclarativeAttributeIntercept):
        def __getattr__(cls, name: str) -> InstrumentedAttribute[Any]: ...

    class AccountColumns(metaclass=_DeclaredColumns):
        """What type checkers see: any declared field, typed as Any."""

        def __getattr__(self, name: str) -> Any: ...
        def __setattr__(self, name: str, value: Any) -> None: ...
else:
    # A declarative mixin: SQLAlchemy copies each of its columns into every table it is mixed
    # into.
    AccountColumns = type("AccountColumns", (), {
        declared.name: _column(position, declared)
        for position, declared in enumerate(ACCOUNT_FIELDS)})


def read_columns(row: Any) -> dict[str, Any]:
    """The row's values as the domain types them (community aside)."""
    return {name: read(getattr(row, name)) for name, read in _READERS}


def read_values(values: Sequence[Any]) -> dict[str, Any]:
    """`read_columns` of a row's values given in ACCOUNT_FIELDS order (a plain tuple, not a
    row object)."""
    return {name: read(value) for (name, read), value in zip(_READERS, values, strict=True)}


def write_columns(row: Any, account: Account) -> None:
    """The account's values into its row (its number stays: it is the row's key)."""
    for declared in ACCOUNT_FIELDS:
        if declared.name != "number":
            setattr(row, declared.name, _to_stored(getattr(account, declared.name)))


def stored_values(account: Account) -> dict[str, Any]:
    """The account's values as its row holds them, for a bulk insert."""
    return {declared.name: _to_stored(getattr(account, declared.name))
            for declared in ACCOUNT_FIELDS}


def read_community(row: Any) -> Community | None:
    """A community row of either database as the domain's Community (None for no row)."""
    if row is None:
        return None
    return Community(row.code, row.name, row.households, row.manager_name, row.manager_phone)
