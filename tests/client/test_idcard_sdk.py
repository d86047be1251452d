"""The ID card reader through a vendor's SDK library, loaded with ctypes: a simulated library
compiled from tests/support/idcard_sdk_sim.c, of the sdtapi family and of the termb family,
with a card and each failure; and a library that is not there."""

import ctypes

import pytest

from hallclient.devices.idcard import (
    CardUnreadable,
    NoCard,
    ReaderNotFound,
    ReaderUnplugged,
    SdkUnavailable,
    encode_base_text,
)
from hallclient.devices.idcard_sdk import SdkCardReader
from tests.support.idcard_sim import CARD, PHOTO, RARE_NAME_CARD, sdk_library

CARD_ON, NO_CARD, SELECT_FAILS, READ_FAILS, LINE_GONE, NO_READER = range(6)


@pytest.fixture(params=["sdtapi", "termb"])
def library(request, tmp_path):
    path = sdk_library(tmp_path, termb=request.param == "termb")
    return path, ctypes.CDLL(str(path))  # the same library the reader loads: its controls


def lay(controls, card):
    controls.sim_lay(encode_base_text(card), card.photo, len(card.photo))


@pytest.fixture
def reader(library):
    path, controls = library
    reader = SdkCardReader(str(path), poll_seconds=0.01)
    reader.open()
    yield reader, controls
    reader.close()


@pytest.mark.parametrize("card", [CARD, RARE_NAME_CARD])
def test_a_card_is_read_through_the_library(reader, card):
    reader, controls = reader
    assert controls.sim_open_port() == 1001  # found among the USB ports
    lay(controls, card)
    read = reader.read_card(1.0)
    assert read == card and read.photo == PHOTO


def test_no_card_is_said_once_the_wait_is_over(reader):
    reader, controls = reader
    controls.sim_mode(NO_CARD)
    with pytest.raises(NoCard):
        reader.read_card(0.05)


def test_a_card_the_library_cannot_read_is_to_be_laid_again(reader):
    reader, controls = reader
    lay(controls, CARD)
    controls.sim_mode(READ_FAILS)
    with pytest.raises(CardUnreadable):
        reader.read_card(0.2)


@pytest.fixture
def sdtapi(tmp_path):
    """The sdtapi family alone: its status codes tell a card not selected and a line gone
    (termb answers only done or not)."""
    path = sdk_library(tmp_path)
    controls = ctypes.CDLL(str(path))
    reader = SdkCardReader(str(path), poll_seconds=0.01)
    reader.open()
    lay(controls, CARD)
    yield reader, controls
    reader.close()


def test_a_card_that_cannot_be_selected_is_to_be_laid_again(sdtapi):
    reader, controls = sdtapi
    controls.sim_mode(SELECT_FAILS)
    with pytest.raises(CardUnreadable):
        reader.read_card(0.2)


def test_the_line_gone_is_an_unplugged_reader_and_the_port_closed(sdtapi):
    reader, controls = sdtapi
    controls.sim_mode(LINE_GONE)
    with pytest.raises(ReaderUnplugged):
        reader.read_card(0.2)
    assert controls.sim_open_port() == -1  # closed, to be opened again


def test_no_reader_on_any_port_is_no_reader_found(library):
    path, controls = library
    controls.sim_mode(NO_READER)
    with pytest.raises(ReaderNotFound):
        SdkCardReader(str(path)).open()


def test_a_missing_library_is_said_clearly(tmp_path):
    reader = SdkCardReader(str(tmp_path / "libsdtapi.so"))
    with pytest.raises(SdkUnavailable) as missing:
        reader.open()
    assert "厂商驱动库" in missing.value.reason.zh and "library" in missing.value.reason.en


def test_a_file_that_is_no_library_is_said_as_clearly(tmp_path):
    fake = tmp_path / "libsdtapi.so"
    fake.write_text("not a library")
    with pytest.raises(SdkUnavailable):
        SdkCardReader(str(fake)).open()


def test_a_library_of_neither_family_is_said_as_clearly(tmp_path):
    with pytest.raises(SdkUnavailable):
        SdkCardReader("libm.so.6").open()  # the C library's maths: loads, exports neither
