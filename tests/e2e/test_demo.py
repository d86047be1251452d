import re
import subprocess
import sys

import pytest

from hallclient.__main__ import main


@pytest.fixture(scope="module")
def demo_output():
    """The demo in both languages (it runs its own embedded server each time)."""
    outputs = {}
    for lang in ("zh", "en"):
        done = subprocess.run([sys.executable, "-m", "hallclient", "--demo", "--text",
                               "--lang", lang],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        outputs[lang] = done.stdout
    return outputs


def test_demo_bootstraps_a_terminal_from_its_embedded_server(demo_output):
    out = demo_output["en"]
    assert "Central server: http://127.0.0.1:" in out
    assert "bootstrapped 1000 accounts" in out


def test_demo_walks_every_business_type(demo_output):
    for label in ("Transfer of account", "Change of name", "Suspension of supply",
                  "Resumption of supply", "Closing the account", "Change of contact details",
                  "New residential connection"):
        assert label in demo_output["en"]


def test_demo_works_offline_and_lands_the_outbox_once_back_online(demo_output):
    out = demo_output["en"]
    assert re.search(r"receipt GZ-TH-01-T01-\d{8}-0001, accepted, pending confirmation", out)
    assert "can only be done while the server can be reached" in out
    assert "sync: server unreachable, 2 waiting in the outbox" in out
    assert "pushed 2 (applied 1, conflicts 1, rejected 0), pending 0" in out
    assert "task for a clerk (conflict)" in out


def test_demo_masks_ids_and_phones(demo_output):
    for out in demo_output.values():
        account_line = next(line for line in out.splitlines()
                            if line.startswith(("户号", "Account ")))
        assert re.search(r" \d{4}\*{10}[\dX]{4} ", account_line)
        assert re.search(r" 1\d\d\*{4}\d{4} ", account_line)
        sms_lines = [line for line in out.splitlines() if "【供电营业厅】" in line]
        assert sms_lines and all(re.match(r"  1\d\d\*{4}\d{4}  ", line) for line in sms_lines)


def test_demo_speaks_chinese_by_default(demo_output):
    assert "网络恢复，同步：" in demo_output["zh"]
    assert "待处理任务（冲突）" in demo_output["zh"]


def test_console_entry_point_prints_its_version():
    done = subprocess.run([sys.executable, "-m", "hallclient", "--version"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.startswith("HallClient ")


def test_help_without_arguments(capsys):
    assert main([]) == 0
    assert "--demo" in capsys.readouterr().out
