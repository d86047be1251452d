"""The FastAPI application. It keeps nothing in memory between requests but the engine, the
schema revision it checked once and the callers it verified (forgotten when access changes,
hallserver/auth_cache.py), so any number of processes can serve one database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request, Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from starlette.routing import Route
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from hallcore import __version__
from hallcore.domain.text import Text
from hallcore.wire import API_PREFIX, ErrorBody, Health
from hallserver.api import (
    auth,
    claims,
    errors,
    feedback,
    notifications,
    receipts,
    reports,
    scans,
    sync,
    terminal,
    workitems,
)
from hallserver.api.deps import EngineDep
from hallserver.api.limits import BodySizeLimit
from hallserver.auth_cache import CallerCache
from hallserver.changes import WaitingPulls
from hallserver.db import SchemaMismatch, check_schema
from hallserver.glance import Glances
from hallserver.logs import RequestContext, RouteTemplates
from hallserver.metrics import exposition, observe_request
from hallserver.replica import replica_from_settings, replica_metrics
from hallserver.settings import ServerSettings, address_in, load_settings, networks

# Every error is an ErrorBody (api/errors.py): described once for every route, in place of
# FastAPI's own validation-error body, which this server never sends.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorBody, "description": "Refused: a code, and what to do in Chinese and "
            "English (with the fields concerned for a request that does not match the API)"},
    "5XX": {"model": ErrorBody, "description": "The server failed; the same form"},
}


ROUTERS = (auth, sync, terminal, receipts, workitems, feedback, notifications, reports,
           scans, claims)


class _Schema:
    """The database's schema revision, checked at the first /health and kept: the server
    refuses to start on another schema (`hallserver serve`), and a migration needs a restart
    of the server anyway, so a health check need not ask the database every time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.revision: str | None = None

    def checked(self) -> str:
        if self.revision is None:
            try:
                self.revision = check_schema(self.engine)
            except SchemaMismatch as exc:
                raise errors.ApiError(503, "schema_mismatch", Text(
                    "数据库结构与服务器版本不符", str(exc))) from exc
        return self.revision


_DATABASE_AWAY = Text("服务器暂时无法连接数据库，请稍后重试",
                      "the server cannot reach its database at the moment; try again later")
_METRICS_FORBIDDEN = Text("无权读取监控数据", "the metrics are not served to this address")


def create_app(engine: Engine, settings: ServerSettings | None = None) -> FastAPI:
    settings = settings or load_settings()
    # The pulls waiting for a change (GET /changes?wait=S, ?stream=true); woken by LISTEN but
    # behind PgBouncer (prepared statements off), as the callers' cache below.
    pulls = WaitingPulls(engine, listen=settings.prepared_statements)
    # Verified callers (hallserver/api/deps.py); no LISTEN behind PgBouncer's transaction
    # pooling, which the prepared statements turned off stand for: it would hear nothing.
    callers = CallerCache(engine, listen=settings.prepared_statements)

    # The plain pulls' first look (hallserver/glance.py): PostgreSQL's engines only.
    replica = replica_from_settings(settings, engine)
    glances = {source: Glances(source) for source in (
        engine, replica.engine if replica is not None else None)
        if source is not None and source.dialect.name == "postgresql"}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        pulls.close()
        callers.close()
        for glancing in glances.values():
            glancing.close()

    app = FastAPI(title="HallServer", version=__version__,
                  description="Central sync server of the service halls' counter terminals.",
                  responses=ERROR_RESPONSES, lifespan=lifespan)
    app.state.engine = engine
    # A streaming replica the pulls and bootstrap pages are read on (HALLSERVER_REPLICA_DB).
    app.state.replica = replica
    app.state.glances = glances
    app.state.waiting_pulls = pulls
    app.state.settings = settings
    app.state.callers = callers
    errors.install(app)
    for module in ROUTERS:
        app.include_router(module.router, prefix=API_PREFIX)

    schema = _Schema(engine)

    @app.get(f"{API_PREFIX}/health", response_model=Health, tags=["health"])
    def health(engine: EngineDep, ready: Annotated[bool, Query(
            description="also check that the database answers (one SELECT 1)")] = False,
               ) -> Health:
        """Answered from memory: a load balancer may ask as often as it likes. With
        `ready=1`, 503 while the database does not answer."""
        revision = schema.checked()
        if ready:
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
            except SQLAlchemyError as exc:
                raise errors.ApiError(503, "database_unreachable", _DATABASE_AWAY) from exc
        return Health(status="ok", version=__version__, schema_revision=revision)

    allowed = networks(settings.metrics_allow)

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        # The peer as forwarded by a trusted proxy; the public proxy forwards no /metrics.
        if not address_in(request.client.host if request.client else None, allowed):
            raise errors.ApiError(403, "metrics_forbidden", _METRICS_FORBIDDEN)
        return Response(exposition(engine) + replica_metrics(app.state.replica),
                        media_type=CONTENT_TYPE_LATEST)

    # Outermost last: the request id and the access line around everything; the forwarded
    # client address (a trusted proxy's X-Forwarded-For) for all below, the throttle's.
    proxies = networks(settings.forwarded_allow_ips)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    # As parsed here: uvicorn would take a network it cannot read (10.0.0.1/8) for a name.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts="*" if proxies is None else [
        str(network) for network in proxies])
    templates = [f"{API_PREFIX}{route.path}" for module in ROUTERS
                 for route in module.router.routes if isinstance(route, APIRoute)]
    templates += [route.path for route in app.routes if isinstance(route, Route)]
    app.add_middleware(RequestContext, routes=RouteTemplates(templates),
                       trusted=proxies, observe=observe_request)
    return app
