"""The SQL statements a block of a test sends, seen as the database driver gets them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event


@contextmanager
def reads_of(engine: Engine, table: str) -> Iterator[list[str]]:
    """The statements that read `table` on `engine` while the block runs."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        if f"FROM {table}" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
