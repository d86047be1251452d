"""A damaged cache at start: the clerk is asked, in their language, whether to salvage the
requests it holds; yes brings them into a new cache and the login goes on, no ends the
application with the file untouched."""

import hashlib
import re
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from hallclient.store.operations import TerminalIdentity, record_operation
from hallclient.ui.app import run_app
from hallclient.ui.login_window import LoginWindow
from hallcore.domain.business import BusinessKind
from tests.support.counter import one_account_cache_at
from tests.support.factories import TERMINAL_KEY, holder_presents
from tests.support.timeouts import give_up_after

TERMINAL = TerminalIdentity("GZ-TH-01", "T01", TERMINAL_KEY)
NOON_CST = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
HAN = re.compile(r"[\u4e00-\u9fff]")


def damaged_cache(path, operations=3):
    cache = one_account_cache_at(path)
    done = [record_operation(cache, TERMINAL, clerk="gz-th-01-c1",
                             kind=BusinessKind.CONTACT_CHANGE, account_number="1000000001",
                             raw_payload={**holder_presents(), "phone": f"1390000000{i}"},
                             now=NOON_CST + timedelta(minutes=i))
            for i in range(operations)]
    cache.close()
    with path.open("r+b") as f:
        f.write(b"\xde\xad" * 50)
    return [op.operation_id for op in done], hashlib.sha256(path.read_bytes()).hexdigest()


def close_the_login():
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, LoginWindow):
            widget.reject()


def test_a_damaged_cache_is_salvaged_when_the_clerk_agrees(qapp, tmp_path, monkeypatch):
    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(tmp_path))
    path = tmp_path / "cache.sqlite3"
    operations, damaged = damaged_cache(path)
    asked, told, failed = [], [], []

    def question(_parent, _title, text, buttons, default):
        asked.append(text)
        assert default == QMessageBox.StandardButton.No
        return QMessageBox.StandardButton.Yes

    def information(_parent, _title, text):
        told.append(text)
        QTimer.singleShot(0, close_the_login)  # the clerk would log in now

    monkeypatch.setattr(QMessageBox, "question", question)
    monkeypatch.setattr(QMessageBox, "information", information)
    monkeypatch.setattr(QMessageBox, "critical", lambda _p, _t, text: failed.append(text))
    with give_up_after(60, close_the_login):
        assert run_app(lang="zh") == 0

    assert failed == []
    assert len(asked) == 1 and "其中还有 3 笔业务等待上传" in asked[0] and "是否抢救" in asked[0]
    assert len(told) == 1 and "已抢救 3 笔待上传业务" in told[0]
    [aside] = tmp_path.glob("cache.sqlite3.damaged-*[0-9]")
    assert hashlib.sha256(aside.read_bytes()).hexdigest() == damaged
    with sqlite3.connect(path) as conn:
        assert [r[0] for r in conn.execute(
            "SELECT operation_id FROM outbox WHERE state = 'pending' ORDER BY seq")] == operations


@pytest.mark.parametrize(("lang", "asks", "says"), [
    ("zh", "其中还有 2 笔业务等待上传", "缓存文件 {path} 已损坏（已不是有效的 SQLite 数据库），"
     "文件未作任何改动。其中还有 2 笔业务等待上传：抢救会把它们移入新的缓存"),
    ("en", "It still holds 2 requests waiting to be sent", "The cache file {path} is damaged "
     "(it is not a SQLite database). It has not been changed. It still holds 2 requests")])
def test_a_damaged_cache_is_left_as_it_is_when_the_clerk_declines(
        qapp, tmp_path, monkeypatch, lang, asks, says):
    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(tmp_path))
    path = tmp_path / "cache.sqlite3"
    _, damaged = damaged_cache(path, operations=2)
    asked, said = [], []
    monkeypatch.setattr(QMessageBox, "question", lambda _p, _t, text, _b, _d: asked.append(
        text) or QMessageBox.StandardButton.No)
    monkeypatch.setattr(QMessageBox, "critical", lambda _p, _t, text: said.append(text))
    with give_up_after(60, close_the_login):
        assert run_app(lang=lang) == 2

    assert len(asked) == 1 and asks in asked[0]
    [message] = said  # in the clerk's language only, with the way to salvage later
    assert says.format(path=path) in message and "hallclient salvage" in message
    assert bool(HAN.search(message)) == (lang == "zh")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == damaged
    assert list(tmp_path.glob("*.damaged-*")) == []


def test_a_salvage_that_fails_unexpectedly_shows_a_fixed_sentence_not_its_text(
        qapp, tmp_path, monkeypatch):
    from hallclient.failures import UNEXPECTED
    from hallclient.store import salvage

    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(tmp_path))
    path = tmp_path / "cache.sqlite3"
    _, damaged = damaged_cache(path, operations=1)

    def fails(_path):
        raise RuntimeError("row 7 of account 1000000001 is odd")

    monkeypatch.setattr(salvage, "salvage", fails)
    monkeypatch.setattr(QMessageBox, "question", lambda *_: QMessageBox.StandardButton.Yes)
    said = []
    monkeypatch.setattr(QMessageBox, "critical", lambda _p, _t, text: said.append(text))
    with give_up_after(60, close_the_login):
        assert run_app(lang="zh") == 2

    assert said == [UNEXPECTED.zh]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == damaged
