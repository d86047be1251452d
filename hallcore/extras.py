"""Which of HallClient's optional parts this installation has.

One distribution, two extras: a counter PC installs `client`, the central server `server`.
The server's own commands and the client's demo (an embedded HallServer on a loopback port)
need the server extra's libraries; each says so in a sentence where they are missing.
"""

from __future__ import annotations

from importlib.util import find_spec

# What a HallServer imports from the server extra (PostgreSQL's driver only for a PostgreSQL
# database: SQLAlchemy names it when it is missing).
SERVER_MODULES = ("fastapi", "starlette", "uvicorn", "pydantic_settings", "prometheus_client")


def missing_server_modules() -> list[str]:
    """The server extra's modules a HallServer needs that are not installed here."""
    return [name for name in SERVER_MODULES if not _importable(name)]


def _importable(name: str) -> bool:
    try:
        return find_spec(name) is not None
    except (ImportError, ValueError):  # a finder that refuses it, or a module set to None
        return False
