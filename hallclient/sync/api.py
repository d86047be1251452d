"""The terminal's HTTP client of the central server: typed calls over the wire schema.

Failures come out as three kinds, because the sync engine treats them differently:
`ServerUnreachable` (no answer, a timeout, a 5xx: try again later), `NotAuthenticated` (log in
or refresh) and `ServerRefused` (the server understood and said no: never retried as is).
`ServerUntrusted`, an https server whose certificate fails the check, is unreachable to the
sync engine, but a login is refused with it rather than tried offline: it needs setting up.
`in_words` says any of them to a clerk, in both languages (and the sync engine's `LoginNeeded`,
a `NotAuthenticated` that only a login mends).
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from datetime import datetime
from typing import Any, TypeVar, overload

import httpx
from pydantic import BaseModel, ValidationError

from hallclient.sync.bootstrap_rows import UnreadablePage, read_bootstrap_rows
from hallcore.domain.text import Text, sentence
from hallcore.wire import (
    API_PREFIX,
    AccountClaim,
    AccountNotifications,
    Approval,
    ApprovalRequest,
    BootstrapCommunities,
    BootstrapRows,
    CalendarWire,
    ChangesPage,
    ErrorBody,
    Feedback,
    FeedbackRequest,
    FeedbackResponse,
    Health,
    KpiReport,
    LoginRequest,
    PushOperation,
    PushRequest,
    PushResponse,
    ReceiptVerification,
    RefreshRequest,
    ScanStatus,
    TerminalFacts,
    TokenResponse,
    WindowExtension,
    WorkItemList,
    WorkItemWire,
)

Model = TypeVar("Model", bound=BaseModel)
# The longest silence on a stream of changes before it is taken for a dead connection (the
# server sends a comment every 25 s).
STREAM_SILENCE = 60.0
E = TypeVar("E", bound=BaseException)


class ServerUnreachable(Exception):
    """No usable answer: the network, a timeout, or the server failing (5xx)."""


class ServerUntrusted(ServerUnreachable):
    """The server's TLS certificate is not trusted, or the CA file set up for it is unusable."""

    def __init__(self, message: Text) -> None:
        super().__init__(str(message))  # both languages: a clerk reads it at the login
        self.message = message


class NotAuthenticated(Exception):
    """The server does not take the session (HTTP 401): renew it, or log in again."""


class ServerRefused(Exception):
    def __init__(self, status: int, error: ErrorBody | None, text: str) -> None:
        super().__init__(error.message.en if error else f"HTTP {status}: {text[:200]}")
        self.status = status
        self.error = error


def trust(ca_file: str = "") -> ssl.SSLContext:
    """What an https server's certificate is checked against: the CA file set up for it, else
    the system's trust store (not httpx's default, certifi's bundle, which knows no hall CA)."""
    try:
        return ssl.create_default_context(cafile=ca_file or None)
    except (OSError, ssl.SSLError) as exc:
        raise ServerUntrusted(Text(
            f"CA 证书文件 {ca_file} 无法使用（{exc}），请用 hallclient setup --ca-file 重新设置",
            f"the CA file {ca_file} cannot be used ({exc}); set it again with "
            "`hallclient setup --ca-file`")) from exc


class ServerApi:
    def __init__(self, base_url: str, *, timeout: float = 15.0, ca_file: str = "",
                 transport: httpx.BaseTransport | None = None) -> None:
        self._http = httpx.Client(base_url=base_url.rstrip("/") + API_PREFIX, timeout=timeout,
                                  verify=trust(ca_file), transport=transport)
        self.timeout = timeout
        self.access_token: str | None = None

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, answer: type[Model], *,
              request: BaseModel | None = None, params: dict[str, Any] | None = None,
              auth: bool = True, content: bytes | None = None) -> Model:
        body = self._body(method, path, request=request, params=params, auth=auth,
                          content=content)
        try:
            return _read(answer, body)
        except ValidationError as exc:
            # A cut or garbled answer: the request may or may not have been done; the
            # operations are idempotent, so the caller treats it like no answer and retries.
            raise ServerUnreachable(f"unreadable answer: {exc.error_count()} errors") from exc

    def _body(self, method: str, path: str, *, request: BaseModel | None = None,
              params: dict[str, Any] | None = None, auth: bool = True,
              content: bytes | None = None) -> bytes:
        """The answer's body, read from its stream and not kept on the response: an httpx
        response is in a reference cycle with its stream, so a body kept there waits for the
        cycle collector, which a bootstrap runs rarely (engine._rare_collections). Bootstrap
        pages of megabytes piled up so, past a gigabyte at 4.34 million accounts."""
        headers = self._headers(auth)
        if request is not None:
            # By pydantic's own encoder: a push of 200 operations in a fraction of the time
            # of model_dump and the json module.
            content = request.model_dump_json().encode()
            headers["Content-Type"] = "application/json"
        elif content is not None:
            headers["Content-Type"] = "application/octet-stream"
        try:
            with self._http.stream(method, path, params=params, headers=headers,
                                   content=content) as response:
                _answered(response, auth)
                return b"".join(response.iter_bytes())
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc

    def _headers(self, auth: bool) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"} if auth and (
            self.access_token) else {}

    def _unreachable(self, exc: httpx.TransportError) -> ServerUnreachable:
        refused = _cause(exc, ssl.SSLCertVerificationError)
        server = f"{self._http.base_url.scheme}://{self._http.base_url.netloc.decode()}"
        if refused is not None:
            return ServerUntrusted(Text(
                f"服务器 {server} 的证书未通过验证（{refused.verify_message}）：请核对服务器地址；"
                "若服务器证书由本单位自己的 CA 签发，请用 hallclient setup --ca-file 设置该 CA",
                f"the certificate of the server {server} failed the check "
                f"({refused.verify_message}): check the server address; if your own CA signed "
                "it, set that CA with `hallclient setup --ca-file`"))
        if isinstance(exc, httpx.RemoteProtocolError) and server.startswith("http:"):
            return ServerUnreachable(f"{type(exc).__name__}: {exc} If the server uses TLS, its "
                                     "address must start with https://.")
        return ServerUnreachable(f"{type(exc).__name__}: {exc}")

    def health(self) -> Health:
        return self._call("GET", "/health", Health, auth=False)

    def login(self, request: LoginRequest) -> TokenResponse:
        return self._call("POST", "/login", TokenResponse, request=request, auth=False)

    def approve(self, request: ApprovalRequest) -> Approval:
        """A supervisor's sign-off of one operation at this counter (with the clerk's
        session)."""
        return self._call("POST", "/approve", Approval, request=request)

    def extend_offline_window(self, extension: WindowExtension) -> TerminalFacts:
        """A supervisor at this counter lets this terminal's older operations through."""
        return self._call("POST", "/terminal/offline-window", TerminalFacts,
                          request=extension)

    def refresh(self, refresh_token: str) -> TokenResponse:
        return self._call("POST", "/refresh", TokenResponse,
                          request=RefreshRequest(refresh_token=refresh_token), auth=False)

    def bootstrap(self, after: str | None, limit: int,
                  communities: BootstrapCommunities = "page") -> BootstrapRows:
        """A bootstrap page, in compact form, its rows as the cache's insert takes them
        (bootstrap_rows.py), with the `communities` asked for (a server that predates the
        choice brings the page's)."""
        params: dict[str, Any] = {"limit": limit, "communities": communities}
        if after is not None:
            params["after"] = after
        body = self._body("GET", "/bootstrap/rows", params=params)
        try:
            return read_bootstrap_rows(body)
        except UnreadablePage as exc:
            # As in _call: a cut or garbled answer is fetched again.
            raise ServerUnreachable(f"unreadable answer: {exc}") from exc

    def changes(self, after: int, limit: int) -> ChangesPage:
        return self._call("GET", "/changes", ChangesPage, params={"after": after, "limit": limit})

    def change_stream(self, after: int, claims_after: int) -> Iterator[ChangesPage]:
        """The district's changes and claims as they happen (server-sent events), from the
        cursors on, until the server ends the stream. A server that does not stream answers
        one page at once: it is the only one."""
        params: dict[str, Any] = {"after": after, "claims_after": claims_after,
                                  "stream": "true"}
        # No read may take longer than the server's comments apart (25 s), and some slack.
        timeout = httpx.Timeout(self.timeout, read=STREAM_SILENCE)
        try:
            with self._http.stream("GET", "/changes", params=params,
                                   headers=self._headers(True), timeout=timeout) as response:
                _answered(response, True)
                if not response.headers.get("content-type", "").startswith(
                        "text/event-stream"):
                    yield _read(ChangesPage, response.read())
                    return
                for line in response.iter_lines():
                    if line.startswith("data:"):
                        yield _read(ChangesPage, line[5:].strip().encode())
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc
        except ValidationError as exc:
            raise ServerUnreachable(f"unreadable answer: {exc.error_count()} errors") from exc

    def claim(self, account_number: str) -> AccountClaim:
        """A form is open on the account at this terminal (again: renewed)."""
        return self._call("PUT", f"/accounts/{account_number}/claim", AccountClaim)

    def release(self, account_number: str) -> None:
        """The form on the account was closed at this terminal."""
        self._body("DELETE", f"/accounts/{account_number}/claim")

    def calendar(self) -> CalendarWire:
        return self._call("GET", "/calendar", CalendarWire)

    def logout(self) -> None:
        """Revoke this clerk's tokens on this terminal."""
        self._body("POST", "/logout")
        self.access_token = None

    def verify_receipt(self, receipt_no: str, signature: str) -> ReceiptVerification:
        return self._call("GET", f"/receipts/{receipt_no}", ReceiptVerification,
                          params={"signature": signature})

    def push(self, operations: list[PushOperation]) -> PushResponse:
        return self._call("POST", "/push", PushResponse,
                          request=PushRequest(operations=operations))

    def feedback(self, items: list[Feedback]) -> FeedbackResponse:
        return self._call("POST", "/feedback", FeedbackResponse,
                          request=FeedbackRequest(items=items))

    def notifications(self, account_number: str) -> AccountNotifications:
        return self._call("GET", f"/accounts/{account_number}/notifications",
                          AccountNotifications)

    def work_items(self, hall_id: str) -> WorkItemList:
        """Every open work item of the hall, overdue ones first, then by due time."""
        return self._call("GET", f"/halls/{hall_id}/work-items", WorkItemList)

    def complete_work_item(self, item_id: int) -> WorkItemWire:
        return self._call("POST", f"/work-items/{item_id}/done", WorkItemWire)

    def upload_scan_piece(self, scan_id: str, offset: int, piece: bytes) -> ScanStatus:
        """Bytes of a scan this terminal announced with an operation, from `offset`."""
        return self._call("PUT", f"/scans/{scan_id}", ScanStatus, params={"offset": offset},
                          content=piece)

    def scan_status(self, scan_id: str) -> ScanStatus:
        return self._call("GET", f"/scans/{scan_id}/status", ScanStatus)

    def kpi_report(self, since: datetime, until: datetime, by: str) -> KpiReport:
        return self._call("GET", "/reports/kpi", KpiReport, params={
            "since": since.isoformat(), "until": until.isoformat(), "by": by})


_UNREACHABLE = Text("服务器暂时连不上，柜台照常离线办理业务，网络恢复后自动上传",
                    "the server cannot be reached; the counter goes on working offline and "
                    "sends its work once the network is back")
_LOGIN_EXPIRED = Text("登录已失效，请重新登录", "the login has expired; log in again")


@overload
def in_words(exc: ServerUnreachable | NotAuthenticated | ServerRefused) -> Text: ...


@overload
def in_words(exc: BaseException) -> Text | None: ...


def in_words(exc: BaseException) -> Text | None:
    """What a clerk is told of a failure to talk to the server, in both languages (never an
    exception's own text): said of the failure the chain of `exc` began with, the last server
    or network failure among `exc` and the exceptions it was raised from (a session the server
    would not renew: in the server's words, not as a login needed). None when there is none:
    the failure is not the server's or the network's."""
    said: Text | None = None
    found: BaseException | None = exc
    while found is not None:
        said = _said(found) or said
        found = found.__cause__
    return None if said is None else Text(said.zh, sentence(said.en))


def _said(exc: BaseException) -> Text | None:
    if isinstance(exc, ServerUntrusted):
        return exc.message  # says what to set up
    if isinstance(exc, ServerUnreachable):
        return _UNREACHABLE
    if isinstance(exc, NotAuthenticated):
        return _LOGIN_EXPIRED
    if isinstance(exc, ServerRefused):
        if exc.error is None:
            return Text(f"服务器拒绝了该请求（HTTP {exc.status}）",
                        f"the server refused the request (HTTP {exc.status})")
        return Text(exc.error.message.zh, exc.error.message.en)  # e.g. 403: supervisors only
    return None


def _cause(exc: BaseException, kind: type[E]) -> E | None:
    """The first exception of `kind` in the chain that led to `exc`."""
    found: BaseException | None = exc
    while found is not None and not isinstance(found, kind):
        found = found.__cause__ or found.__context__
    return found


def _answered(response: httpx.Response, auth: bool) -> httpx.Response:
    """The response, if it is an answer; else what it means, raised. A streamed response's
    body is read for that."""
    if response.status_code >= 500:
        raise ServerUnreachable(f"HTTP {response.status_code}")
    if response.status_code == 401 and auth:
        raise NotAuthenticated()
    if response.status_code >= 400:
        response.read()
        raise ServerRefused(response.status_code, _error_body(response), response.text)
    return response


def _read(answer: type[Model], content: bytes) -> Model:
    """The server's answer as `answer`. Fields a newer server added, that this terminal does
    not know, are left out instead of refusing the whole answer: the server can be upgraded
    before the thousands of terminals are. Anything else wrong is refused (ValidationError)."""
    try:
        return answer.model_validate_json(content)
    except ValidationError as exc:
        unknown = [e["loc"] for e in exc.errors() if e["type"] == "extra_forbidden"]
        if not unknown or len(unknown) != exc.error_count():
            raise
        data = json.loads(content)
        for loc in unknown:
            parent = data
            for key in loc[:-1]:
                parent = parent[key]
            del parent[loc[-1]]
        return answer.model_validate_json(json.dumps(data))


def _error_body(response: httpx.Response) -> ErrorBody | None:
    try:
        return _read(ErrorBody, response.content)
    except ValidationError:
        return None
