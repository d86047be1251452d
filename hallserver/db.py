"""The server's database: engine factory, schema check and the session dependency."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from hallclient.store.schema import SchemaHistory, current_revision

SERVER_SCHEMA = SchemaHistory(Path(__file__).with_name("migrations"))


def default_database_url() -> str:
    path = Path(user_data_dir("HallServer", appauthor=False)) / "hallserver.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite+pysqlite:///{path}"


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's begin event issues BEGIN
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # IMMEDIATE: a transaction that will write takes the lock at once instead of failing to
    # upgrade a read lock when another process wrote in between.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class SchemaMismatch(Exception):
    """The database is not at this server's schema; the message says what to run."""


def check_schema(engine: Engine) -> str:
    """The database's revision if it is this version's head; otherwise SchemaMismatch."""
    with engine.connect() as conn:
        revision = current_revision(conn)
    head = SERVER_SCHEMA.head()
    if revision == head:
        return revision
    if revision is None:
        raise SchemaMismatch(
            "The database has not been set up. Run `hallserver migrate --db URL` first.")
    if revision not in SERVER_SCHEMA.known():
        raise SchemaMismatch(
            f"The database is at schema {revision}, written by a newer HallServer (this one "
            f"knows up to {head}). Run the newer HallServer; nothing has been changed.")
    raise SchemaMismatch(
        f"The database is at schema {revision}; this HallServer needs {head}. Run "
        "`hallserver migrate --db URL` (back the database up first).")
