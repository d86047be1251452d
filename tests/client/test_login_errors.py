"""Every failed login is said to the clerk in both languages, never as an exception's text: the
failures are made by the terminal's real HTTP client, over a made-up server."""

import ssl
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from hallclient.auth import offline
from hallclient.auth.login import LoginRefused, PasswordChangeRequired, log_in
from hallclient.auth.secrets import EphemeralKeyring, SecretStore
from hallclient.config import Settings
from hallclient.sync.api import NotAuthenticated, ServerApi, in_words
from hallclient.sync.engine import REFRESH_TOKEN, Credentials, LoginNeeded

HALL, TERMINAL, CLERK = "GZ-TH-01", "T07", "gz-th-01-c1"
NOW = datetime(2025, 6, 2, 1, 30, tzinfo=UTC)
SETTINGS = Settings(server_url="http://hall.invalid", hall_id=HALL, terminal_id=TERMINAL,
                    installation_id="i" * 32, offline_login_days=5)
RAW = ("HTTP 400:", "<html>", "nginx", "Errno", "ConnectError", "SSLCertVerificationError")


def refusing(status: int, code: str, zh: str, en: str):
    return lambda _request: httpx.Response(status, json={"code": code,
                                                         "message": {"zh": zh, "en": en}})


def refused_connection(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


def untrusted_certificate(request: httpx.Request) -> httpx.Response:
    failed = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED]")
    failed.verify_message = "self-signed certificate in certificate chain"
    raise httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED]", request=request) from failed


def api_for(handler, url: str = SETTINGS.server_url) -> ServerApi:
    return ServerApi(url, transport=httpx.MockTransport(handler))


@pytest.fixture
def store() -> SecretStore:
    return SecretStore(HALL, TERMINAL, EphemeralKeyring())


def refusal(handler, store, new_password=None, url=SETTINGS.server_url) -> LoginRefused:
    with pytest.raises(LoginRefused) as raised:
        log_in(api_for(handler, url), store, SETTINGS, CLERK, "guess", NOW, new_password)
    reason = raised.value.reason
    assert not any(raw in f"{reason.zh} {reason.en}" for raw in RAW)
    return raised.value


@pytest.mark.parametrize(("status", "code", "zh", "en"), [
    (401, "bad_credentials", "工号或密码不正确", "clerk id or password is wrong"),
    (403, "terminal_not_approved", "新终端 T07 尚未获批准。请本营业厅主管在本终端登录一次",
     "the new terminal T07 is not approved yet; a supervisor of this hall must log in at this "
     "terminal once"),
    (429, "too_many_failed_logins", "工号 gz-th-01-c1 登录失败次数过多，请 15 分钟后再试",
     "too many failed logins for clerk gz-th-01-c1; try again in 15 minutes"),
    (403, "clock_off", "本机时钟与服务器相差 +9 分钟，请校正本机日期和时间后再登录",
     "this PC's clock is +9 minutes off the server's; correct its date and time, then log "
     "in again")],
    ids=["wrong-password", "terminal-not-approved", "throttled", "clock-off"])
def test_a_refusal_is_the_servers_own_words_in_both_languages(store, status, code, zh, en):
    refused = refusal(refusing(status, code, zh, en), store)
    assert (refused.reason.zh, refused.reason.en) == (zh, en[:1].upper() + en[1:])


def test_a_refusal_without_the_servers_words_does_not_show_the_answer(store):
    refused = refusal(lambda _request: httpx.Response(
        400, text="<html><body><h1>400 Bad Request</h1>nginx</body></html>"), store)
    assert (refused.reason.zh, refused.reason.en) == (
        "服务器拒绝了该请求（HTTP 400）", "The server refused the request (HTTP 400)")


def test_a_one_time_password_asks_for_a_new_one_in_the_servers_words(store):
    refused = refusal(refusing(403, "password_change_required",
                               "这是一次性密码：请再输入一次，并设置您自己的新密码",
                               "this is a one-time password: type it again and choose your "
                               "own new password"), store)
    assert isinstance(refused, PasswordChangeRequired)
    assert refused.reason.zh == "这是一次性密码：请再输入一次，并设置您自己的新密码"
    assert refused.reason.en.startswith("This is a one-time password")


def test_an_untrusted_certificate_says_what_to_set_up_and_is_not_tried_offline(store):
    offline.remember(store, CLERK, "陈伟", "clerk", "guess", NOW)  # it would pass offline
    refused = refusal(untrusted_certificate, store, url="https://hall.invalid")
    assert refused.reason.zh.startswith("服务器 https://hall.invalid 的证书未通过验证")
    assert "hallclient setup --ca-file" in refused.reason.zh
    assert "self-signed certificate" in refused.reason.en


def test_a_new_password_without_the_server_says_it_is_set_online(store):
    refused = refusal(refused_connection, store, new_password="counter-2027")
    assert (refused.reason.zh, refused.reason.en) == (
        "服务器连不上：新密码要在联网时设置", "the server cannot be reached: a new password is set "
        "online")


def test_an_offline_check_that_fails_says_why_it_may_have_in_both_languages(store):
    refused = refusal(refused_connection, store)  # the clerk never logged in here online
    assert refused.reason.zh.startswith("服务器连不上，离线登录未通过：工号或密码不对")
    assert "近 5 天没有在本终端联网登录过" in refused.reason.zh
    assert "锁定 15 分钟" in refused.reason.zh
    assert refused.reason.en.startswith("the server cannot be reached, and the offline login "
                                        "failed: the clerk id or password is wrong")
    assert "has not logged in online on this terminal in the last 5 days" in refused.reason.en


def test_an_offline_login_still_logs_in_without_the_server(store):
    offline.remember(store, CLERK, "陈伟", "clerk", "demo-clerk", NOW - timedelta(days=4))
    session = log_in(api_for(refused_connection), store, SETTINGS, CLERK, "demo-clerk", NOW)
    assert not session.online and session.name == "陈伟"


def test_no_session_stored_is_said_as_a_login_needed():
    store = SecretStore(HALL, "T01", EphemeralKeyring())
    credentials = Credentials(api_for(lambda _request: httpx.Response(401)), store)
    with pytest.raises(LoginNeeded) as raised:
        credentials.call(lambda: credentials.api.work_items(HALL))
    assert raised.value.__cause__ is None and isinstance(raised.value, NotAuthenticated)
    words = in_words(raised.value)
    assert words is not None
    assert (words.zh, words.en) == ("登录已失效，请重新登录", "The login has expired; log in again")


def test_a_session_the_server_will_not_renew_is_said_in_its_words_not_as_a_login_needed():
    def server(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/refresh"):
            return refusing(403, "terminal_retired", "本终端已停用，不能再同步",
                            "this terminal was retired: it can no longer sync")(request)
        return httpx.Response(401)

    store = SecretStore(HALL, "T01", EphemeralKeyring())
    store.set(REFRESH_TOKEN, "retired-terminal-refresh-token")
    credentials = Credentials(api_for(server), store)
    with pytest.raises(LoginNeeded) as raised:
        credentials.call(lambda: credentials.api.work_items(HALL))
    words = in_words(raised.value)
    assert words is not None
    assert (words.zh, words.en) == ("本终端已停用，不能再同步",
                                    "This terminal was retired: it can no longer sync")
