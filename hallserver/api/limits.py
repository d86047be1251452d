"""Refuse request bodies over the size limit before anything parses them."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hallcore.domain.text import Text
from hallserver.api.errors import error_response


class BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """413 for a body over `max_bytes`. A body that declares its length is refused by that
    length, and counted as the app reads it (a server that does not hold the client to it);
    a body without one (chunked) is read here first, up to the limit, then handed to the app
    whole: an exception raised while the app reads would be caught by its body parsing and
    answered 400."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _refusal(self) -> Text:
        return Text(f"请求过大（上限 {self.max_bytes} 字节），请分批提交",
                    f"request body too large (limit {self.max_bytes} bytes); send smaller batches")

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await error_response(413, "body_too_large", self._refusal())(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        declared = headers.get(b"content-length")
        if declared is None and b"transfer-encoding" not in headers:
            # Neither a length nor chunks: HTTP/1.1 says there is no body (a GET).
            await self.app(scope, receive, send)
            return
        if declared is None or not declared.isdigit():
            await self._buffered(scope, receive, send)
            return
        if int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _buffered(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A body of no declared length: read up to the limit (413 as soon as it is over),
        then replayed to the app as one message."""
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client is gone: nobody to answer
            if message["type"] != "http.request":
                continue
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # what comes after the body: the disconnect
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)
