"""SecretStore on a real Secret Service: gnome-keyring in a D-Bus session of its own, no display.

The unit tests use an in-memory backend; here the keyring library picks its backend by itself,
as it does in the product, in a child process (tests/support/keyring_child.py) whose HOME and XDG
directories are the test's, so the developer's own keyring is never touched. Skipped where
gnome-keyring or dbus-run-session is missing, except in CI (./dev test installs them).
"""

import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hallclient.auth.keys import TERMINAL_KEY
from hallclient.sync.engine import REFRESH_TOKEN

ROOT = Path(__file__).resolve().parents[2]
CHILD = ROOT / "tests" / "support" / "keyring_child.py"
SECRET_SERVICE = "keyring.backends.SecretService.Keyring"
# The throw-away login keyring's password: gnome-keyring creates the keyring with it and
# unlocks it with it in the later sessions.
KEYRING_PASSWORD = "hallclient-test-keyring"
# A session bus, gnome-keyring's secrets component started and unlocked in it, then the child.
IN_SESSION = ('printf %s "$KEYRING_PASSWORD" | gnome-keyring-daemon --unlock '
              '--components=secrets >/dev/null && exec "$0" "$@"')


@pytest.fixture
def secret_service_tools():
    missing = [tool for tool in ("dbus-run-session", "gnome-keyring-daemon")
               if shutil.which(tool) is None]
    if missing:
        why = (f"no Secret Service to test against: {', '.join(missing)} not installed "
               "(./dev test installs gnome-keyring and dbus-daemon)")
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)


@pytest.fixture
def home(tmp_path):
    """A fresh user: HOME and the XDG directories, nothing else from the caller's session (no
    D-Bus address, no display, no keyring configuration)."""
    home = tmp_path / "home"
    runtime = home / "run"
    runtime.mkdir(parents=True, mode=0o700)
    return home


def child_env(home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_RUNTIME_DIR": str(home / "run"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(ROOT),
        "KEYRING_PASSWORD": KEYRING_PASSWORD,
    }


def run_child(home: Path, mode: str, values: dict[str, str] | None = None, *,
              in_session: bool = True) -> dict[str, Any]:
    command = [sys.executable, str(CHILD), mode]
    if in_session:
        command = ["dbus-run-session", "--", "sh", "-c", IN_SESSION, *command]
    done = subprocess.run(command, input=json.dumps(values or {}), capture_output=True,
                          text=True, env=child_env(home), timeout=60)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def files_holding(directory: Path, secret: str) -> list[Path]:
    return [path for path in directory.rglob("*")
            if path.is_file() and secret.encode() in path.read_bytes()]


def test_secrets_live_encrypted_in_a_real_secret_service(secret_service_tools, home):
    values = {TERMINAL_KEY: secrets.token_hex(32), REFRESH_TOKEN: secrets.token_urlsafe(32)}

    stored = run_child(home, "store", values)
    assert stored["backend"] == SECRET_SERVICE, stored  # picked by the keyring library itself
    assert "refused" not in stored, stored
    assert stored["read"] == values

    # On disk now, in gnome-keyring's keyring file, and encrypted: not in any of the user's files.
    assert list((home / ".local" / "share" / "keyrings").glob("*.keyring"))
    for secret in values.values():
        assert files_holding(home, secret) == []

    # A new session (a new daemon) unlocks the same keyring: the secrets were kept; deleted, gone.
    again = run_child(home, "reread", values)
    assert again["backend"] == SECRET_SERVICE
    assert again["read"] == values
    assert again["after_delete"] == dict.fromkeys(values)


def test_without_a_secret_service_the_store_refuses_the_libraries_fallback(home):
    # No D-Bus session at all: the keyring library falls back to its "fail" backend by itself
    # (the refusal of a backend handed in, and of keyrings.alt's files, is in test_secrets.py).
    report = run_child(home, "open", in_session=False)
    assert report["backend"] == "keyring.backends.fail.Keyring"
    assert "keyring.backends.fail.Keyring" in report["refused"]  # says what it found
    assert "start a Secret Service" in report["refused"]
    assert not any(path.is_file() for path in home.rglob("*"))  # and wrote nothing anywhere
