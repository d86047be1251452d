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


@pytest.mark.parametrize(("content", "zh", "en"), [
    (b"{not json", "JSON 格式有误：第 1 行第 2 列",
     "it is not valid JSON: an error at line 1, column 2"),
    (b"[1, 2]", "内容不是一个 JSON 对象", "it does not hold a JSON object"),
    (b'{"idle_lock_minutes": 0}', "idle_lock_minutes 必须是 1 到 10000 之间的整数",
     "idle_lock_minutes must be a whole number from 1 to 10000"),
    (b'{"offline_login_days": "7"}', "offline_login_days 必须是 1 到 10000 之间的整数",
     "offline_login_days must be a whole number from 1 to 10000"),
    (b'{"online_only": "close"}', "online_only 必须是业务类型的列表",
     "online_only must be a list of business types"),
    ('{"hall_id": "天河"}'.encode("gbk"), "内容不是 UTF-8 编码的文本", "it is not UTF-8 text"),
])
def test_unreadable_settings_say_which_file_and_why_in_both_languages(tmp_path, content, zh,
                                                                      en):
    path = settings_path(tmp_path)
    path.write_bytes(content)
    with pytest.raises(SettingsError) as err:
        load_settings(tmp_path)
    assert err.value.reason.zh == (
        f"终端设置文件 {path} 无法读取（{zh}）。请修正该文件，或将其删除后重新设置本终端。")
    assert err.value.reason.en == (
        f"The settings file {path} cannot be read ({en}). Fix it or delete it to set the "
        "terminal up again.")
    assert str(err.value) == str(err.value.reason)
    assert path.read_bytes() == content


def test_a_settings_file_that_cannot_be_opened_is_said_not_raised(tmp_path):
    settings_path(tmp_path).mkdir(parents=True)  # a folder where the file should be
    with pytest.raises(SettingsError) as refused:
        load_settings(tmp_path)
    assert "cannot be read (it cannot be opened: Is a directory)" in refused.value.reason.en
    assert "无法读取（打不开：Is a directory）" in refused.value.reason.zh


def test_a_queue_system_is_set_with_this_counters_window_number(tmp_path):
    settings = Settings(queue_url="http://10.1.2.3:8080/queue", queue_counter=4)
    save_settings(settings, tmp_path)
    assert load_settings(tmp_path) == settings
    assert load_settings(tmp_path / "none").queue_url == ""  # no queue system by default


@pytest.mark.parametrize(("content", "en"), [
    ('{"queue_url": "10.1.2.3:8080", "queue_counter": 4}',
     "queue_url must be the queue system's http:// or https:// address, or empty"),
    ('{"queue_url": "ftp://queue.hall", "queue_counter": 4}',
     "queue_url must be the queue system's http:// or https:// address, or empty"),
    ('{"queue_url": "http://[::1", "queue_counter": 4}',
     "queue_url must be the queue system's http:// or https:// address, or empty"),
    ('{"queue_url": 8080, "queue_counter": 4}',
     "queue_url must be the queue system's http:// or https:// address, or empty"),
    ('{"queue_url": "http://queue.hall"}',
     "with a queue_url, queue_counter must be this counter's window number in the queue "
     "system"),
    ('{"queue_url": "http://queue.hall", "queue_counter": "4"}',
     "queue_counter must be a whole number from 1 to 10000"),
])
def test_a_queue_system_setting_that_cannot_work_is_refused_with_its_reason(tmp_path, content,
                                                                             en):
    settings_path(tmp_path).write_text(content)
    with pytest.raises(SettingsError) as err:
        load_settings(tmp_path)
    assert f"({en})" in err.value.reason.en and "queue_" in err.value.reason.zh
