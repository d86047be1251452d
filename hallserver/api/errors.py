"""Every error the API gives is JSON: a code, and a sentence in Chinese and English."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hallcore.domain.text import Text
from hallcore.wire import BilingualText, ErrorBody

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: Text,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message.en)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def error_response(status: int, code: str, message: Text,
                   fields: dict[str, BilingualText] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorBody(code=code, message=BilingualText(zh=message.zh, en=message.en),
                     fields=fields)
    return JSONResponse(body.model_dump(mode="json", exclude_none=True), status_code=status,
                        headers=headers)


def _location(loc: tuple[object, ...]) -> str:
    return ".".join(str(part) for part in loc if part not in ("body", "query", "path"))


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, headers=exc.headers)


# The Chinese of pydantic's usual refusals, by their type; their context fills the braces.
# Another refusal is said in Chinese as "不符合要求" with pydantic's English words.
_IN_CHINESE = {
    "missing": "缺少此项",
    "extra_forbidden": "不应有此项",
    "enum": "应为以下之一：{expected}",
    "literal_error": "应为以下之一：{expected}",
    "string_type": "应为文本",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "bool_type": "应为 true 或 false",
    "list_type": "应为列表",
    "dict_type": "应为对象",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "至多 {max_length} 个字符",
    "too_short": "至少 {min_length} 项",
    "too_long": "至多 {max_length} 项",
    "string_pattern_mismatch": "格式不符",
    "greater_than_equal": "应不小于 {ge}",
    "less_than_equal": "应不大于 {le}",
    "greater_than": "应大于 {gt}",
    "less_than": "应小于 {lt}",
    "datetime_parsing": "应为带时区的 ISO 8601 时间",
    "datetime_type": "应为带时区的 ISO 8601 时间",
    "timezone_aware": "时间应带时区",
    "date_parsing": "应为 YYYY-MM-DD 格式的日期",
    "date_from_datetime_parsing": "应为 YYYY-MM-DD 格式的日期",
}


def _in_chinese(err: Mapping[str, Any]) -> str:
    template = _IN_CHINESE.get(str(err["type"]))
    if template is None:
        return f"不符合要求：{err['msg']}"
    try:
        return template.format(**err.get("ctx", {}))
    except (KeyError, IndexError):
        return f"不符合要求：{err['msg']}"


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = {
        _location(tuple(err["loc"])) or "body": BilingualText(zh=_in_chinese(err),
                                                              en=str(err["msg"]))
        for err in exc.errors()
    }
    return error_response(422, "invalid_request",
                          Text("请求内容不符合接口要求", "the request does not match the API"),
                          fields)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = Text(f"请求无法处理（{exc.status_code}）", str(exc.detail))
    return error_response(exc.status_code, "http_error", message)


class _ContainUnexpected:
    """An exception no handler answered becomes the 500 ErrorBody. Caught here rather than by
    an Exception handler: Starlette re-raises those for the server to log with their traceback
    and message. A plain ASGI layer: `app.middleware("http")` (BaseHTTPMiddleware) cost a task
    and a stream per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            # The type and the route only: database errors carry statement parameters, which
            # can be personal data, so neither the message nor the traceback goes to the log.
            log.error("unexpected %s in %s %s", type(exc).__name__, scope["method"],
                      scope["path"])
            if not started:
                await error_response(500, "internal_error", Text(
                    "服务器内部错误，请稍后重试；问题已记录",
                    "internal server error; try again later"))(scope, receive, send)


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(_ContainUnexpected)
