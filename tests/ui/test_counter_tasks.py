"""The conflict flow in the counter window: a task appears, is redone on the current account
or cancelled with a reason, and closes."""

import pytest
from PySide6.QtWidgets import QInputDialog
from sqlalchemy import select

from hallclient.auth.login import terminal_identity
from hallclient.receipts.content import HallInfo
from hallclient.store.models import AuditRow
from hallclient.store.tasks import open_tasks
from hallclient.sync.worker import read_status
from hallclient.ui.counter_window import CounterServices, CounterWindow
from hallcore.domain.business import BusinessKind
from hallcore.domain.text import Text
from tests.support.counter import collide


@pytest.fixture
def conflicted(counters, qtbot):
    """Terminal T02 whose phone change collided with T01's suspension of the same account."""
    second = counters("T02", "gz-th-01-c2")
    a = collide(counters("T01"), second)
    second.engine.sync_once()
    previews = []
    window = CounterWindow(CounterServices(
        second.cache, terminal_identity(second.settings, second.secrets), "gz-th-01-c2",
        HallInfo("GZ-TH-01", Text("天河营业厅", "Tianhe")), show_preview=previews.append,
        ask_rating=lambda window: None),
        lang="en")
    qtbot.addWidget(window)
    window.show()
    window.show_sync_status(read_status(second.cache, online=True))
    return window, second, a, previews


def test_task_is_listed_with_the_customer_and_what_the_server_said(conflicted):
    window, _second, account, _ = conflicted
    assert window.tasks_panel.list.count() == 1
    line = window.tasks_panel.list.item(0).text()
    assert "[conflict]" in line and account.number in line and "139****2222" in line
    assert "version" in line


def test_redo_opens_the_form_filled_as_asked_and_closes_the_task(qtbot, conflicted):
    window, second, _account, previews = conflicted
    window.tasks_panel.list.setCurrentRow(0)
    window.tasks_panel.redo_button.click()
    view = window.form_views[BusinessKind.CONTACT_CHANGE]
    assert window.form_host.stack.currentWidget() is view
    assert view.values()["phone"] == "13911112222"
    assert window.account.status.value == "suspended"  # the account as it is now
    with qtbot.waitSignal(window.request_finished):
        view.submit()
    assert "Accepted" in window.message.text()
    qtbot.waitUntil(lambda: len(previews) == 1)  # rendered off the UI thread
    assert open_tasks(second.cache) == [] and window.tasks_panel.list.count() == 0


def test_cancel_asks_for_a_reason_and_audits_it(conflicted, monkeypatch):
    window, second, _account, _ = conflicted
    monkeypatch.setattr(QInputDialog, "getText",
                        staticmethod(lambda *a, **k: ("customer withdrew", True)))
    window.tasks_panel.list.setCurrentRow(0)
    window.tasks_panel.cancel_button.click()
    assert open_tasks(second.cache) == []
    with second.cache.read() as s:
        audit = s.scalars(select(AuditRow).where(AuditRow.action == "close_task")).one()
    assert audit.clerk == "gz-th-01-c2"
