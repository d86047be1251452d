"""The server's logs: a request id for every request, an access line of our own per request,
and the logging configuration of `hallserver serve` (text or JSON, one line per record).

No personal data: a request is logged by its route's template (`/api/v1/receipts/{receipt_no}`),
never its query string or body; what the API refuses is answered to the terminal, not logged.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hallserver.settings import Network, address_in

# What a proxy's X-Request-ID may look like (nginx's $request_id is 32 hex digits; a UUID fits
# too): nothing that could forge a log line or swell it.
_WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{1,64}")
# A request that matched no route: its path is whatever the client sent.
UNMATCHED = "<unmatched>"

request_id: ContextVar[str | None] = ContextVar("hallserver_request_id", default=None)
access_log = logging.getLogger("hallserver.access")


class RequestIdFilter(logging.Filter):
    """Gives every record logged while a request is handled that request's id (sync routes run
    in worker threads, which carry the request's context); a record logged outside one has
    none."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = request_id.get()
        if current is not None and not hasattr(record, "request_id"):
            record.request_id = current
        return True


# The access line's fields, beside the record's own.
ACCESS_FIELDS = ("method", "path", "status", "duration_ms")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request_id, and on an
    access line method, path, status and duration_ms."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None)}
        line.update({name: getattr(record, name) for name in ACCESS_FIELDS
                     if hasattr(record, name)})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """`logging.config.dictConfig` for `serve` (uvicorn's log_config, applied in each worker):
    every record on stderr with its time, level and request id; HallServer's and uvicorn's at
    `level`, other libraries' warnings and errors. uvicorn's access log stays off: the access
    line is ours (RequestContext), with the request id and the route's template."""
    formatter: dict[str, Any] = (
        {"()": JsonFormatter} if log_format == "json"
        else {"()": logging.Formatter, "fmt": TEXT_FORMAT, "defaults": {"request_id": "-"}})
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"hallserver": formatter},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                                "formatter": "hallserver", "filters": ["request_id"]}},
        "root": {"handlers": ["stderr"], "level": "WARNING"},
        "loggers": {
            "hallserver": {"level": upper},
            "uvicorn": {"level": upper},
            "uvicorn.error": {"level": upper},
            "uvicorn.access": {"level": "WARNING", "propagate": False},
        },
    }


class RouteTemplates:
    """What a request is named by in the logs and metrics: the template of its route, in
    routing order (`/api/v1/receipts/{receipt_no}`, never the number). Matched here on the
    path, so that a request answered before routing (413) is named too."""

    def __init__(self, templates: Iterable[str]) -> None:
        self._compiled = [(compile_path(template)[0], template)
                          for template in dict.fromkeys(templates)]
        # Most requests go to a few paths (/changes, /push): each is matched once. Bounded, as
        # a path may carry a number (a receipt's) or be anything a client sent.
        self.of = lru_cache(maxsize=1024)(self._match)

    def _match(self, path: str) -> str:
        return next((template for regex, template in self._compiled if regex.match(path)),
                    UNMATCHED)


# Told of each request answered: its route's template, method, status and seconds.
Observer = Callable[[str, str, int, float], None]


class RequestContext:
    """The outermost layer of the app: the request id (a trusted proxy's X-Request-ID, else a
    new one) set for every log line of the request and returned in the X-Request-ID header;
    then one access line, and `observe` told (the metrics), when it has been answered.

    The proxy's trust is decided here on the peer as connected, before the layer below
    (uvicorn's ProxyHeadersMiddleware) replaces it by the forwarded client address."""

    def __init__(self, app: ASGIApp, routes: RouteTemplates,
                 trusted: tuple[Network, ...] | None, observe: Observer) -> None:
        self.app = app
        self.routes = routes
        self.trusted = trusted
        self.observe = observe

    def _incoming_id(self, scope: Scope) -> str | None:
        peer = scope.get("client")
        if not address_in(peer[0] if peer else None, self.trusted):
            return None
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                text = value.decode("latin-1")
                return text if _WELL_FORMED.fullmatch(text) else None
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = self._incoming_id(scope) or uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500  # what the server answers an error that escaped before any answer

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", rid.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route, method = self.routes.of(scope["path"]), scope["method"]
            self.observe(route, method, status, seconds)
            access_log.info("%s %s %s %.1f ms", method, route, status, seconds * 1000,
                            extra={"method": method, "path": route, "status": status,
                                   "duration_ms": round(seconds * 1000, 1)})
            request_id.reset(token)
