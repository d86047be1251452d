"""Column types both databases share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A moment, stored in UTC and read back aware of it, on every database.

    PostgreSQL keeps the offset (timestamptz); SQLite keeps the text of the time without it,
    so a time is converted to UTC before it is written, and what is read back carries UTC. A
    time without an offset is taken as UTC, the only time the programs keep.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def coerce_compared_value(self, op: Any, value: Any) -> Any:
        # `column - timedelta(...)` is an interval, not a time to convert.
        return self if isinstance(value, datetime) else self.impl.coerce_compared_value(op, value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return self.process_bind_param(value, dialect)
