"""SQLite engines as HallClient and HallServer use them.

WAL (readers never wait for the writer), foreign keys on, a busy timeout, and transactions
begun by SQLAlchemy itself: deferred for reading, `BEGIN IMMEDIATE` for a writer (set with
`writer(engine)`), so two writers queue for the lock instead of one failing half-way.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from typing import Any

from sqlalchemy import Engine, create_engine, event

_BEGIN_OPTION = "sqlite_begin"

# A date written through the driver itself (the bulk upserts) is kept as SQLAlchemy's Date
# keeps it, ISO text; said here rather than left to sqlite3's default adapter, deprecated
# since Python 3.12.
sqlite3.register_adapter(date, date.isoformat)


def sqlite_engine(url: str, *, busy_timeout_ms: int = 5000) -> Engine:
    # A database error's message would carry the statement's values — customers' ID numbers
    # and phones — into logs and tracebacks: keep them out.
    engine = create_engine(url, hide_parameters=True)

    def on_connect(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's begin event issues BEGIN
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            # FULL: a transaction reported committed survives a power cut. The terminal's
            # outbox and the server's "applied" answers both rely on that.
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        except sqlite3.Error:
            # E.g. a full disk has no room for the WAL. The pool drops the connection but
            # does not close it: the file would stay open until the garbage collector came.
            cursor.close()
            dbapi_connection.close()
            raise
        cursor.close()

    def on_begin(conn: Any) -> None:
        conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get(_BEGIN_OPTION, '')}")

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "begin", on_begin)
    return engine


def writer(engine: Engine) -> Engine:
    """The same engine, its transactions taking SQLite's write lock at BEGIN (no-op elsewhere)."""
    return engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
