"""Attacks with a clerk's own password and the public API: what a terminal claims in a push
(receipt numbers, clerks, clocks) is refused with its reason when the server cannot prove it,
and nothing of it is stored. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hallserver.__main__ import main
from hallserver.identity import database_identity, mark_restored
from hallserver.models import AuditEntryRow, OperationRow
from tests.support.server import (
    SUPERVISOR_PASSWORD,
    holder_of,
    logged_in,
    seeded_client,
)

TH, YX = "GZ-TH-01", "GZ-YX-01"


@pytest.fixture
def client(server_engine):
    yield from seeded_client(server_engine, accounts=200, halls=2)


@pytest.fixture
def th(client):
    return logged_in(client, TH, "T01", "gz-th-01-c1")


def suspendable(terminal, n=1):
    return [a for a in terminal.all_accounts() if a["status"] == "active" and a["id_number"]
            and not a["arrears_fen"]][:n]


def stored(engine):
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(OperationRow))


def refused(terminal, op, code):
    [result] = terminal.push(op)
    assert (result["outcome"], result["code"]) == ("rejected", code), result
    assert result["reason"]["zh"] and result["reason"]["en"]
    return result


def audit_verifies(engine, capsys):
    url = engine.url.render_as_string(hide_password=False)
    assert main(["audit", "verify", "--db", url]) == 0, capsys.readouterr().out


def test_another_terminals_receipt_number_is_refused_and_its_owner_keeps_it(
        client, th, server_engine, capsys):
    other = logged_in(client, TH, "T02", "gz-th-01-c2")
    [account] = suspendable(th)
    theirs = other.operation("suspend", holder_of(account), account=account,
                             clerk="gz-th-01-c2")
    # T01 sends an operation under T02's next number, correctly signed with T01's own key.
    stolen = th.operation("suspend", holder_of(account), account=account)
    stolen["receipt_no"] = theirs["receipt_no"]
    stolen["receipt_signature"] = th.key.sign(
        f"hallclient-receipt|{theirs['receipt_no']}|{stolen['operation_id']}".encode())
    refused(th, stolen, "foreign_receipt")
    assert stored(server_engine) == 0
    # The owner's genuine request under that number is taken, and its receipt verifies.
    answer = other.push(theirs)[0]
    assert answer["outcome"] == "applied", answer["reason"]
    check = other.get(f"/receipts/{theirs['receipt_no']}",
                      signature=theirs["receipt_signature"]).json()
    assert check["signature_valid"]
    audit_verifies(server_engine, capsys)


def test_a_receipt_number_of_another_day_than_the_request_is_refused(th, server_engine):
    [account] = suspendable(th)
    op = th.operation("suspend", holder_of(account), account=account)
    op["created_at"] = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    refused(th, op, "foreign_receipt")
    assert stored(server_engine) == 0


@pytest.mark.parametrize("clerk", ["gz-yx-01-c1", "nobody-c9", "gz-th-01-c2"],
                         ids=["another-halls-clerk", "no-such-clerk", "never-logged-in-here"])
def test_an_operation_names_only_a_clerk_who_logged_in_at_this_terminal(
        th, server_engine, clerk):
    [account] = suspendable(th)
    refused(th, th.operation("suspend", holder_of(account), account=account, clerk=clerk),
            "unknown_clerk")
    assert stored(server_engine) == 0


def test_a_clerk_who_logged_in_here_may_be_named_while_another_session_pushes(th):
    [account] = suspendable(th)
    assert th.login("gz-th-01-c2").status_code == 200
    op = th.operation("suspend", holder_of(account), account=account, clerk="gz-th-01-c2")
    assert th.login("gz-th-01-c1").status_code == 200
    assert th.push(op)[0]["outcome"] == "applied"


@pytest.mark.parametrize(("offset", "code"), [
    (timedelta(days=365 * 4), "from_the_future"), (timedelta(minutes=30), "from_the_future"),
    (-timedelta(hours=80), "too_old"), (-timedelta(days=365 * 100), "too_old")])
def test_a_time_the_servers_clock_cannot_accept_is_refused(th, server_engine, offset, code):
    [account] = suspendable(th)
    op = th.operation("suspend", holder_of(account), account=account,
                      created_at=datetime.now(UTC) + offset)
    refused(th, op, code)
    assert stored(server_engine) == 0


def test_a_supervisor_at_the_terminal_extends_its_offline_window(client, th, server_engine,
                                                                 capsys):
    [account] = suspendable(th)
    old = th.operation("suspend", holder_of(account), account=account,
                       created_at=datetime.now(UTC) - timedelta(hours=80))
    refused(th, old, "too_old")
    # A clerk may not extend it, nor another hall's supervisor; this hall's, typing their
    # password at this terminal, may.
    def extend(supervisor, password):
        return th.client.post("/api/v1/terminal/offline-window", headers=th.headers, json={
            "hours": 48, "supervisor": supervisor, "password": password})

    assert extend("gz-th-01-c1", "demo-clerk").json()["code"] == "not_a_supervisor_here"
    assert extend("gz-yx-01-s1", SUPERVISOR_PASSWORD).status_code == 403
    assert extend("gz-th-01-s1", "wrong-password").json()["code"] == (
        "bad_supervisor_credentials")
    assert th.push(old)[0]["code"] == "too_old"
    facts = extend("gz-th-01-s1", SUPERVISOR_PASSWORD).json()
    assert facts["offline_window_hours"] == 72 + 48
    assert th.push(old)[0]["outcome"] == "applied"
    with Session(server_engine) as s:
        actions = s.scalars(select(AuditEntryRow.action).where(AuditEntryRow.hall_id == TH))
        assert "offline_window_extended" in list(actions)
    audit_verifies(server_engine, capsys)


def test_an_operation_id_of_another_terminal_tells_nothing(client, th, server_engine):
    [account] = suspendable(th)
    mine = th.operation("suspend", holder_of(account), account=account)
    assert th.push(mine)[0]["outcome"] == "applied"
    other = logged_in(client, TH, "T02", "gz-th-01-c2")
    replay = other.operation("suspend", holder_of(account), account=account,
                             clerk="gz-th-01-c2")
    replay["operation_id"] = mine["operation_id"]
    replay["receipt_signature"] = other.key.sign(
        f"hallclient-receipt|{replay['receipt_no']}|{mine['operation_id']}".encode())
    result = refused(other, replay, "bad_signature")
    assert result.get("account") is None and result.get("first_outcome") is None


def test_the_terminal_learns_its_last_receipt_number_from_the_server(th):
    [account] = suspendable(th)
    op = th.operation("suspend", holder_of(account), account=account)
    assert th.get("/terminal").json()["last_receipt_no"] is None
    th.push(op)
    facts = th.get("/terminal").json()
    assert facts["last_receipt_no"] == op["receipt_no"]
    again = th.login("gz-th-01-c1").json()["terminal"]
    assert again["last_receipt_no"] == op["receipt_no"]
    assert again["server_identity"] == facts["server_identity"]


def test_a_restore_gives_the_database_a_new_identity(server_engine, client):
    with Session(server_engine) as s:
        before = database_identity(s)
        assert database_identity(s) == before  # stable while nothing is restored
        after = mark_restored(s)
        s.commit()
    assert after != before


def _approval(terminal, op, supervisor="gz-th-01-s1", password=SUPERVISOR_PASSWORD):
    return terminal.client.post("/api/v1/approve", headers=terminal.headers, json={
        "supervisor": supervisor, "password": password, "operation_id": op["operation_id"],
        "business_type": op["business_type"], "account_number": op["account_number"]})


def test_a_sign_off_is_applied_only_with_its_proof_and_only_once(th, server_engine, capsys):
    a, b = suspendable(th, 2)
    # Naming an active supervisor of the hall proves nothing.
    named = {**th.operation("close", holder_of(a), account=a), "approved_by": "gz-th-01-s1"}
    refused(th, named, "no_sign_off")
    assert stored(server_engine) == 0
    # An approval for this operation, from the supervisor's password, is applied...
    op = th.operation("close", holder_of(a), account=a)
    approval = _approval(th, op).json()
    signed = {**op, "approved_by": "gz-th-01-s1", "approval_token": approval["token"]}
    assert th.push(signed)[0]["outcome"] == "applied"
    # ...once: the same token on another operation (another account) is refused.
    reused = {**th.operation("close", holder_of(b), account=b), "approved_by": "gz-th-01-s1",
              "approval_token": approval["token"]}
    refused(th, reused, "no_sign_off")
    # And it names the supervisor who gave it: another one's name with it is refused.
    other = th.operation("close", holder_of(b), account=b)
    token = _approval(th, other).json()["token"]
    refused(th, {**other, "approved_by": "gz-th-01-c1", "approval_token": token},
            "no_sign_off")
    assert stored(server_engine) == 1
    with Session(server_engine) as s:
        actions = list(s.scalars(select(AuditEntryRow.action).where(
            AuditEntryRow.subject == op["operation_id"])))
    assert actions == ["approval", "push"]
    audit_verifies(server_engine, capsys)


def test_an_approval_needs_the_supervisors_password(th, server_engine):
    [a] = suspendable(th)
    op = th.operation("close", holder_of(a), account=a)
    assert _approval(th, op, password="guess").json()["code"] == "bad_supervisor_credentials"
    assert _approval(th, op, "gz-th-01-c2", "demo-clerk").json()["code"] == (
        "not_a_supervisor_here")
    assert _approval(th, op, "gz-yx-01-s1").json()["code"] == "not_a_supervisor_here"


def test_a_supervisor_who_signed_off_here_may_be_named_by_this_terminal(th):
    # Their password was checked at this terminal: they may work here offline later.
    a, b = suspendable(th, 2)
    assert _approval(th, th.operation("close", holder_of(a), account=a)).status_code == 200
    own = th.operation("suspend", holder_of(b), account=b, clerk="gz-th-01-s1")
    assert th.push(own)[0]["outcome"] == "applied"


def test_what_a_push_proves_is_read_once_per_batch_not_per_operation(th, server_engine):
    from sqlalchemy import event

    accounts = suspendable(th, 20)
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(server_engine, "before_cursor_execute", record)
    try:
        results = th.push(*[th.operation("suspend", holder_of(a), account=a)
                            for a in accounts])
    finally:
        event.remove(server_engine, "before_cursor_execute", record)
    assert {r["outcome"] for r in results} == {"applied"}
    # The clerk, their login here and the terminal's keys: once for the 20 operations (a
    # query per operation would also flush the batch's changes each time). The bearer
    # token's own query is not the push's.
    pushed = [s for s in seen if "FROM tokens" not in s]
    for table in ("FROM clerks", "FROM terminal_clerks", "FROM terminal_keys"):
        assert sum(table in s and "SELECT" in s for s in pushed) == 1, table
    # The 20 accounts changed are written by one statement, not flushed one by one (as
    # locking the hall's audit chain after the decisions once did).
    assert sum(s.startswith("UPDATE accounts") for s in pushed) == 1
