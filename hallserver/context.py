"""Who is calling: resolved from the bearer token on every request, never kept in memory."""

from __future__ import annotations

from dataclasses import dataclass

from hallcore.wire import Role


@dataclass(frozen=True, slots=True)
class Caller:
    clerk: str
    role: Role
    hall_id: str
    terminal_id: str
    district: str
