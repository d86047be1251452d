"""The server's audit trail on SQLite and PostgreSQL: what is recorded, and `audit verify`."""

import json
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from hallcore.db.engine import writer
from hallserver.__main__ import main
from hallserver.audit import ChainReport, append_audit, verify_audit
from hallserver.models import AuditEntryRow, AuditHeadRow, Base
from tests.support.server import CLERK_PASSWORD, Terminal, holder_of, logged_in, seeded_client

TH, YX = "GZ-TH-01", "GZ-YX-01"


@pytest.fixture
def client(server_engine):
    yield from seeded_client(server_engine, accounts=200, halls=2)


def clerk_at(client, hall, terminal="T01"):
    return logged_in(client, hall, terminal, f"{hall.lower()}-c1")


def suspendable(terminal):
    return [a for a in terminal.all_accounts()
            if a["status"] == "active" and a["id_number"] and not a["arrears_fen"]]


def entries(engine, hall_id):
    with Session(engine) as s:
        where = (AuditEntryRow.hall_id.is_(None) if hall_id is None
                 else AuditEntryRow.hall_id == hall_id)
        return s.scalars(select(AuditEntryRow).where(where).order_by(AuditEntryRow.id)).all()


def verify(engine, capsys):
    code = main(["audit", "verify", "--db", engine.url.render_as_string(hide_password=False)])
    return code, capsys.readouterr().out


@pytest.fixture
def trail(client, server_engine):
    """Logins, refusals, pushes and a logout at both halls; the accounts pushed for."""
    th, yx = clerk_at(client, TH), clerk_at(client, YX)
    assert Terminal(client, TH, "T02").login("gz-th-01-c1", "Geheim-42x").status_code == 401
    assert Terminal(client, TH, "T02").login("nobody-c9").status_code == 401
    assert Terminal(client, YX, "T02").login("gz-th-01-c1").status_code == 403
    a, b = suspendable(th)[:2]
    forged = th.operation("suspend", holder_of(b), account=b)
    forged["receipt_signature"] = "0" * 128
    outcomes = [r["outcome"] for r in th.push(
        th.operation("suspend", holder_of(a), account=a),
        th.operation("resume", holder_of(b), account=b), forged)]
    assert outcomes == ["applied", "rejected", "rejected"]
    c = suspendable(yx)[0]
    assert yx.push(yx.operation("suspend", holder_of(c), account=c))[0]["outcome"] == "applied"
    assert client.post("/api/v1/logout", headers=th.headers).status_code == 204
    return [a, b, c]


def test_logins_pushes_and_logouts_are_chained_per_hall(trail, server_engine, capsys):
    th = entries(server_engine, TH)
    assert [(e.action, e.terminal_id, e.actor) for e in th] == [
        # a new terminal: it waits, an operator approves it, then the clerk logs in
        ("terminal_pending", "T01", "gz-th-01-c1"), ("login_refused", "T01", "gz-th-01-c1"),
        ("terminal_approved", "T01", "operator"), ("login", "T01", "gz-th-01-c1"),
        ("login_refused", "T02", "gz-th-01-c1"),  # wrong password
        ("login_refused", "T02", "gz-th-01-c1"),  # at another hall
        ("push", "T01", "gz-th-01-c1"), ("push", "T01", "gz-th-01-c1"),
        # the forged one: refused, not stored, but on the record
        ("push_refused", "T01", "gz-th-01-c1"), ("logout", "T01", "gz-th-01-c1")]
    assert [e.detail.get("reason") for e in th[4:6]] == ["wrong_password", "wrong_hall"]
    assert [e.detail["outcome"] for e in th[6:8]] == ["applied", "rejected"]
    assert th[8].detail["code"] == "bad_signature"
    assert th[6].detail["account_number"] == trail[0]["number"]
    [unknown] = entries(server_engine, None)
    assert (unknown.action, unknown.actor, unknown.detail) == (
        "login_refused", "nobody-c9", {"reason": "unknown_clerk", "at_hall": TH})
    assert [e.action for e in entries(server_engine, YX)] == [
        "terminal_pending", "login_refused", "terminal_approved", "login", "push"]

    code, out = verify(server_engine, capsys)
    assert code == 0, out
    assert out.splitlines() == [f"{TH}: 10 entries, intact", f"{YX}: 5 entries, intact",
                                "server: 1 entries, intact"]


def test_trail_holds_no_personal_data_and_no_password(trail, server_engine):
    with Session(server_engine) as s:
        details = json.dumps([e.detail for e in s.scalars(select(AuditEntryRow))],
                             ensure_ascii=False)
    personal = [a[k] for a in trail for k in ("holder_name", "id_number", "phone") if a[k]]
    assert personal and not [p for p in personal if p in details]
    assert "Geheim-42x" not in details and CLERK_PASSWORD not in details


def test_edited_entry_is_named_by_audit_verify(trail, server_engine, capsys):
    edited = entries(server_engine, TH)[4]
    with Session(server_engine) as s, s.begin():
        s.execute(update(AuditEntryRow).where(AuditEntryRow.id == edited.id)
                  .values(detail={**edited.detail, "outcome": "rejected"}))
    code, out = verify(server_engine, capsys)
    assert code == 1
    assert f"{TH}: 10 entries, BROKEN at entry {edited.id}: its content does not match" in out
    assert f"{YX}: 5 entries, intact" in out


def test_deleted_entry_breaks_the_chain_at_the_next(trail, server_engine, capsys):
    th = entries(server_engine, TH)
    with server_engine.begin() as conn:
        conn.execute(text("DELETE FROM audit WHERE id = :id"), {"id": th[3].id})
    code, out = verify(server_engine, capsys)
    assert code == 1
    assert f"{TH}: 9 entries, BROKEN at entry {th[4].id}: it does not follow entry " \
           f"{th[2].id}" in out


def test_deleted_last_entry_is_caught_by_the_head_row(trail, client, server_engine, capsys):
    last = entries(server_engine, TH)[-1]
    with server_engine.begin() as conn:
        conn.execute(text("DELETE FROM audit WHERE id = :id"), {"id": last.id})
    code, out = verify(server_engine, capsys)
    assert code == 1
    assert f"BROKEN at entry {last.id}: the chain ends at entry " in out
    assert "entries at its end were removed" in out
    # Later entries chain on from the head, so the gap stays visible (even where SQLite
    # gives the next entry the removed one's id).
    clerk_at(client, TH, "T05")
    code, out = verify(server_engine, capsys)
    first_new = entries(server_engine, TH)[9]
    assert code == 1 and f"BROKEN at entry {first_new.id}: it does not follow" in out


def test_deleted_head_row_is_caught(trail, server_engine, capsys):
    with server_engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_heads WHERE chain = :c"), {"c": YX})
    code, out = verify(server_engine, capsys)
    assert code == 1 and "head row is missing" in out


def test_concurrent_pushes_from_two_halls_keep_both_chains_intact(client, server_engine,
                                                                  capsys):
    halls = [(hall, f"T{i:02d}") for hall in (TH, YX) for i in range(4)]
    with ThreadPoolExecutor(12) as pool:
        # The first entries of a hall, written at once, create its head row once.
        terminals = list(pool.map(lambda where: clerk_at(client, *where), halls))
        pushes = []
        for hall in (TH, YX):
            own = [t for t in terminals if t.hall_id == hall]
            accounts = suspendable(own[0])
            pushes += [(t, t.operation("suspend", holder_of(a), account=a))
                       for t, a in zip(own * 3, accounts[:12], strict=True)]
        results = list(pool.map(lambda pair: pair[0].push(pair[1])[0], pushes))
    assert {r["outcome"] for r in results} == {"applied"}
    for hall in (TH, YX):
        trail = entries(server_engine, hall)
        assert sum(e.action == "push" for e in trail) == 12
    code, out = verify(server_engine, capsys)
    assert code == 0, out
    # Each new terminal: pending, refused, approved, logged in (4 each); 12 pushes.
    assert out.splitlines() == [f"{TH}: 28 entries, intact", f"{YX}: 28 entries, intact"]
    with Session(server_engine) as s:
        heads = {h.chain: h.last_id for h in s.scalars(select(AuditHeadRow))}
    assert heads == {TH: entries(server_engine, TH)[-1].id,
                     YX: entries(server_engine, YX)[-1].id}


def test_first_entries_of_a_new_chain_written_at_once_create_one_head(server_engine):
    writers = 8
    ready = threading.Barrier(writers)

    def append(n):
        with Session(writer(server_engine)) as s, s.begin():
            ready.wait(5)
            append_audit(s, hall_id="GZ-NEW-01", terminal_id=f"T{n:02d}", actor="gz-new-01-c1",
                         action="login", subject=None, detail={})

    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(append, range(writers)))
    assert verify_audit(server_engine) == [ChainReport("GZ-NEW-01", writers, None)]


def test_verify_exits_2_on_a_database_it_cannot_check(tmp_path, capsys):
    assert main(["audit", "verify", "--db", f"sqlite+pysqlite:///{tmp_path / 'none.db'}"]) == 2
    assert "hallserver migrate" in capsys.readouterr().err
    assert main(["audit", "verify", "--db", "nonsense://"]) == 2
    with pytest.raises(SystemExit) as usage:
        main(["audit"])
    assert usage.value.code == 2


def test_verify_from_the_command_line(tmp_path):
    url = f"sqlite+pysqlite:///{tmp_path / 'db.sqlite3'}"
    assert main(["migrate", "--db", url]) == 0
    done = subprocess.run([sys.executable, "-m", "hallserver", "audit", "verify", "--db", url],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "no audit entries yet\n")


def test_server_migrations_match_the_models(server_engine):
    with server_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
