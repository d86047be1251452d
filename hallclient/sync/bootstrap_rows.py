"""A compact bootstrap page (hallcore.wire.BootstrapRows) read as the cache's insert takes it.

Read with msgspec against the declarations the wire model is made of, and as strictly: each
value in its JSON type (no number for a text, no text for a number or a yes/no), an enum's value
one of its members, a date a real date, each row of exactly its fields; a field a newer server
added to the page is left out, as `api._read` does. pydantic's reading of a page of 10,000 rows
took about twice as long.

A row comes out as a tuple of what sqlite3 binds as it is: an enum field as its value (a str),
not as the enum member, and a date as its text, checked to be a date on the calendar, not as a
date object. sqlite3 looks for an adapter for every value of another type, at every row: for the
dates, a fifth of the time a page took to store.
"""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args

import msgspec

from hallcore.domain.accounts import ACCOUNT_FIELDS, AccountField
from hallcore.wire import AccountRowWire, BootstrapRows, CommunityRowWire

# RFC 3339's full-date, as msgspec reads a date, on the (proleptic Gregorian) calendar: year
# 0001 to 9999, the month's days, 29 February in leap years only. ASCII digits: \d takes others.
ISO_DATE = (r"^(?!0000)(?:[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
            r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))"
            r"|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)"
            r"-02-29)\Z")


def _as_bound(declared: AccountField) -> Any:
    """A declared field's type as read for the insert: an enum as one of its values, a date as
    its text."""
    value_type = declared.value_type
    if isinstance(value_type, type) and issubclass(value_type, Enum):
        value_type = Literal[tuple(member.value for member in value_type)]
    elif value_type is date:
        value_type = Annotated[str, msgspec.Meta(pattern=ISO_DATE)]
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
    elif what == f"Expected `str` matching regex {ISO_DATE!r}":
        what = "Invalid RFC3339 encoded date"  # as msgspec says it of a date object
    return what + at + where
