"""The wire takes a value only in the JSON type its OpenAPI schema gives it: no number for a
time or a text, no text for a number or a yes/no. Lax parsing had turned `"created_at": 1764043200`
into a time and `"base_version": "3"` into a number; each is now refused with the API's 422
ErrorBody naming the field. What terminals really send (times as ISO-8601 text, business
types and ratings by their names) is still taken, and the terminal reads the server's answers
just as strictly (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine

from hallclient.sync.api import ServerApi, ServerUnreachable
from hallcore.wire import API_PREFIX, ErrorBody
from hallserver.app import create_app
from tests.support.server import SUPERVISOR_PASSWORD, Terminal, holder_of, logged_in, seeded_client

TH = "GZ-TH-01"


@pytest.fixture
def client(server_engine):
    yield from seeded_client(server_engine, accounts=20, halls=1)


@pytest.fixture
def th(client):
    return logged_in(client, TH, "T01", "gz-th-01-c1")


def _send(terminal: Terminal, path: str, body: dict[str, Any]) -> Any:
    return terminal.client.post(f"{API_PREFIX}{path}", content=json.dumps(body),
                                headers={**terminal.headers, "content-type": "application/json"})


def refused_for(response: Any, field: str) -> None:
    """The API's documented 422: its ErrorBody, both languages, naming `field` and only it."""
    assert response.status_code == 422, response.text
    body = ErrorBody.model_validate_json(response.content)
    assert body.code == "invalid_request"
    assert body.message.zh.strip() and body.message.en.strip()
    assert list(body.fields or {}) == [field], response.text


def _suspension(th: Terminal, created_at: str | None = None) -> dict[str, Any]:
    account = next(a for a in th.all_accounts() if a["status"] == "active" and a["id_number"])
    return th.operation("suspend", holder_of(account), account=account, created_at=created_at)


# A moment of the last hour, as the terminals write it: the server takes only a recent time.
_RECENT = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


LAX_PUSHES = [
    pytest.param("created_at", 1764043200, id="time-as-number"),
    pytest.param("created_at", 1764043200.5, id="time-as-float"),
    pytest.param("created_at", "1764043200", id="time-as-number-in-text"),
    pytest.param("created_at", "2026-11-25", id="time-as-a-date"),
    pytest.param("base_version", "3", id="int-as-text"),
    pytest.param("base_version", 3.0, id="int-as-float"),
    pytest.param("base_version", True, id="int-as-bool"),
    pytest.param("first_contact", "true", id="bool-as-text"),
    pytest.param("first_contact", 1, id="bool-as-number"),
    pytest.param("clerk", 12345, id="text-as-number"),
    pytest.param("receipt_no", 20261125, id="receipt-as-number"),
    pytest.param("handling_seconds", "30", id="seconds-as-text"),
    pytest.param("business_type", 1, id="business-as-number"),
]


@pytest.mark.parametrize(("field", "value"), LAX_PUSHES)
def test_a_push_with_a_value_of_another_json_type_is_422(th, field, value):
    op = {**_suspension(th), field: value}
    refused_for(_send(th, "/push", {"operations": [op]}), f"operations.0.{field}")


@pytest.mark.parametrize("when", [
    datetime.now(UTC).isoformat(), _RECENT.strftime("%Y-%m-%dT%H:%M:%SZ"),
    _RECENT.strftime("%Y-%m-%dT%H:%M:%S"),
    _RECENT.astimezone(timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M:%S+08:00")])
def test_a_push_as_terminals_send_it_is_taken(th, when):
    op = {**_suspension(th, when), "first_contact": True,
          "not_settled_reason": None, "handling_seconds": 30}
    assert th.push(op)[0]["outcome"] == "applied"


@pytest.mark.parametrize(("field", "value"), [
    ("rated_at", 1764043200), ("rating", 1), ("reason", 5), ("operation_id", 12345678)])
def test_a_rating_with_a_value_of_another_json_type_is_422(th, field, value):
    rating = {"operation_id": str(uuid.uuid4()), "rating": "satisfied",
              "rated_at": datetime.now(UTC).isoformat(), field: value}
    refused_for(_send(th, "/feedback", {"items": [rating]}), f"items.0.{field}")


@pytest.mark.parametrize(("field", "value"), [
    ("installation_id", 1234567890), ("terminal_id", 1), ("password", 123456)])
def test_a_login_with_a_number_for_a_text_is_422(client, field, value):
    login = {"clerk": "gz-th-01-c1", "password": "demo-clerk", "hall_id": TH,
             "terminal_id": "T05", "installation_id": uuid.uuid4().hex}
    body = Terminal(client, TH, "T05").login_body(**login)
    refused_for(client.post(f"{API_PREFIX}/login", json={**body, field: value}), field)


def test_a_report_period_given_as_a_number_is_422(client):
    supervisor = Terminal(client, TH, "T02")
    assert supervisor.login("gz-th-01-s1", SUPERVISOR_PASSWORD).status_code == 200
    refused_for(supervisor.get("/reports/kpi", since="1764043200", until="2026-12-01T00:00"),
                "since")
    assert supervisor.get("/reports/kpi", since="2026-11-01T00:00:00",
                          until="2026-12-01T00:00:00+08:00").status_code == 200


def test_the_schema_still_gives_times_as_text_and_names_as_text():
    schemas = create_app(create_engine("sqlite://")).openapi()["components"]["schemas"]
    op = schemas["PushOperation"]["properties"]
    assert op["created_at"] == {"type": "string", "format": "date-time", "title": "Created At"}
    assert op["business_type"] == {"$ref": "#/components/schemas/BusinessKind"}
    assert schemas["BusinessKind"]["type"] == "string"
    assert op["first_contact"]["anyOf"] == [{"type": "boolean"}, {"type": "null"}]
    assert {"type": "integer", "minimum": 0, "maximum": 2**31 - 1} in [
        {k: v for k, v in alt.items() if k != "title"} for alt in op["base_version"]["anyOf"]]


# --- the terminal reads the server's answers as strictly -------------------------------------

ACCOUNT = {"number": "1000000001", "holder_name": "陈伟", "id_type": "resident_id",
           "id_number": None, "phone": None, "supply_address": "广州市天河区天河路1号",
           "mailing_address": None, "status": "active", "version": 3, "district": "GZ-TH",
           "arrears_fen": 0, "sms_consent": True, "sms_language": "zh", "community": None,
           "seq": 7}


def _answering(body: dict[str, Any]) -> ServerApi:
    return ServerApi("http://hall.invalid", transport=httpx.MockTransport(
        lambda _request: httpx.Response(200, json=body)))


def _changes(**account: Any) -> dict[str, Any]:
    return {"accounts": [{**ACCOUNT, **account}], "next_cursor": 7, "more": False,
            "terminal": {"server_identity": "c0ffee", "server_time": "2026-11-25T02:00:00Z",
                         "last_receipt_no": None, "offline_window_hours": 72}}


def test_the_terminal_reads_a_changes_page_as_the_server_writes_it():
    page = _answering(_changes()).changes(0, 100)
    assert page.accounts[0].version == 3 and page.accounts[0].sms_consent is True


@pytest.mark.parametrize("account", [
    {"version": "3"}, {"sms_consent": "true"}, {"arrears_fen": 1.0}, {"holder_name": 5},
    {"seq": "7"}], ids=["version-as-text", "consent-as-text", "fen-as-float", "name-as-number",
                        "seq-as-text"])
def test_the_terminal_refuses_an_answer_of_other_json_types(account):
    with pytest.raises(ServerUnreachable, match="unreadable answer"):
        _answering(_changes(**account)).changes(0, 100)
