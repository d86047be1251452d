"""Each receipt's language and layout: the customer's language, the terminal's layout, the
same on a reprint; the setting kept and checked like the others."""

import re
import subprocess
from datetime import UTC, datetime

import pytest

from hallclient.config import Settings, SettingsError, load_settings, save_settings, settings_path
from hallclient.counter.requests import (
    CounterDesk,
    CounterRequest,
    make_request,
    reprint_receipt,
)
from hallclient.receipts.content import HallInfo
from hallclient.receipts.render import ReceiptFormat
from hallclient.store.accounts import save_account
from hallclient.store.operations import TerminalIdentity
from hallcore.domain.business import BusinessKind
from hallcore.domain.text import Text
from tests.support.factories import NEW_CONNECTION, TERMINAL_KEY, account, holder_presents

NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
A4_POINTS = (595.3, 841.9)
ROLL_WIDTH = 80 / 25.4 * 72


@pytest.fixture
def desk(one_account_cache):
    return CounterDesk(one_account_cache, TerminalIdentity("GZ-TH-01", "T01", TERMINAL_KEY),
                       "gz-th-01-c1", HallInfo("GZ-TH-01", Text("天河营业厅", "Tianhe")))


def english_customer(desk):
    with desk.cache.write() as s:
        save_account(s, account(sms_language="en"))


def pdf_facts(pdf, tmp_path):
    """The text, and the first page's size in points."""
    path = tmp_path / "receipt.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                          check=True).stdout
    size = tuple(map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups()))
    return text, size


def suspend():
    return CounterRequest(BusinessKind.SUSPEND, account().number, holder_presents(),
                          online=True)


def test_a_chinese_customer_gets_a_chinese_roll_receipt_by_default(desk, tmp_path):
    receipt = make_request(desk, suspend(), NOW).receipt
    assert receipt.format == ReceiptFormat("80mm", "zh")
    text, (width, _) = pdf_facts(receipt.pdf, tmp_path)
    assert "业务受理回执" in text and "Acceptance Receipt" not in text
    assert width == pytest.approx(ROLL_WIDTH, abs=0.5)


def test_an_english_sms_customer_gets_both_languages(desk, tmp_path):
    english_customer(desk)
    receipt = make_request(desk, suspend(), NOW).receipt
    assert receipt.format == ReceiptFormat("80mm", "both")
    text, _ = pdf_facts(receipt.pdf, tmp_path)
    assert "业务受理回执" in text and "Acceptance Receipt" in text


def test_the_new_holders_language_is_the_customers(desk):
    transfer = CounterRequest(BusinessKind.TRANSFER, account().number, {
        "new_holder_name": "Sarah Lin", "new_holder_id_type": "resident_id",
        "new_holder_id_number": "440106199203154429", "new_holder_phone": "13922334455",
        "new_holder_sms_language": "en"}, online=True)
    assert make_request(desk, transfer, NOW).receipt.format.lang == "both"
    connection = CounterRequest(BusinessKind.NEW_CONNECTION, None,
                                {**NEW_CONNECTION, "sms_language": "en"}, online=True)
    assert make_request(desk, connection, NOW).receipt.format.lang == "both"


def test_the_terminals_layout_setting_chooses_a4(desk, tmp_path):
    save_settings(Settings(receipt_layout="a4"), desk.cache.path.parent)
    receipt = make_request(desk, suspend(), NOW).receipt
    assert receipt.format.layout == "a4"
    _, size = pdf_facts(receipt.pdf, tmp_path)
    assert size == pytest.approx(A4_POINTS, abs=0.5)


def test_a_reprint_takes_the_same_choices(desk, tmp_path):
    english_customer(desk)
    issued = make_request(desk, suspend(), NOW)
    save_settings(Settings(receipt_layout="a4"), desk.cache.path.parent)
    copy = reprint_receipt(desk, issued.recorded.receipt_no, NOW)
    assert copy.format == ReceiptFormat("a4", "both")
    text, size = pdf_facts(copy.pdf, tmp_path)
    assert "补打副本" in text and "COPY" in text and size == pytest.approx(A4_POINTS, abs=0.5)


def test_a_receipt_layout_setting_round_trips_and_defaults_to_the_roll(tmp_path):
    assert Settings().receipt_layout == "80mm"
    save_settings(Settings(receipt_layout="a4", hall_id="GZ-TH-01"), tmp_path)
    assert load_settings(tmp_path) == Settings(receipt_layout="a4", hall_id="GZ-TH-01")


@pytest.mark.parametrize("value", ['"A5"', "80", '""'])
def test_an_unknown_receipt_layout_is_refused_with_the_file_named(tmp_path, value):
    settings_path(tmp_path).write_text(f'{{"receipt_layout": {value}}}')
    with pytest.raises(SettingsError, match=r"settings\.json.*receipt_layout"):
        load_settings(tmp_path)
