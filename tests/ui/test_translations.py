"""Qt translations of the windows: complete, compiled, and switched at once in every window."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import (
    QAbstractButton,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QWidget,
)

from hallclient.config import Settings
from hallclient.receipts.content import HallInfo
from hallclient.store.operations import TerminalIdentity
from hallclient.ui.counter_window import CounterServices, CounterWindow
from hallclient.ui.i18n import current_language, use_language
from hallclient.ui.login_window import LoginWindow
from hallcore.domain.text import Text
from tests.support import ROOT
from tests.support.factories import TERMINAL_KEY

I18N = ROOT / "hallclient" / "resources" / "i18n"
TOOLS = Path(sys.executable).parent


def test_every_window_string_is_translated_and_the_compiled_file_is_current(tmp_path):
    ts = tmp_path / "hallclient_zh_CN.ts"
    shutil.copy(I18N / "hallclient_zh_CN.ts", ts)
    sources = sorted(str(p) for p in (ROOT / "hallclient" / "ui").glob("*.py"))
    subprocess.run([TOOLS / "pyside6-lupdate", "-no-obsolete", "-locations", "none", *sources,
                    "-ts", ts], check=True, capture_output=True)
    updated = ts.read_text(encoding="utf-8")
    assert 'type="unfinished"' not in updated, "run scripts/translations and translate"
    assert updated == (I18N / "hallclient_zh_CN.ts").read_text(encoding="utf-8"), (
        "the windows' strings changed: run scripts/translations")
    qm = tmp_path / "hallclient_zh_CN.qm"
    subprocess.run([TOOLS / "pyside6-lrelease", "-nounfinished", "-removeidentical",
                    I18N / "hallclient_zh_CN.ts", "-qm", qm], check=True, capture_output=True)
    assert qm.read_bytes() == (I18N / "hallclient_zh_CN.qm").read_bytes(), (
        "the .qm is older than the .ts: run scripts/translations")


@pytest.fixture
def counter(qtbot, one_account_cache):
    window = CounterWindow(CounterServices(
        one_account_cache, TerminalIdentity("GZ-TH-01", "T01", TERMINAL_KEY), "gz-th-01-c1",
        HallInfo("GZ-TH-01", Text("天河营业厅", "Tianhe Service Hall"))), lang="zh")
    qtbot.addWidget(window)
    window.show()
    return window


def visible_strings(window: QWidget) -> list[str]:
    """Every label, button text and placeholder of the window and its forms (shown or not)."""
    out = [window.windowTitle()]
    for child in window.findChildren(QWidget):
        if isinstance(child, (QLabel, QAbstractButton)) and child.text():
            out.append(child.text())
        elif isinstance(child, QLineEdit) and child.placeholderText():
            out.append(child.placeholderText())
    return out


# Words that stay as they are in Chinese: keys, the product, the way to English.
KEEP = re.compile(r"\((Ctrl\+\w+|F\d+)\)|HallClient|English|GZ-TH-01")


def test_in_chinese_no_english_word_is_left_in_the_counter_window(counter):
    for text in visible_strings(counter):
        assert not re.search(r"[A-Za-z]{3,}", KEEP.sub("", text)), text


def test_in_english_no_chinese_is_left_in_the_counter_window(counter):
    counter.set_language("en")
    for text in visible_strings(counter):
        assert text == "中文 (Ctrl+L)" or not re.search(r"[\u4e00-\u9fff]", text), text


def test_one_switch_relabels_every_open_window_and_qt_own_buttons(qtbot, counter):
    login = LoginWindow(Settings(installation_id="x"), lambda *a: None)
    qtbot.addWidget(login)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
    qtbot.addWidget(buttons)
    cancel = buttons.button(QDialogButtonBox.StandardButton.Cancel)
    assert login.button.text() == "登录" and cancel.text() == "取消"
    counter.toggle_language()  # Ctrl+L in the counter window
    assert current_language() == "en"
    assert login.button.text() == "Log in" and login.windowTitle() == "HallClient login"
    assert cancel.text() == "Cancel"
    assert counter.reprint_button.text() == "Reprint (Ctrl+R)"
    use_language("zh")
    assert login.labels["password"].text() == "密码"
    assert counter.reprint_button.text() == "补打回执 (Ctrl+R)"
