"""`hallserver admin`: an operator creates districts, halls, communities and staff from an
empty database, one by one or as CSV files; every refusal changes nothing; one-time passwords
must be changed at the first login; deactivating, moving and resetting end the clerk's
sessions. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
import stat
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hallserver.__main__ import main
from hallserver.app import create_app
from hallserver.models import AccountRow, AuditEntryRow, ClerkRow, CommunityRow, HallRow
from hallserver.seed import seed
from tests.support.server import Terminal

HALL = "GZ-TH-01"


@pytest.fixture
def db(server_engine):
    return server_engine.url.render_as_string(hide_password=False)


@pytest.fixture
def admin(db, capsys):
    """Runs `hallserver admin …` on the test database: (exit code, stdout, stderr)."""
    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["admin", *argv, "--db", db])
        out, err = capsys.readouterr()
        return code, out, err
    return run


def one_time_password(out: str) -> str:
    [line] = [x for x in out.splitlines() if x.startswith("one-time password")]
    return line.rsplit(" ", 1)[1]


def audit_actions(engine) -> list[str]:
    with Session(engine) as s:
        return list(s.scalars(select(AuditEntryRow.action).order_by(AuditEntryRow.id)))


def a_hall(admin) -> None:
    assert admin("district", "add", "GZ-TH", "--name", "天河区", "--account-prefix", "10")[0] == 0
    assert admin("hall", "add", HALL, "--name", "天河营业厅", "--district", "GZ-TH",
                 "--opens", "09:00", "--closes", "17:00")[0] == 0


def staff(admin, login: str, role: str = "clerk", hall: str = HALL) -> str:
    code, out, err = admin("staff", "add", login, "--name", "陈伟", "--hall", hall,
                           "--role", role)
    assert code == 0, err
    return one_time_password(out)


@pytest.fixture
def client(server_engine):
    with TestClient(create_app(server_engine)) as c:
        yield c


def test_an_operator_builds_a_hall_from_an_empty_database(admin, server_engine, client):
    a_hall(admin)
    supervisor = staff(admin, "th-s1", "supervisor")
    code, out, _ = admin("hall", "list")
    assert code == 0 and "09:00" in out and "17:00" in out and "天河营业厅" in out
    # The one-time password lets the supervisor in only to choose their own.
    t = Terminal(client, HALL, "T01")
    answer = t.login("th-s1", supervisor)
    assert answer.status_code == 403 and answer.json()["code"] == "password_change_required"
    assert answer.json()["message"]["zh"]
    weak = t.login("th-s1", supervisor, new_password="12345678")
    assert weak.status_code == 422 and weak.json()["code"] == "weak_password"
    named = t.login("th-s1", supervisor, new_password="th-s1-pass9")
    assert named.status_code == 422 and "clerk id" in named.json()["message"]["en"]
    assert t.login("th-s1", supervisor, new_password="counter-2027").status_code == 200
    assert t.login("th-s1", supervisor).status_code == 401  # the one-time password is spent
    assert t.login("th-s1", "counter-2027").status_code == 200
    actions = audit_actions(server_engine)
    for action in ("district_added", "hall_added", "staff_added", "password_changed"):
        assert action in actions
    with Session(server_engine) as s:
        actors = set(s.scalars(select(AuditEntryRow.actor).where(
            AuditEntryRow.action.in_(["district_added", "hall_added", "staff_added"]))))
    assert all(a.startswith("operator") for a in actors)
    assert main(["audit", "verify", "--db", str(server_engine.url.render_as_string(
        hide_password=False))]) == 0


def test_staff_added_twice_is_refused_saying_how_a_clerk_is_changed(admin):
    a_hall(admin)
    staff(admin, "th-c1")
    code, _, err = admin("staff", "add", "th-c1", "--name", "陈伟", "--hall", HALL,
                         "--role", "supervisor")
    assert code == 2 and "工号 th-c1 已存在" in err
    assert ("staff id th-c1 exists already (change it by importing its corrected CSV row "
            "with admin import)") in err


@pytest.mark.parametrize("argv, said", [
    (("hall", "add", "GZ-TH-02", "--name", "x", "--district", "NOPE"), "there is no district"),
    (("hall", "add", "GZ-TH-02", "--name", "x", "--district", "GZ-TH", "--opens", "18:00",
      "--closes", "09:00"), "must be before the closing time"),
    (("hall", "add", "GZ TH 02", "--name", "x", "--district", "GZ-TH"), "wrong form"),
    (("hall", "add", HALL, "--name", "again", "--district", "GZ-TH"), "exists already"),
    (("hall", "set", "GZ-TH-09", "--name", "x"), "there is no hall"),
    (("hall", "set", HALL, "--offline-window-hours", "0"), "from 1 to 720"),
    (("district", "add", "GZ-YX", "--name", "越秀区", "--account-prefix", "10"),
     "already belongs to district GZ-TH"),
    (("district", "add", "GZ-YX", "--name", "越秀区", "--account-prefix", "7"), "two digits"),
    # Districts and staff have no `set`: the refusal says how they are changed.
    (("district", "add", "GZ-TH", "--name", "天河", "--account-prefix", "10"),
     "district GZ-TH exists already (change it by importing its corrected CSV row with admin "
     "import)"),
    (("staff", "add", "th-c9", "--name", "陈伟", "--hall", "GZ-XX-01", "--role", "clerk"),
     "there is no hall"),
    (("staff", "add", "th c9", "--name", "陈伟", "--hall", HALL, "--role", "clerk"),
     "clerk id"),
    (("staff", "add", "th-c9", "--name", "12", "--hall", HALL, "--role", "clerk"), "name"),
    (("staff", "move", "nobody", "--hall", HALL), "there is no clerk id nobody"),
    (("community", "add", "GZ-TH-C1", "--district", "GZ-TH", "--name", "花园",
      "--households", "many"), "whole number"),
    (("community", "add", "GZ-TH-C1", "--district", "GZ-TH", "--name", "花园",
      "--households", "10", "--manager-name", "陈伟"), "go together"),
])
def test_a_refused_change_says_why_in_both_languages_and_changes_nothing(
        admin, server_engine, argv, said):
    a_hall(admin)
    before = audit_actions(server_engine)
    with Session(server_engine) as s:
        halls = s.scalars(select(HallRow.name)).all()
    code, out, err = admin(*argv)
    assert code == 2 and out == ""
    assert said in err, err
    zh, en = err.strip().splitlines()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh) and en.startswith("hallserver: ")
    assert audit_actions(server_engine) == before
    with Session(server_engine) as s:
        assert s.scalars(select(HallRow.name)).all() == halls


def test_a_one_time_password_expires(admin, server_engine, client):
    a_hall(admin)
    password = staff(admin, "th-s1", "supervisor")
    with Session(server_engine) as s, s.begin():
        s.execute(update(ClerkRow).values(
            password_expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    answer = Terminal(client, HALL, "T01").login("th-s1", password,
                                                 new_password="counter-2027")
    assert answer.status_code == 401 and answer.json()["code"] == "one_time_password_expired"
    code, out, _ = admin("staff", "reset-password", "th-s1")
    assert code == 0
    assert Terminal(client, HALL, "T01").login(
        "th-s1", one_time_password(out), new_password="counter-2027").status_code == 200


def test_deactivating_moving_and_resetting_end_the_clerks_sessions(admin, server_engine,
                                                                  client):
    a_hall(admin)
    assert admin("hall", "add", "GZ-TH-02", "--name", "天河二厅", "--district", "GZ-TH")[0] == 0
    t = Terminal(client, HALL, "T01")
    assert t.login("th-c1", staff(admin, "th-c1"), new_password="counter-2027").status_code \
        == 200
    assert t.get("/changes").status_code == 200

    assert admin("staff", "deactivate", "th-c1")[0] == 0
    assert t.get("/changes").status_code == 401
    assert t.login("th-c1", "counter-2027").status_code == 401
    code, out, _ = admin("staff", "deactivate", "th-c1")
    assert code == 0 and "nothing changed" in out
    assert admin("staff", "reactivate", "th-c1")[0] == 0
    assert t.login("th-c1", "counter-2027").status_code == 200

    code, out, _ = admin("staff", "move", "th-c1", "--hall", "gz-th-02")
    assert code == 0 and "GZ-TH-02" in out
    assert t.get("/changes").status_code == 401
    assert t.login("th-c1", "counter-2027").json()["code"] == "wrong_hall"
    elsewhere = Terminal(client, "GZ-TH-02", "T01")
    assert elsewhere.login("th-c1", "counter-2027").status_code == 200
    code, out, _ = admin("staff", "list", "--hall", "GZ-TH-02")
    assert "th-c1" in out

    code, out, _ = admin("staff", "reset-password", "th-c1")
    assert code == 0 and "one-time password of th-c1" in out
    assert elsewhere.get("/changes").status_code == 401
    answer = elsewhere.login("th-c1", one_time_password(out.replace(" of th-c1", "")))
    assert answer.json()["code"] == "password_change_required"
    assert {"staff_changed", "staff_password_reset"} <= set(audit_actions(server_engine))


def test_a_new_customer_manager_reaches_the_terminals_with_the_next_pull(server_engine,
                                                                        admin, client):
    seed(server_engine, accounts=40, halls=1)
    t = Terminal(client, HALL, "T01")
    assert t.login("gz-th-01-c1", "demo-clerk").status_code == 200
    cursor = t.get("/changes", limit=1000).json()["next_cursor"]
    with Session(server_engine) as s:
        community, served = s.execute(
            select(AccountRow.community_code, func.count()).where(
                AccountRow.community_code.is_not(None))
            .group_by(AccountRow.community_code).limit(1)).one()
    code, _, err = admin("community", "set", community, "--manager-name", "梁静",
                         "--manager-phone", "13912345678", "--hall", HALL)
    assert code == 0, err
    page = t.get("/changes", after=cursor, limit=1000).json()
    assert len(page["accounts"]) == served
    assert {a["community"]["manager_name"] for a in page["accounts"]} == {"梁静"}
    assert len({a["seq"] for a in page["accounts"]}) == served  # distinct: pages never skip
    code, out, _ = admin("community", "list", "--hall", HALL)
    assert community in out and "13912345678" in out
    # The same values again: nothing moves.
    assert admin("community", "set", community, "--manager-name", "梁静")[1].endswith(
        "nothing changed\n")
    assert t.get("/changes", after=page["next_cursor"]).json()["accounts"] == []


def test_an_export_loads_into_an_empty_database_and_again_changes_nothing(
        admin, server_engine, tmp_path):
    seed(server_engine, accounts=20, halls=2)
    assert admin("export", str(tmp_path / "out"))[0] == 0
    exported = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "out").iterdir()}
    # Staff's names and the customer managers' phones: the operator's to read only.
    assert {stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "out").iterdir()} == {0o600}
    assert "password" not in exported["staff.csv"] and "$argon2" not in exported["staff.csv"]
    code, out, _ = admin("import", str(tmp_path / "out"), "--passwords",
                         str(tmp_path / "pw.csv"))
    assert code == 0 and not re.search(r"\b(added|changed)\b", out)
    assert "staff.csv: 6 unchanged" in out and not (tmp_path / "pw.csv").exists()

    # Into a new database: everything is added, each clerk with a one-time password.
    with Session(server_engine) as s:
        staff_count = s.scalar(select(func.count()).select_from(ClerkRow))
        communities = s.scalar(select(func.count()).select_from(CommunityRow))
    from tests.support.server import empty_tables
    if server_engine.dialect.name == "postgresql":
        empty_tables(server_engine)
    else:
        from hallserver.models import Base
        with server_engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
    code, out, err = admin("import", str(tmp_path / "out"), "--passwords",
                           str(tmp_path / "pw.csv"))
    assert code == 0, err
    assert f"staff.csv: {staff_count} added" in out
    assert f"communities.csv: {communities} added" in out
    passwords = (tmp_path / "pw.csv").read_text().splitlines()
    assert len(passwords) == staff_count + 1 and passwords[0].startswith("login,")
    assert stat.S_IMODE((tmp_path / "pw.csv").stat().st_mode) == 0o600
    handed_out = (tmp_path / "pw.csv").read_bytes()
    # Imported again it makes no password, so the file left there is no obstacle.
    code, out, err = admin("import", str(tmp_path / "out"), "--passwords",
                           str(tmp_path / "pw.csv"))
    assert code == 0 and f"staff.csv: {staff_count} unchanged" in out, err
    # One that makes a password never writes over the first file, nor to nowhere: refused
    # in both languages, nothing changed.
    with (tmp_path / "out" / "staff.csv").open("a", encoding="utf-8") as staff:
        staff.write("th-c9,新员工,GZ-TH-01,clerk,yes\n")
    for passwords, said in ((tmp_path / "pw.csv", "may hold passwords not handed out yet"),
                            (tmp_path / "no-such-folder" / "pw.csv", "cannot write")):
        code, _, err = admin("import", str(tmp_path / "out"), "--passwords", str(passwords))
        assert code == 2 and said in err and "未做任何修改" in err
    assert (tmp_path / "pw.csv").read_bytes() == handed_out
    with Session(server_engine) as s:
        assert s.get(ClerkRow, "th-c9") is None
    (tmp_path / "out" / "staff.csv").write_text(exported["staff.csv"], encoding="utf-8")
    assert admin("export", str(tmp_path / "again"))[0] == 0
    for name, text in exported.items():
        assert (tmp_path / "again" / name).read_text(encoding="utf-8") == text


def test_one_bad_row_refuses_the_whole_import_naming_file_and_line(admin, server_engine,
                                                                  tmp_path):
    folder = tmp_path / "load"
    folder.mkdir()
    (folder / "districts.csv").write_text("code,name,account_prefix\nGZ-TH,天河区,10\n",
                                          encoding="utf-8")
    (folder / "halls.csv").write_text(
        "id,name,district,service_phone,opens_at,closes_at,offline_window_hours\n"
        f"{HALL},天河营业厅,GZ-TH,95598,08:30,17:30,72\n", encoding="utf-8")
    # GB18030, as the utility's own tools write it; the third clerk has no valid role.
    (folder / "staff.csv").write_bytes(
        "login,name,hall_id,role\nth-c1,陈伟,GZ-TH-01,clerk\nth-c2,䶮王,GZ-TH-01,clerk\n"
        "th-s1,黄敏,GZ-TH-01,boss\n".encode("gb18030"))
    code, out, err = admin("import", str(folder), "--passwords", str(tmp_path / "pw.csv"))
    assert code == 2 and "staff.csv line 4" in err and "role 'boss'" in err
    assert audit_actions(server_engine) == []
    with Session(server_engine) as s:
        assert s.scalar(select(func.count()).select_from(HallRow)) == 0
    assert not (tmp_path / "pw.csv").exists()

    (folder / "staff.csv").write_bytes(
        "login,name,hall_id,role\nth-c1,陈伟,GZ-TH-01,clerk\nth-c1,黄敏,GZ-TH-01,clerk\n"
        .encode("gb18030"))
    code, _, err = admin("import", str(folder), "--passwords", str(tmp_path / "pw.csv"))
    assert code == 2 and "line 3: th-c1 is already on line 2" in err

    (folder / "staff.csv").write_text("login,name,hall,role\n", encoding="utf-8")
    code, _, err = admin("import", str(folder), "--passwords", str(tmp_path / "pw.csv"))
    assert code == 2 and "missing hall_id" in err and "unknown hall" in err

    (folder / "staff.csv").write_bytes(
        "login,name,hall_id,role\nth-c1,陈伟,GZ-TH-01,clerk\nth-c2,䶮王,GZ-TH-01,clerk\n"
        .encode("gb18030"))
    code, out, err = admin("import", str(folder), "--passwords", str(tmp_path / "pw.csv"))
    assert code == 0, err
    assert "staff.csv: 2 added" in out
    code, out, _ = admin("staff", "list")
    assert "䶮王" in out
