"""Salvage of a damaged cache: the terminal's own work it still holds, into a new cache.

A cache that SQLite refuses (not a database any more, or failing its integrity check) may
still hold requests made at this counter and not yet sent. `scan_damaged` reads what it can
of them without changing the file: it works on a copy in a private temporary folder, whose
header it repairs when it must, and reads, in that order,

1. the tables themselves with the sqlite3 module, row by row past the pages that cannot be
   read (a rowid at a time across a damaged stretch), then SQLite's own check of each table
   (`PRAGMA quick_check(table)`): a read that raised no error is not proof that a table is
   whole, since SQLite does not check every page it reads (of a leaf whose cell pointers are
   garbage it may return made-up rows read past the page, of a child pointer led astray
   another table's rows); the rows of a table the check finds damaged are kept only when
   they have that row's shape (as in 3.);
2. what SQLite's own recovery (`sqlite3 <file> .recover`, the command-line shell) gives, when
   the shell is installed and can recover (Debian's cannot: its shell is built without the
   `sqlite_dbpage` table it needs, and fails; a recovery that fails is never used in part);
3. the table pages still in the file that the tables no longer lead to (a damaged page above
   them): each record is taken for a row of the outbox, a receipt, a counter, a rating or a
   task only when its values have that row's shape (an operation id, a state, a business
   type, a receipt number...).

The last two run only when the first met a damaged page or a table its check finds
damaged (or no table list at all).

`salvage` then builds a new cache beside the damaged one with the operations read (waiting
ones and answered ones), their receipts, ratings and tasks, what the outbox backups add
(outbox_backup.py), and receipt counters above every number ever issued; moves the damaged
file aside (`cache.sqlite3.damaged-YYYYMMDD-HHMMSS`, UTC, never deleted, its WAL with it) and
puts the new cache in its place. The accounts are not salvaged: they come from the server
again (the next sync bootstraps), which then receives the waiting requests.

Plain Python, no Qt: the desktop client and `hallclient salvage` ask the question and say the
answer this module words (`question`, `describe`).
"""

from __future__ import annotations

import json
import mmap
import os
import re
import shutil
import sqlite3
import struct
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hallclient.store.audit import append_audit
from hallclient.store.cache import CacheCorrupt, open_cache
from hallclient.store.outbox_backup import (
    WORK_TABLES,
    merge_outbox,
    readable_backups,
    receipt_day_seq,
)
from hallcore.domain.business import BusinessKind
from hallcore.domain.text import Text
from hallcore.wire import Rating

# The tables read from a damaged cache: the terminal's work; the audit trail for what it says
# of operations whose rows are gone (their ids and receipt numbers); the sync state for the
# last receipt number the server holds (numbers up to it reached the server).
READ_TABLES = (*WORK_TABLES, "audit", "sync_state")
OUTBOX_STATES = frozenset({"pending", "applied", "duplicate", "conflict", "rejected"})
RATINGS = frozenset(rating.value for rating in Rating)
# How many rowids past the last one read are tried, a rowid at a time, when a table's last
# rowid cannot be read either.
MAX_GAP = 10_000
RECOVER_TIMEOUT_SECONDS = 600
# At most this many unreadable operations are named in a message.
NAMED = 10

_MAGIC = b"SQLite format 3\x00"
_PAGE_SIZES = (4096, 1024, 2048, 8192, 16384, 32768, 65536, 512)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_DAY = re.compile(r"^[0-9]{8}$")

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Unreadable:
    """An operation made here that cannot be salvaged: its own row is unreadable (`what` is
    "operation"; known from its receipt, rating, task or audit entry), or it waits to be sent
    but its receipt, which the server checks, is unreadable ("receipt")."""

    operation_id: str | None  # None: known only by its receipt number
    receipt_no: str | None
    what: str

    def describe(self) -> str:
        return self.receipt_no or self.operation_id or "?"


@dataclass
class SalvageScan:
    """What a damaged cache still holds of the terminal's work; the file is unchanged."""

    path: Path
    rows: dict[str, list[Row]]
    # Receipt numbers the audit trail says were issued (whatever became of their rows).
    used_numbers: list[str] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)
    # Outbox entries known only by a gap in the local numbering (nothing else names them).
    lost_entries: int = 0
    # How the rows were read: "tables", "recover" (SQLite's shell), "pages".
    methods: tuple[str, ...] = ()

    @property
    def waiting(self) -> int:
        """Operations waiting to be sent that salvage brings back."""
        with_receipt = {r.get("operation_id") for r in self.rows.get("receipts", ())}
        return sum(1 for r in self.rows.get("outbox", ())
                   if r.get("state") == "pending" and r.get("operation_id") in with_receipt)

    @property
    def acknowledged(self) -> int:
        """Operations the server had answered."""
        return sum(1 for r in self.rows.get("outbox", ()) if r.get("state") != "pending")


@dataclass(frozen=True, slots=True)
class SalvageResult:
    """What the new cache holds of the damaged one (and of the backups), and where the
    damaged file went."""

    cache: Path
    damaged: Path  # the damaged file, moved aside
    waiting: int  # operations waiting to be sent, recovered
    acknowledged: int  # operations the server had answered, recovered
    from_backups: int  # of those, how many only the outbox backups held
    receipts: int
    feedback: int
    tasks: int
    unreadable: tuple[Unreadable, ...]
    lost_entries: int
    methods: tuple[str, ...]


# --- counting, for the message of a damaged cache ------------------------------------------------


def count_waiting(path: Path) -> int | None:
    """How many operations waiting to be sent the damaged cache at `path` holds, when it can
    be read that far; None when it cannot. The file is opened read-only and immutable (or
    copied first, when its header must be repaired or its WAL read): never changed."""
    try:
        if _has_magic(path) and not _has_wal(path):
            return _count(f"{path.resolve().as_uri()}?mode=ro&immutable=1")
        with tempfile.TemporaryDirectory(prefix="hallclient-count-") as folder:
            return _count(str(_snapshot(path, Path(folder))))
    except (OSError, sqlite3.Error, ValueError):
        return None


def _count(target: str) -> int | None:
    with closing(sqlite3.connect(target, uri=target.startswith("file:"))) as conn:
        for query in ("SELECT count(*) FROM outbox WHERE state = 'pending'",
                      "SELECT count(*) FROM outbox NOT INDEXED WHERE state = 'pending'"):
            try:
                return int(conn.execute(query).fetchone()[0])
            except sqlite3.DatabaseError:
                continue
    return None


# --- the copy the scan reads ------------------------------------------------------------------


def _wal(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def _has_wal(path: Path) -> bool:
    wal = _wal(path)
    return wal.exists() and wal.stat().st_size > 0


def _has_magic(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(len(_MAGIC)) == _MAGIC


def _snapshot(path: Path, folder: Path) -> Path:
    """A copy of the damaged cache (and its WAL, folded in) in `folder`, its header repaired
    so that SQLite opens it. Only the copy is ever written."""
    copy = folder / "damaged.sqlite3"
    shutil.copyfile(path, copy)
    with_wal = _has_wal(path)
    if with_wal:
        shutil.copyfile(_wal(path), _wal(copy))
    _repair_header(copy, with_wal)
    if with_wal:
        try:  # the WAL's pages into the copy, for the page scan (SQL reads see them anyway)
            with closing(sqlite3.connect(copy)) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:
            pass
    return copy


def _page_size_of(header: bytes | bytearray) -> int | None:
    if len(header) < 18:
        return None
    raw = int.from_bytes(header[16:18], "big")
    size = 65536 if raw == 1 else raw
    return size if size in _PAGE_SIZES else None


def _header_sane(header: bytes | bytearray) -> bool:
    return (len(header) >= 100 and _page_size_of(header) is not None
            and header[18] in (1, 2) and header[19] in (1, 2) and header[20] <= 32
            and header[21:24] == b"\x40\x20\x20"
            and 1 <= int.from_bytes(header[44:48], "big") <= 4
            and int.from_bytes(header[56:60], "big") == 1)


def _guess_page_size(f: Any, size: int) -> int:
    """The smallest page size at whose page starts nearly every page looks like a b-tree page
    (a multiple of the true size looks as good; a fraction of it does not)."""
    ratios = {}
    for candidate in sorted(_PAGE_SIZES):
        starts = range(1, min(size // candidate, 256))
        hits = 0
        for n in starts:
            f.seek(n * candidate)
            hits += f.read(1) in (b"\x02", b"\x05", b"\x0a", b"\x0d")
        ratios[candidate] = hits / len(starts) if starts else 0.0
    best = max(ratios.values())
    if best == 0:
        return 4096  # what HallClient's caches use (SQLite's default)
    return min(c for c, ratio in ratios.items() if ratio >= 0.8 * best)


def _repair_header(copy: Path, with_wal: bool) -> None:
    """What SQLite checks before reading a page: the magic string, sane fields, a database
    size that is the file's, a freelist inside it."""
    with copy.open("r+b") as f:
        size = os.fstat(f.fileno()).st_size
        header = bytearray(f.read(100).ljust(100, b"\0"))
        if not _header_sane(header):
            page = _page_size_of(header) or _guess_page_size(f, size)
            rebuilt = bytearray(100)
            rebuilt[16:18] = (1 if page == 65536 else page).to_bytes(2, "big")
            rebuilt[18] = rebuilt[19] = 2 if with_wal else 1
            rebuilt[21:24] = b"\x40\x20\x20"  # no reserved bytes (byte 20), as ours
            rebuilt[24:28] = (1).to_bytes(4, "big")
            rebuilt[40:44] = (1).to_bytes(4, "big")
            rebuilt[44:48] = (4).to_bytes(4, "big")
            rebuilt[56:60] = (1).to_bytes(4, "big")
            major, minor, patch = sqlite3.sqlite_version_info
            rebuilt[96:100] = (major * 1_000_000 + minor * 1000 + patch).to_bytes(4, "big")
            header = rebuilt
        header[0:16] = _MAGIC
        page = _page_size_of(header) or 4096
        pages = max(1, -(-size // page))
        if size % page:  # a cut last page: the rest is zeros
            f.truncate(pages * page)
        header[28:32] = pages.to_bytes(4, "big")
        header[92:96] = header[24:28]  # the size above is valid for this change counter
        if int.from_bytes(header[32:36], "big") > pages or int.from_bytes(
                header[36:40], "big") > pages:
            header[32:40] = bytes(8)
        f.seek(0)
        f.write(header)


# --- 1. the tables, row by row ------------------------------------------------------------------


@dataclass
class _Table:
    columns: list[str]
    rowid_alias: str | None  # the INTEGER PRIMARY KEY column, stored as the rowid


def _schema(conn: sqlite3.Connection, tables: Sequence[str]) -> dict[str, _Table]:
    names = {row[0] for row in conn.execute(
        "SELECT name FROM sqlite_schema WHERE type = 'table'")}
    schema = {}
    for table in tables:
        if table in names:
            info = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
            keys = [r for r in info if r[5]]
            alias = keys[0][1] if len(keys) == 1 and str(keys[0][2]).upper() == "INTEGER" else None
            schema[table] = _Table([r[1] for r in info], alias)
    return schema


def _read_table(conn: sqlite3.Connection, table: str, shape: _Table) -> tuple[list[Row], bool]:
    """The rows that can be read, and whether the whole table could."""
    rows: dict[int, tuple[Any, ...]] = {}
    whole = True
    try:
        top = conn.execute(f'SELECT max(rowid) FROM "{table}"').fetchone()[0]
    except sqlite3.DatabaseError:
        top, whole = None, False
    after: int | None = None
    while True:
        try:
            query = f'SELECT rowid, * FROM "{table}"' + (
                "" if after is None else " WHERE rowid > ?") + " ORDER BY rowid"
            for row in conn.execute(query, () if after is None else (after,)):
                rows[row[0]] = row[1:]
                after = row[0]
            break
        except sqlite3.DatabaseError:
            whole = False
        # Past the damaged stretch a rowid at a time, then a scan again from the next row.
        probe, misses, found = (after or 0) + 1, 0, False
        while (probe <= top) if isinstance(top, int) else (misses <= MAX_GAP):
            try:
                row = conn.execute(f'SELECT rowid, * FROM "{table}" WHERE rowid = ?',
                                   (probe,)).fetchone()
            except sqlite3.DatabaseError:
                row = None
            if row is not None:
                rows[probe] = row[1:]
                after, found = probe, True
                break
            probe += 1
            misses += 1
        if not found:
            break
    return [_as_row(shape, rowid, values) for rowid, values in sorted(rows.items())], whole


def _as_row(shape: _Table, rowid: int, values: Sequence[Any]) -> Row:
    row = dict(zip(shape.columns, values, strict=False))
    for name in shape.columns[len(values):]:
        row[name] = None
    if shape.rowid_alias is not None:
        row[shape.rowid_alias] = rowid
    return row


def _sound(conn: sqlite3.Connection, table: str) -> bool:
    """Whether SQLite's own check finds nothing wrong with `table` (its b-tree, its indexes,
    its NOT NULL columns). Reading every row without an error does not tell: a damaged page
    can be read without one, the same file now failing and now not (rows made up of what
    lies past the page in memory). Before SQLite 3.33 the check covers the whole file (damage
    anywhere counts, which only makes the scan try its other ways too)."""
    try:
        return [r[0] for r in conn.execute(f'PRAGMA quick_check("{table}")')] == ["ok"]
    except sqlite3.DatabaseError:
        return False


def _read_tables(copy: Path) -> tuple[dict[str, list[Row]], dict[str, _Table] | None, bool]:
    """The tables read with SQL; their shapes (None when the table list cannot be read); and
    whether everything read whole (every row read without an error, and every table sound).
    Of a table that is not sound, only the rows that look like its rows are kept."""
    rows: dict[str, list[Row]] = {}
    try:
        with closing(sqlite3.connect(copy)) as conn:
            schema = _schema(conn, READ_TABLES)
            whole = True
            for table, shape in schema.items():
                rows[table], complete = _read_table(conn, table, shape)
                if not _sound(conn, table):
                    complete = False
                    if (looks_like := _LOOKS_LIKE.get(table)) is not None:
                        rows[table] = [row for row in rows[table] if looks_like(row)]
                whole = whole and complete
            return rows, schema, whole
    except sqlite3.DatabaseError:
        return rows, None, False


# --- 2. SQLite's own recovery (the shell's .recover) ---------------------------------------------


def _recover_with_shell(copy: Path, folder: Path) -> dict[str, list[Row]] | None:
    """The rows SQLite's shell recovers into a new database; None when there is no shell, or
    its recovery fails (then even what it printed before failing is not used)."""
    shell = shutil.which("sqlite3")
    if shell is None:
        return None
    script, recovered = folder / "recover.sql", folder / "recovered.sqlite3"
    try:
        with script.open("wb") as out:
            done = subprocess.run([shell, str(copy), ".recover --ignore-freelist"], stdout=out,
                                  stderr=subprocess.PIPE, timeout=RECOVER_TIMEOUT_SECONDS,
                                  check=False)
        if done.returncode != 0:
            return None
        with script.open("rb") as sql:  # errors here (a virtual table, say) are not ours
            subprocess.run([shell, str(recovered)], stdin=sql, capture_output=True,
                           timeout=RECOVER_TIMEOUT_SECONDS, check=False)
        rows, _, _ = _read_tables(recovered)
        return rows
    except (OSError, subprocess.SubprocessError):
        return None


# --- 3. the pages the tables no longer lead to --------------------------------------------------


class _Bad(Exception):
    pass


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    value = 0
    for _ in range(8):
        if i >= len(buf):
            raise _Bad
        byte = buf[i]
        i += 1
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, i
    if i >= len(buf):
        raise _Bad
    return (value << 8) | buf[i], i + 1


def _record(payload: bytes) -> list[Any]:
    """The values of a record (SQLite's record format), or _Bad."""
    size, i = _varint(payload, 0)
    if not 1 <= size <= len(payload):
        raise _Bad
    kinds = []
    while i < size:
        kind, i = _varint(payload, i)
        kinds.append(kind)
    if i != size:
        raise _Bad
    values: list[Any] = []
    at = size
    for kind in kinds:
        if kind in (0, 8, 9):
            values.append(None if kind == 0 else kind - 8)
            continue
        if 1 <= kind <= 6:
            n = (1, 2, 3, 4, 6, 8)[kind - 1]
        elif kind == 7:
            n = 8
        elif kind >= 12:
            n = (kind - 12) // 2
        else:
            raise _Bad
        raw = payload[at:at + n]
        if len(raw) != n:
            raise _Bad
        at += n
        if kind <= 6:
            values.append(int.from_bytes(raw, "big", signed=True))
        elif kind == 7:
            values.append(struct.unpack(">d", raw)[0])
        elif kind % 2 == 0:
            values.append(bytes(raw))
        else:
            try:
                values.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                raise _Bad from None
    return values


class _Pages:
    def __init__(self, data: mmap.mmap) -> None:
        self.data = data
        self.size = _page_size_of(data[:100]) or 4096
        self.usable = self.size - (data[20] if len(data) > 20 else 0)
        self.count = len(data) // self.size

    def page(self, number: int) -> bytes:
        if not 1 <= number <= self.count:
            raise _Bad
        return self.data[(number - 1) * self.size:number * self.size]

    def freelist(self) -> set[int]:
        free: set[int] = set()
        trunk = int.from_bytes(self.data[32:36], "big")
        while trunk and trunk not in free:
            try:
                page = self.page(trunk)
            except _Bad:
                break
            free.add(trunk)
            count = int.from_bytes(page[4:8], "big")
            if count > (self.usable - 8) // 4:
                break
            free.update(int.from_bytes(page[8 + 4 * k:12 + 4 * k], "big") for k in range(count))
            trunk = int.from_bytes(page[0:4], "big")
        return free

    def leaf_records(self, number: int, wanted: set[int]) -> Iterator[tuple[int, list[Any]]]:
        """(rowid, values) of each cell of a table leaf page whose record has one of the
        `wanted` numbers of values; cells that cannot be read are skipped."""
        page = self.page(number)
        if page[0] != 0x0D:
            return
        cells = int.from_bytes(page[3:5], "big")
        if 8 + 2 * cells > self.usable:
            return
        for k in range(cells):
            pointer = int.from_bytes(page[8 + 2 * k:10 + 2 * k], "big")
            try:
                rowid, payload = self._cell(page, pointer, wanted)
                yield rowid, _record(payload)
            except _Bad:
                continue

    def _cell(self, page: bytes, pointer: int, wanted: set[int]) -> tuple[int, bytes]:
        if not 8 <= pointer < self.usable:
            raise _Bad
        total, i = _varint(page, pointer)
        rowid, i = _varint(page, i)
        if rowid >= 1 << 63:
            rowid -= 1 << 64
        most = self.usable - 35
        if total <= most:
            local = total
        else:
            least = (self.usable - 12) * 32 // 255 - 23
            local = least + (total - least) % (self.usable - 4)
            local = local if local <= most else least
        payload = bytearray(page[i:i + local])
        if len(payload) != local or i + local > self.usable:
            raise _Bad
        if _field_count(bytes(payload)) not in wanted:
            raise _Bad
        if local < total:
            following = int.from_bytes(page[i + local:i + local + 4], "big")
            seen: set[int] = set()
            while len(payload) < total:
                if following in seen:
                    raise _Bad
                seen.add(following)
                overflow = self.page(following)
                payload += overflow[4:self.usable][:total - len(payload)]
                following = int.from_bytes(overflow[0:4], "big")
        return rowid, bytes(payload)


def _field_count(payload: bytes) -> int:
    size, i = _varint(payload, 0)
    count = 0
    while i < min(size, len(payload)):
        _, i = _varint(payload, i)
        count += 1
    return count


def _is_uuid(value: object) -> bool:
    return isinstance(value, str) and _UUID.match(value) is not None


def _is_json_object(value: object) -> bool:
    try:
        return isinstance(value, str) and isinstance(json.loads(value), dict)
    except ValueError:
        return False


# What a row of each table looks like: a record is taken for one only if it passes.
_LOOKS_LIKE: dict[str, Callable[[Row], bool]] = {
    "outbox": lambda r: (_is_uuid(r.get("operation_id")) and r.get("state") in OUTBOX_STATES
                         and r.get("business_type") in {k.value for k in BusinessKind}
                         and isinstance(r.get("created_at"), str)
                         and _is_json_object(r.get("payload"))),
    "receipts": lambda r: (_is_uuid(r.get("operation_id"))
                           and receipt_day_seq(r.get("receipt_no")) is not None
                           and isinstance(r.get("issued_at"), str)),
    "receipt_counters": lambda r: (isinstance(r.get("day"), str)
                                   and _DAY.match(r["day"]) is not None
                                   and isinstance(r.get("last_seq"), int) and r["last_seq"] > 0),
    "feedback": lambda r: (_is_uuid(r.get("operation_id")) and r.get("rating") in RATINGS
                           and r.get("state") in ("pending", "stored")),
    "tasks": lambda r: (_is_uuid(r.get("operation_id"))
                        and r.get("kind") in ("conflict", "rejected")
                        and r.get("state") in ("open", "closed")),
    "audit": lambda r: (r.get("action") == "operation" and _is_uuid(r.get("subject"))
                        and _is_json_object(r.get("detail"))),
}


def _scan_pages(copy: Path, schema: Mapping[str, _Table]) -> dict[str, list[Row]]:
    """Rows of the wanted tables found on any table leaf page not on the freelist."""
    with copy.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return _scan_mapped(_Pages(data), schema)


def _scan_mapped(pages: _Pages, schema: Mapping[str, _Table]) -> dict[str, list[Row]]:
    schema = {table: shape for table, shape in schema.items() if table in _LOOKS_LIKE}
    wanted = {n for shape in schema.values()
              for n in range(1, len(shape.columns) + 1)}
    free = pages.freelist()
    found: dict[str, list[Row]] = {table: [] for table in schema}
    for number in range(2, pages.count + 1):
        if number in free:
            continue
        try:
            records = list(pages.leaf_records(number, wanted))
        except _Bad:
            continue
        for rowid, values in records:
            for table, shape in schema.items():
                if len(values) > len(shape.columns):
                    continue
                row = _as_row(shape, rowid, values)
                if _LOOKS_LIKE[table](row):
                    found[table].append(row)
                    break
    return found


def _head_schema(folder: Path) -> dict[str, _Table]:
    """The tables as this version's migrations make them (the damaged file's own table list
    being unreadable): a new cache in `folder`, read."""
    fresh = open_cache(folder / "schema.sqlite3")
    fresh.close()
    with closing(sqlite3.connect(folder / "schema.sqlite3")) as conn:
        return _schema(conn, READ_TABLES)


# --- the scan ---------------------------------------------------------------------------------


def _key(table: str, row: Row) -> Any:
    return {"receipts": row.get("receipt_no"), "receipt_counters": row.get("day"),
            "audit": row.get("id")}.get(table, row.get("operation_id"))


def _combine(sources: Sequence[Mapping[str, Sequence[Row]]]) -> dict[str, list[Row]]:
    """One row per key; an earlier source wins."""
    combined: dict[str, dict[Any, Row]] = {table: {} for table in READ_TABLES}
    for source in sources:
        for table in READ_TABLES:
            for row in source.get(table, ()):
                if (key := _key(table, row)) is not None:
                    combined[table].setdefault(key, row)
    return {table: list(rows.values()) for table, rows in combined.items()}


def scan_damaged(path: Path) -> SalvageScan:
    """Read what the damaged cache at `path` holds of the terminal's work, without changing
    it (see the module's description)."""
    with tempfile.TemporaryDirectory(prefix="hallclient-salvage-") as name:
        folder = Path(name)
        copy = _snapshot(path, folder)
        rows, schema, whole = _read_tables(copy)
        sources: list[Mapping[str, Sequence[Row]]] = [rows]
        methods = ["tables"] if schema is not None else []
        if not whole:
            if (recovered := _recover_with_shell(copy, folder)) is not None:
                sources.append(recovered)
                methods.append("recover")
            shapes = schema if schema and "outbox" in schema else _head_schema(folder)
            sources.append(_scan_pages(copy, shapes))
            methods.append("pages")
        combined = _combine(sources)
    scan = SalvageScan(path, {t: combined[t] for t in WORK_TABLES}, methods=tuple(methods))
    _account_for_the_missing(scan, combined["audit"], combined["sync_state"])
    return scan


def _account_for_the_missing(scan: SalvageScan, audit: Sequence[Row],
                             sync_state: Sequence[Row]) -> None:
    """Name the operations whose rows could not be read: by their receipts, ratings, tasks
    and audit entries, and by the receipt numbers a day's counter shows issued that no row
    holds; count those known only by a gap in the local numbering."""
    outbox = {r["operation_id"]: r for r in scan.rows["outbox"]}
    with_receipt = {r["operation_id"] for r in scan.rows["receipts"]}
    numbers = {r["operation_id"]: r["receipt_no"] for r in scan.rows["receipts"]}
    for entry in audit:
        if entry.get("action") == "operation" and _is_json_object(entry.get("detail")):
            number = json.loads(entry["detail"]).get("receipt_no")
            if isinstance(number, str):
                scan.used_numbers.append(number)
                if _is_uuid(entry.get("subject")):
                    numbers.setdefault(entry["subject"], number)
    named = set(numbers) | {r["operation_id"] for t in ("feedback", "tasks")
                            for r in scan.rows[t]}
    missing = sorted(op for op in named - set(outbox) if isinstance(op, str))
    unreadable = [Unreadable(op, numbers.get(op), "operation") for op in missing]
    unreadable += [Unreadable(op, numbers.get(op), "receipt") for op, row in outbox.items()
                   if row.get("state") == "pending" and op not in with_receipt]
    server_holds = receipt_day_seq(next(
        (r.get("server_last_receipt") for r in sync_state if r.get("server_last_receipt")),
        None))
    unreadable += [Unreadable(None, number, "operation") for number in _numbers_without_rows(
        scan, set(numbers.values()), server_holds)]
    scan.unreadable = sorted(unreadable, key=lambda u: (u.receipt_no or "", u.operation_id or ""))
    seqs = {r["seq"] for r in scan.rows["outbox"] if isinstance(r.get("seq"), int)}
    gaps = (max(seqs) - len(seqs)) if seqs else 0
    scan.lost_entries = max(0, gaps - len(unreadable))


def _numbers_without_rows(scan: SalvageScan, known: set[str],
                          server_holds: tuple[str, int] | None) -> list[str]:
    """Receipt numbers issued (a day's counter went that far) that no row or audit entry
    holds: above the day's lowest number known (below it, the numbers may have been issued
    by a cache before this one) and above the last one the server was known to hold (it
    may have come from an earlier cache too), named with the terminal of the day's highest
    one."""
    by_day: dict[str, dict[int, str]] = {}
    for number in known | set(scan.used_numbers):
        if (day_seq := receipt_day_seq(number)) is not None:
            by_day.setdefault(day_seq[0], {})[day_seq[1]] = number
    absent = []
    for counter in scan.rows["receipt_counters"]:
        seen = by_day.get(str(counter.get("day")), {})
        if not seen or not isinstance(counter.get("last_seq"), int):
            continue
        prefix = seen[max(seen)].rsplit("-", 1)[0]
        held = server_holds[1] if server_holds and server_holds[0] == counter["day"] else 0
        absent += [f"{prefix}-{seq:04d}" for seq in range(min(seen), counter["last_seq"] + 1)
                   if seq not in seen and seq > held]
    return absent


# --- salvage ----------------------------------------------------------------------------------


def salvage(path: Path, *, scan: SalvageScan | None = None,
            now: datetime | None = None) -> SalvageResult:
    """Salvage the damaged cache at `path` (the clerk or the operator accepted): a new cache
    with what `scan` (made now if not given) and the outbox backups hold, put in its place;
    the damaged file moved aside, unchanged. The caller holds the cache's lock and has no
    connection open on it; it opens the new cache afterwards."""
    now = now or datetime.now(UTC)
    scan = scan or scan_damaged(path)
    backups = readable_backups(path.parent)
    # Built in a folder of its own beside the cache (the same disk, so it moves in by a
    # rename; no backups beside it for open_cache to put back first). One a salvage cut short
    # left behind is removed: the caller holds the lock, no other salvage runs.
    for left in path.parent.glob(".salvage-*"):
        shutil.rmtree(left, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=".salvage-", dir=path.parent))
    try:
        built = work / path.name
        cache = open_cache(built)
        try:
            with cache.write() as session:
                merged = merge_outbox(session, [scan.rows, *(rows for _, rows in backups)],
                                      used_numbers=scan.used_numbers)
                append_audit(session, at=now, clerk=None, action="cache_salvaged",
                             subject=None, detail={
                                 "waiting": merged.waiting,
                                 "acknowledged": merged.acknowledged,
                                 "from_backups": len(merged.added) - merged.from_source(0),
                                 "unreadable": len(scan.unreadable),
                                 "damaged_file": path.name})
                present = set(session.connection().exec_driver_sql(
                    "SELECT operation_id FROM outbox").scalars())
                receipt_nos = set(session.connection().exec_driver_sql(
                    "SELECT receipt_no FROM receipts").scalars())
        finally:
            cache.close()
        _settle(built)
        damaged = _move_aside(path, now)
        os.replace(built, path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    unreadable = [u for u in scan.unreadable if u.operation_id not in present
                  and u.receipt_no not in receipt_nos]
    unreadable += [Unreadable(op, None, "receipt") for op in merged.without_receipt
                   if all(u.operation_id != op for u in unreadable)]
    backup_seqs = {r.get("seq") for _, rows in backups for r in rows.get("outbox", ())}
    found_seqs = {r.get("seq") for r in scan.rows["outbox"]}
    filled = len(backup_seqs - found_seqs - {None})
    return SalvageResult(
        cache=path, damaged=damaged, waiting=merged.waiting, acknowledged=merged.acknowledged,
        from_backups=len(merged.added) - merged.from_source(0), receipts=merged.receipts,
        feedback=merged.feedback, tasks=merged.tasks, unreadable=tuple(unreadable),
        lost_entries=max(0, scan.lost_entries - filled), methods=scan.methods)


def _settle(built: Path) -> None:
    """The new cache whole in its one file: no WAL of it left to move with it."""
    with closing(sqlite3.connect(built)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for suffix in ("-wal", "-shm"):
        built.with_name(built.name + suffix).unlink(missing_ok=True)


def aside_name(path: Path, now: datetime) -> Path:
    stamp = now.astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    return aside


def _move_aside(path: Path, now: datetime) -> Path:
    """Give the damaged file (and its WAL and shared-memory files) a new name. Its WAL goes
    first: a new cache must never meet it. The file keeps its old name too (a hard link)
    until the new cache replaces it, so a crash in between leaves the damaged cache in place,
    never no cache at all; where links are not possible it is renamed."""
    aside = aside_name(path, now)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, aside.with_name(aside.name + suffix))
    try:
        os.link(path, aside)
    except OSError:
        os.replace(path, aside)
    return aside


# --- what the clerk and the operator read -------------------------------------------------------


def question(error: CacheCorrupt) -> Text:
    """The offer made when the cache is damaged, with what it holds when that could be
    counted."""
    if error.waiting is None:
        holds = Text("其中可能还有等待上传的业务。",
                     "It may still hold requests waiting to be sent.")
    elif error.waiting == 0:
        holds = Text("其中没有等待上传的业务。", "It holds no request waiting to be sent.")
    else:
        holds = Text(f"其中还有 {error.waiting} 笔业务等待上传。",
                     f"It still holds {error.waiting} requests waiting to be sent.")
    return Text(
        f"缓存文件 {error.path} 已损坏。{holds.zh}\n\n"
        "是否抢救？可读出的业务（待上传的、已上传的，连同回执、评价和回执编号）将移入新的缓存，"
        "待上传的业务随后上传；损坏的文件改名后保留在原文件夹，不会删除。客户资料将从服务器重新下载。",
        f"The cache file {error.path} is damaged. {holds.en}\n\n"
        "Salvage it? What can still be read (the requests waiting and those already sent, "
        "with their receipts, ratings and receipt numbers) goes into a new cache, which sends "
        "the waiting ones; the damaged file is kept in its folder under a new name, never "
        "deleted. The accounts are downloaded from the server again.")


def describe_scan(scan: SalvageScan) -> Text:
    """What a scan found, before anything is changed."""
    return Text(
        f"可抢救 {scan.waiting} 笔待上传业务、{scan.acknowledged} 笔已上传业务。"
        + _unreadable_text(scan.unreadable, scan.lost_entries).zh,
        f"{scan.waiting} requests waiting to be sent and {scan.acknowledged} already sent "
        "can be salvaged." + _unreadable_text(scan.unreadable, scan.lost_entries).en)


def describe(result: SalvageResult) -> Text:
    """What salvage did."""
    backups = Text(f"（其中 {result.from_backups} 笔来自本地备份）", f" ({result.from_backups} "
                   "of them from the local backups)") if result.from_backups else Text("", "")
    unreadable = _unreadable_text(result.unreadable, result.lost_entries)
    return Text(
        f"已抢救 {result.waiting} 笔待上传业务和 {result.acknowledged} 笔已上传业务{backups.zh}。"
        f"{unreadable.zh}损坏的文件已改名为 {result.damaged.name}。",
        f"Salvaged {result.waiting} requests waiting to be sent and {result.acknowledged} "
        f"already sent{backups.en}.{unreadable.en} The damaged file is now "
        f"{result.damaged.name}.")


def _unreadable_text(unreadable: Sequence[Unreadable], lost: int) -> Text:
    if not unreadable and not lost:
        return Text("", "")
    named = ", ".join(u.describe() for u in unreadable[:NAMED]) + (
        ", …" if len(unreadable) > NAMED else "")
    parts = Text("", "")
    if unreadable:
        parts = Text(f"{len(unreadable)} 笔业务无法读出（{named}）：请按回执编号向服务器核对，"
                     "服务器没有的请重新办理。",
                     f" {len(unreadable)} operations could not be read ({named}): check them "
                     "against the server by receipt number, and redo those it does not have.")
    if lost:
        parts = Text(parts.zh + f"另有 {lost} 条待办记录无法读出。",
                     parts.en + f" {lost} more outbox entries could not be read.")
    return parts
