"""Names and addresses hold only what the receipt prints (hallcore.domain.printable): a character
the receipt's fonts lack is refused by its position, as the clerk checks it on the ID card."""

import pytest

from hallcore.domain.contact import validate_address, validate_person_name
from hallcore.domain.printable import chain_font, is_printable, parse_ranges
from hallcore.domain.text import InvalidInput

EXT_J = "\U000323B0"  # CJK Extension J (Unicode 17): in no font of the chain
EXT_I = "\U0002EBF0"  # Extension I (Unicode 15.1): the same


def reason_of(validate, raw):
    with pytest.raises(InvalidInput) as refused:
        validate(raw)
    return refused.value.reason


def test_the_table_reads_ranges_and_single_code_points():
    assert parse_ranges("20-7E:0 A0:0\n4DAE:1") == [(0x20, 0x7E, 0), (0xA0, 0xA0, 0),
                                                     (0x4DAE, 0x4DAE, 1)]


@pytest.mark.parametrize(("ch", "font"), [
    ("王", 0), ("·", 0), ("〇", 0), ("A", 0),
    ("\u4DAE", 1),  # Extension A: HanaMinA
    ("\U0002A700", 2),  # Extension C: HanaMinB
    ("\U00031350", 3),  # Extension H: BabelStone Han
    (EXT_I, None), (EXT_J, None), ("\uE000", None),
])
def test_each_character_has_the_first_font_of_the_chain_that_prints_it(ch, font):
    assert chain_font(ch) == font
    assert is_printable(ch) is (font is not None)


def test_a_name_of_rare_characters_the_receipt_prints_is_accepted():
    assert validate_person_name("王\U0002C317\u4DAE") == "王\U0002C317\u4DAE"
    assert validate_person_name("王 \U00020001 \U00031350") == "王\U00020001\U00031350"


def test_a_name_character_the_receipt_cannot_print_is_refused_by_its_position():
    reason = reason_of(validate_person_name, f"王 \U0002C317 {EXT_J}")
    assert reason.zh == "姓名第3个字 U+323B0 无法打印在回执上，请核对证件"
    assert reason.en == ("character 3 of the name, U+323B0, cannot be printed on the receipt; "
                         "check it against the ID document")


def test_a_minority_name_counts_the_dot_as_a_character():
    reason = reason_of(validate_person_name, f"阿卜杜·买{EXT_I}")
    assert reason.zh.startswith("姓名第6个字 U+2EBF0 ")


def test_an_unprintable_letter_of_a_foreign_name_is_shown_with_its_code_point():
    reason = reason_of(validate_person_name, "Anna \uA7C0lsen")
    assert reason.zh == "姓名第5个字 “\uA7C0”（U+A7C0） 无法打印在回执上，请核对证件"
    assert "character 5 of the name, “\uA7C0” (U+A7C0), cannot be printed" in reason.en


def test_an_address_character_the_receipt_cannot_print_is_refused_by_its_position():
    assert validate_address("广州市天河区\U00020001村1号") == "广州市天河区\U00020001村1号"
    reason = reason_of(validate_address, f"广州市 天河区{EXT_J}村1号")
    assert reason.zh == "地址第7个字 U+323B0 无法打印在回执上，请核对后改用其他写法"
    assert reason.en.startswith("character 7 of the address, U+323B0, cannot be printed")
