"""Bad input on the client's command line: a clear message and an exit code, no traceback."""

from hallclient.__main__ import main


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
