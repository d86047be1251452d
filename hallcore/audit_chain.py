"""The hash chain of an audit trail, the same for the terminal's cache and the server.

Each entry carries the hash of the one before it (`prev_hash`) and its own hash over its
canonical encoding: its fields, its id among them, and that previous hash. Editing an entry
breaks its own hash; removing, inserting or reordering entries breaks the next entry's link.
The id is hashed too, so an entry cannot be renumbered into a gap left by another.

What a chain alone cannot show: removing entries from its END leaves a shorter chain that is
intact. The server keeps a head row per chain (its last id and hash) to catch that; the
terminal's cache has no such anchor. Nor can a chain stop whoever may write the database from
recomputing every hash after an edit: for that the head must also be kept somewhere else.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# The previous hash of a chain's first entry.
GENESIS = "0" * 64


def as_utc(moment: datetime) -> datetime:
    """The moment in UTC; a naive time is taken as UTC already (SQLite hands those back)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _encode_value(value: object) -> str:
    if isinstance(value, datetime):
        return as_utc(value).isoformat(timespec="microseconds")
    raise TypeError(f"{type(value).__name__} has no canonical form in the audit trail")


def canonical(prev_hash: str, fields: Mapping[str, Any]) -> bytes:
    """Sorted-key JSON of the entry's fields and the previous hash; times as ISO UTC."""
    return json.dumps({**fields, "prev_hash": prev_hash}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"), default=_encode_value).encode()


def entry_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """The SHA-256 (hex) of an entry; `fields` holds all it records, its id included."""
    return hashlib.sha256(canonical(prev_hash, fields)).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainEntry:
    fields: Mapping[str, Any]  # what the entry records, "id" among them
    prev_hash: str
    hash: str

    @property
    def id(self) -> int:
        return int(self.fields["id"])


@dataclass(frozen=True, slots=True)
class ChainHead:
    """Where a chain ended when last appended to; kept apart from the entries."""

    last_id: int | None
    last_hash: str


EMPTY_HEAD = ChainHead(None, GENESIS)


@dataclass(frozen=True, slots=True)
class Break:
    entry_id: int | None  # the first entry that does not check out; None: the chain's start
    problem: str


def _name(entry_id: int | None) -> str:
    return "the start of the chain" if entry_id is None else f"entry {entry_id}"


def verify_chain(entries: Iterable[ChainEntry], head: ChainHead | None = None) -> Break | None:
    """The first place where the chain (entries in id order) breaks, or None if it is intact.

    With a `head`, the chain must also end where the head says, so a removed tail is found."""
    prev_id: int | None = None
    prev_hash = GENESIS
    for entry in entries:
        if entry.prev_hash != prev_hash:
            return Break(entry.id, f"it does not follow {_name(prev_id)}: an entry between "
                                   "was removed or inserted, entries were reordered, or "
                                   f"{_name(prev_id)} was edited")
        if entry_hash(entry.prev_hash, entry.fields) != entry.hash:
            return Break(entry.id, "its content does not match its hash: it was edited")
        prev_id, prev_hash = entry.id, entry.hash
    if head is None or (head.last_id, head.last_hash) == (prev_id, prev_hash):
        return None
    if head.last_id is None:
        return Break(prev_id, f"the chain runs to {_name(prev_id)} but its head row is "
                              "missing or says it is empty")
    if head.last_id == prev_id:
        return Break(prev_id, f"{_name(prev_id)} is not the one its head row records: it was "
                              "replaced")
    return Break(head.last_id, f"the chain ends at {_name(prev_id)} but its head row records "
                               f"entry {head.last_id}: entries at its end were removed")
