"""The dashboard's plain part: periods in the hall's days, figures as shown, CSV and PDF."""

import csv
import io
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from hallclient.reports import (
    KpiSheet,
    Period,
    csv_bytes,
    group_name,
    kpi_pdf,
    minutes,
    percent,
    period_bounds,
    period_text,
    rating_figures,
)
from hallcore.domain.deadlines import HALL_TZ
from tests.support.kpi_reports import kpi_row, report

DAY = timedelta(days=1)


def hall_day(y, m, d):
    return datetime(y, m, d, tzinfo=HALL_TZ)


@pytest.mark.parametrize(("period", "since"), [
    (Period.TODAY, hall_day(2025, 6, 1)),
    (Period.LAST_7_DAYS, hall_day(2025, 5, 26)),
    (Period.LAST_30_DAYS, hall_day(2025, 5, 3)),
    (Period.THIS_MONTH, hall_day(2025, 6, 1)),
])
def test_periods_are_whole_days_in_the_hall_ending_with_today(period, since):
    late_evening_in_utc = datetime(2025, 5, 31, 17, 30, tzinfo=UTC)  # 1 June 01:30 in the hall
    assert period_bounds(period, late_evening_in_utc) == (since, hall_day(2025, 6, 2))


def test_this_month_mid_month():
    assert period_bounds(Period.THIS_MONTH, datetime(2025, 2, 17, 9, tzinfo=HALL_TZ)) == (
        hall_day(2025, 2, 1), hall_day(2025, 2, 18))


def test_period_text_names_the_last_day_not_the_exclusive_end():
    assert period_text(hall_day(2025, 5, 1), hall_day(2025, 5, 8)) == "2025-05-01 – 2025-05-07"
    assert period_text(hall_day(2025, 5, 1), hall_day(2025, 5, 2)) == "2025-05-01"
    assert period_text(hall_day(2025, 5, 1).astimezone(UTC),
                       hall_day(2025, 5, 2).astimezone(UTC)) == "2025-05-01"


def test_rates_are_percentages_with_one_decimal_and_nothing_counted_is_a_dash():
    assert [percent(r) for r in (0.92575, 1.0, 0.0, 0.0004, None)] == [
        "92.6%", "100.0%", "0.0%", "0.0%", "—"]
    assert [minutes(s) for s in (432.0, 59.0, None)] == ["7.2", "1.0", "—"]


def test_groups_are_named_as_people_know_them():
    assert group_name("business_type", "transfer", "zh") == "过户"
    assert group_name("business_type", "transfer", "en") == "Transfer of account"
    assert group_name("business_type", "meter_check", "zh") == "meter_check"  # newer than us
    assert group_name("clerk", "gz-th-01-c1", "zh") == "gz-th-01-c1"


def test_the_sheet_has_a_row_per_group_and_the_total_last():
    sheet = KpiSheet.of(report(), ["type", *"abcdefgh"], "合计", "zh")
    assert [row[0] for row in sheet.rows] == [
        "过户", "更名", "暂停用电", "恢复用电", "销户", "联系信息变更", "低压居民新装", "合计"]
    assert all(len(row) == len(sheet.headings) for row in sheet.rows)


def rated_row(key="transfer"):
    """A row with the five levels, the 7-day default and call-backs."""
    return kpi_row(key, 40, satisfied=12, basically=5, dissatisfied=2).model_copy(update={
        "very_satisfied": 9, "very_dissatisfied": 1, "defaulted": 6, "rated": 29,
        "satisfaction_rate": 32 / 35, "callbacks_opened": 3, "callback_rate": 1.0,
        "callbacks_due": 4, "callbacks_in_time": 3, "callbacks_in_time_rate": 0.75})


def test_ratings_are_shown_best_first_with_the_unrated_beside_basically_satisfied():
    assert rating_figures(rated_row()) == [
        "9", "12", "5", "6", "2", "1", "91.4%", "3", "100.0%", "4", "75.0%"]


def test_a_report_of_a_server_before_the_five_levels_shows_nothing_counted():
    old = kpi_row("transfer", 10, satisfied=5, basically=3, dissatisfied=2)
    assert rating_figures(old) == ["0", "5", "3", "0", "2", "0", "80.0%", "0", "—", "0", "—"]


def test_the_ratings_sheet_has_a_row_per_group_and_the_total_last():
    rows = [rated_row("transfer"), rated_row("rename")]
    sheet = KpiSheet.of(report(rows, total=rated_row("total")), ["type", *"abcdefghijk"],
                        "合计", "zh", rating_figures)
    assert [row[0] for row in sheet.rows] == ["过户", "更名", "合计"]
    assert sheet.rows[-1][1:] == rating_figures(rated_row())
    assert all(len(row) == len(sheet.headings) for row in sheet.rows)


def test_the_pdf_carries_the_ratings_table_after_the_figures(tmp_path):
    figures_sheet = KpiSheet.of(report(), ["业务类型", *"abcdefgh"], "合计", "zh")
    ratings = KpiSheet(["业务类型", "非常满意", "7天未评价", "回访率"],
                       [["过户", "9", "6", "100.0%"], ["合计", "9", "6", "100.0%"]])
    path = tmp_path / "kpi.pdf"
    path.write_bytes(kpi_pdf("服务指标", "2025-05-01 – 2025-05-07", figures_sheet,
                             [png(1520, 500)], more=[ratings]))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "低压居民新装" in text and "7天未评价" in text and "回访率" in text
    assert text.index("低压居民新装") < text.index("7天未评价")


def test_csv_is_utf8_with_a_bom_and_excels_line_ends():
    sheet = KpiSheet(["业务类型", "满意率"], [["过户", "92.4%"], ["合计", "—"]])
    data = csv_bytes(sheet)
    assert data == "\ufeff业务类型,满意率\r\n过户,92.4%\r\n合计,—\r\n".encode()
    assert list(csv.reader(io.StringIO(data.decode("utf-8-sig")))) == [
        sheet.headings, *sheet.rows]


def png(width, height):
    out = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(out, "PNG")
    return out.getvalue()


def test_a_long_table_goes_on_over_pages_with_its_headings(tmp_path):
    clerks = [kpi_row(f"gz-th-01-c{n}", 10 + n) for n in range(90)]
    sheet = KpiSheet.of(report(clerks, by="clerk"), ["受理人", *"abcdefgh"], "合计", "zh")
    path = tmp_path / "kpi.pdf"
    path.write_bytes(kpi_pdf("服务指标：天河营业厅", "2025-05-01 – 2025-05-07", sheet,
                             [png(1520, 3000), png(1520, 500)]))

    def page(n):
        return subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), str(path), "-"],
                              capture_output=True, text=True, check=True).stdout

    assert "服务指标：天河营业厅" in page(1)
    last = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                          check=True).stdout
    pages = int(next(line.split()[-1] for line in last.splitlines() if line.startswith("Pages")))
    assert pages >= 2
    assert "受理人" in page(pages) and "合计" in page(pages)
