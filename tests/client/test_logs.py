"""The log file: rotated, in an owner-only folder, and never given an error's message."""

import logging
import os
import stat
import sys

import pytest

from hallclient.__main__ import main
from hallclient.logs import LOG_FILE, logging_to, setup_logging


def test_the_log_rotates_keeping_five_old_files(tmp_path):
    handler = setup_logging(tmp_path, max_bytes=2_000)
    try:
        for n in range(400):
            logging.getLogger("hallclient.test").info("line %04d of the rotation test", n)
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    names = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert names == [LOG_FILE] + [f"{LOG_FILE}.{n}" for n in range(1, 6)]
    assert all(p.stat().st_size <= 2_000 for p in (tmp_path / "logs").iterdir())
    assert "line 0399" in (tmp_path / "logs" / LOG_FILE).read_text(encoding="utf-8")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_the_log_folder_is_owner_only_even_when_it_was_not(tmp_path):
    old = os.umask(0o022)
    try:
        with logging_to(tmp_path / "new"):
            pass
        (tmp_path / "old" / "logs").mkdir(parents=True, mode=0o755)
        with logging_to(tmp_path / "old"):
            pass
    finally:
        os.umask(old)
    for base in ("new", "old"):
        assert stat.S_IMODE((tmp_path / base / "logs").stat().st_mode) == 0o700


def test_an_error_escaping_is_logged_by_type_and_place_never_its_message(tmp_path):
    id_number = "440106199203154429"
    with pytest.raises(ValueError), logging_to(tmp_path):
        raise ValueError(f"no account for {id_number}")
    log = (tmp_path / "logs" / LOG_FILE).read_text(encoding="utf-8")
    assert "stopped by ValueError" in log
    assert "test_logs.py" in log  # where it happened
    assert id_number not in log


def test_without_a_writable_log_folder_the_command_goes_on_and_says_so(tmp_path, capsys):
    (tmp_path / "logs").write_text("a file where the folder should be")
    with logging_to(tmp_path):
        done = True
    assert done
    assert "no log file" in capsys.readouterr().err


def test_a_command_logs_its_name_and_exit_code(tmp_path, monkeypatch):
    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(tmp_path))
    assert main(["sync", "--once"]) == 2  # not set up
    log = (tmp_path / "logs" / LOG_FILE).read_text(encoding="utf-8")
    assert "HallClient" in log and "sync: exit code 2" in log
    files = [getattr(h, "baseFilename", None) for h in logging.getLogger().handlers]
    assert str(tmp_path / "logs" / LOG_FILE) not in files  # gone with the command
