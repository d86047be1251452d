"""The dashboard's waiting and handling times by hour of the hall day: its table, the CSV of it,
and a server before them (pytest-qt, over made-up reports)."""

import csv
import io
from datetime import UTC, datetime

import pytest

import hallclient.ui.dashboard as dashboard_module
from hallclient.ui.dashboard import KpiDashboard
from hallcore.domain.text import Text
from hallcore.wire import KpiHourRow
from tests.support.kpi_reports import report

HALL = Text("广州供电局天河营业厅", "Tianhe Service Hall")
NOW = datetime(2025, 5, 31, 17, 30, tzinfo=UTC)
HEADINGS = ["Hour", "Customers who waited", "Avg wait (min)", "Median wait (min)",
            "90% waited at most (min)", "Requests timed", "Avg handling (min)"]


def hour(hall, at, waits, avg, median, p90, handled, handling):
    return KpiHourRow(hall=hall, hour=at, waits=waits, avg_waiting_seconds=avg,
                      median_waiting_seconds=median, p90_waiting_seconds=p90, handled=handled,
                      avg_handling_seconds=handling)


HOURS = [hour("GZ-TH-01", 9, 3, 1200.0, 600.0, 2400.0, 2, 900.0),
         hour("GZ-TH-01", 14, 0, None, None, None, 1, 250.0),
         hour("GZ-TH-01", None, 3, 1200.0, 600.0, 2400.0, 3, 683.0)]


@pytest.fixture
def open_dashboard(qtbot, english):
    def make(answer):
        window = KpiDashboard(lambda since, until, by: answer, hall=HALL, now=lambda: NOW)
        qtbot.addWidget(window)
        with qtbot.waitSignal(window.loaded, timeout=5000):
            window.show()
        return window

    return make


def cells(table):
    return [[table.item(r, c).text() for c in range(table.columnCount())]
            for r in range(table.rowCount())]


def test_the_hours_table_shows_waits_and_handling_by_hour_and_the_whole_day(open_dashboard):
    window = open_dashboard(report().model_copy(update={"hours": HOURS}))
    table = window.hours_table
    assert [table.horizontalHeaderItem(c).text().replace("\n", " ")
            for c in range(table.columnCount())] == HEADINGS
    assert cells(table) == [
        ["09:00–10:00", "3", "20.0", "10.0", "40.0", "2", "15.0"],
        ["14:00–15:00", "0", "—", "—", "—", "1", "4.2"],
        ["Whole day", "3", "20.0", "10.0", "40.0", "3", "11.4"]]
    assert table.item(2, 0).font().bold()


def test_the_csv_of_the_hours_tab_is_that_table(qtbot, monkeypatch, tmp_path, open_dashboard):
    window = open_dashboard(report().model_copy(update={"hours": HOURS}))
    window.tables.setCurrentWidget(window.hours_table)
    path = tmp_path / "hours.csv"
    suggested = []
    monkeypatch.setattr(dashboard_module.QFileDialog, "getSaveFileName",
                        lambda parent, caption, name, kinds: (suggested.append(name),
                                                              (str(path), ""))[1])
    with qtbot.waitSignal(window.exported, timeout=20_000):
        window.csv_button.click()
    assert suggested[0].endswith("kpi-hours-20250501-20250507-business_type.csv")
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    assert rows[0] == HEADINGS and rows[-1][0] == "Whole day" and len(rows) == 4


def test_a_server_before_the_hours_leaves_the_table_empty(open_dashboard):
    window = open_dashboard(report())
    assert window.hours_table.rowCount() == 0
