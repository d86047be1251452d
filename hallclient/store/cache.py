"""Opening the local cache file: checks, migration and the engine.

A cache is never overwritten or silently recreated. A file that is not a SQLite database, a
SQLite file of some other program, or a cache written by a newer HallClient is refused with a
message that says what to do, and the file is left exactly as it was. Before a migration the
old file is copied beside itself, so an upgrade can always be undone.

A damaged file's message says how many requests waiting to be sent it still holds, when it
can be read that far (counted read-only and immutable), and that salvage (salvage.py) recovers
them into a new cache. A cache that is gone is created anew and given back what the outbox
backups beside it hold (outbox_backup.py), so what waited is still sent.

A full or read-only disk is not a damaged file: opening the cache there, or writing to it
later, raises `CacheFull` or `CacheReadOnly`, which name the file and what to do. What failed
to be written is rolled back whole; what was saved before is intact.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from hallcore.db.engine import sqlite_engine, writer
from hallcore.db.schema import SchemaHistory
from hallcore.domain.text import Text

if TYPE_CHECKING:
    from hallclient.store.outbox_backup import Restored

CACHE_SCHEMA = SchemaHistory(Path(__file__).with_name("migrations"))
# Pages of the file (4 KiB each) the WAL may hold before a bulk write's commit moves them into
# the database file: some 40 MB.
BULK_CHECKPOINT_PAGES = 10_000
SQLITE_HEADER = b"SQLite format 3\x00"


class CacheError(Exception):
    """The cache cannot be used; `reason` says why and what to do, in both languages. The file
    is untouched."""

    def __init__(self, reason: Text) -> None:
        super().__init__(str(reason))
        self.reason = reason


class CacheCorrupt(CacheError):
    """The cache file is damaged. `waiting` is how many requests waiting to be sent it still
    holds, when the file could be read that far (None when not): salvage (store/salvage.py)
    recovers them into a new cache."""

    def __init__(self, path: Path, what: Text, waiting: int | None = None) -> None:
        super().__init__(_damaged_message(path, what, waiting))
        self.path = path
        self.waiting = waiting


_SALVAGE_HOW = Text("启动 HallClient 时选择抢救，或运行 `hallclient salvage` 命令",
                    "accept the salvage HallClient offers when it starts, or run `hallclient "
                    "salvage`")


def _damaged_message(path: Path, what: Text, waiting: int | None) -> Text:
    if waiting is None:
        then = Text(
            "其中可能还有等待上传的业务：抢救会把能读出的内容移入新的缓存并随后上传，损坏的文件"
            "改名保留（{how}）；也可以从备份恢复该文件。",
            "Requests waiting to be sent may still be inside: salvage recovers what can be "
            "read into a new cache, which sends them, and moves the damaged file aside ({how}); "
            "or restore the file from a backup.")
    elif waiting == 0:
        then = Text(
            "其中没有等待上传的业务：抢救会将它改名保留，另建新的缓存（资料从服务器重新下载），"
            "已开出的回执编号不会重复使用（{how}）。",
            "It holds no request waiting to be sent: salvage moves it aside and starts a new "
            "cache, filled from the server, that keeps the receipt numbers already issued "
            "({how}).")
    else:
        then = Text(
            "其中还有 {waiting} 笔业务等待上传：抢救会把它们移入新的缓存并随后上传，损坏的文件"
            "改名保留，不会删除（{how}）。",
            "It still holds {waiting} requests waiting to be sent: salvage recovers them into a "
            "new cache, which sends them, and moves the damaged file aside, never deleting it "
            "({how}).")
    return Text("缓存文件 {path} 已损坏（{what}），文件未作任何改动。{then}",
                "The cache file {path} is damaged ({what}). It has not been changed. {then}"
                ).format(path=path, what=what,
                         then=then.format(waiting=waiting, how=_SALVAGE_HOW))


def _damaged(path: Path, what: Text) -> CacheCorrupt:
    """CacheCorrupt for `path`, with the waiting requests counted if the file can be read that
    far: read-only, immutable (store/salvage.py), so the file stays exactly as it was."""
    from hallclient.store.salvage import count_waiting

    return CacheCorrupt(path, what, count_waiting(path))


class CacheTooNew(CacheError):
    def __init__(self, path: Path, revision: str) -> None:
        super().__init__(Text(
            f"缓存文件 {path} 由更新版本的 HallClient 写入（数据结构版本 {revision}，本版本最高"
            f"支持 {head_revision()}），文件未作任何改动。请安装新版本的 HallClient，或将该文件"
            "移到别处，从服务器重新下载资料。",
            f"The cache {path} was written by a newer HallClient (schema {revision}; this "
            f"version knows up to {head_revision()}). It has not been changed. Install the "
            "newer HallClient, or move the file aside to start from the server again."))


class NotACache(CacheError):
    def __init__(self, path: Path) -> None:
        super().__init__(Text(
            f"{path} 是其他程序的 SQLite 数据库，不是 HallClient 的缓存文件，文件未作任何改动。"
            "请为 HallClient 指定另一个数据文件夹，或将该文件移走。",
            f"{path} is a SQLite database of some other program, not a HallClient cache. It "
            "has not been changed. Point HallClient at another data directory or move the "
            "file."))


class CacheUnwritable(CacheError):
    """The cache's disk is full or read-only. Nothing of what failed was written and what was
    saved before is intact; `reason` names the file and what to do, in both languages."""


class CacheFull(CacheUnwritable):
    def __init__(self, path: Path) -> None:
        super().__init__(Text(
            f"缓存文件 {path} 所在的磁盘已满，无法保存：本次内容未写入，此前保存的数据完好。"
            "请清理该磁盘（或联系信息管理员）后再试。",
            f"The disk of the cache file {path} is full, so nothing could be saved: none of "
            "this was written, and everything saved before is intact. Free space on that disk "
            "(or call IT), then try again."))


class CacheReadOnly(CacheUnwritable):
    def __init__(self, path: Path) -> None:
        super().__init__(Text(
            f"缓存文件 {path} 无法写入：该文件、其文件夹或所在磁盘为只读。文件未作任何改动。"
            "请让它们恢复可写（或联系信息管理员）后重新启动 HallClient。",
            f"The cache file {path} cannot be written: the file, its folder or its disk is "
            "read-only. It has not been changed. Make them writable again (or call IT), then "
            "start HallClient again."))


# SQLite's ways of saying the disk is full: a write that found no space, and the shared-memory
# index beside a WAL database that could not be given its pages.
_DISK_FULL = {"SQLITE_FULL", "SQLITE_IOERR_SHMSIZE"}
_READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}


def unwritable(path: Path, exc: BaseException) -> CacheUnwritable | None:
    """The full or read-only disk behind `exc`, a failed use of the cache at `path` (a SQLite
    error, or an OSError creating a file); None when the failure is something else."""
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    if getattr(cause, "sqlite_errorname", None) in _DISK_FULL:
        return CacheFull(path)
    if isinstance(cause, OSError) and cause.errno in _READ_ONLY:
        return CacheReadOnly(path)
    return None


def head_revision() -> str:
    return CACHE_SCHEMA.head()


def _inspect_existing(path: Path) -> str | None:
    """The schema revision of an existing cache file, or None for an empty database."""
    with path.open("rb") as f:
        header = f.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise _damaged(path, Text("已不是有效的 SQLite 数据库", "it is not a SQLite database"))
    try:
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as conn:
            tables = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            revision = None
            if "alembic_version" in tables:
                row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
                revision = row[0] if row else None
            (check,) = conn.execute("PRAGMA quick_check(1)").fetchone()
    except sqlite3.DatabaseError as exc:
        if (fault := unwritable(path, exc)) is not None:
            raise fault from exc
        raise _damaged(path, Text(f"SQLite 无法读取：{exc}", f"SQLite cannot read it: {exc}")
                       ) from exc
    if check != "ok":
        raise _damaged(path, Text(f"完整性检查未通过：{check}", f"integrity check: {check}"))
    if revision is None and tables - {"alembic_version"}:
        raise NotACache(path)
    if revision is not None and revision not in CACHE_SCHEMA.known():
        raise CacheTooNew(path, revision)
    return revision


def _create_private(path: Path) -> None:
    """Create an empty cache file readable by its owner only (it holds personal data)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError as exc:
        if (fault := unwritable(path, exc)) is not None:
            raise fault from exc
        raise
    os.close(fd)


def _check_writable(path: Path) -> None:
    # SQLite would open a read-only file read-only and fail at the first write, or not open it
    # at all ("unable to open database file") when it cannot create the WAL index beside it.
    if not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
        raise CacheReadOnly(path)


def _backup(path: Path, revision: str) -> Path:
    target = path.with_name(f"{path.name}.before-{head_revision()}-from-{revision}.bak")
    try:
        with closing(sqlite3.connect(path)) as src, closing(sqlite3.connect(target)) as dst:
            src.backup(dst)
    except sqlite3.Error:
        target.unlink(missing_ok=True)  # a part of a backup would pass for a whole one
        raise
    os.chmod(target, 0o600)
    return target


def make_engine(path: Path) -> Engine:
    return sqlite_engine(f"sqlite+pysqlite:///{path}")


class Cache:
    """An open, migrated cache. Use `read()` for queries and `write()` for changes."""

    def __init__(self, path: Path, engine: Engine, backup: Path | None) -> None:
        self.path = path
        self.engine = engine
        # Where the file was copied before this start's migration, if one ran.
        self.backup = backup
        # What this start put back from the outbox backups into a new cache (a lost one).
        self.restored: Restored | None = None
        self._reader = sessionmaker(engine, expire_on_commit=False)
        self._writer = sessionmaker(writer(engine), expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reader() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises. On a full
        disk it raises CacheFull, with nothing of the transaction written."""
        with self._unwritable_raised(), self._writer.begin() as session:
            yield session

    @contextmanager
    def bulk_write(self) -> Iterator[Session]:
        """A `write()` for a bulk load (a bootstrap's page) whose commit is not flushed to the
        disk at once (synchronous NORMAL; the cache is otherwise FULL): some 40 ms a page on a
        busy disk. In WAL mode a crash or power cut may then take back the last few such
        commits, never leave the file damaged, and a later FULL commit flushes them with it in
        order; the load resumes from what its last surviving commit recorded. Nothing a clerk
        did (the outbox) is ever written this way.

        Its commits move the WAL into the database file (a checkpoint) only once the WAL holds
        BULK_CHECKPOINT_PAGES, not SQLite's 1,000: a page of 10,000 accounts is about 1,000
        pages of the file, and copying them back at every commit (the tree's edge rewritten
        each time) cost a fifth of a bootstrap's time."""
        with writer(self.engine).connect() as connection:
            driver = connection.connection.driver_connection
            assert isinstance(driver, sqlite3.Connection)
            (checkpoint_pages,) = driver.execute("PRAGMA wal_autocheckpoint").fetchone()
            driver.execute("PRAGMA synchronous = NORMAL")
            driver.execute(f"PRAGMA wal_autocheckpoint = {BULK_CHECKPOINT_PAGES}")
            try:
                with self._unwritable_raised(), Session(
                        connection, expire_on_commit=False) as session, session.begin():
                    yield session
            finally:
                # The pooled connection is given back as every other one is.
                driver.execute("PRAGMA synchronous = FULL")
                driver.execute(f"PRAGMA wal_autocheckpoint = {int(checkpoint_pages)}")

    @contextmanager
    def _unwritable_raised(self) -> Iterator[None]:
        """A full disk met in the block raised as CacheFull."""
        try:
            yield
        except DBAPIError as exc:
            if isinstance(fault := unwritable(self.path, exc), CacheFull):
                raise fault from exc
            raise

    def close(self) -> None:
        self.engine.dispose()


def migrate(engine: Engine, revision: str = "head") -> None:
    CACHE_SCHEMA.upgrade(engine, revision)


def open_cache(path: Path) -> Cache:
    """Open the cache at `path`, creating it if absent and migrating it to this version.

    Raises a CacheError saying what to do, CacheFull or CacheReadOnly among them."""
    try:
        return _open(path)
    except (sqlite3.Error, DBAPIError) as exc:  # a backup or a migration
        if (fault := unwritable(path, exc)) is not None:
            raise fault from exc
        raise


def _open(path: Path) -> Cache:
    backup = None
    new = not path.exists() or path.stat().st_size == 0
    if new:
        if not path.exists():
            _create_private(path)
        revision = None
    else:
        _check_writable(path)
        revision = _inspect_existing(path)
        if revision is not None and revision != head_revision():
            backup = _backup(path, revision)
    engine = make_engine(path)
    if revision != head_revision():
        migrate(engine)
    cache = Cache(path, engine, backup)
    if new:
        # A cache that is gone (deleted, lost with its folder) gets back the terminal's own
        # work from the outbox backups beside it: what waits is sent, numbers are not reused.
        from hallclient.store.outbox_backup import restore_from_backups

        try:
            cache.restored = restore_from_backups(cache)
        except BaseException:
            cache.close()
            raise
    return cache
