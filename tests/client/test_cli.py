"""Bad input on the client's command line: a clear message and an exit code, no traceback;
and `hallclient setup` under the terminal-move rule."""

import io
import sys
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime

import keyring
import pytest
from sqlalchemy import select

from hallclient.__main__ import main
from hallclient.auth.login import terminal_identity
from hallclient.auth.secrets import EphemeralKeyring, SecretStore
from hallclient.cli import EXIT_LOGIN
from hallclient.config import cache_path, load_settings
from hallclient.store.accounts import account_from_row
from hallclient.store.cache import open_cache
from hallclient.store.models import AccountRow, AuditRow
from hallclient.store.operations import record_operation
from hallcore.domain.business import BusinessKind
from hallserver.seed import DEMO_CLERK_PASSWORD, DEMO_SUPERVISOR_PASSWORD
from tests.support.counter import holder


def test_sync_before_setup_says_what_to_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(tmp_path))
    assert main(["sync", "--once"]) == 2
    assert "hallclient setup" in capsys.readouterr().err


def test_damaged_settings_are_named_by_every_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(tmp_path))
    (tmp_path / "settings.json").write_text("{bad")
    for argv in (["sync", "--once"], ["print-test", "--out", str(tmp_path / "x.pdf")],
                 ["setup", "--server", "http://h", "--hall", "H", "--terminal", "T"]):
        assert main(argv) == 2, argv
        assert "settings.json cannot be read" in capsys.readouterr().err
    assert (tmp_path / "settings.json").read_text() == "{bad"  # left as it was


def test_print_test_to_an_unwritable_place_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(tmp_path))
    assert main(["print-test", "--out", str(tmp_path / "missing" / "x.pdf")]) == 2
    assert "cannot be written" in capsys.readouterr().err


# `hallclient setup`: set up once by IT; moved only by a supervisor's online login, never while
# operations made here wait to be sent (the login window's rule, hallclient/auth/terminal_move.py).

@pytest.fixture
def operator(server, tmp_path, monkeypatch, capsys):
    """`hallclient` commands run in this process, with a data directory and keyring of their
    own; run(*argv, stdin=...) returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(tmp_path / "data"))
    keys = EphemeralKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: keys)

    def run(*argv, stdin=""):
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return server, run


def setup_argv(server, hall="GZ-TH-01", terminal="T01", *more):
    return ["setup", "--server", server.url, "--hall", hall, "--terminal", terminal, *more]


def log_in(run, clerk, password):
    return run("login", "--clerk", clerk, "--password-stdin", stdin=password + "\n")


def moves_recorded():
    with closing(open_cache(cache_path())) as cache, cache.read() as s:
        return s.execute(select(AuditRow.clerk, AuditRow.detail)
                         .where(AuditRow.action == "terminal_moved")).all()


def test_setup_refuses_a_terminal_id_with_a_dash(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(tmp_path))
    assert main(["setup", "--server", "http://h", "--hall", "GZ-TH-01",
                 "--terminal", "T-01"]) == 2
    err = capsys.readouterr().err
    assert "terminal id 'T-01' is not valid" in err and "no -" in err
    assert not (tmp_path / "settings.json").exists()


def test_first_setup_needs_no_supervisor_its_first_login_waits_for_one(operator):
    server, run = operator
    code, out, _ = run(*setup_argv(server))
    assert code == 0 and "waits for a supervisor's approval" in out
    code, _, err = log_in(run, "gz-th-01-c1", DEMO_CLERK_PASSWORD)
    assert code == EXIT_LOGIN and "not approved yet" in err
    assert log_in(run, "gz-th-01-s1", DEMO_SUPERVISOR_PASSWORD)[0] == 0  # approves it
    assert log_in(run, "gz-th-01-c1", DEMO_CLERK_PASSWORD)[0] == 0


def test_a_supervisor_at_the_first_setup_approves_the_terminal_at_once(operator):
    server, run = operator
    code, out, _ = run(*setup_argv(server, "GZ-TH-01", "T01", "--supervisor", "gz-th-01-s1",
                                   "--password-stdin"), stdin=DEMO_SUPERVISOR_PASSWORD + "\n")
    assert code == 0 and "approved by supervisor gz-th-01-s1" in out
    assert log_in(run, "gz-th-01-c1", DEMO_CLERK_PASSWORD)[0] == 0


def test_moving_a_set_up_terminal_takes_a_supervisors_online_login(operator):
    server, run = operator
    assert run(*setup_argv(server))[0] == 0
    assert log_in(run, "gz-th-01-s1", DEMO_SUPERVISOR_PASSWORD)[0] == 0
    first = load_settings()
    moved = setup_argv(server, "GZ-TH-01", "T09")
    code, _, err = run(*moved)
    assert code == 2 and "--supervisor" in err and "Nothing was changed" in err
    # A clerk is no supervisor: the server leaves the new terminal waiting for approval.
    code, _, err = run(*moved, "--supervisor", "gz-th-01-c1", "--password-stdin",
                       stdin=DEMO_CLERK_PASSWORD + "\n")
    assert code == EXIT_LOGIN and "not approved yet" in err
    code, _, err = run(*moved, "--supervisor", "gz-th-01-s1", "--password-stdin",
                       stdin="wrong\n")
    assert code == EXIT_LOGIN and "Login refused" in err
    assert load_settings() == first and moves_recorded() == []
    code, out, _ = run(*moved, "--supervisor", "gz-th-01-s1", "--password-stdin",
                       stdin=DEMO_SUPERVISOR_PASSWORD + "\n")
    assert code == 0 and "terminal id T01 → T09" in out, out
    assert load_settings() == replace(first, terminal_id="T09")
    assert moves_recorded() == [("gz-th-01-s1", {"terminal_id": {"from": "T01", "to": "T09"}})]
    # The supervisor's login approved the terminal there: a clerk logs in at once.
    assert log_in(run, "gz-th-01-c1", DEMO_CLERK_PASSWORD)[0] == 0


def test_no_move_while_operations_made_here_wait_to_be_sent(operator):
    server, run = operator
    assert run(*setup_argv(server))[0] == 0
    assert log_in(run, "gz-th-01-s1", DEMO_SUPERVISOR_PASSWORD)[0] == 0
    assert log_in(run, "gz-th-01-c1", DEMO_CLERK_PASSWORD)[0] == 0
    assert run("sync", "--once")[0] == 0
    first = load_settings()
    with closing(open_cache(cache_path())) as cache:
        with cache.read() as s:
            account = account_from_row(s.scalars(select(AccountRow).where(
                AccountRow.status == "active", AccountRow.id_number.is_not(None))).first())
        record_operation(cache, terminal_identity(first, SecretStore("GZ-TH-01", "T01")),
                         clerk="gz-th-01-c1", kind=BusinessKind.SUSPEND,
                         account_number=account.number, raw_payload=holder(account),
                         now=datetime.now(UTC))
    moved = [*setup_argv(server, "GZ-YX-01", "T01"), "--supervisor", "gz-yx-01-s1",
             "--password-stdin"]
    code, _, err = run(*moved, stdin=DEMO_SUPERVISOR_PASSWORD + "\n")
    assert code == 2
    assert "1 operations made here are still waiting" in err and "hallclient sync --once" in err
    assert sys.stdin.read() == DEMO_SUPERVISOR_PASSWORD + "\n"  # refused before the login
    assert load_settings() == first and moves_recorded() == []
    assert run("sync", "--once")[0] == 0
    code, out, _ = run(*moved, stdin=DEMO_SUPERVISOR_PASSWORD + "\n")
    assert code == 0 and "hall GZ-TH-01 → GZ-YX-01" in out
    assert load_settings().hall_id == "GZ-YX-01"


def test_login_with_a_one_time_password_sets_the_clerks_own(operator):
    """`hallclient login` after an administrator's reset: the new password twice (the same),
    then the one-time password no longer works and the new one does."""
    from sqlalchemy.orm import Session

    from hallserver.admin import reset_password

    server, run = operator
    assert run(*setup_argv(server))[0] == 0
    assert log_in(run, "gz-th-01-s1", DEMO_SUPERVISOR_PASSWORD)[0] == 0  # approves it
    with Session(server.engine) as session, session.begin():
        one_time = reset_password(session, "operator", "gz-th-01-c1", datetime.now(UTC))
    code, _, err = run("login", "--clerk", "gz-th-01-c1", "--password-stdin",
                       stdin=f"{one_time}\nown-pass-1\nown-pass-2\n")
    assert code == EXIT_LOGIN and "differ" in err
    code, out, err = run("login", "--clerk", "gz-th-01-c1", "--password-stdin",
                         stdin=f"{one_time}\nown-pass-1\nown-pass-1\n")
    assert code == 0 and "one-time password" in err and "logged in as" in out
    assert log_in(run, "gz-th-01-c1", one_time)[0] == EXIT_LOGIN
    assert log_in(run, "gz-th-01-c1", "own-pass-1")[0] == 0
