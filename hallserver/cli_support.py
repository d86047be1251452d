"""What the operator's commands share: who runs them (the audit's actor) and the database they
work on, checked to be at this server's schema."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from sqlalchemy import Engine

# What an operator's command records as its actor in the audit trail: the OS user who ran it.
OPERATOR_PREFIX = "operator:"


def operator() -> str:
    """`operator:<OS user name>` (the audit's actor column holds 32 characters); `operator`
    where the OS does not say who is running the command."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError, ImportError):
        return "operator"
    return f"{OPERATOR_PREFIX}{user}"[:32] if user else "operator"


def checked_engine(url: str) -> Engine | None:
    """The migrated database at `url`; None (after saying why on stderr) when it is not."""
    from sqlalchemy.exc import SQLAlchemyError

    from hallserver.db import SchemaMismatch, check_schema, make_engine

    try:
        engine = make_engine(url)
    except SQLAlchemyError as exc:
        print(f"hallserver: {exc}", file=sys.stderr)
        return None
    try:
        check_schema(engine)
    except (SchemaMismatch, SQLAlchemyError) as exc:
        print(f"hallserver: {exc}", file=sys.stderr)
        engine.dispose()
        return None
    return engine


def owner_only(path: Path, *, exclusive: bool = False) -> int:
    """A descriptor for writing `path`, readable and writable by its owner only (the files an
    operator's command writes hold staff, customers' rows or passwords): created, or refused
    with FileExistsError where one exists (`exclusive`), else emptied; a file that was there
    keeps no wider mode."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC),
                 0o600)
    os.fchmod(fd, 0o600)
    return fd
