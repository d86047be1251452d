"""How HallClient is installed and shipped: `hallclient --smoke-test` from the checkout, from a
real (non-editable) install of the client extra alone and from the packaged app PyInstaller
builds; what each side's install pulls in; the import contracts between the packages."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hallclient import smoke
from hallclient.__main__ import main
from hallcore import extras
from hallcore.domain.business import BUSINESS_TYPES
from tests.support import ROOT

BIN = Path(sys.executable).parent
SERVER_ONLY = {"fastapi", "starlette", "uvicorn", "psycopg", "psycopg-binary",
               "pydantic-settings", "prometheus-client"}


def test_the_smoke_test_passes_in_one_line_and_leaves_nothing_but_its_log(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HALLCLIENT_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "hallclient", "--smoke-test"], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert "\n" not in line and line.startswith("HallClient ") and "smoke test passed" in line
    for checked in ("login window shown (HallClient 登录", "offscreen)",
                    f"{len(BUSINESS_TYPES)} test receipts rendered", "font embedded",
                    "cache schema", "demo server schema", "the licences of",
                    "keyring backends", "SecretService", "Windows"):
        assert checked in line, checked
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert left == ["logs", "logs/hallclient.log"]
    assert line in (tmp_path / "logs" / "hallclient.log").read_text(encoding="utf-8")


def test_a_failed_check_exits_non_zero_and_says_why(qapp, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(smoke, "render_receipts", lambda *args, **kwargs: b"<html>")
    assert main(["--smoke-test"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "smoke test FAILED: the receipt is not a PDF (it starts b'<html>')" in captured.err
    log = (tmp_path / "logs" / "hallclient.log").read_text(encoding="utf-8")
    assert "smoke test failed: the receipt is not a PDF" in log
    assert "smoke-test: exit code 1" in log


@pytest.mark.frozen
@pytest.mark.skipif(sys.platform == "win32", reason="scripts/smoke-frozen is a bash script")
def test_the_packaged_app_builds_and_passes_its_smoke_test():
    if not (Path(sys.prefix) / "bin" / "pyinstaller").exists():
        why = "PyInstaller is not installed: pip install -e '.[package]'"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    done = subprocess.run([ROOT / "scripts" / "smoke-frozen"], env={**os.environ,
                                                                      "VENV": sys.prefix},
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "smoke test passed" in done.stdout
    assert "smoke-frozen: built in" in done.stdout
    # The console program beside the windowed one, which IT's printing commands run with.
    assert "hallclient-cli print-test wrote a PDF" in done.stdout


def _without_the_server_extra(monkeypatch, missing="uvicorn"):
    real = extras.find_spec
    monkeypatch.setattr(extras, "find_spec", lambda name: None if name == missing else real(name))


def test_without_the_server_extra_the_demo_says_how_to_install_it(monkeypatch, capsys):
    _without_the_server_extra(monkeypatch)
    assert main(["--demo", "--text"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "hallclient: the demo runs its own HallServer, which needs the server extra, not "
        "installed here (no uvicorn): install it with pip install 'hallclient[client,server]' "
        "(in a checkout: ./dev demo). The counter itself does not need it.\n")


def test_without_the_server_extra_the_smoke_test_checks_the_client_and_says_so(
        qapp, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(tmp_path))
    _without_the_server_extra(monkeypatch, missing="fastapi")
    assert main(["--smoke-test"]) == 0
    line = capsys.readouterr().out
    assert "cache schema" in line and "demo server schema" not in line
    assert ("demo server not checked: the server extra is not installed (no fastapi); the "
            "counter does not need it") in line


# --- the import contracts (pyproject.toml, [tool.importlinter]) ---

CONTRACTS = {
    "core": "hallcore imports neither side, nor what only one side's extra installs",
    "server": "hallserver imports neither hallclient nor what only the client extra installs",
    "demo": "hallclient imports hallserver only for the demo's embedded server",
    "server-libraries": "hallclient imports no server-extra library itself (a counter PC has "
                        "none)",
    "widgets": "Qt widgets only under hallclient.ui",
}


def _lint_imports(cwd):
    done = subprocess.run([BIN / "lint-imports", "--no-cache", "--no-logo"], cwd=cwd,
                          capture_output=True, text=True, timeout=300)
    # Its report wraps long contract names: one line per contract, then KEPT or BROKEN.
    report = re.sub(r"\s*\n\s*", " ", done.stdout)
    results = {key: re.search(re.escape(name) + r" (KEPT|BROKEN)", report)
               for key, name in CONTRACTS.items()}
    assert all(results.values()), done.stdout + done.stderr
    return done, {key: found.group(1) for key, found in results.items()}


def test_the_import_contracts_are_kept():
    done, results = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert set(results.values()) == {"KEPT"}
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in done.stdout


def _copy_the_code(to):
    """The three packages' code, the contracts and their contract type, to break one."""
    for package in ("hallcore", "hallclient", "hallserver"):
        shutil.copytree(ROOT / package, to / package,
                        ignore=shutil.ignore_patterns("__pycache__", "resources"))
    shutil.copy(ROOT / "pyproject.toml", to)
    shutil.copytree(ROOT / "scripts", to / "scripts",
                    ignore=shutil.ignore_patterns("__pycache__"))


# (module, line added at its end, the contracts that line breaks). What hallcore imports, the
# server imports too, through it: its contract breaks with the core's.
VIOLATIONS = [
    ("hallcore/wire.py", "from hallclient import config", {"core", "server"}),
    ("hallcore/domain/text.py", "def f():\n    from PySide6.QtCore import QObject",
     {"core", "server"}),
    ("hallcore/signing.py", "import fastapi", {"core"}),
    ("hallserver/db.py", "import hallclient.config", {"server"}),
    ("hallserver/api/sync.py", "import reportlab", {"server"}),
    ("hallclient/cli.py", "def f():\n    from hallserver.db import make_engine", {"demo"}),
    ("hallclient/sync/api.py", "from starlette.types import ASGIApp", {"server-libraries"}),
    ("hallclient/receipts/render.py", "def f():\n    from PySide6.QtWidgets import QWidget",
     {"widgets"}),
    ("hallclient/reports.py", "from PySide6 import QtCore, QtWidgets", {"widgets"}),
    ("hallcore/demodata.py", "import PySide6.QtWidgets", {"core", "server", "widgets"}),
]


@pytest.mark.parametrize(("module", "line", "broken"), VIOLATIONS,
                         ids=[f"{v[0]}:{'+'.join(sorted(v[2]))}" for v in VIOLATIONS])
def test_each_import_contract_fails_on_a_violation(tmp_path, module, line, broken):
    _copy_the_code(tmp_path)
    with (tmp_path / module).open("a", encoding="utf-8") as source:
        source.write(f"\n\n{line}\n")
    done, results = _lint_imports(tmp_path)  # the copy, first on lint-imports' path
    assert done.returncode == 1, done.stdout + done.stderr
    assert {key for key, result in results.items() if result == "BROKEN"} == broken, (
        done.stdout)


def test_qt_modules_other_than_widgets_may_be_used_outside_the_ui(tmp_path):
    _copy_the_code(tmp_path)
    with (tmp_path / "hallclient/reports.py").open("a", encoding="utf-8") as source:
        source.write("\n\nfrom PySide6.QtCore import QObject  # e.g. a signal\n")
    done, results = _lint_imports(tmp_path)
    assert done.returncode == 0 and set(results.values()) == {"KEPT"}, done.stdout


# --- real installs from the package index (PyPI), each side's extra in a fresh virtualenv ---

SCRIPTS = "Scripts" if sys.platform == "win32" else "bin"


def _clean_env(**extra):
    """This process's environment without its virtualenv: the fresh one's tools find only
    what was installed there."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    return {**env, "PIP_DISABLE_PIP_VERSION_CHECK": "1", **extra}


def _pip(venv, *args, cwd):
    done = subprocess.run([venv / SCRIPTS / "python", "-m", "pip", *args], cwd=cwd,
                          env=_clean_env(), capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory):
    """A virtualenv of its own with an up-to-date pip (as ./dev has), and a copy of the project
    to install from, so that building it writes nothing into the checkout. Downloads come
    from pip's cache after the first run."""
    where = tmp_path_factory.mktemp("install")
    source = where / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache",
        ".hypothesis", "tests", "bench", "docs"))
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=300)
    _pip(venv, "install", "--quiet", "--upgrade", "pip", cwd=where)
    return venv, source


def _would_install(venv, source, extra):
    """The distributions `pip install .[extra]` would install on a bare machine."""
    from packaging.utils import canonicalize_name

    report = source.parent / f"{extra}-report.json"
    _pip(venv, "install", "--quiet", "--dry-run", "--report", report, "--ignore-installed",
         f".[{extra}]", cwd=source)
    installs = json.loads(report.read_text(encoding="utf-8"))["install"]
    return {canonicalize_name(item["metadata"]["name"]) for item in installs}


@pytest.mark.network
def test_a_counter_pcs_install_has_no_server_libraries(fresh_venv):
    names = _would_install(*fresh_venv, "client")
    assert not names & SERVER_ONLY
    assert {"hallclient", "pyside6-essentials", "pyside6-pdf", "reportlab", "pillow", "keyring",
            "segno", "httpx", "sqlalchemy", "alembic", "pydantic", "platformdirs"} <= names


@pytest.mark.network
def test_a_servers_install_has_no_qt_nor_client_libraries(fresh_venv):
    names = _would_install(*fresh_venv, "server")
    assert not {n for n in names if n.startswith(("pyside6", "shiboken6"))}
    assert not names & {"reportlab", "keyring", "segno"}
    assert {"hallclient", "fastapi", "uvicorn", "psycopg", "psycopg-binary", "sqlalchemy",
            "alembic", "pydantic", "platformdirs", "pydantic-settings", "prometheus-client"
            } <= names


@pytest.mark.network
def test_an_installed_client_passes_its_smoke_test_and_its_demo_says_what_it_lacks(
        fresh_venv, tmp_path):
    venv, source = fresh_venv
    # Not editable: the wheel's files only. No .pyc at install time (Python writes those it
    # needs), which halves the install's time.
    _pip(venv, "install", "--quiet", "--no-compile", ".[client]", cwd=source)
    env = _clean_env(QT_QPA_PLATFORM="offscreen", HALLCLIENT_DATA_DIR=str(tmp_path / "data"))
    where = subprocess.run(
        [venv / SCRIPTS / "python", "-c", "import hallclient.resources as r; print(r.__file__)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=True)
    assert Path(where.stdout.strip()).is_relative_to(venv)
    done = subprocess.run([venv / SCRIPTS / "hallclient", "--smoke-test"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    line = done.stdout.strip()
    for checked in ("smoke test passed", "font embedded", "cache schema",
                    "demo server not checked: the server extra is not installed",
                    "login window shown (HallClient 登录", "the licences of",
                    "SecretService"):
        assert checked in line, line
    demo = subprocess.run([venv / SCRIPTS / "hallclient", "--demo", "--text"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)
    assert demo.returncode == 1
    assert "Traceback" not in demo.stderr
    assert "needs the server extra" in demo.stderr
    assert "pip install 'hallclient[client,server]'" in demo.stderr
