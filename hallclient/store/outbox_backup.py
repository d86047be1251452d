"""Rolling local backups of the terminal's own work, and putting it back into a cache.

After each recorded request the outbox (what waits to be sent, and what was answered lately),
the receipts of those operations, the receipt counters, the ratings not yet sent and the open
tasks are written to a small SQLite file of their own in `<data dir>/outbox-backups/`: written
to a temporary file, flushed to the disk, then renamed, so a backup is whole or absent; owner
only (0600), like the cache. The last `KEEP_BACKUPS` are kept. Never the accounts: they come
from the server again.

A cache that is gone (deleted, or lost with its disk's folder) is created empty by
`open_cache`, which then puts back what the backups beside it hold (`restore_from_backups`):
the operations not already in the cache, by operation id, with their receipts, ratings and
tasks, and receipt counters that never fall below a number already issued. A request still
waiting is then sent by the next sync; one the server already has comes back as a duplicate.

`merge_outbox` is the one way rows of the terminal's work enter a cache from elsewhere (a
backup here, a damaged cache in salvage.py): by column name, so a column added by a later
migration is carried as it is, and a column the older source lacks takes its default.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hallclient.logs import where
from hallclient.store.audit import append_audit
from hallclient.store.cache import Cache

log = logging.getLogger(__name__)

BACKUP_FOLDER = "outbox-backups"
KEEP_BACKUPS = 5
# Operations the server has answered are kept in a backup this long after they were made
# (those waiting, or with a rating or a task still open, always): a backup stays small
# however long the terminal's history grows.
ACKNOWLEDGED_DAYS = 14
BACKUP_FORMAT = "1"

# The terminal's own work, in the order rows enter a cache (the operation first: the others
# refer to it).
WORK_TABLES = ("outbox", "receipts", "receipt_counters", "feedback", "tasks")
_NAME = re.compile(r"^outbox-[0-9]{8}T[0-9]{12}Z(-[0-9]+)?\.sqlite3$")
# The day and sequence of a receipt number, `{hall}-{terminal}-{YYYYMMDD}-{NNNN}`.
_RECEIPT_TAIL = re.compile(r"-([0-9]{8})-([0-9]{4,9})$")
# What SQLAlchemy writes for a time on SQLite (UTC, see hallcore/db/types.py).
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"
_STALE_TEMP_SECONDS = 3600

Rows = Mapping[str, Sequence[Mapping[str, Any]]]


class BackupUnreadable(Exception):
    """A backup file that cannot be read (damaged, or not one of ours)."""


def backup_folder(data_dir: Path) -> Path:
    return data_dir / BACKUP_FOLDER


def find_backups(data_dir: Path) -> list[Path]:
    """The backups in `data_dir`, newest first (by the UTC time in their names)."""
    folder = backup_folder(data_dir)
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if _NAME.match(p.name) and p.is_file()),
                  key=lambda p: p.name, reverse=True)


def _where_kept(since: str) -> str:
    # The operations a backup keeps; `since` is a literal made here, not input.
    return (f"state = 'pending' OR created_at >= '{since}' "
            "OR operation_id IN (SELECT operation_id FROM feedback WHERE state = 'pending') "
            "OR operation_id IN (SELECT operation_id FROM tasks WHERE state = 'open')")


def _backup_queries(now: datetime) -> dict[str, str]:
    since = (now.astimezone(UTC) - timedelta(days=ACKNOWLEDGED_DAYS)).strftime(_SQLITE_TIME)
    kept = _where_kept(since)
    return {
        "outbox": f"SELECT * FROM outbox WHERE {kept}",
        "receipts": "SELECT * FROM receipts WHERE operation_id IN "
                    f"(SELECT operation_id FROM outbox WHERE {kept})",
        "receipt_counters": "SELECT * FROM receipt_counters",
        "feedback": "SELECT * FROM feedback WHERE state = 'pending'",
        "tasks": "SELECT * FROM tasks WHERE state = 'open'",
    }


def backup_outbox(cache: Cache, *, now: datetime | None = None) -> Path:
    """Write a backup of the terminal's own work beside the cache
    (`<data dir>/outbox-backups/outbox-<UTC time>.sqlite3`) and keep the last `KEEP_BACKUPS`.
    Returns the new file. Raises OSError or sqlite3.Error when it cannot be written (a full
    disk): the cache itself is not touched either way."""
    now = now or datetime.now(UTC)
    folder = backup_folder(cache.path.parent)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = _free_name(folder, now)
    fd, temp_name = tempfile.mkstemp(prefix=".outbox-", suffix=".tmp", dir=folder)  # 0600
    os.close(fd)
    temp = Path(temp_name)
    try:
        _write_backup(cache, temp, now)
        _fsync(temp)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)  # a part of a backup would pass for a whole one
        raise
    _fsync_folder(folder)
    _prune(folder, keep=target)
    return target


def refresh_backup(cache: Cache) -> None:
    """`backup_outbox` after the terminal's work changed (a request, a rating): what it
    recorded is committed already, so a backup that cannot be written is logged (its kind
    and place, nothing of the customer) and the work goes on. Never raises."""
    try:
        backup_outbox(cache)
    except (OSError, sqlite3.Error) as exc:
        log.warning("the outbox backup was not written: %s", type(exc).__name__)
    except Exception as exc:  # a fault of ours: said, and the counter goes on
        log.error("the outbox backup failed: %s\n%s", type(exc).__name__, where(exc))


def _free_name(folder: Path, now: datetime) -> Path:
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = folder / f"outbox-{stamp}.sqlite3"
    n = 1
    while target.exists():
        n += 1
        target = folder / f"outbox-{stamp}-{n}.sqlite3"
    return target


def _write_backup(cache: Cache, temp: Path, now: datetime) -> None:
    with closing(sqlite3.connect(temp, isolation_level=None)) as out:
        out.execute("PRAGMA journal_mode = OFF")  # a temporary file: renamed once whole
        out.execute("BEGIN")
        # One read transaction of the cache: the tables agree with each other.
        with cache.read() as session:
            conn = session.connection()
            ddl: dict[str, str] = dict(conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'table'").all())
            revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
            for table, query in _backup_queries(now).items():
                if table not in ddl:
                    continue
                out.execute(ddl[table])
                result = conn.exec_driver_sql(query)
                columns = list(result.keys())
                out.executemany(_insert_sql(table, columns), (tuple(r) for r in result))
        out.execute("CREATE TABLE backup_info (key TEXT PRIMARY KEY, value TEXT)")
        out.executemany("INSERT INTO backup_info VALUES (?, ?)", [
            ("format", BACKUP_FORMAT), ("schema", str(revision)),
            ("written_at", now.astimezone(UTC).isoformat())])
        out.execute("COMMIT")


def _insert_sql(table: str, columns: Sequence[str]) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    return f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})'


def _fsync(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _fsync_folder(folder: Path) -> None:
    """The rename itself survives a power cut (POSIX; Windows has no handle on a folder)."""
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _prune(folder: Path, keep: Path) -> None:
    """Keep the newest backups and the one just written (newest by its contents even when the
    PC's clock was set back); remove temporary files a crash left."""
    others = [p for p in find_backups(folder.parent) if p != keep]
    for old in others[KEEP_BACKUPS - 1:]:
        old.unlink(missing_ok=True)
    for temp in folder.glob(".outbox-*.tmp"):
        try:
            if time.time() - temp.stat().st_mtime > _STALE_TEMP_SECONDS:
                temp.unlink()
        except OSError:
            pass


# --- reading a backup -------------------------------------------------------------------------


def read_backup(path: Path) -> dict[str, list[dict[str, Any]]]:
    """The rows of a backup, table by table, as stored; read without changing the file.
    Raises BackupUnreadable."""
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1",
                                     uri=True)) as conn:
            tables = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "backup_info" not in tables or "outbox" not in tables:
                raise BackupUnreadable(f"{path} is not an outbox backup")
            rows: dict[str, list[dict[str, Any]]] = {}
            for table in WORK_TABLES:
                if table in tables:
                    cursor = conn.execute(f'SELECT * FROM "{table}"')
                    names = [d[0] for d in cursor.description]
                    rows[table] = [dict(zip(names, r, strict=True)) for r in cursor]
            return rows
    except sqlite3.Error as exc:
        raise BackupUnreadable(f"{path} cannot be read ({exc})") from exc


def readable_backups(data_dir: Path) -> list[tuple[Path, dict[str, list[dict[str, Any]]]]]:
    """Each backup that can be read, newest first, with its rows."""
    found = []
    for path in find_backups(data_dir):
        try:
            found.append((path, read_backup(path)))
        except BackupUnreadable:
            continue
    return found


# --- putting rows into a cache ----------------------------------------------------------------


@dataclass
class Merged:
    """What `merge_outbox` added: each operation with its state and the index of the source
    it came from; pending operations left out because no source holds their receipt (they
    could not be sent: the server checks the receipt's signature)."""

    added: list[tuple[str, str, int]] = field(default_factory=list)
    without_receipt: list[str] = field(default_factory=list)
    receipts: int = 0
    feedback: int = 0
    tasks: int = 0

    @property
    def waiting(self) -> int:
        return sum(1 for _, state, _ in self.added if state == "pending")

    @property
    def acknowledged(self) -> int:
        return len(self.added) - self.waiting

    def from_source(self, index: int) -> int:
        return sum(1 for *_, source in self.added if source == index)


def _key(table: str, row: Mapping[str, Any]) -> Any:
    name = {"receipts": "receipt_no", "receipt_counters": "day"}.get(table, "operation_id")
    value = row.get(name)
    return value if isinstance(value, str) and value else None


def receipt_day_seq(receipt_no: object) -> tuple[str, int] | None:
    """(day, sequence) of a receipt number of any terminal; None for anything else."""
    if not isinstance(receipt_no, str):
        return None
    found = _RECEIPT_TAIL.search(receipt_no)
    return (found[1], int(found[2])) if found else None


def merge_outbox(session: Session, sources: Sequence[Rows],
                 used_numbers: Iterable[str] = ()) -> Merged:
    """Add to the cache of `session` (a `Cache.write()` transaction) the operations of
    `sources` it does not hold (by operation id), with their receipts, ratings and tasks; an
    earlier source wins over a later one for the same operation. The receipt counters end at
    or above every number the sources and `used_numbers` show as issued."""
    conn = session.connection()
    columns = {t: [r[1] for r in conn.exec_driver_sql(f'PRAGMA table_info("{t}")')]
               for t in WORK_TABLES}
    combined: dict[str, dict[Any, tuple[int, Mapping[str, Any]]]] = {t: {} for t in WORK_TABLES}
    for index, source in enumerate(sources):
        for table in WORK_TABLES:
            for row in source.get(table, ()):
                if (key := _key(table, row)) is not None:
                    combined[table].setdefault(key, (index, row))
    merged = Merged()
    present = dict(conn.exec_driver_sql("SELECT operation_id, state FROM outbox").all())
    have_receipt = set(conn.exec_driver_sql("SELECT operation_id FROM receipts").scalars())
    offered_receipt = {row.get("operation_id") for _, row in combined["receipts"].values()}
    seqs = set(conn.exec_driver_sql("SELECT seq FROM outbox").scalars())
    for op_id, (index, row) in sorted(combined["outbox"].items(), key=_by_local_order):
        if op_id in present:
            continue
        state = row.get("state")
        if state == "pending" and op_id not in have_receipt | offered_receipt:
            merged.without_receipt.append(op_id)
            continue
        values = _known(row, columns["outbox"])
        if values.get("seq") in seqs or values.get("seq") is None:
            values.pop("seq", None)
        if _insert(session, "outbox", values):
            present[op_id] = str(state)
            seqs.add(values.get("seq"))
            merged.added.append((op_id, str(state), index))
    receipt_nos = set(conn.exec_driver_sql("SELECT receipt_no FROM receipts").scalars())
    for receipt_no, (_, row) in combined["receipts"].items():
        op_id = row.get("operation_id")
        if (op_id in present and op_id not in have_receipt and receipt_no not in receipt_nos
                and _insert(session, "receipts", _known(row, columns["receipts"]))):
            have_receipt.add(op_id)
            receipt_nos.add(receipt_no)
            merged.receipts += 1
    merged.feedback = _add_per_operation(session, "feedback", combined, present,
                                         columns["feedback"], drop=())
    merged.tasks = _add_per_operation(session, "tasks", combined, present, columns["tasks"],
                                      drop=("id",))
    _raise_counters(session, combined, used_numbers)
    return merged


def _by_local_order(item: tuple[str, tuple[int, Mapping[str, Any]]]) -> tuple[int, int, str]:
    seq = item[1][1].get("seq")
    return (0, seq, item[0]) if isinstance(seq, int) else (1, 0, item[0])


def _known(row: Mapping[str, Any], columns: Sequence[str]) -> dict[str, Any]:
    return {c: row[c] for c in columns if c in row}


def _insert(session: Session, table: str, values: Mapping[str, Any]) -> bool:
    """One row, or none when the cache's constraints refuse it (the rest goes on)."""
    try:
        with session.begin_nested():
            session.connection().exec_driver_sql(_insert_sql(table, list(values)),
                                                 tuple(values.values()))
    except IntegrityError:
        return False
    return True


def _add_per_operation(session: Session, table: str,
                       combined: Mapping[str, Mapping[Any, tuple[int, Mapping[str, Any]]]],
                       present: Mapping[str, str], columns: Sequence[str],
                       drop: Sequence[str]) -> int:
    conn: Connection = session.connection()
    have = set(conn.exec_driver_sql(f'SELECT operation_id FROM "{table}"').scalars())
    added = 0
    for op_id, (_, row) in combined[table].items():
        if op_id in present and op_id not in have:
            values = {c: v for c, v in _known(row, columns).items() if c not in drop}
            if _insert(session, table, values):
                have.add(op_id)
                added += 1
    return added


def _raise_counters(session: Session,
                    combined: Mapping[str, Mapping[Any, tuple[int, Mapping[str, Any]]]],
                    used_numbers: Iterable[str]) -> None:
    """A day's counter ends at or above every number known to be issued: never one twice."""
    conn = session.connection()
    floor: dict[str, int] = {}
    for day, (_, row) in combined["receipt_counters"].items():
        if isinstance(row.get("last_seq"), int):
            floor[day] = max(floor.get(day, 0), row["last_seq"])
    numbers = [row.get("receipt_no") for _, row in combined["receipts"].values()]
    numbers += list(conn.exec_driver_sql("SELECT receipt_no FROM receipts").scalars())
    for number in [*numbers, *used_numbers]:
        if (known := receipt_day_seq(number)) is not None:
            floor[known[0]] = max(floor.get(known[0], 0), known[1])
    for day, last in floor.items():
        conn.exec_driver_sql(
            "INSERT INTO receipt_counters (day, last_seq) VALUES (?, ?) ON CONFLICT (day) "
            "DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)", (day, last))


# --- restoring a cache from its backups ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Restored:
    """What a cache got back from backups."""

    waiting: int
    acknowledged: int
    backups: tuple[Path, ...]  # the backups read, newest first


def restore_from_backup(cache: Cache, backup_path: Path, *,
                        now: datetime | None = None) -> Restored:
    """Put back into `cache` the operations of one backup it does not hold (by operation id),
    with their receipts, ratings, tasks and the receipt counters. Raises BackupUnreadable."""
    return _restore(cache, [(backup_path, read_backup(backup_path))], now or datetime.now(UTC))


def restore_from_backups(cache: Cache, data_dir: Path | None = None, *,
                         now: datetime | None = None) -> Restored | None:
    """Put back what the backups in `data_dir` (default: the cache's folder) hold and the
    cache does not: the newest backup first, then what older ones add. None when there is no
    readable backup."""
    found = readable_backups(data_dir or cache.path.parent)
    if not found:
        return None
    return _restore(cache, found, now or datetime.now(UTC))


def _restore(cache: Cache, found: Sequence[tuple[Path, Rows]], now: datetime) -> Restored:
    with cache.write() as session:
        merged = merge_outbox(session, [rows for _, rows in found])
        append_audit(session, at=now, clerk=None, action="outbox_restored", subject=None,
                     detail={"waiting": merged.waiting, "acknowledged": merged.acknowledged,
                             "backup": found[0][0].name})
    return Restored(merged.waiting, merged.acknowledged, tuple(path for path, _ in found))
