"""The server's database: engine factory, schema check and the session dependency."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from hallcore.db.engine import sqlite_engine
from hallcore.db.schema import SchemaHistory, current_revision

SERVER_SCHEMA = SchemaHistory(Path(__file__).with_name("migrations"))

# Connections per process (hallserver/settings.py): 6 workers × 15 stay under PostgreSQL's
# default max_connections of 100, with room for `hallserver notify` and an operator's psql.
DEFAULT_POOL_SIZE = 5
DEFAULT_MAX_OVERFLOW = 10
# The `prepared_statements` setting, which every process that opens the database follows:
# behind PgBouncer's transaction pooling `hallserver notify` and the operator's commands need
# it off as much as `serve`'s workers.
PREPARED_STATEMENTS_ENV = "HALLSERVER_PREPARED_STATEMENTS"


def prepared_statements_setting() -> bool:
    """HALLSERVER_PREPARED_STATEMENTS, read as the settings read it (on when not set)."""
    value = os.environ.get(PREPARED_STATEMENTS_ENV)
    if value is None:
        return True
    try:
        return TypeAdapter(bool).validate_python(value)
    except ValidationError:
        raise ValueError(f"{PREPARED_STATEMENTS_ENV}={value!r}: on or off (true/false, 1/0) "
                         "expected") from None


# What `hallserver serve` hands its uvicorn workers (hallserver/asgi.py).
DB_ENV = "HALLSERVER_DB"
SMS_LOG_ENV = "HALLSERVER_SMS_LOG"


def database_url() -> str:
    """$HALLSERVER_DB, else a SQLite file in the user's data directory."""
    return os.environ.get(DB_ENV) or default_database_url()


def default_database_url() -> str:
    path = Path(user_data_dir("HallServer", appauthor=False)) / "hallserver.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite+pysqlite:///{path}"


def make_engine(url: str, *, pool_size: int = DEFAULT_POOL_SIZE,
                max_overflow: int = DEFAULT_MAX_OVERFLOW,
                prepared_statements: bool | None = None,
                libpq: dict[str, str | int] | None = None) -> Engine:
    """The engine of the database at `url`. On PostgreSQL, a pool of `pool_size` connections
    and `max_overflow` more under load; `prepared_statements=False` (by default: as
    HALLSERVER_PREPARED_STATEMENTS says) for PgBouncer's transaction pooling, where psycopg
    would prepare a statement run five times on one server connection and run it later on
    another, which does not know it. `libpq`: connection parameters besides the URL's."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return sqlite_engine(url, busy_timeout_ms=10000)
    if prepared_statements is None:
        prepared_statements = prepared_statements_setting()
    connect_args: dict[str, object] = dict(libpq or {})
    if not prepared_statements and parsed.get_driver_name() == "psycopg":
        connect_args["prepare_threshold"] = None
    # hide_parameters: no customer's ID number or phone in an error message or a log.
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size,
                         max_overflow=max_overflow, hide_parameters=True,
                         connect_args=connect_args)


def connection_limit(engine: Engine) -> int | None:
    """How many connections the database lets a role that is not a superuser open
    (max_connections less those reserved for superusers); None where there is no such
    limit (SQLite)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        total = int(conn.execute(text("SHOW max_connections")).scalar_one())
        reserved = int(conn.execute(text("SHOW superuser_reserved_connections")).scalar_one())
    return total - reserved


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
