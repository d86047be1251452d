import pytest

from hallclient.config import (
    Settings,
    SettingsError,
    cache_path,
    data_dir,
    load_settings,
    save_settings,
    settings_path,
)


def test_data_dir_can_be_overridden(tmp_path, monkeypatch):
    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(tmp_path))
    assert data_dir() == tmp_path
    assert cache_path() == tmp_path / "cache.sqlite3"


def test_settings_default_when_absent(tmp_path):
    assert load_settings(tmp_path) == Settings()


def test_settings_round_trip(tmp_path):
    settings = Settings(server_url="https://hall.example:8600", ca_file="/etc/hall/ca.pem",
                        hall_id="GZ-TH-01", terminal_id="T03", language="en",
                        offline_login_days=3, idle_lock_minutes=10)
    save_settings(settings, tmp_path)
    assert load_settings(tmp_path) == settings
    assert not settings_path(tmp_path).with_suffix(".tmp").exists()


def test_unknown_settings_keys_are_ignored(tmp_path):
    settings_path(tmp_path).write_text('{"hall_id": "GZ-TH-01", "colour": "blue"}')
    assert load_settings(tmp_path).hall_id == "GZ-TH-01"


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"idle_lock_minutes": 0}',
                                     '{"offline_login_days": "7"}'])
def test_unreadable_settings_say_which_file(tmp_path, content):
    settings_path(tmp_path).write_text(content)
    with pytest.raises(SettingsError, match=r"settings\.json"):
        load_settings(tmp_path)
    assert settings_path(tmp_path).read_text() == content
