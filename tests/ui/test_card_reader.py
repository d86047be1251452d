"""The ID card reader at the counter, through the serial backend on the simulated reader: a
card fills the transfer's new holder whole, or searches its number with no form open; an
expired card and a reader unplugged mid-read are said and fill nothing."""

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from hallclient.devices.idcard_sim import card_of
from hallclient.receipts.content import HallInfo
from hallclient.store.accounts import account_from_row
from hallclient.store.models import AccountRow
from hallclient.store.operations import TerminalIdentity
from hallclient.ui.card_reader import CardReaderService
from hallclient.ui.counter_window import CounterServices, CounterWindow
from hallcore.domain.accounts import AccountStatus
from hallcore.domain.business import BusinessKind
from hallcore.domain.deadlines import HALL_TZ
from hallcore.domain.text import Text
from tests.support.counter import district_cache
from tests.support.factories import OTHER_ID, TERMINAL_KEY
from tests.support.idcard_sim import CARD, PHOTO, WLT_PHOTO_CARD, Fault, fast_reader

TRANSFER = BusinessKind.TRANSFER
SEEN_MS = 3_000  # the longest a read may take to show: one wait of the reader and the read


@pytest.fixture
def reader():
    reader = fast_reader()
    yield reader
    reader.shut_down()


@pytest.fixture
def window(qtbot, tmp_path, reader):
    cache = district_cache(tmp_path / "cache.sqlite3")
    w = CounterWindow(CounterServices(
        cache, TerminalIdentity("GZ-TH-01", "T01", TERMINAL_KEY), "gz-th-01-c1",
        HallInfo("GZ-TH-01", Text("天河营业厅", "Tianhe Service Hall")),
        show_preview=lambda _preview: None, ask_rating=lambda _window: None,
        card_reader=reader), lang="en")
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()
    cache.close()


def holder(window):
    """An active account whose holder has a resident ID card: the customer at the counter."""
    with window.services.cache.read() as s:
        row = s.scalars(select(AccountRow).where(
            AccountRow.status == AccountStatus.ACTIVE.value, AccountRow.id_type == "resident_id",
            AccountRow.arrears_fen == 0).order_by(AccountRow.number)).first()
        return account_from_row(row)


@pytest.fixture
def transfer(window):
    window._show_account(holder(window))
    window.open_form(TRANSFER)
    view = window.form_views[TRANSFER]
    assert window.form_host.kind is TRANSFER
    return view


def hall_today():
    return datetime.now(HALL_TZ).date()


def test_a_card_fills_the_new_holder_of_a_transfer_and_shows_its_photo(
        qtbot, window, reader, transfer):
    reader.simulator.lay(CARD)
    qtbot.waitUntil(lambda: transfer.inputs["new_holder_name"].text() == "林晓燕",
                    timeout=SEEN_MS)
    values = transfer.values()
    assert values["new_holder_id_type"] == "resident_id"
    assert values["new_holder_id_number"] == OTHER_ID
    assert values["new_holder_id_valid_until"] == "2036-05-31"
    assert window.card_panel.isVisible() and window.card_panel.photo_shown
    assert OTHER_ID not in window.card_panel.details.text()  # masked
    assert OTHER_ID[-4:] in window.card_panel.details.text()
    assert "compare its photo" in window.message.text()
    assert transfer.inputs["new_holder_phone"].hasFocus()  # what the card cannot say


def test_a_card_with_no_form_open_searches_its_number(qtbot, window, reader):
    customer = holder(window)
    reader.simulator.lay(card_of(customer.holder_name, customer.id_number,
                                 customer.supply_address, valid_until=None, photo=PHOTO))
    qtbot.waitUntil(lambda: window.search_panel.results.rowCount() == 1, timeout=SEEN_MS)
    assert window.search.text() == customer.id_number
    assert window.search_panel.results.item(0, 0).text() == customer.number
    assert window.card_panel.isVisible()


def test_an_expired_card_is_refused_with_its_end_date_and_fills_nothing(
        qtbot, window, reader, transfer):
    ended = hall_today() - timedelta(days=1)
    before = transfer.values()
    reader.simulator.lay(replace(CARD, valid_until=ended))
    qtbot.waitUntil(lambda: ended.isoformat() in window.message.text(), timeout=SEEN_MS)
    assert "expired" in window.message.text()
    assert transfer.values() == before
    assert not window.card_panel.isVisible()


def test_unplugged_mid_read_is_said_and_the_form_stays_as_it_was(qtbot, window, reader,
                                                                 transfer):
    transfer.fill({"new_holder_phone": "13912345678"})
    before = transfer.values()
    reader.simulator.lay(CARD, fault=Fault.UNPLUG)
    qtbot.waitUntil(lambda: "disconnected" in window.message.text(), timeout=SEEN_MS)
    assert transfer.values() == before
    assert window.form_host.kind is TRANSFER and window.isVisible()
    transfer.fill({"new_holder_name": "林晓燕"})  # the clerk types on
    assert transfer.values()["new_holder_name"] == "林晓燕"


def test_a_photo_no_screen_can_show_sends_the_clerk_to_the_card(qtbot, window, reader,
                                                                transfer):
    reader.simulator.lay(WLT_PHOTO_CARD)
    qtbot.waitUntil(window.card_panel.isVisible, timeout=SEEN_MS)
    assert not window.card_panel.photo_shown
    assert "check the card itself" in window.card_panel.photo.text()


def test_a_reader_not_found_is_said_once_and_the_counter_works_on(qtbot, window):
    from hallclient.devices.idcard_serial import SerialCardReader

    service = CardReaderService(SerialCardReader("/dev/no-such-reader"), window, retry_ms=10)
    said = []
    service.failed.connect(said.append)
    service.start()
    qtbot.waitUntil(lambda: len(said) == 1, timeout=SEEN_MS)
    qtbot.wait(100)  # some ten tries more
    service.stop()
    assert len(said) == 1 and "port" in said[0].en


def test_a_typed_end_date_that_has_passed_is_refused_at_the_form_with_that_date(qtbot,
                                                                                english):
    """As a card's: the clerk who types the number types the card's end date too."""
    from PySide6.QtCore import Qt

    from hallclient.forms import FORMS
    from hallclient.ui.form_view import FormView

    view = FormView(FORMS[TRANSFER])
    qtbot.addWidget(view)
    view.show()
    valid_until = view.inputs["new_holder_id_valid_until"]
    valid_until.setFocus()
    qtbot.keyClicks(valid_until, "20200131")
    qtbot.keyClick(valid_until, Qt.Key.Key_Tab)
    assert view.values()["new_holder_id_valid_until"] == "2020-01-31"  # as typed
    refusal = view.errors["new_holder_id_valid_until"].text()
    assert "expired on 2020-01-31" in refusal
    view.fill({"new_holder_name": "林晓燕", "new_holder_id_number": OTHER_ID,
               "new_holder_phone": "13912345678", "new_holder_sms_consent": False})
    with qtbot.assertNotEmitted(view.submitted):
        view.submit()
    assert view.errors["new_holder_id_valid_until"].text() == refusal
