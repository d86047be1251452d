"""The central server's API where a test only reads: one seeded server per database for the
whole module (the tests that change what they read are in test_api.py)."""

import json

import pytest

from hallcore.wire import ACCOUNT_ROW_FIELDS, API_PREFIX, MAX_BOOTSTRAP_ROWS, BootstrapRows
from hallserver.db import SERVER_SCHEMA
from hallserver.settings import ServerSettings
from tests.support.server import logged_in, seeded_client

TH, YX = "GZ-TH-01", "GZ-YX-01"


@pytest.fixture(scope="module")
def client(server_engine_once):
    yield from seeded_client(server_engine_once, accounts=400, halls=2,
                             settings=ServerSettings(max_body_bytes=64 * 1024))


@pytest.fixture(scope="module")
def th(client):
    return logged_in(client, TH, "T01", "gz-th-01-c1")


@pytest.fixture(scope="module")
def yx(client):
    return logged_in(client, YX, "T01", "gz-yx-01-c1")


def test_health_reports_the_schema(client):
    body = client.get(f"{API_PREFIX}/health").json()
    assert body["status"] == "ok" and body["schema_revision"] == SERVER_SCHEMA.head()


def test_openapi_describes_every_route(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/login", "/refresh", "/logout", "/changes", "/bootstrap", "/bootstrap/rows",
                 "/push", "/receipts/{receipt_no}", "/halls/{hall_id}/work-items", "/health"):
        assert f"{API_PREFIX}{path}" in paths


def test_calls_without_a_valid_token_are_refused(client):
    assert client.get(f"{API_PREFIX}/changes").status_code == 401
    response = client.get(f"{API_PREFIX}/changes", headers={"Authorization": "Bearer nonsense"})
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_bootstrap_pages_give_the_districts_accounts_once(th, yx):
    th_accounts = th.all_accounts()
    numbers = [a["number"] for a in th_accounts]
    assert len(numbers) == len(set(numbers)) == 200
    assert {a["district"] for a in th_accounts} == {"GZ-TH"}
    assert not set(numbers) & {a["number"] for a in yx.all_accounts()}


def test_bootstrap_resumes_after_the_last_account_received(th):
    whole = [a["number"] for a in th.all_accounts()]
    page = th.get("/bootstrap", limit=50, after=whole[99]).json()
    assert [a["number"] for a in page["accounts"]] == whole[100:150]


def test_bootstrap_rows_are_the_same_pages_in_compact_form(th):
    first_page = th.get("/bootstrap", limit=70).json()
    accounts, after, pages = [], None, []
    while True:
        page = BootstrapRows.model_validate_json(
            th.get("/bootstrap/rows", limit=70, **({"after": after} if after else {})).content)
        codes = [code for code, *_ in page.communities]
        community = ACCOUNT_ROW_FIELDS.index("community_code")
        assert len(codes) == len(set(codes)) == len({row[community] for row in page.rows})
        accounts += [page.account(row).model_dump(mode="json") for row in page.rows]
        pages.append(page)
        if (after := page.next_after) is None:
            break
    assert accounts == th.all_accounts()
    assert [len(p.rows) for p in pages] == [70, 70, 60]
    assert pages[0].total == first_page["total"] == 200
    assert pages[0].cursor == first_page["cursor"] and pages[1].total is None


def test_work_items_of_another_hall_are_not_shown(th):
    response = th.get(f"/halls/{YX}/work-items")
    assert response.status_code == 403 and response.json()["code"] == "other_hall"


def test_malformed_json_is_a_clear_422(th):
    response = th.client.post(f"{API_PREFIX}/push", content=b"{not json",
                              headers={**th.headers, "Content-Type": "application/json"})
    assert response.status_code == 422 and response.json()["code"] == "invalid_request"


def test_body_over_the_size_limit_is_413(th):
    body = json.dumps({"operations": [], "padding": "x" * 70_000})
    response = th.client.post(f"{API_PREFIX}/push", content=body,
                              headers={**th.headers, "Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["code"] == "body_too_large"


def test_chunked_body_over_the_size_limit_is_413(th):
    """A body of no declared length (chunked) is refused by what arrives, not answered 400 by
    the app's body parsing."""
    padding = b"x" * 70_000

    def chunks():
        yield b'{"operations": [], "padding": "'
        for start in range(0, len(padding), 8192):
            yield padding[start:start + 8192]
        yield b'"}'

    response = th.client.post(f"{API_PREFIX}/push", content=chunks(),
                              headers={**th.headers, "Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["code"] == "body_too_large"


def test_chunked_body_under_the_size_limit_reaches_the_app(th):
    def chunks():
        yield b'{"operations": '
        yield b"[]}"

    response = th.client.post(f"{API_PREFIX}/push", content=chunks(),
                              headers={**th.headers, "Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.json()["results"] == []
    malformed = th.client.post(f"{API_PREFIX}/push", content=iter([b"{not", b" json"]),
                               headers={**th.headers, "Content-Type": "application/json"})
    assert malformed.status_code == 422 and malformed.json()["code"] == "invalid_request"


def test_bad_query_parameters_are_422_not_500(th):
    assert th.get("/changes", after=-1).status_code == 422
    assert th.get("/changes", limit=10**9).status_code == 422
    assert th.get("/bootstrap", after="x" * 50).status_code == 422
    assert th.get("/bootstrap/rows", limit=MAX_BOOTSTRAP_ROWS + 1).status_code == 422
    assert th.get("/bootstrap/rows", after="x" * 50).status_code == 422


def test_receipt_lookup_with_a_nul_character_is_422(th):
    assert th.get("/receipts/R%00X", signature="a" * 20).status_code == 422
    assert th.get("/bootstrap", after="';drop").status_code == 422
