"""A compact bootstrap page (hallcore.wire.BootstrapRows) read as the cache's insert takes it.

Read with msgspec against the declarations the wire model is made of, and as strictly: each
value in its JSON type (no number for a text, no text for a number or a yes/no), an enum's value
one of its members, a date a real date, each row of exactly its fields; a field a newer server
added to the page is left out, as `api._read` does. pydantic's reading of a page of 10,000 rows
took about twice as long.

A row comes out as a tuple of what sqlite3 binds as it is: an enum field as its value (a str),
not as the enum member, for which sqlite3 looks for an adapter first at every row.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args

import msgspec

from hallcore.domain.accounts import ACCOUNT_FIELDS, AccountField
from hallcore.wire import AccountRowWire, BootstrapRows, CommunityRowWire


def _as_bound(declared: AccountField) -> Any:
    """A declared field's type as read for the insert: an enum as one of its values."""
    value_type = declared.value_type
    if isinstance(value_type, type) and issubclass(value_type, Enum):
        value_type = Literal[tuple(member.value for member in value_type)]
    return value_type | None if declared.optional else value_type


if TYPE_CHECKING:
    _Row = tuple[Any, ...]
else:
    # The declared fields, then those a compact row adds (its community's code, its seq).
    _Row = tuple[(*(_as_bound(declared) for declared in ACCOUNT_FIELDS),
                  *get_args(AccountRowWire)[len(ACCOUNT_FIELDS):])]


class _Page(msgspec.Struct, frozen=True):
    """BootstrapRows' fields (a test holds them to it)."""

    rows: list[_Row]
    communities: list[CommunityRowWire]
    next_after: str | None
    cursor: int
    total: Annotated[int, msgspec.Meta(ge=0)] | None = None


_DECODER = msgspec.json.Decoder(_Page)


class UnreadablePage(ValueError):
    """The page is not what the wire schema says (its what and where, never a value of it)."""


def read_bootstrap_rows(content: bytes) -> BootstrapRows:
    """The page in `content`, checked; raises UnreadablePage."""
    try:
        page = _DECODER.decode(content)
    except msgspec.DecodeError as exc:
        raise UnreadablePage(_without_values(str(exc))) from None
    # Checked above: the model is made without reading the rows a second time.
    return BootstrapRows.model_construct(rows=page.rows, communities=page.communities,
                                         next_after=page.next_after, cursor=page.cursor,
                                         total=page.total)


def _without_values(message: str) -> str:
    """msgspec's message less the value it quotes for a value outside an enum (a garbled row
    could put a customer's name or ID number there), e.g. "Invalid enum value - at
    `$.rows[3][7]`"."""
    what, at, where = message.partition(" - at ")
    if what.startswith("Invalid enum value"):
        what = "Invalid enum value"
    return what + at + where
