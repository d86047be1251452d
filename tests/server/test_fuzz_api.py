"""Fuzzing the server's API from its own OpenAPI schema with schemathesis: every operation, as a
clerk, as a supervisor and without a token, with requests that fit the schema and requests
that do not. No answer is a 5xx or takes forever; every error is the project's ErrorBody with
a sentence in both languages; every answer is what the schema says. Below the fuzzing, each
failure it found, kept as a plain test (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import create_engine

from hallcore.wire import API_PREFIX, ErrorBody
from hallserver.app import create_app
from hallserver.db import SERVER_SCHEMA, make_engine
from hallserver.embedded import EmbeddedServer
from hallserver.seed import seed
from tests.support.fuzzing import examples
from tests.support.server import (
    SUPERVISOR_PASSWORD,
    Terminal,
    approve_terminal,
    holder_of,
    logged_in,
    seeded_client,
)

TH = "GZ-TH-01"
TIMEOUT = 10.0  # seconds: an answer slower than this counts as a hang
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, negative_data_rejection]
# Examples per operation, caller and kind of data (the normal run's: --fuzz-hard draws more).
EXAMPLES = {"clerk": examples(30), "supervisor": examples(15), "nobody": examples(10)}


def _operations() -> list[tuple[str, bool]]:
    """(label, takes input) of every operation the app describes."""
    spec = create_app(create_engine("sqlite://")).openapi()
    return [(f"{method.upper()} {path}", "parameters" in op or "requestBody" in op)
            for path, item in spec["paths"].items() for method, op in item.items()]


CASES = [
    pytest.param(label, who, mode, id=f"{label}-{who}-{mode.value}")
    for label, takes_input in _operations()
    for who in EXAMPLES
    # Negative data needs an input to spoil.
    for mode in (GenerationMode.POSITIVE, *((GenerationMode.NEGATIVE,) if takes_input else ()))
]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A seeded server (SQLite) on a loopback port, shared by the whole fuzzing run."""
    path = tmp_path_factory.mktemp("fuzz") / "server.sqlite3"
    engine = make_engine(f"sqlite+pysqlite:///{path}")
    SERVER_SCHEMA.upgrade(engine)
    seed(engine, accounts=200, halls=2)
    server = EmbeddedServer(engine)
    server.start()
    yield server
    server.stop()
    engine.dispose()


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session


def _log_in(http, server: EmbeddedServer, clerk: str, password: str, terminal: str) -> str:
    """Log in at a terminal of its own, approved as an operator would."""
    body = Terminal(None, TH, terminal).login_body(clerk, password)  # type: ignore[arg-type]
    response = http.post(f"{server.url}{API_PREFIX}/login", timeout=TIMEOUT, json=body)
    if response.status_code == 403:
        approve_terminal(server.engine, TH, terminal)
        response = http.post(f"{server.url}{API_PREFIX}/login", timeout=TIMEOUT, json=body)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest.fixture(scope="module")
def callers(live, http):
    """The Authorization header of each caller; taken before any fuzzed login fails, since
    failed logins soon close the login to this address (429). Logout gets tokens of its own
    (on terminals of their own), or it would end the others' sessions."""
    def bearer(clerk, password, terminal):
        return {"Authorization": f"Bearer {_log_in(http, live, clerk, password, terminal)}"}

    return {
        "clerk": bearer("gz-th-01-c1", "demo-clerk", "FZ1"),
        "supervisor": bearer("gz-th-01-s1", SUPERVISOR_PASSWORD, "FZ2"),
        "nobody": {},
        "logout-clerk": bearer("gz-th-01-c2", "demo-clerk", "FZ3"),
        "logout-supervisor": bearer("gz-th-01-s1", SUPERVISOR_PASSWORD, "FZ4"),
    }


@pytest.fixture(scope="module")
def api_schema(live):
    return schemathesis.openapi.from_url(f"{live.url}/openapi.json")


def assert_clear_error(response: Any) -> None:
    """A refusal as the project makes them: its ErrorBody, both languages said."""
    assert response.status_code < 500, response.text
    body = ErrorBody.model_validate_json(response.content)
    for text in (body.message, *(body.fields or {}).values()):
        assert text.zh.strip() and text.en.strip(), response.text


@pytest.mark.parametrize(("label", "who", "mode"), CASES)
def test_every_answer_is_a_success_or_a_clear_4xx(api_schema, callers, live, http, label, who,
                                                   mode):
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None
    headers = callers[f"logout-{who}" if label.endswith("/logout") and who != "nobody" else who]

    @settings(max_examples=EXAMPLES[who], deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                     HealthCheck.data_too_large])
    @given(case=operation.as_strategy(generation_mode=mode))
    def answers_clearly(case):
        if mode is GenerationMode.POSITIVE and case.query:
            # Answers held on purpose (a pull that waits, a stream of changes) are
            # test_changes_wait.py's: here they would be taken for a hang.
            case.query.pop("wait", None)
            case.query.pop("stream", None)
        response = case.call(base_url=live.url, session=http, headers=headers, timeout=TIMEOUT)
        case.validate_response(response, checks=CHECKS, headers=headers)
        if response.status_code >= 400:
            assert_clear_error(response)

    answers_clearly()


# --- what the fuzzing found, kept ------------------------------------------------------------


@pytest.fixture
def client(server_engine):
    yield from seeded_client(server_engine, accounts=20, halls=1)


@pytest.fixture
def th(client):
    return logged_in(client, TH, "T01", "gz-th-01-c1")


@pytest.fixture
def supervisor(client):
    return logged_in(client, TH, "T02", "gz-th-01-s1", SUPERVISOR_PASSWORD)


def _send(terminal, path, body):
    """POST raw JSON: json.dumps writes a lone surrogate as the escape "\\ud800"."""
    return terminal.client.post(f"{API_PREFIX}{path}", content=json.dumps(body),
                                headers={**terminal.headers, "content-type": "application/json"})


def refused_as_invalid(response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert_clear_error(response)
    assert response.json()["code"] == "invalid_request"
    assert any(name.endswith(field) for name in response.json()["fields"]), response.text


def test_every_error_is_described_as_the_error_body():
    spec = create_app(create_engine("sqlite://")).openapi()
    error = {"$ref": "#/components/schemas/ErrorBody"}
    for item in spec["paths"].values():
        for op in item.values():
            for status in ("4XX", "5XX"):
                assert op["responses"][status]["content"]["application/json"]["schema"] == error
    assert "HTTPValidationError" not in spec["components"]["schemas"]


@pytest.mark.parametrize("path", [
    f"/work-items/{2**31}/done", "/work-items/18311383121295171244785664/done"])
def test_a_work_item_number_past_the_integer_column_is_422(th, path):
    # Was a 500: OverflowError on SQLite, "integer out of range" on PostgreSQL.
    refused_as_invalid(th.client.post(f"{API_PREFIX}{path}", headers=th.headers), "item_id")


def test_a_cursor_past_the_integer_column_is_422(th):
    # PostgreSQL compares with an INTEGER cast: 2^31 and more were a 500 there.
    refused_as_invalid(th.get("/changes", after=2**31), "after")
    assert th.get("/changes", after=2**31 - 1).status_code == 200


OFF_THE_CALENDAR = ["0001-01-01T00:00:00+05:00", "0001-01-01T00:00:00",
                    "9999-12-31T23:00:00+00:00", "9999-12-31T23:59:59-05:00"]


@pytest.mark.parametrize("when", OFF_THE_CALENDAR)
def test_a_push_made_off_the_calendar_is_422(th, when):
    # Was a 500: moving the time to UTC or to the halls' day ran off Python's calendar.
    account = th.all_accounts()[0]
    op = {**th.operation("suspend", holder_of(account), account=account), "created_at": when}
    refused_as_invalid(_send(th, "/push", {"operations": [op]}), "created_at")


@pytest.mark.parametrize("when", OFF_THE_CALENDAR)
def test_a_rating_given_off_the_calendar_is_422(th, when):
    rating = {"operation_id": str(uuid.uuid4()), "rating": "satisfied", "rated_at": when}
    refused_as_invalid(_send(th, "/feedback", {"items": [rating]}), "rated_at")


@pytest.mark.parametrize("when", OFF_THE_CALENDAR)
def test_a_report_period_off_the_calendar_is_422(supervisor, when):
    refused_as_invalid(supervisor.get("/reports/kpi", since=when, until="2026-12-01"), "since")
    refused_as_invalid(supervisor.get("/reports/kpi", since="2026-11-01", until=when), "until")


def test_a_report_period_anywhere_on_the_calendar_is_answered(supervisor):
    response = supervisor.get("/reports/kpi", since="1900-01-01T00:00:00+00:00",
                              until="8999-12-31T00:00:00")
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("payload", [
    {"\ud800": 1},  # was a 500: the field's name went into the audit hash as UTF-8
    {"new_name": "陈\ud800伟"},  # was a 500 on every retry: the answer quoting it
    {"new_name": "陈\x00伟"},  # PostgreSQL's jsonb keeps no NUL
    {"x": [{"y": ["\x00"]}]},
], ids=["surrogate-key", "surrogate-value", "nul-value", "nul-deep"])
def test_a_payload_with_text_no_database_keeps_is_422(th, payload):
    account = th.all_accounts()[0]
    op = th.operation("rename", {**holder_of(account), **payload}, account=account)
    refused_as_invalid(_send(th, "/push", {"operations": [op]}), "payload")


def test_stored_login_and_rating_text_with_a_nul_is_422(client, th):
    # Kept in text columns: PostgreSQL refuses NUL there (a 500).
    login = Terminal(client, TH, "T09").login_body("gz-th-01-c2")
    refused_as_invalid(client.post(f"{API_PREFIX}/login", json={
        **login, "installation_id": "1234567\x00"}), "installation_id")
    rating = {"operation_id": str(uuid.uuid4()), "rating": "dissatisfied",
              "reason": "slow\x00", "rated_at": datetime.now(UTC).isoformat()}
    refused_as_invalid(_send(th, "/feedback", {"items": [rating]}), "reason")


def test_a_pushed_name_that_is_not_text_is_rejected_by_field(th):
    # Was applied: a JSON true became the holder name "True".
    account = next(a for a in th.all_accounts() if a["id_number"] and a["status"] == "active")
    op = th.operation("rename", {**holder_of(account), "new_name": True}, account=account)
    result = th.push(op)[0]
    assert result["outcome"] == "rejected" and set(result["field_errors"]) == {"new_name"}
