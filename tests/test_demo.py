import re
import subprocess
import sys

from hallclient.__main__ import main


def test_demo_seeds_a_cache_and_walks_every_business_type(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(tmp_path))
    assert main(["--demo", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "demo" / "cache.sqlite3").exists()
    assert "500 accounts" in out
    for label in ("Transfer of account", "Suspension of supply", "Closing the account",
                  "New residential connection"):
        assert label in out
    assert "check character should be" in out


def test_demo_runs_again_on_its_existing_cache(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(tmp_path))
    main(["--demo"])
    first = capsys.readouterr().out
    main(["--demo"])
    assert capsys.readouterr().out == first


def test_demo_masks_the_holders_id_and_phone(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(tmp_path))
    main(["--demo"])
    account_line = next(line for line in capsys.readouterr().out.splitlines()
                        if line.startswith("户号"))
    assert re.search(r" \d{4}\*{10}[\dX]{4} ", account_line)
    assert re.search(r" 1\d\d\*{4}\d{4} ", account_line)
    assert not re.search(r"\d{11}", account_line.split("  ", 1)[1])


def test_console_entry_point_prints_its_version():
    done = subprocess.run([sys.executable, "-m", "hallclient", "--version"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.startswith("HallClient ")
