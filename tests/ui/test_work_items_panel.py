"""The hall's work items in the counter window: time left, overdue in red, a reminder once
when one comes within a day of its limit, a step marked done."""

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtGui import QColor

from hallclient.ui.work_items import WorkItemsPanel
from hallcore.domain.business import BusinessKind
from hallcore.wire import BilingualText, WorkItemList, WorkItemWire

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 in the hall


def item(item_id: int, due_in: timedelta, number: str = "1000000001") -> WorkItemWire:
    return WorkItemWire(
        id=item_id, operation_id=f"op-{item_id:05d}", account_number=number,
        business_type=BusinessKind.NEW_CONNECTION, step="survey",
        step_label=BilingualText(zh="现场勘查", en="site survey"), due_at=NOW + due_in,
        done_at=None, overdue=due_in < timedelta(0))


@pytest.fixture
def panel(qtbot, english):
    listed = [item(1, timedelta(days=3)), item(2, timedelta(hours=-5)),
              item(3, timedelta(hours=2), "1000000003")]
    completed: list[int] = []

    def complete(item_id: int) -> WorkItemWire:
        completed.append(item_id)
        listed[:] = [i for i in listed if i.id != item_id]
        return item(item_id, timedelta(0))

    p = WorkItemsPanel(lambda: WorkItemList(hall_id="GZ-TH-01", items=list(listed)), complete,
                       now=lambda: NOW)
    qtbot.addWidget(p)
    p.completed = completed
    return p


def test_items_show_time_left_soonest_first_overdue_in_red(qtbot, panel):
    reminders = []
    panel.remind.connect(reminders.append)
    panel.refresh()
    qtbot.waitUntil(lambda: panel.list.count() == 3)
    lines = [panel.list.item(i).text() for i in range(3)]
    assert "overdue by 5h 00m" in lines[0] and "site survey" in lines[0]
    assert "2h 00m left" in lines[1] and "3d 0h left" in lines[2]
    assert panel.list.item(0).foreground().color() == QColor("#b00020")
    assert reminders == ["Work item due in 2h 00m: New residential connection site survey, "
                         "account 1000000003"]
    panel.refresh()  # reminded once, not every minute
    qtbot.waitUntil(lambda: panel.list.count() == 3)
    qtbot.wait(50)
    assert len(reminders) == 1


def test_a_step_marked_done_leaves_the_list(qtbot, panel):
    panel.refresh()
    qtbot.waitUntil(lambda: panel.list.count() == 3)
    panel.list.setCurrentRow(0)
    panel.mark_done()
    qtbot.waitUntil(lambda: panel.list.count() == 2)
    assert panel.completed == [2]


def test_a_failed_fetch_keeps_the_list_and_says_why(qtbot, panel):
    panel.refresh()
    qtbot.waitUntil(lambda: panel.list.count() == 3)

    def offline() -> WorkItemList:
        raise OSError("network down")

    panel._fetch = offline
    panel.refresh()
    qtbot.waitUntil(lambda: "network down" in panel.message.text())
    assert panel.list.count() == 3
