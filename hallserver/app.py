"""The FastAPI application. It keeps nothing in memory between requests but the engine, so any
number of processes can serve one database."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

from hallclient import __version__
from hallclient.domain.text import Text
from hallclient.wire import API_PREFIX, Health
from hallserver.api import (
    auth,
    errors,
    feedback,
    notifications,
    receipts,
    reports,
    sync,
    workitems,
)
from hallserver.api.deps import EngineDep
from hallserver.api.limits import BodySizeLimit
from hallserver.db import SchemaMismatch, check_schema
from hallserver.settings import ServerSettings


def create_app(engine: Engine, settings: ServerSettings | None = None) -> FastAPI:
    settings = settings or ServerSettings()
    app = FastAPI(title="HallServer", version=__version__,
                  description="Central sync server of the service halls' counter terminals.")
    app.state.engine = engine
    app.state.settings = settings
    errors.install(app)
    for module in (auth, sync, receipts, workitems, feedback, notifications, reports):
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
