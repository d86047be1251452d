"""The dashboard's ratings on the five levels (好差评), the 7-day default and the call-backs:
the headline's call-back figures, the ratings table and its exports (pytest-qt, over made-up
reports)."""

import csv
import io
import subprocess
from datetime import UTC, datetime

import pytest

import hallclient.ui.dashboard as dashboard_module
from hallclient.ui.dashboard import KpiDashboard
from hallclient.ui.palette import OK as GOOD
from hallclient.ui.palette import REFUSED as BAD
from hallcore.domain.text import Text
from tests.support.kpi_reports import kpi_row, report

HALL = Text("广州供电局天河营业厅", "Tianhe Service Hall")
NOW = datetime(2025, 5, 31, 17, 30, tzinfo=UTC)


def rated(key, very_satisfied, satisfied, basically, defaulted, dissatisfied,
          very_dissatisfied, opened, due, in_time):
    rated_ = very_satisfied + satisfied + basically + dissatisfied + very_dissatisfied
    good = very_satisfied + satisfied + basically + defaulted
    bad = dissatisfied + very_dissatisfied
    return kpi_row(key, 60, satisfied, basically, dissatisfied).model_copy(update={
        "very_satisfied": very_satisfied, "very_dissatisfied": very_dissatisfied,
        "defaulted": defaulted, "rated": rated_,
        "satisfaction_rate": good / (rated_ + defaulted),
        "callbacks_opened": opened, "callback_rate": opened / bad if bad else None,
        "callbacks_due": due, "callbacks_in_time": in_time,
        "callbacks_in_time_rate": in_time / due if due else None})


ROWS = [rated("transfer", 20, 15, 5, 4, 2, 1, 3, 2, 2),
        rated("suspend", 10, 8, 2, 6, 1, 0, 1, 2, 1)]
TOTAL = rated("total", 30, 23, 7, 10, 3, 1, 4, 4, 3)
RATINGS_HEADINGS = [
    "Business type", "Very satisfied", "Satisfied", "Basically satisfied",
    "Unrated for 7 days", "Dissatisfied", "Very dissatisfied", "Satisfaction rate",
    "Call-backs opened", "Call-back rate", "Call-backs due", "Called back in time"]


def server(answer):
    return lambda since, until, by: answer


@pytest.fixture
def open_dashboard(qtbot, english):
    def make(answer):
        window = KpiDashboard(server(answer), hall=HALL, now=lambda: NOW)
        qtbot.addWidget(window)
        with qtbot.waitSignal(window.loaded, timeout=5000):
            window.show()
        return window

    return make


def cells(table, row):
    return [table.item(row, c).text() for c in range(table.columnCount())]


def test_the_headline_says_whether_every_bad_rating_was_called_back_in_time(open_dashboard):
    window = open_dashboard(report(ROWS, total=TOTAL))
    assert (window.callbacks.value.text(), window.callbacks.name.text(),
            window.callbacks.note.text(), window.callbacks.verdict.text()) == (
        "100.0%", "Call-back rate", "4 opened", "Target met")
    assert GOOD in window.callbacks.value.styleSheet()
    assert (window.callbacks_in_time.value.text(), window.callbacks_in_time.name.text(),
            window.callbacks_in_time.note.text(), window.callbacks_in_time.verdict.text()) == (
        "75.0%", "Called back in time", "of 4 due in the period", "Target not met")
    assert BAD in window.callbacks_in_time.value.styleSheet()
    # The satisfaction rate counts the unrated as basically satisfied, and says how many.
    assert window.satisfaction.value.text() == "94.6%"
    assert "unrated for 7 days" in window.satisfaction.toolTip()
    assert "10 in this period" in window.satisfaction.toolTip()


def test_the_ratings_table_has_the_five_levels_the_default_and_the_callbacks(open_dashboard):
    window = open_dashboard(report(ROWS, total=TOTAL))
    table = window.ratings_table
    # In two lines on screen, to fit twelve columns; in one in the exports.
    shown = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert [h.replace("\n", " ") for h in shown] == RATINGS_HEADINGS
    assert shown[4] == "Unrated\nfor 7 days" and shown[0] == "Business\ntype"
    assert cells(table, 0) == ["Transfer of account", "20", "15", "5", "4", "2", "1",
                               "93.6%", "3", "100.0%", "2", "100.0%"]
    assert cells(table, 2) == ["Total", "30", "23", "7", "10", "3", "1", "94.6%", "4",
                               "100.0%", "4", "75.0%"]
    assert table.item(2, 0).font().bold()
    assert [window.tables.tabText(i) for i in range(2)] == [
        "Service figures", "Ratings and call-backs"]


def test_a_report_from_a_server_before_callbacks_shows_no_callback_figure(open_dashboard):
    window = open_dashboard(report())  # the three levels only
    assert window.callbacks.value.text() == window.callbacks_in_time.value.text() == "—"
    assert window.callbacks.verdict.text() == window.callbacks_in_time.verdict.text() == ""
    assert cells(window.ratings_table, 0)[1:5] == ["0", "96", "13", "0"]


class FakeFileDialog:
    def __init__(self, path):
        self.path = path
        self.suggested = None

    def getSaveFileName(self, parent, caption, suggested, kinds):
        self.suggested = suggested
        return str(self.path), ""


def export(qtbot, monkeypatch, window, path, button):
    dialog = FakeFileDialog(path)
    monkeypatch.setattr(dashboard_module, "QFileDialog", dialog)
    with qtbot.waitSignal(window.exported, timeout=20_000):
        button.click()
    return dialog


def test_the_csv_is_the_table_shown(qtbot, monkeypatch, tmp_path, open_dashboard):
    window = open_dashboard(report(ROWS, total=TOTAL))
    window.tables.setCurrentWidget(window.ratings_table)
    path = tmp_path / "ratings.csv"
    dialog = export(qtbot, monkeypatch, window, path, window.csv_button)
    assert dialog.suggested.endswith("kpi-ratings-20250501-20250507-business_type.csv")
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    assert rows[0] == RATINGS_HEADINGS
    assert rows[-1] == ["Total", "30", "23", "7", "10", "3", "1", "94.6%", "4", "100.0%", "4",
                        "75.0%"]
    window.tables.setCurrentWidget(window.table)
    export(qtbot, monkeypatch, window, path, window.csv_button)
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    assert rows[0][:3] == ["Business type", "Operations", "Ratings"]


def test_the_pdf_has_both_tables(qtbot, monkeypatch, tmp_path, open_dashboard):
    window = open_dashboard(report(ROWS, total=TOTAL))
    path = tmp_path / "kpi.pdf"
    dialog = export(qtbot, monkeypatch, window, path, window.pdf_button)
    assert dialog.suggested.endswith("kpi-20250501-20250507-business_type.pdf")
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    # The service figures, then the ratings: each business type twice, the in-time share once.
    assert text.count("Transfer of account") == 2 and text.count("75.0%") == 1
    assert text.index("Operation") < text.index("Called")
