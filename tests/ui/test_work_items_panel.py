"""The hall's work items in the counter window: every open one, overdue first and said so,
a reminder once when one comes within a day of its limit, a step marked done, and what went
wrong in the clerk's language."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest

from hallclient.sync.api import ServerApi
from hallclient.ui.i18n import use_language
from hallclient.ui.work_items import WorkItemsPanel
from hallcore.domain.business import BusinessKind
from hallcore.wire import BilingualText, WorkItemList, WorkItemWire

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 in the hall
HALL = "GZ-TH-01"


def item(item_id: int, due_in: timedelta, number: str = "1000000001") -> WorkItemWire:
    return WorkItemWire(
        id=item_id, operation_id=f"op-{item_id:05d}", account_number=number,
        business_type=BusinessKind.NEW_CONNECTION, step="survey",
        step_label=BilingualText(zh="现场勘查", en="site survey"), due_at=NOW + due_in,
        done_at=None, overdue=due_in < timedelta(0))


class Hall:
    """The server's list of the hall's open items; a step done leaves it."""

    def __init__(self, *items: WorkItemWire) -> None:
        self.items = list(items)
        self.completed: list[int] = []

    def fetch(self) -> WorkItemList:
        return WorkItemList(hall_id=HALL, items=list(self.items))

    def complete(self, item_id: int) -> WorkItemWire:
        self.completed.append(item_id)
        self.items = [i for i in self.items if i.id != item_id]
        return item(item_id, timedelta(0))


@pytest.fixture
def hall():
    return Hall(item(1, timedelta(days=3)), item(2, timedelta(hours=-5)),
                item(3, timedelta(hours=2), "1000000003"))


@pytest.fixture
def open_panel(qtbot):
    def open_(fetch, complete=lambda _id: None):
        panel = WorkItemsPanel(fetch, complete, now=lambda: NOW)
        qtbot.addWidget(panel)
        panel.show()
        return panel
    return open_


@pytest.fixture
def panel(open_panel, hall, english):
    return open_panel(hall.fetch, hall.complete)


def refreshed(qtbot, panel, rows: int) -> None:
    """Refresh, and wait for the list fetched (it says when it was updated)."""
    panel.updated.clear()
    panel.refresh()
    qtbot.waitUntil(lambda: panel.updated.text() != "" and panel.list.count() == rows)


def lines(panel) -> list[str]:
    return [panel.list.item(i).text() for i in range(panel.list.count())]


def click_row(panel, row: int) -> None:
    rect = panel.list.visualItemRect(panel.list.item(row))
    QTest.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_every_open_item_is_shown_overdue_first_with_what_it_is(qtbot, panel):
    reminders = []
    panel.remind.connect(reminders.append)
    refreshed(qtbot, panel, 3)
    assert lines(panel) == [
        "Overdue by 5h 00m · due 11-25 05:00 · New residential connection: site survey · "
        "account 1000000001",
        "2h 00m left · due 11-25 12:00 · New residential connection: site survey · "
        "account 1000000003",
        "3d 0h left · due 11-28 10:00 · New residential connection: site survey · "
        "account 1000000001"]
    assert panel.list.item(0).foreground().color() == QColor("#b00020")  # and said in words
    assert panel.updated.text() == "Updated at 10:00"
    assert reminders == ["Work item due in 2h 00m: New residential connection site survey, "
                         "account 1000000003"]
    refreshed(qtbot, panel, 3)  # reminded once, not every minute
    assert len(reminders) == 1


def test_the_panel_asks_the_server_for_every_open_item_of_the_hall(qtbot, open_panel, english):
    asked = []

    def server(request: httpx.Request) -> httpx.Response:
        asked.append(request.url)
        return httpx.Response(200, json=WorkItemList(hall_id=HALL, items=[
            item(7, timedelta(days=20))]).model_dump(mode="json"))

    api = ServerApi("http://hall.invalid", transport=httpx.MockTransport(server))
    panel = open_panel(lambda: api.work_items(HALL))
    refreshed(qtbot, panel, 1)
    assert "20d 0h left" in lines(panel)[0]
    [url] = asked
    assert url.path == f"/api/v1/halls/{HALL}/work-items" and not url.query


def test_a_hall_without_open_items_says_so(qtbot, open_panel, english):
    panel = open_panel(Hall().fetch)
    assert not panel.empty.isVisible()  # nothing asked yet: not "none"
    refreshed(qtbot, panel, 0)
    assert panel.empty.isVisible() and not panel.list.isVisible()
    assert panel.empty.text() == "No open work items at this hall."
    assert panel.updated.text() == "Updated at 10:00"


def test_step_done_is_enabled_only_with_an_item_chosen(qtbot, panel, hall):
    refreshed(qtbot, panel, 3)
    assert not panel.done_button.isEnabled()
    click_row(panel, 1)
    assert panel.done_button.isEnabled()
    refreshed(qtbot, panel, 3)  # the minute's refresh keeps the clerk's choice
    assert panel.done_button.isEnabled() and panel.list.selectedItems()[0].text() == lines(
        panel)[1]
    hall.items = [i for i in hall.items if i.id != 3]  # done at another counter
    refreshed(qtbot, panel, 2)
    assert not panel.list.selectedItems() and not panel.done_button.isEnabled()


def test_a_step_marked_done_leaves_the_list(qtbot, panel, hall):
    refreshed(qtbot, panel, 3)
    click_row(panel, 0)
    QTest.mouseClick(panel.done_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.list.count() == 2)
    assert hall.completed == [2]
    assert all("Overdue" not in line for line in lines(panel))
    assert not panel.done_button.isEnabled()


def test_an_unreachable_server_is_said_in_the_clerks_language_and_the_list_kept(
        qtbot, open_panel, hall):
    use_language("zh")
    panel = open_panel(hall.fetch)
    refreshed(qtbot, panel, 3)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    offline = ServerApi("http://hall.invalid", transport=httpx.MockTransport(refused))
    panel._fetch = lambda: offline.work_items(HALL)
    panel.refresh()
    qtbot.waitUntil(lambda: panel.message.text() != "")
    said = panel.message.text()
    assert said.startswith("未能更新：") and "服务器暂时连不上" in said and "离线" in said
    assert "Errno" not in said and "ConnectError" not in said
    assert panel.list.count() == 3 and panel.updated.text().endswith("10:00")
    use_language("en")
    assert panel.message.text().startswith("Not updated: The server cannot be reached")


def test_a_step_the_server_refuses_is_said_in_its_words(qtbot, open_panel, hall, english):
    def refuse(_item_id: int) -> WorkItemWire:
        api = ServerApi("http://hall.invalid", transport=httpx.MockTransport(
            lambda _request: httpx.Response(404, json={
                "code": "work_item_not_found", "message": {
                    "zh": "本营业厅没有编号为 2 的工单", "en": "no work item 2 at your hall"}})))
        return api.complete_work_item(2)

    panel = open_panel(hall.fetch, refuse)
    refreshed(qtbot, panel, 3)
    click_row(panel, 0)
    QTest.mouseClick(panel.done_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.message.text() != "")
    assert panel.message.text() == "The step was not marked done: No work item 2 at your hall"
    assert panel.done_button.isEnabled()  # the item is still chosen: the clerk may try again
