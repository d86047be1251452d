"""The ID card reader's serial protocol, against the simulated reader on a pseudo-terminal:
the frames, a card read whole, and each way a read fails ending in its own error and no card."""

import os
import threading
from dataclasses import replace

import pytest

from hallclient.devices.idcard import (
    CardReaderError,
    CardUnreadable,
    NoCard,
    ReaderNotFound,
    ReaderUnplugged,
)
from hallclient.devices.idcard_serial import SerialCardReader, checksum, frame
from tests.support.idcard_sim import (
    CARD,
    EXPIRED_CARD,
    LONG_TERM_CARD,
    RARE_NAME_CARD,
    Fault,
    fast_reader,
)


@pytest.fixture
def reader():
    reader = fast_reader()
    reader.open()
    yield reader
    reader.shut_down()


def test_a_frame_has_the_preamble_its_length_and_the_xor_of_the_rest():
    find = frame(b"\x20\x01")
    assert find == bytes.fromhex("AAAAAA9669 0003 2001 22")
    assert checksum(find[5:-1]) == find[-1]


@pytest.mark.parametrize("card", [CARD, LONG_TERM_CARD, EXPIRED_CARD, RARE_NAME_CARD])
def test_a_card_laid_on_the_reader_is_read_whole(reader, card):
    reader.simulator.lay(card)
    read = reader.read_card(1.0)
    assert len(read.photo) == 1024 and read.photo.startswith(card.photo)  # a fixed field
    assert replace(read, photo=card.photo) == card


def test_a_card_is_read_once_per_laying(reader):
    reader.simulator.lay(CARD)
    reader.read_card(1.0)
    with pytest.raises(NoCard):
        reader.read_card(0.05)


def test_no_card_on_the_reader_is_said_once_the_wait_is_over(reader):
    with pytest.raises(NoCard) as none:
        reader.read_card(0.05)
    assert "平放" in none.value.reason.zh and "lay the card" in none.value.reason.en


def test_a_card_laid_while_the_reader_waits_is_read(reader):
    threading.Timer(0.05, reader.simulator.lay, (CARD,)).start()
    assert reader.read_card(2.0).id_number == CARD.id_number


@pytest.mark.parametrize("fault", [Fault.BAD_CHECKSUM, Fault.SHORT_FRAME])
def test_a_spoiled_answer_is_a_card_to_lay_again_and_the_next_read_works(reader, fault):
    reader.simulator.lay(CARD, fault=fault)
    with pytest.raises(CardUnreadable) as spoiled:
        reader.read_card(1.0)
    assert "重新" in spoiled.value.reason.zh and "try again" in spoiled.value.reason.en
    reader.simulator.lay(CARD)
    assert reader.read_card(1.0).name == CARD.name


def test_unplugged_in_the_middle_of_a_frame_is_said_and_the_port_is_gone(reader):
    reader.simulator.lay(CARD, fault=Fault.UNPLUG)
    with pytest.raises(ReaderUnplugged) as gone:
        reader.read_card(1.0)
    assert "断开" in gone.value.reason.zh and "disconnected" in gone.value.reason.en
    with pytest.raises(ReaderNotFound):  # opened again: nothing there now
        reader.open()


def test_no_port_of_that_name_is_no_reader_found():
    reader = SerialCardReader("/dev/no-such-reader")
    with pytest.raises(ReaderNotFound) as missing:
        reader.open()
    assert "端口" in missing.value.reason.zh and "port" in missing.value.reason.en


def test_a_port_where_nothing_answers_is_no_reader_found():
    master, slave = os.openpty()
    try:
        reader = SerialCardReader(os.ttyname(slave), answer_seconds=0.1)
        reader.open()
        with pytest.raises(ReaderNotFound):
            reader.read_card(1.0)
        reader.close()
    finally:
        os.close(master)
        os.close(slave)


def test_every_error_carries_words_and_no_personal_data():
    for error in (NoCard(), CardUnreadable(), ReaderNotFound(), ReaderUnplugged()):
        assert isinstance(error, CardReaderError)
        assert error.reason.zh and error.reason.en
        assert CARD.id_number not in str(error) and CARD.name not in str(error)


def test_the_demo_cards_are_seeded_holders_a_new_holder_an_expired_card_and_a_rare_name(
        tmp_path):
    from datetime import date

    from hallclient.devices.idcard_sim import RARE_NAME, SimulatedReader, demo_cards
    from hallcore.demodata import DISTRICTS, accounts, communities

    today = date(2026, 11, 25)
    seeded = list(accounts(DISTRICTS[0], 50, list(communities(DISTRICTS[0], 2))))
    cards = demo_cards(seeded, today)
    numbers = {a.id_number: a for a in seeded}
    assert [c.name for c in cards[:2]] == [numbers[c.id_number].holder_name for c in cards[:2]]
    assert cards[2].name == "林晓燕" and cards[2].id_number not in numbers
    assert [c.valid_until is not None and c.valid_until < today for c in cards] == [
        False, False, False, True, False]
    assert cards[4].name == RARE_NAME
    reader = SimulatedReader(cards, answer_seconds=0.3, poll_seconds=0.01)
    try:
        reader.open()
        laid = [reader.lay_next() for _ in range(len(cards) + 1)]
        assert laid[-1] == cards[0]  # round and round
        assert reader.read_card(1.0).name == cards[0].name
    finally:
        reader.shut_down()
