"""The FastAPI application. It keeps nothing in memory between requests but the engine, so any
number of processes can serve one database."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine

from hallcore import __version__
from hallcore.domain.text import Text
from hallcore.wire import API_PREFIX, ErrorBody, Health
from hallserver.api import (
    auth,
    errors,
    feedback,
    notifications,
    receipts,
    reports,
    sync,
    terminal,
    workitems,
)
from hallserver.api.deps import EngineDep
from hallserver.api.limits import BodySizeLimit
from hallserver.db import SchemaMismatch, check_schema
from hallserver.settings import ServerSettings

# Every error is an ErrorBody (api/errors.py): described once for every route, in place of
# FastAPI's own validation-error body, which this server never sends.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorBody, "description": "Refused: a code, and what to do in Chinese and "
            "English (with the fields concerned for a request that does not match the API)"},
    "5XX": {"model": ErrorBody, "description": "The server failed; the same form"},
}


def create_app(engine: Engine, settings: ServerSettings | None = None) -> FastAPI:
    settings = settings or ServerSettings()
    app = FastAPI(title="HallServer", version=__version__,
                  description="Central sync server of the service halls' counter terminals.",
                  responses=ERROR_RESPONSES)
    app.state.engine = engine
    app.state.settings = settings
    errors.install(app)
    for module in (auth, sync, terminal, receipts, workitems, feedback, notifications,
                   reports):
        app.include_router(module.router, prefix=API_PREFIX)

    @app.get(f"{API_PREFIX}/health", response_model=Health, tags=["health"])
    def health(engine: EngineDep) -> Health:
        try:
            revision = check_schema(engine)
        except SchemaMismatch as exc:
            raise errors.ApiError(503, "schema_mismatch", Text(
                "数据库结构与服务器版本不符", str(exc))) from exc
        return Health(status="ok", version=__version__, schema_revision=revision)

    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app
