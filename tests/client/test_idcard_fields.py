"""A card read by the ID card reader, as the forms take it: its text decoded, its fields mapped
onto the transfer's new holder and the new connection's applicant and cleaned as typed input,
an expired card or a name the receipt cannot print refused as the form refuses them; and the
`id_reader` setting."""

import json
from dataclasses import replace
from datetime import date

import pytest

from hallclient.config import Settings, SettingsError, load_settings, save_settings, settings_path
from hallclient.devices.idcard import (
    CARD_FORMS,
    CardRefused,
    CardUnreadable,
    ReaderSetting,
    card_fields,
    decode_base_message,
    encode_base_text,
    make_reader,
    parse_reader_setting,
)
from hallclient.devices.idcard_sdk import SdkCardReader
from hallclient.devices.idcard_serial import SerialCardReader
from hallclient.forms import FORMS
from hallcore.domain.business import BusinessKind, check, validate_payload
from hallcore.domain.text import InvalidInput
from tests.support.factories import OTHER_ID, TODAY
from tests.support.idcard_sim import (
    CARD,
    EXPIRED_CARD,
    LONG_TERM_CARD,
    PHOTO,
    RARE_NAME_CARD,
    UNPRINTABLE,
    UNPRINTABLE_NAME_CARD,
)


def test_the_base_message_decodes_to_the_card_it_was_made_from():
    for card in (CARD, LONG_TERM_CARD, RARE_NAME_CARD):
        text = encode_base_text(card)
        assert len(text) == 256
        assert decode_base_message(text, PHOTO) == card


def test_the_card_text_says_sex_nation_and_long_term_as_the_card_does():
    text = encode_base_text(LONG_TERM_CARD)
    assert text[30:32].decode("utf-16-le") == "2"  # 女: OTHER_ID's sequence digit is even
    assert text[32:36].decode("utf-16-le") == "01"  # 汉
    assert text[204:220].decode("utf-16-le") == "长期" + " " * 6  # padded with spaces


@pytest.mark.parametrize("spoil", [
    lambda text: text[:200],  # short
    lambda text: text[:46] + "1992ab15".encode("utf-16-le") + text[62:],  # birth not a date
    lambda text: text[:1] + b"\xd8" + text[2:],  # a lone surrogate in the name
])
def test_a_garbled_text_is_no_card(spoil):
    with pytest.raises(CardUnreadable):
        decode_base_message(spoil(encode_base_text(CARD)), PHOTO)


def test_a_card_fills_the_new_holder_of_a_transfer_as_the_form_takes_it():
    spaced = replace(CARD, name="林 晓 燕", id_number=OTHER_ID[:-1] + OTHER_ID[-1].lower())
    fields = card_fields(spaced, "new_holder", today=TODAY)
    assert fields == {"new_holder_name": "林晓燕", "new_holder_id_type": "resident_id",
                      "new_holder_id_number": OTHER_ID,
                      "new_holder_id_valid_until": "2036-05-31"}
    assert set(fields) <= {f.name for f in FORMS[BusinessKind.TRANSFER].fields}


def test_a_card_fills_the_applicant_of_a_new_connection_with_the_address_to_mail():
    target = CARD_FORMS[BusinessKind.NEW_CONNECTION]
    fields = card_fields(CARD, target.prefix, today=TODAY, address_field=target.address)
    assert fields["applicant_name"] == "林晓燕"
    assert fields["applicant_id_number"] == OTHER_ID
    assert fields["mailing_address"] == CARD.address  # never the supply address
    assert set(fields) <= {f.name for f in FORMS[BusinessKind.NEW_CONNECTION].fields}
    payload = validate_payload(BusinessKind.NEW_CONNECTION, {
        **fields, "phone": "13800138000", "supply_address": "广州市天河区天河路385号12栋1803房"})
    assert check(BusinessKind.NEW_CONNECTION, None, payload, today=TODAY).allowed


def test_a_long_term_card_gives_no_end_date():
    fields = card_fields(LONG_TERM_CARD, "new_holder", today=TODAY)
    assert fields["new_holder_id_valid_until"] == ""


def test_an_expired_card_is_refused_with_its_end_date_in_the_domains_words():
    with pytest.raises(CardRefused) as refused:
        card_fields(EXPIRED_CARD, "new_holder", today=TODAY)
    decision = check(BusinessKind.NEW_CONNECTION, None, {
        "applicant_id_valid_until": "2026-10-31"}, today=TODAY)
    assert refused.value.reason == decision.reason
    assert "2026-10-31" in refused.value.reason.zh and "expired on 2026-10-31" in \
        refused.value.reason.en


def test_a_card_valid_until_today_is_taken():
    assert card_fields(replace(CARD, valid_until=TODAY), "new_holder", today=TODAY)


def test_a_rare_name_the_receipt_prints_is_taken_whole():
    fields = card_fields(RARE_NAME_CARD, "new_holder", today=TODAY)
    assert fields["new_holder_name"] == "王\U0002C317\u4DAE"


def test_a_name_the_receipt_cannot_print_is_refused_as_the_form_refuses_it():
    with pytest.raises(CardRefused) as refused:
        card_fields(UNPRINTABLE_NAME_CARD, "new_holder", today=TODAY)
    typed = FORMS[BusinessKind.TRANSFER].check_field(
        "new_holder_name", {"new_holder_name": "王" + UNPRINTABLE})
    assert refused.value.reason == typed
    assert "U+30041" in refused.value.reason.en


def test_a_residence_permit_card_is_taken_as_one():
    from hallcore.domain.ids import make_resident_id

    permit = replace(CARD, id_number=make_resident_id("810000", date(1988, 4, 1), 35))
    fields = card_fields(permit, "new_holder", today=TODAY)
    assert fields["new_holder_id_type"] == "residence_permit_hmt"


def test_a_bad_number_on_a_card_is_refused_with_the_validators_reason():
    with pytest.raises(CardRefused) as refused:
        card_fields(replace(CARD, id_number=OTHER_ID[:-1] + "0"), "new_holder", today=TODAY)
    assert "check" in refused.value.reason.en


@pytest.mark.parametrize(("text", "setting"), [
    ("keyboard", ReaderSetting("keyboard")),
    ("simulated", ReaderSetting("simulated")),
    ("serial:/dev/ttyUSB0", ReaderSetting("serial", "/dev/ttyUSB0")),
    (" serial: COM3 ", ReaderSetting("serial", "COM3")),
    ("sdk:/opt/reader/libsdtapi.so", ReaderSetting("sdk", "/opt/reader/libsdtapi.so")),
    ("sdk:C:\\Reader\\termb.dll", ReaderSetting("sdk", "C:\\Reader\\termb.dll")),
])
def test_the_setting_names_the_backend(text, setting):
    assert parse_reader_setting(text) == setting
    assert parse_reader_setting(str(setting)) == setting


@pytest.mark.parametrize("text", ["", "usb", "serial", "serial:", "sdk: ", "keyboard:x",
                                  "Serial:/dev/ttyUSB0"])
def test_a_setting_of_no_known_form_says_the_forms(text):
    with pytest.raises(InvalidInput) as bad:
        parse_reader_setting(text)
    assert "serial:" in bad.value.reason.zh and "sdk:" in bad.value.reason.en


def test_the_factory_makes_each_backend_and_none_for_the_keyboard():
    assert make_reader(ReaderSetting("keyboard")) is None
    serial_reader = make_reader(ReaderSetting("serial", "/dev/ttyUSB7"))
    assert isinstance(serial_reader, SerialCardReader) and serial_reader.port == "/dev/ttyUSB7"
    sdk_reader = make_reader(ReaderSetting("sdk", "/opt/x/libsdtapi.so"))
    assert isinstance(sdk_reader, SdkCardReader) and sdk_reader.path == "/opt/x/libsdtapi.so"
    simulated = make_reader(ReaderSetting("simulated"))
    try:
        assert isinstance(simulated, SerialCardReader)
    finally:
        simulated.shut_down()  # type: ignore[union-attr]


def test_the_terminal_reads_its_reader_setting_and_keeps_the_keyboard_by_default(tmp_path):
    assert load_settings(tmp_path).id_reader == "keyboard"
    save_settings(Settings(id_reader="serial:/dev/ttyUSB0"), tmp_path)
    assert load_settings(tmp_path).id_reader == "serial:/dev/ttyUSB0"


@pytest.mark.parametrize("value", ["usb", 7, None, "sdk:"])
def test_a_reader_setting_that_cannot_work_is_refused_naming_the_forms(tmp_path, value):
    settings_path(tmp_path).write_text(json.dumps({"id_reader": value}), encoding="utf-8")
    with pytest.raises(SettingsError) as refused:
        load_settings(tmp_path)
    assert "id_reader" in refused.value.reason.zh and "serial:PORT" in refused.value.reason.en
