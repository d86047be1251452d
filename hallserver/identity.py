"""The central database's identity, which a restore from a backup changes.

It is the `database_identity` row, which `hallserver database restored` replaces after any
restore, and on PostgreSQL also what the cluster says of itself: its system identifier (a new
cluster restored from a dump has another), its timeline (a point-in-time recovery starts a new
one) and the database's oid (a dump restored into a new database). Terminals compare it before
each sync: a new identity means the server may have lost what they pushed since the backup.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from hallserver.models import DatabaseIdentityRow

# How long a pooled connection keeps what the cluster said of itself: a restore or a new
# cluster means new connections, but a standby promoted under open connections starts a new
# timeline, seen by the terminals at most this much later.
_CLUSTER_FACTS_FRESH_FOR = 10.0


def _cluster_facts(connection: Connection) -> str:
    if connection.dialect.name != "postgresql":
        return ""
    kept = connection.info.get("hallserver_cluster_facts")
    if kept is not None and time.monotonic() - kept[0] < _CLUSTER_FACTS_FRESH_FOR:
        return str(kept[1])
    facts = _read_cluster_facts(connection)
    connection.info["hallserver_cluster_facts"] = time.monotonic(), facts
    return facts


_CLUSTER_FACTS = ("SELECT s.system_identifier, c.timeline_id, d.oid FROM pg_control_system() s, "
                  "pg_control_checkpoint() c, pg_database d "
                  "WHERE d.datname = current_database()")
# For a role without the pg_monitor privileges: the database's oid alone.
_DATABASE_FACTS = "SELECT oid FROM pg_database WHERE datname = current_database()"


def _read_cluster_facts(connection: Connection) -> str:
    try:
        with connection.begin_nested():
            row = connection.execute(text(_CLUSTER_FACTS)).one()
    except DBAPIError:
        with connection.begin_nested():
            row = connection.execute(text(_DATABASE_FACTS)).one()
    return _joined(row)


def _joined(row: Sequence[object]) -> str:
    return "|".join(str(value) for value in row)


class KeptClusterFacts:
    """What the cluster says of itself, for a psycopg connection in autocommit mode held
    outside SQLAlchemy's pool (hallserver/glance.py), kept as long as a pooled connection
    keeps it."""

    def __init__(self) -> None:
        self._read_at = -_CLUSTER_FACTS_FRESH_FOR
        self._facts = ""

    def of(self, connection: psycopg.Connection[Any]) -> str:
        if time.monotonic() - self._read_at >= _CLUSTER_FACTS_FRESH_FOR:
            try:
                row = connection.execute(_CLUSTER_FACTS).fetchone()
            except psycopg.errors.InsufficientPrivilege:
                row = connection.execute(_DATABASE_FACTS).fetchone()
            assert row is not None
            self._facts, self._read_at = _joined(row), time.monotonic()
        return self._facts


def database_identity(session: Session) -> str:
    row = session.get(DatabaseIdentityRow, 1)
    return identity_of(session.connection(), row.identity if row is not None else None)


def identity_of(connection: Connection, stored: str | None) -> str:
    """The identity terminals are given, from the `database_identity` row's value (None: no
    row) read on `connection`."""
    return identity_from(stored, _cluster_facts(connection))


def identity_from(stored: str | None, cluster_facts: str) -> str:
    """The identity of the `database_identity` row's value and what the cluster says."""
    return hashlib.sha256(f"{stored or ''}|{cluster_facts}".encode()).hexdigest()[:32]


def mark_restored(session: Session) -> str:
    """A new identity, after a restore from a backup; the caller commits. Returns it."""
    row = session.get(DatabaseIdentityRow, 1)
    now = datetime.now(UTC)
    if row is None:
        session.add(DatabaseIdentityRow(id=1, identity=str(uuid.uuid4()), created_at=now))
    else:
        row.identity, row.created_at = str(uuid.uuid4()), now
    session.flush()
    return database_identity(session)
