"""Who is calling: resolved from the bearer token of every request (kept a while, as verified,
by hallserver/auth_cache.py)."""

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
