"""Finding an account in the cache from what the customer gives: account number, ID number,
phone, or a fragment of the name or the address.

Identifiers are looked up in the accounts table's own indexes. Name and address fragments of
any length, a single surname character included, are found through `account_search`: an FTS5
index holding every 1-, 2- and 3-character piece of each account's name and supply address.
(FTS5's own trigram tokenizer cannot find the 1- and 2-character fragments most given names
are.) Triggers on the accounts table keep it in step in plain SQL, so every writer — the ORM,
a bulk executemany, the sqlite3 shell — keeps it current without calling Python.

A piece is one token: its field (`n` name, `a` address), its length, then its UTF-8 in hex,
ASCII letters lowered as LIKE ignores their case. In hex no character (a space, %, a
punctuation mark) splits a piece: "n2E78E8BE88AB3" is the name piece "王芳". A fragment of up
to 3 characters is one token; a longer one, the accounts having its 3-character pieces. Each
account found is checked with LIKE, so the answer is the LIKE scan's. The index's rowid is
the account number read as an integer: FTS5 hands matches over in account-number order, and
the first `limit` of the tens of thousands of accounts with 陈 in the name come without a
sort. Account numbers are ten digits (the server makes them so); the triggers refuse others.

Keeping the index costs a bulk load dear (a trigger's write to FTS5 is flushed row by row): a
bootstrap suspends it (`suspend_search_index`) and, once the accounts are in, it is built again
in slices of a few thousand accounts in account-number order, each its own short transaction
(`build_search_index_slice`), so that neither a clerk's request nor the sync waits long, and a
build cut off (a killed terminal) resumes where it was. `search_build` keeps how far the build
has come: the accounts up to `indexed_through` are in the index and kept by the triggers (their
WHEN reads it), the others are not; NULL when the index is to be emptied and built afresh.
Meanwhile a fragment is looked up in the index for the accounts built and by a LIKE scan of at
most _SCAN_ROWS of the others (bounded in time, so possibly incomplete: `search_index_progress`
says so). `rebuild_search_index` builds the whole index in the caller's transaction (a
migration). A migration that copies the accounts table (Alembic's batch mode) loses the
triggers and the phone index with it, and must end with `rebuild_search_index` and the index
recreated; tests/client/test_search.py checks that no search scans the table.
"""

from __future__ import annotations

import heapq
import math
import re
import sqlite3
import string
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from hallcore.db.account_columns import read_values
from hallcore.domain.accounts import ACCOUNT_FIELDS, Account, AccountField, Community
from hallcore.domain.ids import normalize_id_input

_DIGITS = re.compile(r"\d+")
_ID_LIKE = re.compile(r"[0-9A-Z]{6,}")
# A number typed whole or its first digits, a phone's last digits: at least this many.
_PARTIAL_DIGITS = 4
# So many digits or more are a phone's tail or an account number's start, not a house number:
# the accounts they find answer alone, as a whole identifier does (no name or address search).
_TAIL_ALONE_DIGITS = 7

_FIELDS = {"n": "holder_name", "a": "supply_address"}
# The index covers the first this many characters of a name or an address (the server keeps
# up to 60 and 120).
_POSITIONS = 4096
_TRIGGERS = ("accounts_search_insert", "accounts_search_update", "accounts_search_delete")
# The tables of the index (FTS5's own among them): not the models', so not Alembic's to compare.
SEARCH_INDEX_TABLES = frozenset({"account_search", "account_search_data", "account_search_idx",
                                 "account_search_config", "search_positions", "search_build"})
_TEN_DIGITS = "[0-9]" * 10
# How many keys of a piece are read to tell how common it is.
_PROBE = 64
# A piece in more than 1 account in this many is left to the LIKE check.
_DENSE = 4
# The 3-character pieces of a long fragment probed at most.
_MAX_PIECES = 32
# The common pieces of a long fragment intersected at most, the sparsest: each more costs a
# step through its list and rules out little once a few have (LIKE checks the rest). At 4.34
# million accounts (bench/search.py's address fragments of 3 to 8 characters) the address
# lookup's CPU p99 was 8.2 ms with every piece, 4 ms with four, 8 to 12 ms with three (the
# three sparsest are often neighbours, much the same piece).
_INTERSECTED = 4
# `indexed_through` once every account is in the index: sorts after any account number.
SEARCH_BUILT = "~"
_NO_ACCOUNT_AFTER = 10**10  # above every 10-digit account number
_THROUGH = "(SELECT indexed_through FROM search_build)"
# While the index is built, a fragment is looked for in at most this many of the accounts not
# in it yet (some 10 ms a field at 4.34 million accounts; 100,000 took 50 ms, and seconds
# beside the build on a busy machine).
SCAN_ROWS = 20_000
# FTS5 leaf pages merged by one slice of the build's last phase.
_MERGE_PAGES = 2000

_COMMUNITY_FIELDS = ("code", "name", "households", "manager_name", "manager_phone")


def _pieces_at(field: str, value: str, length: str) -> str:
    """SQL: the tokens of the pieces of `value` that start at position `n`."""
    return (f"CASE WHEN n <= {length} THEN '{field}1' || hex(substr({value}, n, 1))"
            f" || CASE WHEN n < {length} THEN ' {field}2' || hex(substr({value}, n, 2))"
            f" || CASE WHEN n + 1 < {length} THEN ' {field}3' || hex(substr({value}, n, 3))"
            " ELSE '' END ELSE '' END END")


def _tokens(row: str) -> str:
    """SQL: every token of the account `row` (new, old or a table alias), one string."""
    name = _pieces_at("n", "t.name", "t.name_length")
    address = _pieces_at("a", "t.address", "t.address_length")
    return (f"(SELECT ifnull(group_concat(ifnull({name} || ' ', '') || ifnull({address}, ''),"
            " ' '), '') FROM (SELECT"
            f" lower({row}.holder_name) AS name, length({row}.holder_name) AS name_length,"
            f" lower({row}.supply_address) AS address,"
            f" length({row}.supply_address) AS address_length) AS t"
            " JOIN search_positions ON n <= max(t.name_length, t.address_length))")


def _key(row: str) -> str:
    return f"CAST({row}.number AS INTEGER)"


def _triggers() -> list[str]:
    """The triggers keeping the index, for the accounts the build has reached."""
    refuse = ("SELECT RAISE(ABORT, 'the search index takes 10-digit account numbers only')"
              f" WHERE new.number NOT GLOB '{_TEN_DIGITS}';")
    add = (f"INSERT INTO account_search (rowid, tokens) SELECT {_key('new')}, {_tokens('new')}"
           f" WHERE new.number <= {_THROUGH};")
    # A contentless FTS5 table forgets a row given the tokens it was given.
    remove = ("INSERT INTO account_search (account_search, rowid, tokens) SELECT"
              f" 'delete', {_key('old')}, {_tokens('old')} WHERE old.number <= {_THROUGH};")
    changed = " OR ".join(f"old.{c} IS NOT new.{c}"
                          for c in ("number", "holder_name", "supply_address"))
    return [
        f"CREATE TRIGGER accounts_search_insert AFTER INSERT ON accounts BEGIN {refuse} {add} END",
        "CREATE TRIGGER accounts_search_update AFTER UPDATE OF number, holder_name,"
        f" supply_address ON accounts WHEN {changed} BEGIN {refuse} {remove} {add} END",
        f"CREATE TRIGGER accounts_search_delete AFTER DELETE ON accounts BEGIN {remove} END",
    ]


def create_search_index(connection: Connection) -> None:
    """Create the index, its triggers, and index the accounts already there (a migration)."""
    connection.exec_driver_sql("CREATE TABLE search_positions (n INTEGER PRIMARY KEY)")
    connection.exec_driver_sql("INSERT INTO search_positions (n) VALUES (?)",
                               [(n,) for n in range(1, _POSITIONS + 1)])
    connection.exec_driver_sql(
        "CREATE VIRTUAL TABLE account_search USING fts5(tokens, content='', columnsize=0,"
        " detail=none, tokenize='ascii')")
    create_search_build(connection)
    rebuild_search_index(connection)


def create_search_build(connection: Connection) -> None:
    """The table of how far the index is built, unless it is there (migrations); a new one
    says the index is to be built afresh."""
    connection.exec_driver_sql(
        "CREATE TABLE IF NOT EXISTS search_build (id INTEGER PRIMARY KEY CHECK (id = 1),"
        " indexed_through TEXT, merged BOOLEAN NOT NULL)")
    connection.exec_driver_sql(
        "INSERT OR IGNORE INTO search_build (id, indexed_through, merged) VALUES (1, NULL, 0)")


def drop_search_index(connection: Connection) -> None:
    """The index and its triggers gone (undoing the migration)."""
    drop_search_triggers(connection)
    connection.exec_driver_sql("DROP TABLE account_search")
    connection.exec_driver_sql("DROP TABLE search_positions")
    connection.exec_driver_sql("DROP TABLE IF EXISTS search_build")


def drop_search_triggers(connection: Connection) -> None:
    for trigger in _TRIGGERS:
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")


def suspend_search_index(connection: Connection) -> None:
    """Stop keeping the index with each write, for a bulk load (a bootstrap): the triggers
    are dropped and the index is to be built afresh, in the caller's transaction. Until
    `build_search_index_slice` has run to its end (or `rebuild_search_index`), even after a
    restart, searches for names and addresses scan the accounts table, a bounded part of it."""
    drop_search_triggers(connection)
    connection.exec_driver_sql(
        "UPDATE search_build SET indexed_through = NULL, merged = 0")


def recreate_search_triggers(connection: Connection) -> None:
    """The triggers as this version writes them (a migration)."""
    drop_search_triggers(connection)
    for trigger in _triggers():
        connection.exec_driver_sql(trigger)


def _refuse_odd_numbers(connection: Connection, after: str = "",
                        through: str = SEARCH_BUILT) -> None:
    """ValueError if an account number (of those after `after` up to `through`) is not ten
    digits: the index's rowid is the number read as an integer."""
    if connection.exec_driver_sql(
            "SELECT 1 FROM accounts WHERE number > ? AND number <= ?"
            f" AND number NOT GLOB '{_TEN_DIGITS}' LIMIT 1", (after, through)).first():
        raise ValueError("the search index takes 10-digit account numbers only")


def _restart(connection: Connection) -> None:
    """Empty the index and keep it from here on for the accounts the build reaches."""
    suspend_search_index(connection)
    connection.exec_driver_sql("INSERT INTO account_search (account_search) VALUES ('delete-all')")
    connection.exec_driver_sql("UPDATE search_build SET indexed_through = ''")
    recreate_search_triggers(connection)


def build_search_index_slice(connection: Connection, accounts: int = 2000) -> bool:
    """One step of building the index after a bulk load, in the caller's (short) transaction:
    the next `accounts` accounts indexed, or, once all are, some of its pieces merged into
    one (a search then reads each token's list in one piece). Returns whether steps remain;
    a step on a built index does nothing. Resumes where the last committed step stopped.

    Raises ValueError, with nothing changed, if an account number is not ten digits."""
    through, merged = connection.exec_driver_sql(
        "SELECT indexed_through, merged FROM search_build").one()
    if through is None or not search_triggers_exist(connection):
        _restart(connection)
        return True
    if through != SEARCH_BUILT:
        last = connection.exec_driver_sql(
            "SELECT max(number) FROM (SELECT number FROM accounts WHERE number > ?"
            " ORDER BY number LIMIT ?)", (through, accounts)).scalar()
        if last is None:
            connection.exec_driver_sql("UPDATE search_build SET indexed_through = ?",
                                       (SEARCH_BUILT,))
            return True
        _refuse_odd_numbers(connection, through, last)
        connection.exec_driver_sql(
            f"INSERT INTO account_search (rowid, tokens) SELECT {_key('a')}, {_tokens('a')}"
            " FROM accounts AS a WHERE a.number > ? AND a.number <= ?", (through, last))
        connection.exec_driver_sql("UPDATE search_build SET indexed_through = ?", (last,))
        return True
    if merged:
        return False
    # FTS5 says whether a merge did any work by the rows it changed: fewer than 2, none.
    before = connection.exec_driver_sql("SELECT total_changes()").scalar_one()
    connection.exec_driver_sql("INSERT INTO account_search (account_search, rank)"
                               f" VALUES ('merge', -{_MERGE_PAGES})")
    if connection.exec_driver_sql("SELECT total_changes()").scalar_one() - before >= 2:
        return True
    connection.exec_driver_sql("UPDATE search_build SET merged = 1")
    return False


@dataclass(frozen=True, slots=True)
class SearchIndexProgress:
    """How far the name and address index is built: `indexed` of `accounts`. Until it is
    built, a fragment search may miss accounts of the part not built yet."""

    indexed: int
    accounts: int

    @property
    def fraction(self) -> float:
        return 1.0 if self.accounts == 0 else min(1.0, self.indexed / self.accounts)


def search_index_progress(connection: Connection) -> SearchIndexProgress | None:
    """None when the index is built (every account in it); else how far it has come."""
    through = _indexed_through(_driver(connection))
    if through == SEARCH_BUILT:
        return None
    accounts = connection.exec_driver_sql("SELECT count(*) FROM accounts").scalar_one()
    indexed = 0 if not through else connection.exec_driver_sql(
        "SELECT count(*) FROM accounts WHERE number <= ?", (through,)).scalar_one()
    return SearchIndexProgress(indexed, accounts)


def _driver(connection: Connection) -> sqlite3.Connection:
    """The sqlite3 connection under `connection`, in its transaction. Searches use it
    directly: SQLAlchemy's work per statement and per row was most of a search's time."""
    driver = connection.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    return driver


_TRIGGERS_KEPT = (
    "SELECT count(*) = 3 FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'accounts'"
    f" AND name IN ({', '.join(repr(trigger) for trigger in _TRIGGERS)})")
assert len(_TRIGGERS) == 3


def _indexed_through(driver: sqlite3.Connection) -> str | None:
    """The last account number in the index (SEARCH_BUILT: every one; '' or None: none)."""
    through, kept = driver.execute(
        f"SELECT indexed_through, ({_TRIGGERS_KEPT}) FROM search_build").fetchone()
    return through if kept else None


def rebuild_search_index(connection: Connection) -> None:
    """Index every account afresh, then keep the index with each write again (the triggers
    are created): after a bulk load with the index suspended, or to repair it. In the
    caller's transaction, which holds the write lock meanwhile: some 45 s a million accounts
    (bench/search.py).

    Raises ValueError, with nothing changed, if an account number is not ten digits."""
    _refuse_odd_numbers(connection)
    _restart(connection)
    connection.exec_driver_sql(
        f"INSERT INTO account_search (rowid, tokens) SELECT {_key('a')}, {_tokens('a')}"
        " FROM accounts AS a")
    # One segment: a search then reads each token's list in one piece.
    connection.exec_driver_sql("INSERT INTO account_search (account_search) VALUES ('optimize')")
    connection.exec_driver_sql(
        f"UPDATE search_build SET indexed_through = '{SEARCH_BUILT}', merged = 1")


def search_index_is_current(connection: Connection) -> bool:
    """Whether every account is in the index and kept there (not suspended for a bulk load,
    nor still being built)."""
    return _indexed_through(_driver(connection)) == SEARCH_BUILT


def search_triggers_exist(connection: Connection) -> bool:
    """Whether the triggers are there (not dropped for a bulk load, nor lost by a migration)."""
    return bool(connection.exec_driver_sql(_TRIGGERS_KEPT).scalar())


def search_accounts(session: Session, query: str, *, limit: int = 50) -> list[Account]:
    """Accounts matching `query`, at most `limit`. A whole identifier (account number, phone,
    ID number) that matches answers alone: the clerk typed or scanned the customer's own.
    Otherwise accounts whose number starts with the digits typed or whose phone ends with them
    (at least 4), then those with the fragment in the name, then in the supply address; each
    kind in account-number order. Blank queries find nothing."""
    typed = unicodedata.normalize("NFKC", query).strip()
    if not typed:
        return []
    compact = "".join(typed.split()).replace("-", "")
    digits = _DIGITS.fullmatch(compact) is not None
    driver = _driver(session.connection())
    exact = _exact(driver, compact if digits else None, normalize_id_input(typed), limit)
    if exact:
        return _load(driver, exact)
    if digits and len(compact) >= _TAIL_ALONE_DIGITS:
        tail = _number_start_or_phone_end(driver, compact, limit)
        if tail:
            return _load(driver, tail[:limit])
    found: dict[str, None] = {}  # account numbers, in the order shown
    for kind in _kinds(driver, typed, compact if digits else None, limit):
        found.update(dict.fromkeys(kind))
        if len(found) >= limit:
            break
    return _load(driver, list(found)[:limit])


def _stored_as_python(declared: AccountField) -> Callable[[Any], Any] | None:
    """How sqlite3's value of a field becomes the one SQLAlchemy would read (None: as is)."""
    if declared.value_type is date:
        return lambda value: None if value is None else date.fromisoformat(value)
    if declared.value_type is bool:
        return lambda value: None if value is None else bool(value)
    return None


_CONVERT = [(i, convert) for i, declared in enumerate(ACCOUNT_FIELDS)
            if (convert := _stored_as_python(declared)) is not None]
_FIELD_NAMES = [declared.name for declared in ACCOUNT_FIELDS]
_SELECT_LOADED = (f"SELECT {', '.join(f'a.{name}' for name in _FIELD_NAMES)}, "
                  f"{', '.join(f'c.{name}' for name in _COMMUNITY_FIELDS)} FROM accounts AS a"
                  " LEFT JOIN communities AS c ON c.code = a.community_code"
                  " WHERE a.number IN ")


def _load(driver: sqlite3.Connection, numbers: Sequence[str]) -> list[Account]:
    """The accounts of `numbers`, in that order."""
    if not numbers:
        return []
    accounts = {}
    fields = len(_FIELD_NAMES)
    for row in driver.execute(f"{_SELECT_LOADED}({', '.join('?' * len(numbers))})", numbers):
        values = list(row[:fields])
        for i, convert in _CONVERT:
            values[i] = convert(values[i])
        community = row[fields:]
        accounts[values[0]] = Account(
            **read_values(values),
            community=Community(*community) if community[0] is not None else None)
    return [accounts[number] for number in numbers]


def _kinds(driver: sqlite3.Connection, typed: str, digits: str | None,
           limit: int) -> Iterator[Sequence[str]]:
    """The numbers of each kind of partial match in turn, at most `limit` each, computed only
    when the kinds before them have not filled the list."""
    if digits is not None and len(digits) >= _PARTIAL_DIGITS:
        yield _number_start_or_phone_end(driver, digits, limit)
    through = _indexed_through(driver)
    for field in _FIELDS:
        yield _with_fragment(driver, field, typed, limit, through)


def _numbers(driver: sqlite3.Connection, sql: str, parameters: Sequence[Any]) -> list[str]:
    return [number for (number,) in driver.execute(sql, parameters)]


def _exact(driver: sqlite3.Connection, digits: str | None, id_number: str,
           limit: int) -> list[str]:
    conditions: list[tuple[str, tuple[str, ...]]] = []
    if digits is not None:
        # A whole phone through the index of phones' last four characters (the only one).
        conditions += [("number = ?", (digits,)),
                       ("substr(phone, -4) = ? AND phone = ?", (digits[-4:], digits))]
    if _ID_LIKE.fullmatch(id_number):
        conditions.append(("id_number = ?", (id_number,)))
    if not conditions:
        return []
    where = " OR ".join(f"({condition})" for condition, _ in conditions)
    return _numbers(driver, f"SELECT number FROM accounts WHERE {where} ORDER BY number LIMIT ?",
                    (*(value for _, values in conditions for value in values), limit))


def _number_start_or_phone_end(driver: sqlite3.Connection, digits: str,
                               limit: int) -> list[str]:
    # Account numbers are digits: those starting with `digits` sort before `digits` + ":".
    starting = _numbers(
        driver, "SELECT number FROM accounts WHERE number >= ? AND number < ?"
        " ORDER BY number LIMIT ?", (digits, digits + ":", limit))
    # Phones are indexed by their last four characters (ix_accounts_phone_last4), and the
    # whole phone beside them is checked in the index.
    ending = _numbers(
        driver, "SELECT number FROM accounts WHERE substr(phone, -4) = ? AND phone LIKE ?"
        " ORDER BY number LIMIT ?", (digits[-4:], f"%{digits}", limit))
    return list(heapq.merge(starting, ending))


def _like(fragment: str) -> str:
    escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _token(field: str, piece: str) -> str:
    """The FTS5 query term of a piece of 1 to 3 characters, as the triggers write it."""
    return f'"{field}{len(piece)}{piece.translate(_ASCII_LOWER).encode().hex().upper()}"'


def _with_fragment(driver: sqlite3.Connection, field: str, fragment: str, limit: int,
                   through: str | None) -> list[str]:
    """Accounts with `fragment` in the name (field n) or the supply address (a): from the
    index for the accounts up to `through` (the last indexed), then by a bounded scan of those
    after it (all of them while nothing is indexed)."""
    found = (_indexed_with_fragment(driver, field, fragment, limit, through)
             if through else [])
    if through == SEARCH_BUILT or len(found) >= limit:
        return found
    # The index is being built: at most SCAN_ROWS of the accounts after it are read.
    return found + _numbers(
        driver, f"SELECT number FROM (SELECT number, {_FIELDS[field]} AS value FROM accounts"
        " WHERE number > ? ORDER BY number LIMIT ?) WHERE value LIKE ? ESCAPE '\\' LIMIT ?",
        (through or "", SCAN_ROWS, _like(fragment), limit - len(found)))


def _indexed_with_fragment(driver: sqlite3.Connection, field: str, fragment: str, limit: int,
                           through: str) -> list[str]:
    column = _FIELDS[field]
    if len(fragment) <= 3:
        pieces = [_token(field, fragment)]
    else:
        pieces = _worth_intersecting(driver, _spread(
            {_token(field, fragment[i:i + 3]) for i in range(len(fragment) - 2)}))
        if not pieces:
            return []
    # Each account the index names is checked: besides the pieces left out, that keeps a stale
    # entry out (an INSERT OR REPLACE deletes the old row without firing a trigger).
    return _numbers(
        driver, "SELECT a.number FROM account_search JOIN accounts AS a"
        " ON a.number = printf('%010d', account_search.rowid)"
        f" WHERE account_search MATCH ? AND a.{column} LIKE ? ESCAPE '\\'"
        " AND account_search.rowid <= ? ORDER BY account_search.rowid LIMIT ?",
        (" AND ".join(pieces), _like(fragment),
         _NO_ACCOUNT_AFTER if through == SEARCH_BUILT else int(through), limit))


def _spread(pieces: set[str]) -> list[str]:
    """At most _MAX_PIECES of a long fragment's pieces, taken evenly."""
    ordered = sorted(pieces)
    step = math.ceil(len(ordered) / _MAX_PIECES)
    return ordered[::step]


def _worth_intersecting(driver: sqlite3.Connection, pieces: list[str]) -> list[str]:
    """The pieces of a long fragment worth intersecting; none if one is in no account.

    FTS5 intersects lists by stepping through them. A piece in nearly every account (the
    district's name in every address) costs a step per account yet rules out almost none: a
    fragment like 天河区天河路12号 took 13 ms at a million accounts with it and 1.5 ms
    without. How common each piece is comes from the first _PROBE keys of its list, beside
    those of the accounts table: a piece found fewer times is rare, and then the rare pieces
    alone are enough; otherwise the pieces in more than 1 account in _DENSE are left out (all
    are kept if all are such), and of those kept the _INTERSECTED sparsest (the widest span of
    their first keys). LIKE then rules out what the pieces left out let in."""
    probes = [f"SELECT 0, count(*), max(k) - min(k) FROM (SELECT CAST(number AS INTEGER) AS k"
              f" FROM accounts ORDER BY number LIMIT {_PROBE})"]
    probes += [f"SELECT {i}, count(*), max(k) - min(k) FROM (SELECT rowid AS k FROM"
               f" account_search WHERE account_search MATCH ? ORDER BY rowid LIMIT {_PROBE})"
               for i in range(1, len(pieces) + 1)]
    (_, accounts, accounts_span), *probed = sorted(driver.execute(
        " UNION ALL ".join(probes), pieces).fetchall())
    if any(count == 0 for _, count, _ in probed):
        return []
    rare = [piece for piece, (_, count, _) in zip(pieces, probed, strict=True)
            if count < _PROBE]
    if rare:
        return rare
    # The mean distance between consecutive keys: of all accounts, of those with a piece.
    every = accounts_span / max(accounts - 1, 1)
    sparsest_first = sorted(zip(pieces, probed, strict=True), key=lambda p: -p[1][2])
    sparse = [piece for piece, (_, _, span) in sparsest_first
              if span / (_PROBE - 1) >= _DENSE * every]
    return (sparse or [piece for piece, _ in sparsest_first])[:_INTERSECTED]
