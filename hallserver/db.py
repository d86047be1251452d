"""The server's database: engine factory, schema check and the session dependency."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from hallcore.db.engine import sqlite_engine
from hallcore.db.schema import SchemaHistory, current_revision

SERVER_SCHEMA = SchemaHistory(Path(__file__).with_name("migrations"))


def default_database_url() -> str:
    path = Path(user_data_dir("HallServer", appauthor=False)) / "hallserver.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite+pysqlite:///{path}"


def make_engine(url: str) -> Engine:
    if make_url(url).get_backend_name() == "sqlite":
        return sqlite_engine(url, busy_timeout_ms=10000)
    # hide_parameters: no customer's ID number or phone in an error message or a log.
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                         hide_parameters=True)


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
