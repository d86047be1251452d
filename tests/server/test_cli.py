"""The `hallserver` command line on SQLite."""

import subprocess
import sys

from sqlalchemy import text

from hallserver.__main__ import main
from hallserver.db import make_engine


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
