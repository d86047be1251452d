"""The central server's API, run on SQLite and on PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hallcore.wire import (
    API_PREFIX,
    MAX_PUSH_BATCH,
)
from hallserver import security
from hallserver.app import create_app
from hallserver.models import ClerkRow, NotificationRow, OperationRow, WorkItemRow
from hallserver.seed import seed
from hallserver.settings import ServerSettings
from tests.support.factories import NEW_CONNECTION
from tests.support.server import (
    SUPERVISOR_PASSWORD,
    Terminal,
    holder_of,
    logged_in,
    seeded_client,
)

TH, YX = "GZ-TH-01", "GZ-YX-01"


@pytest.fixture
def client(server_engine):
    yield from seeded_client(server_engine, accounts=400, halls=2,
                             settings=ServerSettings(max_body_bytes=64 * 1024))


@pytest.fixture
def th(client):
    return logged_in(client, TH, "T01", "gz-th-01-c1")


@pytest.fixture
def yx(client):
    return logged_in(client, YX, "T01", "gz-yx-01-c1")


def first(accounts, **wanted):
    """The first account with the wanted fields, an ID on record and nothing owed."""
    def matches(a):
        return all(a[k] == v for k, v in wanted.items()) and a["id_number"] and not a[
            "arrears_fen"]
    return next(a for a in accounts if matches(a))


def count(engine, model):
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(model))


# --- health and the description of the API ---------------------------------------------------


# --- login -----------------------------------------------------------------------------------


def test_wrong_password_is_refused_in_both_languages(client):
    response = Terminal(client, TH, "T09").login("gz-th-01-c1", "guess")
    assert response.status_code == 401
    error = response.json()
    assert error["code"] == "bad_credentials"
    assert error["message"]["zh"] and "password" in error["message"]["en"]


@pytest.mark.parametrize("who", ["gz-th-01-c1", "no-such-clerk", "inactive"])
def test_a_refused_login_checks_one_password_hash_whoever_it_names(client, server_engine,
                                                                   monkeypatch, who):
    """The same work for a wrong password, a login that does not exist and one that is not
    active: the answer's time does not tell which logins exist."""
    if who == "inactive":
        with Session(server_engine) as s, s.begin():
            s.get(ClerkRow, "gz-th-01-c2").active = False
        who = "gz-th-01-c2"
    checked = []

    class Counting(PasswordHasher):
        def verify(self, stored, password):
            checked.append(stored)
            return super().verify(stored, password)

    monkeypatch.setattr(security, "_ARGON2", Counting(time_cost=1, memory_cost=8,
                                                      parallelism=1))
    response = Terminal(client, TH, "T09").login(who, "guess")
    assert response.status_code == 401 and response.json()["code"] == "bad_credentials"
    assert len(checked) == 1


def test_clerk_cannot_log_in_at_another_hall(client):
    response = Terminal(client, YX, "T09").login("gz-th-01-c1")
    assert response.status_code == 403 and response.json()["code"] == "wrong_hall"


def test_a_new_terminal_works_only_once_a_supervisor_of_its_hall_approved_it(client):
    new = Terminal(client, TH, "T09")
    refused = new.login("gz-th-01-c1", approve=False)
    assert refused.status_code == 403 and refused.json()["code"] == "terminal_not_approved"
    assert "hallserver terminals approve GZ-TH-01 T09" in refused.json()["message"]["en"]
    assert new.login("gz-th-01-c1", approve=False).status_code == 403  # still waiting
    # Another hall's supervisor cannot approve it; this hall's can, by logging in there.
    assert new.login("gz-yx-01-s1", SUPERVISOR_PASSWORD, approve=False).status_code == 403
    assert new.login("gz-th-01-s1", SUPERVISOR_PASSWORD, approve=False).status_code == 200
    assert new.login("gz-th-01-c1", approve=False).status_code == 200


def test_a_second_installation_with_the_same_terminal_id_waits_for_approval(client, th):
    impostor = Terminal(client, TH, th.terminal_id)
    response = impostor.login("gz-th-01-c2", approve=False)
    assert response.status_code == 403 and response.json()["code"] == "terminal_key_differs"
    # The registered installation goes on working.
    assert th.login("gz-th-01-c2", approve=False).status_code == 200
    # Once a supervisor approves the new one (a reinstalled PC), the old key is retired.
    assert impostor.login("gz-th-01-s1", SUPERVISOR_PASSWORD, approve=False).status_code == 200
    assert th.login("gz-th-01-c2", approve=False).json()["code"] == "terminal_retired"
    # and its sessions ended with it
    assert th.get("/changes").status_code in (401, 403)


def test_a_terminal_id_with_a_dash_is_not_registered(client):
    response = Terminal(client, TH, "T-1").login("gz-th-01-s1", SUPERVISOR_PASSWORD)
    assert response.status_code == 422 and response.json()["code"] == "terminal_id_invalid"


def test_a_login_must_prove_the_installation_key(client, th):
    body = th.login_body("gz-th-01-c1")
    forged = Terminal(client, TH, th.terminal_id)  # knows the public key, not the private one
    body["terminal_proof"] = forged.login_body("gz-th-01-c1")["terminal_proof"]
    response = client.post(f"{API_PREFIX}/login", json=body)
    assert response.status_code == 401 and response.json()["code"] == "terminal_proof_invalid"


def test_a_login_from_a_clock_far_off_the_servers_is_refused_with_the_offset(client, th):
    late = datetime.now(UTC) - timedelta(minutes=42)
    response = client.post(f"{API_PREFIX}/login", json=th.login_body("gz-th-01-c1",
                                                                       signed_at=late))
    assert response.status_code == 403 and response.json()["code"] == "clock_off"
    assert "-42 minutes" in response.json()["message"]["en"]


def test_refresh_gives_new_access_tokens_until_logout(client):
    terminal = Terminal(client, TH, "T05")
    refresh = terminal.login("gz-th-01-c1").json()["refresh_token"]
    for _ in range(2):  # repeatable: a terminal that crashed mid-refresh is not locked out
        renewed = client.post(f"{API_PREFIX}/refresh", json={"refresh_token": refresh})
        assert renewed.status_code == 200 and renewed.json()["refresh_token"] == refresh
    terminal.token = renewed.json()["access_token"]
    assert terminal.get("/changes").status_code == 200
    assert client.post(f"{API_PREFIX}/logout", headers=terminal.headers).status_code == 204
    assert client.post(f"{API_PREFIX}/refresh", json={"refresh_token": refresh}).status_code == 401


def test_expired_refresh_token_is_refused(server_engine):
    seed(server_engine, accounts=10, halls=1)
    app = create_app(server_engine, ServerSettings(refresh_token_ttl=timedelta(seconds=-1)))
    with TestClient(app) as c:
        refresh = Terminal(c, TH, "T05").login("gz-th-01-c1").json()["refresh_token"]
        response = c.post(f"{API_PREFIX}/refresh", json={"refresh_token": refresh})
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_logout_revokes_the_token(th):
    assert th.client.post(f"{API_PREFIX}/logout", headers=th.headers).status_code == 204
    assert th.get("/changes").status_code == 401


# --- bootstrap and pull ----------------------------------------------------------------------


def test_pull_returns_changes_after_the_cursor_in_order(th, yx):
    cursor = th.get("/bootstrap", limit=1).json()["cursor"]
    assert th.get("/changes", after=cursor).json()["accounts"] == []
    account = first(th.all_accounts(), status="active")
    [result] = th.push(th.operation("suspend", holder_of(account), account=account))
    assert result["outcome"] == "applied"
    page = th.get("/changes", after=cursor).json()
    assert [a["number"] for a in page["accounts"]] == [account["number"]]
    assert page["next_cursor"] == cursor + 1 and page["accounts"][0]["seq"] == cursor + 1
    assert page["more"] is False
    # Another district's terminal never sees it.
    assert account["number"] not in {a["number"] for a in yx.get("/changes").json()["accounts"]}


def test_pull_pages_say_when_there_is_more(th):
    page = th.get("/changes", after=0, limit=150).json()
    assert len(page["accounts"]) == 150 and page["more"] is True
    rest = th.get("/changes", after=page["next_cursor"], limit=150).json()
    assert len(rest["accounts"]) == 50 and rest["more"] is False


# --- push ------------------------------------------------------------------------------------


def test_applied_change_raises_the_version(th):
    account = first(th.all_accounts(), status="active")
    [result] = th.push(th.operation("suspend", holder_of(account), account=account))
    assert result["outcome"] == "applied"
    assert result["account"]["status"] == "suspended"
    assert result["account"]["version"] == account["version"] + 1


def test_repeated_operation_is_applied_once_and_answered_the_same(th, server_engine):
    account = first(th.all_accounts(), status="active")
    op = th.operation("suspend", holder_of(account), account=account)
    [once] = th.push(op)
    [again] = th.push(op)
    assert again["outcome"] == "duplicate" and again["first_outcome"] == "applied"
    assert again["account"] == once["account"]
    assert count(server_engine, OperationRow) == 1


def test_stale_base_version_is_a_conflict_with_the_current_account(th):
    account = first(th.all_accounts(), status="active")
    th.push(th.operation("suspend", holder_of(account), account=account))
    [result] = th.push(th.operation("close", holder_of(account), account=account))
    assert result["outcome"] == "conflict"
    assert result["account"]["status"] == "suspended"
    assert result["account"]["version"] == account["version"] + 1
    assert "version" in result["reason"]["en"]


def test_rule_refusal_is_rejected_with_the_domain_reason(th):
    account = first(th.all_accounts(), status="active")
    [result] = th.push(th.operation("resume", holder_of(account), account=account))
    assert result["outcome"] == "rejected"
    assert "suspended" in result["reason"]["en"] and result["reason"]["zh"]
    # The terminal gets the account as it stands, to set its cache back.
    assert result["account"] == account


def test_rejection_tells_a_consenting_customer(th, server_engine):
    account = first(th.all_accounts(), status="active", sms_consent=True)
    assert account["phone"]
    op = th.operation("resume", holder_of(account), account=account)
    [result] = th.push(op)
    with Session(server_engine) as s:
        [note] = s.scalars(select(NotificationRow)).all()
    assert note.notice == "rejected" and note.phone == account["phone"]
    assert op["receipt_no"] in note.text
    # The reason in the customer's language, as the sentence it is.
    language = account["sms_language"]
    assert ("未能办理" if language == "zh" else "could not be") in note.text
    assert note.text.endswith(result["reason"][language]) and "zh=" not in note.text


def test_a_request_whose_form_could_not_be_read_texts_nobody(th, server_engine):
    """Fields the server cannot read are the terminal's fault, not a refusal of anything the
    customer asked for (and many such pushes would send the customer as many texts)."""
    account = first(th.all_accounts(), status="active", sms_consent=True)
    results = th.push(*(th.operation("rename", {"junk": i}, account=account) for i in range(3)))
    assert all(r["outcome"] == "rejected" and r["field_errors"] for r in results)
    with Session(server_engine) as s:
        assert s.scalars(select(NotificationRow)).all() == []


def test_invalid_payload_is_rejected_field_by_field(th):
    account = first(th.all_accounts(), status="active")
    payload = {**holder_of(account), "resume_on": "soon"}
    [result] = th.push(th.operation("suspend", payload, account=account))
    assert result["outcome"] == "rejected"
    assert set(result["field_errors"]) == {"resume_on"}


def test_account_of_another_district_is_out_of_reach(th, yx):
    other = first(yx.all_accounts(), status="active")
    [result] = th.push(th.operation("suspend", holder_of(other), account=other))
    assert result["outcome"] == "rejected" and other["number"] in result["reason"]["en"]


def test_forged_receipt_signature_is_rejected_and_tells_nobody(th, server_engine):
    account = first(th.all_accounts(), status="active")
    op = th.operation("suspend", holder_of(account), account=account)
    op["receipt_signature"] = "0" * 128
    [result] = th.push(op)
    assert result["outcome"] == "rejected" and "signature" in result["reason"]["en"]
    assert result["code"] == "bad_signature"
    assert count(server_engine, NotificationRow) == count(server_engine, OperationRow) == 0


def test_batch_answers_each_operation_in_order(th):
    accounts = [a for a in th.all_accounts() if a["status"] == "active" and a["id_number"]]
    ops = [th.operation("suspend", holder_of(a), account=a) for a in accounts[:3]]
    ops.insert(1, th.operation("resume", holder_of(accounts[4]), account=accounts[4]))
    results = th.push(*ops)
    assert [r["operation_id"] for r in results] == [o["operation_id"] for o in ops]
    assert [r["outcome"] for r in results] == ["applied", "rejected", "applied", "applied"]


# --- new connections, work items, notifications ----------------------------------------------


def test_new_connection_opens_an_account_with_work_items(th, server_engine):
    [result] = th.push(th.operation("new_connection", NEW_CONNECTION))
    assert result["outcome"] == "applied"
    opened = result["account"]
    assert opened["number"].startswith("10") and opened["status"] == "pending_connection"
    items = th.get(f"/halls/{TH}/work-items", within_hours=24 * 10).json()["items"]
    assert [i["step"] for i in items] == ["site_survey", "energise"]
    assert all(i["account_number"] == opened["number"] and not i["overdue"] for i in items)
    assert items[0]["due_at"] < items[1]["due_at"]


def test_new_connections_take_account_numbers_in_order_none_skipped(th):
    # The batch's numbers are taken at once; one its refused request did not use is given back.
    refused = {**NEW_CONNECTION, "phone": "020-87654321", "sms_consent": True}
    results = th.push(*[th.operation("new_connection", payload)
                        for payload in (NEW_CONNECTION, refused, NEW_CONNECTION)])
    assert [r["outcome"] for r in results] == ["applied", "rejected", "applied"]
    [later] = th.push(th.operation("new_connection", NEW_CONNECTION))
    numbers = [int(r["account"]["number"]) for r in (results[0], results[2], later)]
    assert numbers == list(range(numbers[0], numbers[0] + 3))


def test_overdue_items_are_listed_as_overdue(th, server_engine):
    th.push(th.operation("new_connection", NEW_CONNECTION))
    assert th.get(f"/halls/{TH}/work-items", state="overdue").json()["items"] == []
    with Session(server_engine) as s, s.begin():
        for item in s.scalars(select(WorkItemRow)):
            item.due_at = item.due_at.replace(year=2020)
    overdue = th.get(f"/halls/{TH}/work-items", state="overdue").json()["items"]
    assert len(overdue) == 2 and all(i["overdue"] for i in overdue)


def test_every_open_work_item_of_the_hall_is_listed_overdue_first(th, yx, server_engine):
    th.push(th.operation("new_connection", NEW_CONNECTION))
    account = first(th.all_accounts(), status="active")
    th.push(th.operation("suspend", holder_of(account), account=account))
    yx.push(yx.operation("new_connection", NEW_CONNECTION))
    now = datetime.now(UTC)
    with Session(server_engine) as s, s.begin():
        survey, energise, complete = s.scalars(
            select(WorkItemRow).where(WorkItemRow.hall_id == TH).order_by(WorkItemRow.id))
        survey.due_at = now + timedelta(days=30)
        energise.due_at = now - timedelta(hours=3)
        complete.due_at = now + timedelta(hours=2)
        energise_id = energise.id
    items = th.get(f"/halls/{TH}/work-items").json()["items"]
    assert [(i["step"], i["overdue"]) for i in items] == [
        ("energise", True), ("complete", False), ("site_survey", False)]
    within_a_day = th.get(f"/halls/{TH}/work-items", within_hours=24).json()["items"]
    assert [i["step"] for i in within_a_day] == ["energise", "complete"]
    th.client.post(f"{API_PREFIX}/work-items/{energise_id}/done", headers=th.headers)
    assert [i["step"] for i in th.get(f"/halls/{TH}/work-items").json()["items"]] == [
        "complete", "site_survey"]


def test_applied_operation_queues_its_notice_once(th, server_engine):
    op = th.operation("new_connection", NEW_CONNECTION)
    th.push(op)
    th.push(op)
    with Session(server_engine) as s:
        notes = s.scalars(select(NotificationRow)).all()
    assert [(n.notice, n.phone) for n in notes] == [("accepted", "13800138000")]
    assert op["receipt_no"] in notes[0].text


def test_no_notice_without_consent(th, server_engine):
    [result] = th.push(th.operation("new_connection", {**NEW_CONNECTION, "sms_consent": False}))
    assert result["outcome"] == "applied"
    assert count(server_engine, NotificationRow) == 0


# --- receipts --------------------------------------------------------------------------------


def test_receipt_verification(th):
    account = first(th.all_accounts(), status="active")
    op = th.operation("suspend", holder_of(account), account=account)
    th.push(op)
    good = th.get(f"/receipts/{op['receipt_no']}", signature=op["receipt_signature"]).json()
    assert good["known"] and good["signature_valid"]
    assert good["outcome"] == "applied" and good["business_type"] == "suspend"
    forged = th.get(f"/receipts/{op['receipt_no']}", signature="f" * 128).json()
    # A wrong signature says no more than an unknown number would: whether a receipt number
    # exists is told only to whoever holds the receipt.
    unknown = th.get("/receipts/NO-SUCH-RECEIPT", signature="f" * 128).json()
    assert forged == unknown | {"receipt_no": op["receipt_no"]} == {
        "receipt_no": op["receipt_no"], "known": False, "signature_valid": False}


# --- bad input -------------------------------------------------------------------------------


def test_unknown_business_type_is_a_422_naming_the_field(th):
    op = th.operation("suspend", {})
    op["business_type"] = "free_electricity"
    response = th.client.post(f"{API_PREFIX}/push", json={"operations": [op]}, headers=th.headers)
    assert response.status_code == 422
    assert any("business_type" in k for k in response.json()["fields"])


def test_oversized_batch_is_refused_whole(th, server_engine):
    account = first(th.all_accounts(), status="active")
    ops = [th.operation("suspend", holder_of(account), account=account)
           for _ in range(MAX_PUSH_BATCH + 1)]
    response = th.client.post(f"{API_PREFIX}/push", json={"operations": ops}, headers=th.headers)
    assert response.status_code in (413, 422)
    assert count(server_engine, OperationRow) == 0


def test_energising_completes_a_new_connection_and_tells_the_customer(th, server_engine):
    [result] = th.push(th.operation("new_connection", NEW_CONNECTION))
    opened = result["account"]
    survey, energise = th.get(f"/halls/{TH}/work-items", within_hours=24 * 10).json()["items"]
    done = th.client.post(f"{API_PREFIX}/work-items/{survey['id']}/done", headers=th.headers)
    assert done.status_code == 200 and done.json()["done_at"]
    cursor = opened["seq"]
    assert th.get("/changes", after=cursor).json()["accounts"] == []  # not energised yet
    th.client.post(f"{API_PREFIX}/work-items/{energise['id']}/done", headers=th.headers)
    [energised] = th.get("/changes", after=cursor).json()["accounts"]
    assert energised["number"] == opened["number"]
    assert energised["status"] == "active" and energised["version"] == opened["version"] + 1
    with Session(server_engine) as s:
        assert [n.notice for n in s.scalars(select(NotificationRow).order_by(
            NotificationRow.id))] == ["accepted", "completed"]
    assert th.get(f"/halls/{TH}/work-items", within_hours=24 * 10).json()["items"] == []


def test_completing_twice_changes_nothing(th, server_engine):
    account = first(th.all_accounts(), status="active", sms_consent=True)
    th.push(th.operation("suspend", holder_of(account), account=account))
    [item] = th.get(f"/halls/{TH}/work-items", within_hours=24 * 10).json()["items"]
    assert item["step"] == "complete"
    for _ in range(2):
        response = th.client.post(f"{API_PREFIX}/work-items/{item['id']}/done",
                                  headers=th.headers)
        assert response.status_code == 200
    with Session(server_engine) as s:
        notices = [n.notice for n in s.scalars(select(NotificationRow))]
    assert sorted(notices) == ["accepted", "completed"]


def test_work_item_of_another_hall_cannot_be_completed(th, yx):
    th.push(th.operation("new_connection", NEW_CONNECTION))
    [survey, _] = th.get(f"/halls/{TH}/work-items", within_hours=24 * 10).json()["items"]
    response = yx.client.post(f"{API_PREFIX}/work-items/{survey['id']}/done", headers=yx.headers)
    assert response.status_code == 404 and response.json()["code"] == "work_item_not_found"


def test_unexpected_failure_is_a_json_500_that_logs_no_personal_data(server_engine, caplog):
    app = create_app(server_engine)

    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("holder 440106199203154429 phone 13800138000")

    with TestClient(app) as c:  # would raise here if the failure escaped to the server
        response = c.get("/api/v1/boom")
    assert response.status_code == 500 and response.json()["code"] == "internal_error"
    assert "RuntimeError" in caplog.text
    assert "440106199203154429" not in caplog.text and "13800138000" not in caplog.text


@pytest.mark.parametrize("change", [
    {"base_version": 10**30},
    {"receipt_no": "R\x00NUL"},
    {"account_number": "../../etc"},
    {"receipt_signature": "not hex at all, sixteen+"},
])
def test_values_a_database_cannot_hold_are_422_not_500(th, change):
    account = first(th.all_accounts(), status="active")
    op = {**th.operation("suspend", holder_of(account), account=account), **change}
    response = th.client.post(f"{API_PREFIX}/push", json={"operations": [op]},
                              headers=th.headers)
    assert response.status_code == 422, response.text



@pytest.mark.real_password_hashing
def test_an_old_scrypt_password_hash_becomes_argon2_at_the_next_login(client, server_engine):
    import hashlib

    from hallserver.models import ClerkRow
    salt = bytes(range(16))
    digest = hashlib.scrypt(b"demo-clerk", salt=salt, dklen=32, n=2**14, r=8, p=1)
    with Session(server_engine) as s, s.begin():
        s.get(ClerkRow, "gz-th-01-c2").password_hash = f"scrypt${salt.hex()}${digest.hex()}"
    assert Terminal(client, TH, "T05").login("gz-th-01-c2").status_code == 200
    with Session(server_engine) as s:
        upgraded = s.get(ClerkRow, "gz-th-01-c2").password_hash
    assert upgraded.startswith("$argon2id$") and "m=19456,t=2,p=1" in upgraded
    assert Terminal(client, TH, "T06").login("gz-th-01-c2").status_code == 200
    assert Terminal(client, TH, "T07").login("gz-th-01-c2", "guess").status_code == 401


def test_a_refused_field_is_said_in_chinese_too(th):
    """pydantic's usual refusals have Chinese of their own; the English stays beside it."""
    response = th.client.post("/api/v1/feedback", headers=th.headers, json={"items": [
        {"operation_id": "x" * 100, "rating": "satisfied", "extra": 1}]})
    assert response.status_code == 422
    fields = response.json()["fields"]
    assert fields["items.0.extra"]["zh"] == "不应有此项"
    assert fields["items.0.rated_at"]["zh"] == "缺少此项"
    assert "Field required" in fields["items.0.rated_at"]["en"]
    assert all("Input should" not in f["zh"] and "Field required" not in f["zh"]
               for f in fields.values())
