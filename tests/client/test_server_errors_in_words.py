"""Every failure to talk to the server is said to a clerk in both languages, never as an
exception's text: the failures are made by the terminal's real HTTP client."""

import httpx
import pytest

from hallclient.auth.secrets import EphemeralKeyring, SecretStore
from hallclient.sync.api import ServerApi, ServerUntrusted, in_words, trust
from hallclient.sync.engine import REFRESH_TOKEN, Credentials, LoginNeeded

HALL = "GZ-TH-01"
RAW = ("Errno", "ConnectError", "Timeout", "HTTP 503", "Traceback", "Exception")


def answering(handler) -> ServerApi:
    api = ServerApi("http://hall.invalid", transport=httpx.MockTransport(handler))
    api.access_token = "token"
    return api


def failure(api: ServerApi) -> Exception:
    with pytest.raises(Exception) as raised:
        api.work_items(HALL)
    return raised.value


def refused_connection(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


def timed_out(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


@pytest.mark.parametrize("handler", [
    refused_connection, timed_out, lambda _request: httpx.Response(503, text="busy"),
    lambda _request: httpx.Response(200, json={"hall_id": HALL, "items": "garbled"})],
    ids=["connection-refused", "timeout", "server-failing", "unreadable-answer"])
def test_an_unreachable_server_is_said_with_the_counter_working_offline(handler):
    words = in_words(failure(answering(handler)))
    assert words is not None
    assert "服务器" in words.zh and "连不上" in words.zh and "离线" in words.zh
    assert words.en.startswith("The server cannot be reached") and "offline" in words.en
    assert not any(raw in f"{words.zh} {words.en}" for raw in RAW)


def test_a_refusal_is_the_servers_own_words_in_both_languages():
    api = answering(lambda _request: httpx.Response(403, json={
        "code": "other_hall", "message": {
            "zh": "只能查看本营业厅（GZ-TH-01）的工单",
            "en": "you can see the work items of your own hall (GZ-TH-01) only"}}))
    words = in_words(failure(api))
    assert words is not None
    assert words.zh == "只能查看本营业厅（GZ-TH-01）的工单"
    assert words.en == "You can see the work items of your own hall (GZ-TH-01) only"


def test_a_refusal_without_the_servers_words_says_so_without_the_answer():
    api = answering(lambda _request: httpx.Response(400, text="<html>Bad Request</html>"))
    words = in_words(failure(api))
    assert words is not None
    assert words.zh == "服务器拒绝了该请求（HTTP 400）"
    assert words.en == "The server refused the request (HTTP 400)"


def test_an_expired_login_is_said_to_be_renewed():
    words = in_words(failure(answering(lambda _request: httpx.Response(401))))
    assert words is not None
    assert words.zh == "登录已失效，请重新登录"
    assert words.en == "The login has expired; log in again"


def test_a_session_the_server_would_not_renew_is_said_in_its_words():
    def server(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/refresh"):
            return httpx.Response(401, json={"code": "not_authenticated", "message": {
                "zh": "登录已失效，请重新登录", "en": "the session has expired; log in again"}})
        return httpx.Response(401)

    store = SecretStore(HALL, "T01", EphemeralKeyring())
    store.set(REFRESH_TOKEN, "revoked-refresh-token")
    credentials = Credentials(answering(server), store)
    with pytest.raises(LoginNeeded) as raised:
        credentials.call(lambda: credentials.api.work_items(HALL))
    words = in_words(raised.value)
    assert words is not None
    assert (words.zh, words.en) == ("登录已失效，请重新登录",
                                    "The session has expired; log in again")


def test_an_untrusted_server_says_what_to_set_up(tmp_path):
    with pytest.raises(ServerUntrusted) as raised:
        trust(str(tmp_path / "missing-ca.pem"))
    words = in_words(raised.value)
    assert words is not None
    assert "hallclient setup --ca-file" in words.zh and words.zh.startswith("CA 证书文件")
    assert words.en.startswith("The CA file") and "missing-ca.pem" in words.en


def test_a_failure_that_is_not_the_servers_is_not_said_as_one():
    assert in_words(ValueError("a fault")) is None
    # Met while handling an unreachable server (an offline password check failing, say), it
    # was not caused by it: it is not said as the server's.
    fault = KeyError("no offline verifier")
    fault.__context__ = failure(answering(refused_connection))
    assert in_words(fault) is None
