"""`hallclient --smoke-test` from the checkout, and from the packaged app PyInstaller builds."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hallclient import smoke
from hallclient.__main__ import main
from hallcore.domain.business import BUSINESS_TYPES
from tests.support import ROOT


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
