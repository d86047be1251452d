"""The KPI dashboard window (pytest-qt), over made-up reports from a fake server."""

import csv
import io
import subprocess
import threading
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtGui import QColor, QImage

import hallclient.ui.dashboard as dashboard_module
from hallclient.sync.api import ServerRefused, ServerUnreachable
from hallclient.ui.bar_chart import BarChart
from hallclient.ui.dashboard import KpiDashboard
from hallclient.ui.i18n import use_language
from hallclient.ui.palette import OK as GOOD
from hallclient.ui.palette import REFUSED as BAD
from hallcore.domain.deadlines import HALL_TZ
from hallcore.domain.text import Text
from hallcore.wire import BilingualText, ErrorBody
from tests.support.kpi_reports import BY_TYPE, kpi_row, report
from tests.support.screen import SCREEN_AT_150, cut_off

HALL = Text("广州供电局天河营业厅", "Tianhe Service Hall")
NOW = datetime(2025, 5, 31, 17, 30, tzinfo=UTC)  # 1 June 01:30 in the hall


class FakeServer:
    """Answers each request with the next of `answers`: a report, or an exception to raise."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.asked = []

    def __call__(self, since, until, by):
        self.asked.append((since, until, by))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def chinese(qapp):
    use_language("zh")


@pytest.fixture
def open_dashboard(qtbot):
    """Opens the dashboard on `server` and waits for its first answer (a refusal when
    `refused`)."""

    def make(server, *, refused=False):
        window = KpiDashboard(server, hall=HALL, now=lambda: NOW)
        qtbot.addWidget(window)
        with qtbot.waitSignal(window.failed if refused else window.loaded, timeout=5000):
            window.show()
        return window

    return make


def wait_loaded(qtbot, window, action):
    with qtbot.waitSignal(window.loaded, timeout=5000):
        action()


def cells(window, row):
    return [window.table.item(row, c).text() for c in range(window.table.columnCount())]


def headings(window):
    return [window.table.horizontalHeaderItem(c).text() for c in range(window.table.columnCount())]


def test_headline_and_table_show_the_reports_figures(open_dashboard, english):
    window = open_dashboard(FakeServer(report()))
    headline = [(f.value.text(), f.name.text()) for f in (
        window.satisfaction, window.one_stop, window.handling, window.overdue,
        window.completeness)]
    assert headline == [("92.6%", "Satisfaction rate"), ("89.7%", "One-stop ratio"),
                        ("7.2 min", "Average handling time"), ("6", "Overdue work items"),
                        ("88.6%", "Completeness rate")]
    # Below target in red, at or above it in green.
    assert GOOD in window.satisfaction.value.styleSheet()
    assert BAD in window.overdue.value.styleSheet()
    assert BAD in window.completeness.value.styleSheet()
    assert window.caption.text() == "Tianhe Service Hall · 2025-05-01 – 2025-05-07"
    assert headings(window) == [
        "Business type", "Operations", "Ratings", "Satisfaction rate", "One-stop ratio",
        "Avg handling (min)", "Items due in period", "Overdue", "Completeness rate"]
    assert window.table.rowCount() == len(BY_TYPE) + 1
    assert cells(window, 0) == ["Transfer of account", "132", "118", "92.4%", "92.3%", "10.2",
                                "12", "1", "—"]
    assert cells(window, len(BY_TYPE)) == ["Total", "511", "431", "92.6%", "89.7%", "7.2",
                                           "98", "6", "88.6%"]
    assert window.table.item(len(BY_TYPE), 0).font().bold()


def verdicts(window):
    return [figure.verdict.text() for figure in (
        window.satisfaction, window.one_stop, window.handling, window.overdue,
        window.completeness)]


def test_whether_a_figure_meets_its_target_is_said_in_words(qtbot, open_dashboard, english):
    """Not by its colour alone: satisfaction 92.6% of 90%, one-stop 89.7% of 85%, 6 overdue of
    none, completeness 88.6% of 95%; the handling time has no target."""
    window = open_dashboard(FakeServer(report(), ServerUnreachable("ConnectError: refused")))
    assert verdicts(window) == ["Target met", "Target met", "", "Target not met",
                                "Target not met"]
    assert window.completeness.note.text() == "target 95%"
    with qtbot.waitSignal(window.failed, timeout=5000):
        window.refresh()
    assert verdicts(window) == [""] * 5  # no figure, nothing met or missed


def test_no_overdue_work_is_said_to_meet_its_target(open_dashboard, english):
    quiet = [kpi_row("gz-th-01-c7", operations=2, work_items=3)]
    window = open_dashboard(FakeServer(report(quiet, by="clerk", total=quiet[0])))
    assert window.overdue.value.text() == "0" and window.overdue.verdict.text() == "Target met"
    assert window.satisfaction.verdict.text() == ""  # no ratings: no figure to judge


def test_work_items_are_said_to_be_those_due_in_the_period(open_dashboard, english):
    """A day's requests are due on later days: the counter lists them as open while the day's
    figures count none. The words say the figures count by deadline, not what is open now."""
    busy = [kpi_row(kind, operations=5) for kind in ("transfer", "suspend", "new_connection")]
    window = open_dashboard(FakeServer(report(busy, total=kpi_row("total", 15))))
    assert [cells(window, r)[6:8] for r in range(len(busy) + 1)] == [["0", "0"]] * 4
    assert headings(window)[6:8] == ["Items due in period", "Overdue"]
    assert (window.overdue.value.text(), window.overdue.name.text(),
            window.overdue.note.text()) == ("0", "Overdue work items", "of 0 due in the period")
    meaning = window.overdue.toolTip()
    assert "deadline falls in the period" in meaning and "Items due later are not counted" in (
        meaning)


def test_figures_nothing_was_counted_for_show_a_dash(open_dashboard, english):
    quiet = [kpi_row("gz-th-01-c7", operations=2)]
    window = open_dashboard(FakeServer(report(quiet, by="clerk", total=quiet[0])))
    for figure in (window.satisfaction, window.one_stop, window.handling, window.completeness):
        assert figure.value.text() == "—"
    assert window.overdue.value.text() == "0"
    assert cells(window, 0) == ["gz-th-01-c7", "2", "0", "—", "—", "—", "0", "0", "—"]
    assert headings(window)[0] == "Clerk"


def test_the_chosen_period_and_grouping_are_asked_for_in_the_halls_days(
        qtbot, open_dashboard, english):
    server = FakeServer(report())
    window = open_dashboard(server)
    day = timedelta(days=1)
    june = datetime(2025, 6, 1, tzinfo=HALL_TZ)
    assert server.asked == [(june - 6 * day, june + day, "business_type")]  # the last 7 days
    wait_loaded(qtbot, window, lambda: window.period.setCurrentIndex(0))  # today
    wait_loaded(qtbot, window, lambda: window.grouping.setCurrentIndex(1))  # by clerk
    wait_loaded(qtbot, window, lambda: window.period.setCurrentIndex(2))  # last 30 days
    wait_loaded(qtbot, window, lambda: window.period.setCurrentIndex(3))  # this month
    assert server.asked[1:] == [(june, june + day, "business_type"), (june, june + day, "clerk"),
                                (june - 29 * day, june + day, "clerk"),
                                (june, june + day, "clerk")]
    assert all(since.utcoffset() == timedelta(hours=8) for since, _, _ in server.asked)


def test_a_clerk_is_told_the_servers_refusal_and_the_window_stays_usable(
        qtbot, open_dashboard, english):
    refusal = ServerRefused(403, ErrorBody(code="forbidden", message=BilingualText(
        zh="仅限主管查看", en="Supervisors only")), "")
    server = FakeServer(refusal, report())
    window = open_dashboard(server, refused=True)
    assert window.status.text() == "Supervisors only"
    assert window.satisfaction.value.text() == "—" and window.table.rowCount() == 0
    assert not window.csv_button.isEnabled() and not window.pdf_button.isEnabled()
    assert window.refresh_button.isEnabled() and window.period.isEnabled()
    wait_loaded(qtbot, window, window.refresh_button.click)
    assert window.satisfaction.value.text() == "92.6%" and window.status.text() == ""
    assert window.csv_button.isEnabled()


def test_an_unreachable_server_is_said_in_words(qtbot, open_dashboard, english):
    window = open_dashboard(FakeServer(report(), ServerUnreachable("ConnectError: refused")))
    with qtbot.waitSignal(window.failed, timeout=5000) as failed:
        window.refresh()
    assert failed.args == ["The server cannot be reached; the dashboard needs it. "
                           "Try again with Refresh (F5)."]
    assert window.status.text() == failed.args[0]
    assert window.table.rowCount() == 0  # no figures of a period it could not ask for


@pytest.mark.parametrize(("failure", "said"), [
    (ServerRefused(400, None, "<html><body><h1>400 Bad Request</h1>nginx</body></html>"),
     "The server refused the request (HTTP 400)"),
    (KeyError("satisfaction_rate"),
     "The figures could not be loaded: an unexpected error, written to the log.")],
    ids=["refusal-without-words", "unexpected-fault"])
def test_a_failures_own_text_is_never_shown(qtbot, open_dashboard, english, failure, said):
    window = open_dashboard(FakeServer(report(), failure))
    with qtbot.waitSignal(window.failed, timeout=5000) as failed:
        window.refresh()
    assert failed.args == [said] and window.status.text() == said
    for raw in ("<html>", "nginx", "satisfaction_rate", "KeyError", "HTTP 400:"):
        assert raw not in window.status.text()
    use_language("zh")  # said again in the other language: still not the raw text
    assert "<html>" not in window.status.text() and "satisfaction_rate" not in (
        window.status.text())


def test_an_answer_overtaken_by_a_newer_choice_is_dropped(qtbot, open_dashboard, english):
    release = threading.Event()
    slow_by_clerk = report([kpi_row("gz-th-01-c1", 9)], by="clerk")

    def server(since, until, by):
        if by == "clerk":
            release.wait(5)
            return slow_by_clerk
        return report(by=by, rows=[kpi_row("GZ-TH-01", 40)]) if by == "hall" else report()

    window = open_dashboard(server)
    window.grouping.setCurrentIndex(1)  # by clerk: the answer is slow
    wait_loaded(qtbot, window, lambda: window.grouping.setCurrentIndex(2))  # by hall
    release.set()
    QThreadPool.globalInstance().waitForDone(5000)
    qtbot.wait(50)
    assert window.report.by == "hall" and cells(window, 0)[0] == "GZ-TH-01"


def test_business_types_follow_the_language_without_asking_again(open_dashboard, english):
    server = FakeServer(report())
    window = open_dashboard(server)
    use_language("zh")
    assert cells(window, 0)[0] == "过户"
    assert window.satisfaction_chart.bars[0] == ("过户", BY_TYPE[0].satisfaction_rate)
    use_language("en")
    assert cells(window, 0)[0] == "Transfer of account"
    assert len(server.asked) == 1


def test_a_bar_short_of_its_target_says_so_beside_its_value(open_dashboard, english):
    window = open_dashboard(FakeServer(report()))
    # Satisfaction against 90%: suspension 86.4%, closing 85.7%, new connection 83.7% fall short.
    assert window.satisfaction_chart.values == [
        "92.4%", "94.6%", "86.4% below target", "95.0%", "85.7% below target", "95.9%",
        "83.7% below target"]
    # One-stop against 85%: closing 70.6% and new connection 48.3% fall short.
    assert window.one_stop_chart.values == [
        "92.3%", "97.6%", "89.3%", "96.0%", "70.6% below target", "99.0%",
        "48.3% below target"]


def test_a_group_without_a_figure_is_not_said_to_fall_short(qtbot):
    chart = BarChart()
    qtbot.addWidget(chart)
    chart.show_bars("One-stop ratio", [("a", None), ("b", 0.85), ("c", 0.849)], 0.85,
                    "target 85%", "below target")
    assert chart.values == ["—", "85.0%", "84.9% below target"]


def bars(image: QImage) -> list[tuple[str, int]]:
    """The bars of a chart image from top to bottom: colour and longest run of its pixels."""
    found: list[tuple[str, int]] = []
    previous = None
    for y in range(image.height()):
        counts = {GOOD: 0, BAD: 0}
        for x in range(image.width()):
            name = QColor(image.pixel(x, y)).name()
            if name in counts:
                counts[name] += 1
        colour = max(counts, key=counts.get)
        if counts[colour] == 0:
            previous = None
            continue
        if previous != colour:
            found.append((colour, 0))
        found[-1] = (colour, max(found[-1][1], counts[colour]))
        previous = colour
    return found


def test_bars_are_as_long_as_their_rates_and_coloured_by_the_target(qtbot):
    chart = BarChart()
    qtbot.addWidget(chart)
    chart.show_bars("Satisfaction rate", [("a", 1.0), ("b", 0.5), ("c", 0.25), ("d", None),
                                          ("e", 0.9)], 0.9, "target 90%", "below target")
    image = QImage.fromData(chart.png(width=600, scale=1))
    assert image.width() == 600
    found = bars(image)
    assert [colour for colour, _ in found] == [GOOD, BAD, BAD, GOOD]  # d has no bar
    full = found[0][1]
    assert found[1][1] / full == pytest.approx(0.5, abs=0.01)
    assert found[2][1] / full == pytest.approx(0.25, abs=0.01)
    assert found[3][1] / full == pytest.approx(0.9, abs=0.01)


def test_the_dashboards_charts_are_drawn(open_dashboard, english):
    window = open_dashboard(FakeServer(report()))
    image = window.satisfaction_chart.grab().toImage()
    assert not image.isNull() and image.width() > 200
    # 92.4 94.6 86.4 95.0 85.7 95.9 83.7: four meet the 90% target, three fall short.
    assert [colour for colour, _ in bars(image)] == [GOOD, GOOD, BAD, GOOD, BAD, GOOD, BAD]
    lengths = [length for _, length in bars(image)]
    assert lengths[5] / lengths[6] == pytest.approx(0.959 / 0.837, abs=0.02)


class FakeFileDialog:
    def __init__(self, path):
        self.path = path
        self.suggested = None

    def getSaveFileName(self, parent, caption, suggested, kinds):
        self.suggested = suggested
        return (str(self.path) if self.path else "", "")


def export(qtbot, monkeypatch, window, path, button):
    dialog = FakeFileDialog(path)
    monkeypatch.setattr(dashboard_module, "QFileDialog", dialog)
    with qtbot.waitSignal(window.exported, timeout=20_000) as exported:
        button.click()
        assert not window.csv_button.isEnabled()  # written off the UI thread
    assert exported.args == [str(path)]
    assert window.csv_button.isEnabled() and str(path) in window.status.text()
    return dialog


def test_csv_export_is_the_table_in_utf8_with_a_bom(qtbot, monkeypatch, tmp_path,
                                                    open_dashboard, english):
    window = open_dashboard(FakeServer(report()))
    path = tmp_path / "kpi.csv"
    dialog = export(qtbot, monkeypatch, window, path, window.csv_button)
    assert dialog.suggested.endswith("kpi-20250501-20250507-business_type.csv")
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert list(csv.reader(io.StringIO(data.decode("utf-8-sig")))) == [
        ["Business type", "Operations", "Ratings", "Satisfaction rate", "One-stop ratio",
         "Avg handling (min)", "Items due in period", "Overdue", "Completeness rate"],
        ["Transfer of account", "132", "118", "92.4%", "92.3%", "10.2", "12", "1", "—"],
        ["Change of name", "41", "37", "94.6%", "97.6%", "5.1", "0", "0", "—"],
        ["Suspension of supply", "28", "22", "86.4%", "89.3%", "4.8", "6", "0", "—"],
        ["Resumption of supply", "25", "20", "95.0%", "96.0%", "4.2", "5", "0", "—"],
        ["Closing the account", "17", "14", "85.7%", "70.6%", "9.0", "17", "2", "—"],
        ["Change of contact details", "210", "171", "95.9%", "99.0%", "2.9", "0", "0", "—"],
        ["New residential connection", "58", "49", "83.7%", "48.3%", "18.8", "58", "3", "—"],
        ["Total", "511", "431", "92.6%", "89.7%", "7.2", "98", "6", "88.6%"],
    ]


def test_pdf_export_has_the_chinese_title_figures_and_an_embedded_font(
        qtbot, monkeypatch, tmp_path, open_dashboard, chinese):
    window = open_dashboard(FakeServer(report()))
    path = tmp_path / "kpi.pdf"
    export(qtbot, monkeypatch, window, path, window.pdf_button)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "广州供电局天河营业厅" in text and "2025-05-01 – 2025-05-07" in text
    assert "过户" in text and "低压居民新装" in text
    assert "92.6%" in text and "88.6%" in text
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    assert fonts
    for line in fonts:
        assert line.split()[-5] == "yes", line  # embedded
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True,
                            check=True).stdout.splitlines()[2:]
    assert len(images) == 2  # the two charts


def test_cancelling_the_file_choice_writes_nothing(qtbot, monkeypatch, open_dashboard,
                                                   english):
    window = open_dashboard(FakeServer(report()))
    monkeypatch.setattr(dashboard_module, "QFileDialog", FakeFileDialog(None))
    with qtbot.assertNotEmitted(window.exported, wait=100):
        window.csv_button.click()
    assert window.csv_button.isEnabled() and window.status.text() == ""


def test_a_file_that_cannot_be_written_is_said_and_export_stays_possible(
        qtbot, monkeypatch, tmp_path, open_dashboard, english):
    window = open_dashboard(FakeServer(report()))
    path = tmp_path / "no such folder" / "kpi.csv"
    monkeypatch.setattr(dashboard_module, "QFileDialog", FakeFileDialog(path))
    with qtbot.waitSignal(window.failed, timeout=5000) as failed:
        window.csv_button.click()
    assert failed.args == [f"{path} could not be saved: No such file or directory"]
    assert window.csv_button.isEnabled()


def test_an_unexpected_fault_while_saving_is_not_said_in_its_own_text(
        qtbot, monkeypatch, tmp_path, open_dashboard, english):
    window = open_dashboard(FakeServer(report()))
    path = tmp_path / "kpi.csv"
    monkeypatch.setattr(dashboard_module, "QFileDialog", FakeFileDialog(path))

    def broken(sheet):
        raise ValueError("sheet row 8 has 7 cells")

    monkeypatch.setattr(dashboard_module, "csv_bytes", broken)
    with qtbot.waitSignal(window.failed, timeout=5000) as failed:
        window.csv_button.click()
    assert failed.args == [f"{path} could not be saved: an unexpected error, written to the log"]
    assert window.csv_button.isEnabled() and not path.exists()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_nothing_is_cut_off_at_150_percent(qtbot, lang):
    use_language(lang)
    window = KpiDashboard(FakeServer(report()), hall=HALL, now=lambda: NOW)
    qtbot.addWidget(window)
    window.resize(*SCREEN_AT_150)
    with qtbot.waitSignal(window.loaded, timeout=5000):
        window.show()
    assert window.width() <= SCREEN_AT_150[0] and window.height() <= SCREEN_AT_150[1]
    qtbot.wait(10)
    assert cut_off(window) == []
