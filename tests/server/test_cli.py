"""The `hallserver` command line on SQLite."""

import subprocess
import sys

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from hallserver.__main__ import main
from hallserver.db import make_engine
from hallserver.models import AuditEntryRow
from tests.support.server import SUPERVISOR_PASSWORD, Terminal, seeded_client

TH, YX = "GZ-TH-01", "GZ-YX-01"


def run(*args):
    return subprocess.run([sys.executable, "-m", "hallserver", *args],
                          capture_output=True, text=True, timeout=120)


def test_serve_refuses_an_unmigrated_database(tmp_path):
    done = run("serve", "--db", f"sqlite+pysqlite:///{tmp_path / 'empty.sqlite3'}")
    assert done.returncode == 2
    assert "hallserver migrate" in done.stderr


def test_serve_refuses_a_database_of_a_newer_server(tmp_path):
    url = f"sqlite+pysqlite:///{tmp_path / 'db.sqlite3'}"
    assert main(["migrate", "--db", url]) == 0
    with make_engine(url).begin() as conn:
        conn.execute(text("update alembic_version set version_num = '0042'"))
    done = run("serve", "--db", url)
    assert done.returncode == 2 and "newer HallServer" in done.stderr


def test_migrate_then_seed_then_notify(tmp_path, capsys):
    url = f"sqlite+pysqlite:///{tmp_path / 'db.sqlite3'}"
    assert main(["migrate", "--db", url]) == 0
    assert main(["seed", "--db", url, "--accounts", "250", "--halls", "3"]) == 0
    out = capsys.readouterr().out
    assert "seeded 250 accounts" in out and "gz-th-01-c1" in out
    # A second seed is refused and says why.
    assert main(["seed", "--db", url, "--accounts", "10"]) == 2
    assert "already" in capsys.readouterr().err
    assert main(["notify", "--db", url, "--sms-log", str(tmp_path / "sms.log"), "--once"]) == 0
    assert "sent 0, failed 0" in capsys.readouterr().out


def test_seed_needs_a_migrated_database(tmp_path, capsys):
    url = f"sqlite+pysqlite:///{tmp_path / 'db.sqlite3'}"
    assert main(["seed", "--db", url, "--accounts", "10"]) == 2
    assert "hallserver migrate" in capsys.readouterr().err


# As on a counter PC, which installs the client extra alone: the server's libraries cannot be
# imported (a finder that refuses them stands first).
WITHOUT_THE_SERVER_EXTRA = """
import sys
from importlib.abc import MetaPathFinder

class Absent(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("fastapi", "starlette", "uvicorn"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Absent())
from hallserver.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def test_without_the_server_extra_hallserver_says_what_to_install(tmp_path):
    done = subprocess.run([sys.executable, "-c", WITHOUT_THE_SERVER_EXTRA, "migrate", "--db",
                           f"sqlite+pysqlite:///{tmp_path / 'db.sqlite3'}"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "pip install 'hallclient[server]'" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "db.sqlite3").exists()  # nothing done


@pytest.fixture
def hall_server(tmp_path):
    """A migrated, seeded SQLite database (its URL, for the commands) and a client of the
    server's app on it."""
    url = f"sqlite+pysqlite:///{tmp_path / 'db.sqlite3'}"
    assert main(["migrate", "--db", url]) == 0
    engine = make_engine(url)
    yield from ((url, client) for client in seeded_client(engine, accounts=20, halls=2))
    engine.dispose()


def audit_entries(client, action):
    with Session(client.app.state.engine) as session:
        return session.scalars(select(AuditEntryRow).where(AuditEntryRow.action == action)
                               .order_by(AuditEntryRow.id)).all()


def audit_count(client):
    with Session(client.app.state.engine) as session:
        return session.scalar(select(func.count()).select_from(AuditEntryRow))


def test_terminals_list_shows_which_wait_for_approval(hall_server, capsys):
    url, client = hall_server
    assert Terminal(client, TH, "T01").login("gz-th-01-c1", approve=False).status_code == 403
    assert Terminal(client, TH, "T02").login("gz-th-01-s1", SUPERVISOR_PASSWORD).status_code == 200
    assert Terminal(client, YX, "T01").login("gz-yx-01-c1", approve=False).status_code == 403
    capsys.readouterr()
    assert main(["terminals", "list", "--db", url]) == 0
    rows = [line.split()[:3] for line in capsys.readouterr().out.splitlines()[1:]]
    assert rows == [[TH, "T01", "pending"], [TH, "T02", "active"], [YX, "T01", "pending"]]
    assert main(["terminals", "list", "--db", url, "--hall", TH]) == 0
    assert YX not in capsys.readouterr().out
    assert main(["terminals", "list", "--db", url, "--hall", "GZ-XX-99"]) == 2
    assert "no hall GZ-XX-99" in capsys.readouterr().err


def test_terminals_approve_lets_the_waiting_terminal_in(hall_server, capsys):
    url, client = hall_server
    terminal = Terminal(client, TH, "T01")
    refused = terminal.login("gz-th-01-c1", approve=False)
    assert refused.status_code == 403 and refused.json()["code"] == "terminal_not_approved"
    assert main(["terminals", "approve", "--db", url, TH, "T01"]) == 0
    assert "approved terminal T01 of hall GZ-TH-01" in capsys.readouterr().out
    assert terminal.login("gz-th-01-c1", approve=False).status_code == 200
    [approved] = audit_entries(client, "terminal_approved")
    assert approved.actor.startswith("operator") and approved.terminal_id == "T01"
    # Bad input changes nothing: a clear message, exit 2 (no such hall or terminal) or 1
    # (nothing waits for approval).
    before = audit_count(client)
    for argv, code, said in (([TH, "T01"], 1, "no installation waiting for approval"),
                             ([TH, "T77"], 2, "hall GZ-TH-01 has no terminal T77"),
                             (["GZ-XX-99", "T01"], 2, "there is no hall GZ-XX-99")):
        assert main(["terminals", "approve", "--db", url, *argv]) == code, argv
        assert said in capsys.readouterr().err
    assert audit_count(client) == before


def test_terminals_retire_ends_its_logins_and_its_sessions(hall_server, capsys):
    url, client = hall_server
    terminal = Terminal(client, TH, "T01")
    logged_in = terminal.login("gz-th-01-c1")  # approved, with valid tokens
    refresh = logged_in.json()["refresh_token"]
    push = {"operations": []}
    assert client.post("/api/v1/push", json=push, headers=terminal.headers).status_code == 200
    assert main(["terminals", "retire", "--db", url, TH, "T01"]) == 0
    assert "retired terminal T01 of hall GZ-TH-01 (1 key)" in capsys.readouterr().out
    # The token it holds stops working at once, not when it expires.
    pushed = client.post("/api/v1/push", json=push, headers=terminal.headers)
    assert pushed.status_code == 403 and pushed.json()["code"] == "terminal_retired"
    login = terminal.login("gz-th-01-c1", approve=False)
    assert login.status_code == 403 and login.json()["code"] == "terminal_retired"
    refreshed = client.post("/api/v1/refresh", json={"refresh_token": refresh})
    assert refreshed.status_code == 403 and refreshed.json()["code"] == "terminal_retired"
    [retired] = audit_entries(client, "terminal_retired")
    assert retired.actor.startswith("operator") and retired.detail == {"keys": 1}
    # Another terminal of the hall is not touched.
    other = Terminal(client, TH, "T02")
    assert other.login("gz-th-01-c1").status_code == 200
    assert client.post("/api/v1/push", json=push, headers=other.headers).status_code == 200
    before = audit_count(client)
    assert main(["terminals", "retire", "--db", url, TH, "T01"]) == 1
    assert "already retired" in capsys.readouterr().err
    assert main(["terminals", "retire", "--db", url, TH, "T77"]) == 2
    assert "no terminal T77" in capsys.readouterr().err
    assert audit_count(client) == before


def test_database_restored_gives_a_new_identity_and_is_audited(hall_server, capsys):
    url, client = hall_server
    terminal = Terminal(client, TH, "T01")
    assert terminal.login("gz-th-01-c1").status_code == 200
    before = terminal.get("/terminal").json()["server_identity"]
    assert main(["database", "restored", "--db", url]) == 0
    out = capsys.readouterr().out
    after = terminal.get("/terminal").json()["server_identity"]
    assert after != before and after in out and "push again" in out
    [entry] = audit_entries(client, "database_restored")
    assert entry.hall_id is None and entry.actor.startswith("operator")
    assert entry.detail == {"identity": {"from": before, "to": after}}
    assert main(["audit", "verify", "--db", url]) == 0
