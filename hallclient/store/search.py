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
bootstrap suspends it and rebuilds it at the end (`suspend_search_index`,
`rebuild_search_index`); meanwhile searches scan. A migration that copies the accounts table
(Alembic's batch mode) loses the triggers and the phone index with it, and must end with
`rebuild_search_index` and the index recreated; tests/client/test_search.py checks that no search
scans the table.
"""

from __future__ import annotations

import heapq
import math
import re
import string
import unicodedata
from collections.abc import Iterator, Sequence

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from hallclient.store.models import AccountRow, CommunityRow
from hallcore.db.account_columns import read_columns
from hallcore.domain.accounts import Account, Community
from hallcore.domain.ids import normalize_id_input

_DIGITS = re.compile(r"\d+")
_ID_LIKE = re.compile(r"[0-9A-Z]{6,}")
# A number typed whole or its first digits, a phone's last digits: at least this many.
_PARTIAL_DIGITS = 4

_FIELDS = {"n": "holder_name", "a": "supply_address"}
# The index covers the first this many characters of a name or an address (the server keeps
# up to 60 and 120).
_POSITIONS = 4096
_TRIGGERS = ("accounts_search_insert", "accounts_search_update", "accounts_search_delete")
# The tables of the index (FTS5's own among them): not the models', so not Alembic's to compare.
SEARCH_INDEX_TABLES = frozenset({"account_search", "account_search_data", "account_search_idx",
                                 "account_search_config", "search_positions"})
_TEN_DIGITS = "[0-9]" * 10
# How many keys of a piece are read to tell how common it is.
_PROBE = 64
# A piece in more than 1 account in this many is left to the LIKE check.
_DENSE = 4
# The 3-character pieces of a long fragment intersected at most.
_MAX_PIECES = 32

_ACCOUNTS = AccountRow.metadata.tables[AccountRow.__tablename__]
_COMMUNITIES = CommunityRow.metadata.tables[CommunityRow.__tablename__]
_COMMUNITY_FIELDS = ("code", "name", "households", "manager_name", "manager_phone")
# Core, not ORM: a search shows up to 50 accounts, and ORM objects cost twice the time.
_LOAD = (select(_ACCOUNTS, *(_COMMUNITIES.c[f].label(f"c_{f}")
                             for f in _COMMUNITY_FIELDS))
         .outerjoin(_COMMUNITIES, _COMMUNITIES.c.code == _ACCOUNTS.c.community_code)
         .where(_ACCOUNTS.c.number.in_(bindparam("numbers", expanding=True))))


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
    refuse = ("SELECT RAISE(ABORT, 'the search index takes 10-digit account numbers only')"
              f" WHERE new.number NOT GLOB '{_TEN_DIGITS}';")
    add = f"INSERT INTO account_search (rowid, tokens) VALUES ({_key('new')}, {_tokens('new')});"
    # A contentless FTS5 table forgets a row given the tokens it was given.
    remove = ("INSERT INTO account_search (account_search, rowid, tokens) VALUES"
              f" ('delete', {_key('old')}, {_tokens('old')});")
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
    rebuild_search_index(connection)


def drop_search_index(connection: Connection) -> None:
    """The index and its triggers gone (undoing the migration)."""
    suspend_search_index(connection)
    connection.exec_driver_sql("DROP TABLE account_search")
    connection.exec_driver_sql("DROP TABLE search_positions")


def suspend_search_index(connection: Connection) -> None:
    """Stop keeping the index with each write, for a bulk load (a bootstrap): the triggers
    are dropped, in the caller's transaction. Until `rebuild_search_index`, even after a
    restart, searches for names and addresses scan the accounts table — correct, but slow."""
    for trigger in _TRIGGERS:
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")


def rebuild_search_index(connection: Connection) -> None:
    """Index every account afresh, then keep the index with each write again (the triggers
    are created): after a bulk load with the index suspended, or to repair it. In the
    caller's transaction, which holds the write lock meanwhile: some 45 s a million accounts
    (bench/search.py).

    Raises ValueError, with nothing changed, if an account number is not ten digits."""
    if connection.exec_driver_sql(
            f"SELECT 1 FROM accounts WHERE number NOT GLOB '{_TEN_DIGITS}' LIMIT 1").first():
        raise ValueError("the search index takes 10-digit account numbers only")
    suspend_search_index(connection)
    connection.exec_driver_sql("INSERT INTO account_search (account_search) VALUES ('delete-all')")
    connection.exec_driver_sql(
        f"INSERT INTO account_search (rowid, tokens) SELECT {_key('a')}, {_tokens('a')}"
        " FROM accounts AS a")
    # One segment: a search then reads each token's list in one piece.
    connection.exec_driver_sql("INSERT INTO account_search (account_search) VALUES ('optimize')")
    for trigger in _triggers():
        connection.exec_driver_sql(trigger)


def search_index_is_current(connection: Connection) -> bool:
    """Whether the index is kept (not suspended for a bulk load)."""
    placeholders = ", ".join("?" * len(_TRIGGERS))
    kept = connection.exec_driver_sql(
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'accounts'"
        f" AND name IN ({placeholders})", _TRIGGERS).scalar()
    return kept == len(_TRIGGERS)


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
    connection = session.connection()
    exact = _exact(connection, compact if digits else None, normalize_id_input(typed), limit)
    if exact:
        return _load(connection, list(exact))
    found: dict[str, None] = {}  # account numbers, in the order shown
    for kind in _kinds(connection, typed, compact if digits else None, limit):
        found.update(dict.fromkeys(kind))
        if len(found) >= limit:
            break
    return _load(connection, list(found)[:limit])


def _load(connection: Connection, numbers: list[str]) -> list[Account]:
    """The accounts of `numbers`, in that order."""
    if not numbers:
        return []
    accounts = {}
    for row in connection.execute(_LOAD, {"numbers": numbers}).all():
        # The community's columns come last.
        community = row[-len(_COMMUNITY_FIELDS):]
        accounts[row.number] = Account(
            **read_columns(row),
            community=Community(*community) if community[0] is not None else None)
    return [accounts[number] for number in numbers]


def _kinds(connection: Connection, typed: str, digits: str | None,
           limit: int) -> Iterator[Sequence[str]]:
    """The numbers of each kind of partial match in turn, at most `limit` each, computed only
    when the kinds before them have not filled the list."""
    if digits is not None and len(digits) >= _PARTIAL_DIGITS:
        yield _number_start_or_phone_end(connection, digits, limit)
    indexed = search_index_is_current(connection)
    for field in _FIELDS:
        yield _with_fragment(connection, field, typed, limit, indexed)


def _exact(connection: Connection, digits: str | None, id_number: str,
           limit: int) -> Sequence[str]:
    conditions: list[tuple[str, str]] = []
    if digits is not None:
        conditions += [("number", digits), ("phone", digits)]
    if _ID_LIKE.fullmatch(id_number):
        conditions.append(("id_number", id_number))
    if not conditions:
        return []
    where = " OR ".join(f"{column} = ?" for column, _ in conditions)
    return connection.exec_driver_sql(
        f"SELECT number FROM accounts WHERE {where} ORDER BY number LIMIT ?",
        (*(value for _, value in conditions), limit)).scalars().all()


def _number_start_or_phone_end(connection: Connection, digits: str,
                               limit: int) -> list[str]:
    # Account numbers are digits: those starting with `digits` sort before `digits` + ":".
    starting = connection.exec_driver_sql(
        "SELECT number FROM accounts WHERE number >= ? AND number < ? ORDER BY number LIMIT ?",
        (digits, digits + ":", limit)).scalars().all()
    # Phones are indexed by their last four characters (ix_accounts_phone_last4), and the
    # whole phone beside them is checked in the index.
    ending = connection.exec_driver_sql(
        "SELECT number FROM accounts WHERE substr(phone, -4) = ? AND phone LIKE ?"
        " ORDER BY number LIMIT ?", (digits[-4:], f"%{digits}", limit)).scalars().all()
    return list(heapq.merge(starting, ending))


def _like(fragment: str) -> str:
    escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _token(field: str, piece: str) -> str:
    """The FTS5 query term of a piece of 1 to 3 characters, as the triggers write it."""
    return f'"{field}{len(piece)}{piece.translate(_ASCII_LOWER).encode().hex().upper()}"'


def _with_fragment(connection: Connection, field: str, fragment: str, limit: int,
                   indexed: bool) -> Sequence[str]:
    """Accounts with `fragment` in the name (field n) or the supply address (a)."""
    column = _FIELDS[field]
    if not indexed:
        return connection.exec_driver_sql(
            f"SELECT number FROM accounts WHERE {column} LIKE ? ESCAPE '\\' ORDER BY number"
            " LIMIT ?", (_like(fragment), limit)).scalars().all()
    if len(fragment) <= 3:
        pieces = [_token(field, fragment)]
    else:
        pieces = _worth_intersecting(connection, _spread(
            {_token(field, fragment[i:i + 3]) for i in range(len(fragment) - 2)}))
        if not pieces:
            return []
    # Each account the index names is checked: besides the pieces left out, that keeps a stale
    # entry out (an INSERT OR REPLACE deletes the old row without firing a trigger).
    return connection.exec_driver_sql(
        "SELECT a.number FROM account_search JOIN accounts AS a"
        " ON a.number = printf('%010d', account_search.rowid)"
        f" WHERE account_search MATCH ? AND a.{column} LIKE ? ESCAPE '\\'"
        " ORDER BY account_search.rowid LIMIT ?",
        (" AND ".join(pieces), _like(fragment), limit)).scalars().all()


def _spread(pieces: set[str]) -> list[str]:
    """At most _MAX_PIECES of a long fragment's pieces, taken evenly."""
    ordered = sorted(pieces)
    step = math.ceil(len(ordered) / _MAX_PIECES)
    return ordered[::step]


def _worth_intersecting(connection: Connection, pieces: list[str]) -> list[str]:
    """The pieces of a long fragment worth intersecting; none if one is in no account.

    FTS5 intersects lists by stepping through them. A piece in nearly every account (the
    district's name in every address) costs a step per account yet rules out almost none: a
    fragment like 天河区天河路12号 took 13 ms at a million accounts with it and 1.5 ms
    without. How common each piece is comes from the first _PROBE keys of its list, beside
    those of the accounts table: a piece found fewer times is rare, and then the rare pieces
    alone are enough; otherwise the pieces in more than 1 account in _DENSE are left out (all
    are kept if all are such). LIKE then rules out what the pieces left out let in."""
    probes = [f"SELECT 0, count(*), max(k) - min(k) FROM (SELECT CAST(number AS INTEGER) AS k"
              f" FROM accounts ORDER BY number LIMIT {_PROBE})"]
    probes += [f"SELECT {i}, count(*), max(k) - min(k) FROM (SELECT rowid AS k FROM"
               f" account_search WHERE account_search MATCH ? ORDER BY rowid LIMIT {_PROBE})"
               for i in range(1, len(pieces) + 1)]
    (_, accounts, accounts_span), *probed = sorted(connection.exec_driver_sql(
        " UNION ALL ".join(probes), tuple(pieces)).all())
    if any(count == 0 for _, count, _ in probed):
        return []
    rare = [piece for piece, (_, count, _) in zip(pieces, probed, strict=True)
            if count < _PROBE]
    if rare:
        return rare
    # The mean distance between consecutive keys: of all accounts, of those with a piece.
    every = accounts_span / max(accounts - 1, 1)
    sparse = [piece for piece, (_, _, span) in zip(pieces, probed, strict=True)
              if span / (_PROBE - 1) >= _DENSE * every]
    return sparse or pieces
