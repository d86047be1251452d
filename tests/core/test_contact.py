"""Phone numbers, personal names and addresses as typed at the counter."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hallcore.domain.contact import (
    _MOBILE_RANGES,
    Phone,
    PhoneKind,
    is_han_character,
    sms_capable,
    validate_address,
    validate_person_name,
    validate_phone,
)
from hallcore.domain.text import InvalidInput, Text
from tests.support.phones import (
    AREA_CODES,
    MOBILE_PREFIXES,
    OUTSIDE_MAINLAND,
    extensions,
    mainland_landlines,
    mainland_mobiles,
    outside_mainland,
)


def reason_of(validator: object, raw: str) -> Text:
    assert callable(validator)
    with pytest.raises(InvalidInput) as caught:
        validator(raw)
    reason = caught.value.reason
    assert reason.zh and reason.en
    assert reason.zh != reason.en
    return reason


def assert_reason(reason: Text, *, zh: tuple[str, ...], en: tuple[str, ...]) -> None:
    for part in zh:
        assert part in reason.zh, (part, reason.zh)
    for part in en:
        assert part in reason.en, (part, reason.en)


# --------------------------------------------------------------------------- phones: accepted


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        " 13812345678 ",
        "１３８１２３４５６７８",  # full-width digits
        "１３８　１２３４　５６７８",  # with an ideographic space
        "+86 138 1234 5678",
        "+8613812345678",
        "+86-138-1234-5678",
        "0086 13812345678",
        "0086-138-1234-5678",
        "8613812345678",
        "＋８６ １３８１２３４５６７８",
    ],
)
def test_mobile_numbers_in_every_typed_form_normalise_to_eleven_digits(raw: str) -> None:
    assert validate_phone(raw) == Phone(PhoneKind.MOBILE, "13812345678")


@pytest.mark.parametrize("prefix", MOBILE_PREFIXES)
def test_mobile_numbers_of_every_carrier_are_accepted(prefix: str) -> None:
    number = f"{prefix}12345678"
    assert validate_phone(number) == Phone(PhoneKind.MOBILE, number)


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("020-87654321", "020-87654321"),
        ("02087654321", "020-87654321"),
        ("020-8765 4321", "020-87654321"),
        ("020 8765-4321", "020-87654321"),
        ("(020)87654321", "020-87654321"),
        ("(020) 8765 4321", "020-87654321"),
        ("０２０－８７６５４３２１", "020-87654321"),
        ("（０２０）８７６５４３２１", "020-87654321"),
        ("020—87654321", "020-87654321"),  # em dash typed for a hyphen
        ("010-62345678", "010-62345678"),
        ("0755-23456789", "0755-23456789"),
        ("(0755)23456789", "0755-23456789"),
        ("075523456789", "0755-23456789"),
        ("0755 2345 6789", "0755-23456789"),
        ("0931-8123456", "0931-8123456"),
    ],
)
def test_landlines_are_normalised_to_area_code_hyphen_number(raw: str, number: str) -> None:
    assert validate_phone(raw) == Phone(PhoneKind.LANDLINE, number)


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("020-87654321-123", "020-87654321-123"),
        ("020-87654321转123", "020-87654321-123"),
        ("020-87654321 转 123", "020-87654321-123"),
        ("020-87654321分机123", "020-87654321-123"),
        ("020-87654321 ext 123", "020-87654321-123"),
        ("020-87654321 EXT. 123", "020-87654321-123"),
        ("020 8765 4321 ext123", "020-87654321-123"),
        ("(0755)23456789-8", "0755-23456789-8"),
        ("010 6234 5678 分机 12", "010-62345678-12"),
        ("0931-8123456转123456", "0931-8123456-123456"),
        ("０２０－８７６５４３２１转１２３", "020-87654321-123"),
    ],
)
def test_an_extension_after_hyphen_zhuan_or_ext_is_kept_after_a_hyphen(
    raw: str, number: str
) -> None:
    assert validate_phone(raw) == Phone(PhoneKind.LANDLINE, number)


def test_hyphenated_groups_are_an_extension_only_after_a_complete_number() -> None:
    # "020-8765" is incomplete, so "4321" continues the number rather than being an extension.
    assert validate_phone("020-8765-4321").number == "020-87654321"
    assert validate_phone("0931-812-3456").number == "0931-8123456"


# --------------------------------------------------------------------------- phones: refused


def test_empty_phone_is_refused_as_not_entered() -> None:
    for raw in ("", "   ", "\u3000"):
        assert_reason(reason_of(validate_phone, raw), zh=("未输入电话号码",), en=("no phone",))


def test_separators_without_digits_are_refused() -> None:
    assert_reason(reason_of(validate_phone, "-- ()"), zh=("没有数字",), en=("no digits",))


@pytest.mark.parametrize(("raw", "count"), [("1381234567", 10), ("138123456789", 12), ("1", 1)])
def test_mobile_of_wrong_length_names_expected_and_entered_digit_counts(
    raw: str, count: int
) -> None:
    reason = reason_of(validate_phone, raw)
    assert reason.zh == f"手机号码应为 11 位，实际输入 {count} 位"
    were = "1 was" if count == 1 else f"{count} were"
    assert reason.en == f"a mobile number has 11 digits; {were} entered"


@pytest.mark.parametrize("prefix", ["10", "11", "12"])
def test_mobile_with_second_digit_below_3_names_the_prefix(prefix: str) -> None:
    reason = reason_of(validate_phone, f"{prefix}012345678")
    assert_reason(reason, zh=(f"“{prefix}”", "13 至 19"), en=(f"“{prefix}”", "13 to 19"))


@pytest.mark.parametrize(
    ("raw", "letter"), [("1381234567a", "a"), ("138x12345678", "x"), ("tel13812345678", "t")]
)
def test_letters_in_a_phone_are_named(raw: str, letter: str) -> None:
    reason = reason_of(validate_phone, raw)
    assert_reason(reason, zh=(f"字母 “{letter}”",), en=(f"letter “{letter}”",))


@pytest.mark.parametrize(("letter", "digit"), [("O", "0"), ("o", "0"), ("l", "1"), ("I", "1")])
def test_a_letter_that_looks_like_a_digit_suggests_the_digit(letter: str, digit: str) -> None:
    reason = reason_of(validate_phone, f"1381234567{letter}")
    assert_reason(
        reason,
        zh=(f"字母 “{letter}”", f"数字 {digit}"),
        en=(f"letter “{letter}”", f"the digit {digit}"),
    )


@pytest.mark.parametrize("symbol", ["#", "*", ".", "/", "电"])
def test_other_symbols_in_a_phone_are_named(symbol: str) -> None:
    reason = reason_of(validate_phone, f"020{symbol}87654321")
    assert_reason(reason, zh=(f"“{symbol}”",), en=(f"“{symbol}”",))


def test_an_offending_character_is_named_as_typed_not_as_normalised() -> None:
    reason = reason_of(validate_phone, "０２０＃８７６５４３２１")
    assert_reason(reason, zh=("“＃”",), en=("“＃”",))
    reason = reason_of(validate_person_name, "张，三")
    assert_reason(reason, zh=("“，”",), en=("“，”",))


def test_an_invisible_character_in_a_phone_is_named_by_code_point() -> None:
    reason = reason_of(validate_phone, "138\u200b12345678")
    assert_reason(reason, zh=("U+200B",), en=("U+200B",))


def test_plus_anywhere_but_first_is_refused() -> None:
    reason = reason_of(validate_phone, "138+12345678")
    assert_reason(reason, zh=("“+”",), en=("“+”", "first"))


@pytest.mark.parametrize(("raw", "number"), OUTSIDE_MAINLAND)
def test_numbers_outside_the_mainland_are_accepted_in_e164_form(raw: str, number: str) -> None:
    assert validate_phone(raw) == Phone(PhoneKind.OUTSIDE_MAINLAND, number)


@pytest.mark.parametrize(
    ("raw", "zh", "en"),
    [
        # No Hong Kong number starts with 1.
        ("+852 1234 5678", ("号码无效", "香港（+852）"),
         ("not a valid number", "Hong Kong (+852)")),
        ("+852 9123 456", ("香港（+852）", "8 位", "实际输入 7 位"),
         ("Hong Kong (+852)", "8 digits", "7 were entered")),
        ("00852 9123 45678", ("香港（00852）", "8 位"), ("Hong Kong (00852)", "8 digits")),
        ("+853 6612 345", ("澳门", "8 位"), ("Macao", "8 digits")),
        # +44 is shared by the UK and the Crown Dependencies: the code names it.
        ("+44 20 7946 095", ("+44", "号码无效"), ("+44", "not a valid number")),
    ],
)
def test_a_bad_number_outside_the_mainland_names_its_place_and_what_is_wrong(
    raw: str, zh: tuple[str, ...], en: tuple[str, ...]
) -> None:
    assert_reason(reason_of(validate_phone, raw), zh=zh, en=en)


def test_an_unknown_country_code_is_named() -> None:
    reason = reason_of(validate_phone, "+999 1234 5678")
    assert_reason(reason, zh=("+999", "国家或地区代码"), en=("+999", "country or region code"))


def test_a_toll_free_number_is_not_the_customers_phone() -> None:
    reason = reason_of(validate_phone, "+852 800 123 456")
    assert_reason(reason, zh=("服务号码",), en=("service number",))


def test_a_number_outside_the_mainland_takes_no_extension() -> None:
    reason = reason_of(validate_phone, "+852 9123 4567 转 12")
    assert_reason(reason, zh=("境外号码", "“12”"), en=("outside the mainland", "“12”"))


@pytest.mark.parametrize(
    ("raw", "prefix"), [("+86 20 87654321", "+86"), ("0086 20 87654321", "0086")]
)
def test_country_code_before_a_landline_is_refused(raw: str, prefix: str) -> None:
    reason = reason_of(validate_phone, raw)
    assert_reason(reason, zh=(prefix, "固定电话", "区号"), en=(prefix, "mobile", "area code"))


def test_a_leading_zero_before_a_mobile_is_explained() -> None:
    reason = reason_of(validate_phone, "013812345678")
    assert_reason(reason, zh=("不要加 0", "13812345678"), en=("without a leading 0", "13812345678"))


@pytest.mark.parametrize("area", ["011", "015", "019"])
def test_area_codes_01x_other_than_010_do_not_exist(area: str) -> None:
    reason = reason_of(validate_phone, f"{area}-87654321")
    assert_reason(reason, zh=(area, "010"), en=(area, "010"))


def test_a_number_after_00_is_read_as_one_outside_the_mainland() -> None:
    # 00 is the international prefix: "001" is +1, and 23456789 is too short for it.
    reason = reason_of(validate_phone, "00123456789")
    assert_reason(reason, zh=("001", "10 位"), en=("001", "10 digits"))


@pytest.mark.parametrize(("raw", "count"), [("0", 1), ("02", 2)])
def test_an_incomplete_area_code_names_the_count(raw: str, count: int) -> None:
    reason = reason_of(validate_phone, raw)
    assert_reason(reason, zh=(f"只输入了 {count} 位",), en=(f"only {count} entered",))


def test_a_four_digit_area_code_cut_short_names_the_count() -> None:
    reason = reason_of(validate_phone, "075")
    assert_reason(reason, zh=("07", "4 位", "3 位"), en=("07", "4 digits", "only 3"))


@pytest.mark.parametrize(("raw", "area"), [("020", "020"), ("0755", "0755"), ("(0755)", "0755")])
def test_an_area_code_alone_is_refused(raw: str, area: str) -> None:
    reason = reason_of(validate_phone, raw)
    assert_reason(reason, zh=(f"区号 {area}", "缺少"), en=(f"area code {area}", "missing"))


@pytest.mark.parametrize(("raw", "digit"), [("020-12345678", "1"), ("0755-0234567", "0")])
def test_local_numbers_starting_0_or_1_are_refused(raw: str, digit: str) -> None:
    reason = reason_of(validate_phone, raw)
    assert_reason(reason, zh=(f"以 {digit} 开头",), en=(f"start with {digit}",))


@pytest.mark.parametrize(
    ("raw", "count", "zh", "en"),
    [
        ("020-8765432", 7, "广东省广州市", "Guangzhou, Guangdong"),
        ("010-876543210", 9, "北京市", "Beijing"),
    ],
)
def test_three_digit_area_codes_need_eight_digit_numbers(
    raw: str, count: int, zh: str, en: str
) -> None:
    reason = reason_of(validate_phone, raw)
    area = raw[:3]
    assert reason.zh == f"区号 {area}（{zh}）的电话号码应为 8 位，实际输入 {count} 位"
    assert reason.en == (
        f"a number with area code {area} ({en}) has 8 digits after it; {count} were entered"
    )


@pytest.mark.parametrize(
    ("raw", "count", "length"),
    [
        ("0755-2345678", 7, 8),  # Shenzhen's numbers have 8 digits
        ("0755-234567", 6, 8),
        ("0755-234567890", 9, 8),
        ("0931-81234567", 8, 7),  # Lanzhou's have 7
    ],
)
def test_a_four_digit_area_code_names_the_length_its_area_uses(
    raw: str, count: int, length: int
) -> None:
    reason = reason_of(validate_phone, raw)
    area = raw[:4]
    assert_reason(
        reason,
        zh=(f"区号 {area}（", f"应为 {length} 位", f"实际输入 {count} 位"),
        en=(f"area code {area} (", f"has {length} digits", f"{count} were entered"),
    )
    assert ("深圳" in reason.zh and "Shenzhen" in reason.en) or (
        "兰州" in reason.zh and "Lanzhou" in reason.en
    )


def test_an_area_using_both_lengths_names_both() -> None:
    # Guiyang (0851) has 7- and 8-digit numbers; 6 digits fit neither.
    reason = reason_of(validate_phone, "0851-234567")
    assert_reason(reason, zh=("7 或 8 位",), en=("7 or 8 digits",))


@pytest.mark.parametrize("raw", ["026-87654321", "0300-2345678", "0410-23456789",
                                 "026-12345678", "0300-0234567"])  # whatever follows
def test_an_area_code_not_in_use_is_refused(raw: str) -> None:
    area = raw.split("-")[0]
    reason = reason_of(validate_phone, raw)
    assert_reason(reason, zh=(f"没有区号 {area}",), en=(f"no area code {area}",))


@pytest.mark.parametrize("raw", ["14012345678", "1401234567890", "14512345678", "14812345678"])
def test_iot_and_data_only_numbers_are_not_phones(raw: str) -> None:
    reason = reason_of(validate_phone, raw)
    assert_reason(reason, zh=("物联网", "上网卡"), en=("IoT", "data-only"))


@pytest.mark.parametrize("prefix", ["154", "160", "163", "179", "194"])
def test_unallocated_mobile_ranges_are_refused_naming_them(prefix: str) -> None:
    reason = reason_of(validate_phone, f"{prefix}12345678")
    assert_reason(reason, zh=(f"没有以 {prefix} 开头",), en=(f"starts with {prefix}",))


def test_a_number_outside_the_part_of_a_range_in_service_is_not_valid() -> None:
    # Of the satellite range 174 only 17400-17405 is in service.
    assert validate_phone("17400123456").kind is PhoneKind.MOBILE
    reason = reason_of(validate_phone, "17491234567")
    assert_reason(reason, zh=("号码无效", "1749"), en=("not a valid number", "1749"))


@pytest.mark.parametrize("raw", ["87654321", "8765432", "2345 6789"])
def test_a_local_number_without_area_code_says_the_area_code_is_missing(raw: str) -> None:
    reason = reason_of(validate_phone, raw)
    assert_reason(reason, zh=("缺少区号",), en=("area code is missing",))


@pytest.mark.parametrize(("raw", "digit"), [("5555", "5"), ("912345678901", "9")])
def test_a_number_starting_2_to_9_names_its_first_digit(raw: str, digit: str) -> None:
    reason = reason_of(validate_phone, raw)
    assert_reason(reason, zh=(f"以 {digit} 开头",), en=(f"starts with {digit}",))


@pytest.mark.parametrize("raw", ["13812345678转1", "13812345678 ext 12"])
def test_a_mobile_number_with_an_extension_is_refused(raw: str) -> None:
    reason = reason_of(validate_phone, raw)
    assert_reason(reason, zh=("手机号码没有分机号",), en=("mobile number has no extension",))


@pytest.mark.parametrize(
    "raw", ["020-87654321转1234567", "020-87654321-1234567", "020-87654321 ext 1234567"]
)
def test_an_extension_longer_than_six_digits_names_the_count(raw: str) -> None:
    reason = reason_of(validate_phone, raw)
    assert reason.zh == "分机号为 1 至 6 位数字，实际输入 7 位"
    assert reason.en == "an extension has 1 to 6 digits; 7 were entered"


def test_an_extension_with_a_non_digit_names_it() -> None:
    reason = reason_of(validate_phone, "020-87654321转12a")
    assert_reason(reason, zh=("分机号", "“a”"), en=("extension", "“a”"))


@pytest.mark.parametrize(("raw", "marker"), [("020-87654321转", "转"), ("020-87654321 ext", "ext")])
def test_an_extension_marker_with_nothing_after_it_is_refused(raw: str, marker: str) -> None:
    reason = reason_of(validate_phone, raw)
    assert_reason(reason, zh=(f"“{marker}”后面",), en=(f"nothing follows “{marker}”",))


def test_an_extension_marker_with_nothing_before_it_is_refused() -> None:
    reason = reason_of(validate_phone, "转123")
    assert_reason(reason, zh=("“转”前面",), en=("before “转”",))


def test_two_extension_markers_are_refused() -> None:
    reason = reason_of(validate_phone, "020-87654321转12转3")
    assert_reason(reason, zh=("2 处",), en=("2 extension markers",))


# --------------------------------------------------------------------------- phones: properties

@given(mainland_mobiles)
def test_every_mainland_mobile_is_accepted_unchanged(number: str) -> None:
    assert validate_phone(number) == Phone(PhoneKind.MOBILE, number)


@given(mainland_landlines, st.none() | extensions)
def test_every_landline_in_normal_form_is_accepted_unchanged(number: str, ext: str | None) -> None:
    if ext is not None:
        number = f"{number}-{ext}"
    assert validate_phone(number) == Phone(PhoneKind.LANDLINE, number)


def test_the_area_codes_drawn_are_all_kinds_of_area() -> None:
    assert {len(area) for area in AREA_CODES} == {3, 4}
    assert {length for lengths in AREA_CODES.values() for length in lengths} == {7, 8}


@given(mainland_landlines, st.sampled_from(["", " ", "  "]), st.sampled_from(["-", " ", ""]))
def test_landlines_typed_with_parentheses_or_spaces_normalise(
    number: str, pad: str, sep: str
) -> None:
    area, local = number.split("-")
    assert validate_phone(f"({area}){pad}{local}").number == number
    assert validate_phone(f"{area}{sep}{local[:4]}{pad}{local[4:]}").number == number


@given(st.text(alphabet="0123456789 -()+转ext.（）０１２３４５６７８９abO", max_size=30))
def test_validate_phone_is_idempotent_on_its_output(raw: str) -> None:
    try:
        phone = validate_phone(raw)
    except InvalidInput as error:
        assert error.reason.zh and error.reason.en
        return
    assert validate_phone(phone.number) == phone


@given(st.one_of(mainland_mobiles, mainland_landlines, outside_mainland))
def test_numbers_in_normal_form_are_idempotent_whatever_their_kind(number: str) -> None:
    assert validate_phone(number).number == number


# --------------------------------------------------------------------------- phones: SMS


@given(mainland_mobiles)
def test_a_mainland_mobile_can_take_sms(number: str) -> None:
    assert validate_phone(number).sms_capable and sms_capable(number)


@given(st.one_of(mainland_landlines, outside_mainland))
def test_a_landline_or_a_number_outside_the_mainland_cannot(number: str) -> None:
    assert not validate_phone(number).sms_capable and not sms_capable(number)


@pytest.mark.parametrize(
    "stored", [None, "", "020-87654321", "020-87654321-123", "+85291234567", "14012345678",
               "0755-2345678", "not a phone"]
)
def test_sms_capable_is_false_for_anything_but_a_valid_mainland_mobile(stored: str | None) -> None:
    """Stored values may predate today's rules: a number no longer valid cannot take SMS."""
    assert not sms_capable(stored)


def test_sms_capable_reads_a_mobile_as_typed() -> None:
    assert sms_capable("+86 138 1234 5678")


# --------------------------------------------------------------------------- names: Chinese


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("张三", "张三"),
        ("欧阳娜娜", "欧阳娜娜"),
        ("  张三  ", "张三"),
        ("张 三", "张三"),
        ("张\u3000三", "张三"),
        ("欧 阳 娜 娜", "欧阳娜娜"),
        ("王〇", "王〇"),  # 〇 is a character of names
        ("李\U00020000", "李\U00020000"),  # Extension B
        ("李\U00031350", "李\U00031350"),  # Extension H, newer than Python's Unicode data
        ("阿卜杜热合曼·买买提明", "阿卜杜热合曼·买买提明"),
        ("阿卜杜热合曼 · 买买提明", "阿卜杜热合曼·买买提明"),
    ],
)
def test_chinese_names_are_accepted_without_spaces(raw: str, name: str) -> None:
    assert validate_person_name(raw) == name


@pytest.mark.parametrize("dot", ["\u2022", "\u30fb", "\u2027", "\uff0e", "\uff65", ".", "\u00b7"])
def test_dot_variants_in_minority_names_become_the_middle_dot(dot: str) -> None:
    assert validate_person_name(f"阿卜杜热合曼{dot}买买提明") == "阿卜杜热合曼·买买提明"


def test_kangxi_radicals_from_card_readers_become_ordinary_characters() -> None:
    # U+2F08 KANGXI RADICAL MAN looks like 人; NFKC folds it into the ideograph.
    assert validate_person_name("\u2f08\u5927") == "人大"


@pytest.mark.parametrize(
    ("raw", "zh", "en"),
    [
        ("·张三", "开头", "start with"),
        ("•张三", "开头", "start with"),
        ("张三·", "结尾", "end with"),
        ("张三.", "结尾", "end with"),
        ("张··三", "连续", "two dots"),
        ("张•・三", "连续", "two dots"),
    ],
)
def test_misplaced_dots_in_chinese_names_are_refused(raw: str, zh: str, en: str) -> None:
    assert_reason(reason_of(validate_person_name, raw), zh=(zh, "“·”"), en=(en, "“·”"))


def test_a_single_character_chinese_name_is_too_short() -> None:
    reason = reason_of(validate_person_name, "张")
    assert reason.zh == "中文姓名应为 2 至 30 个字符，实际输入 1 个"
    assert reason.en == "a Chinese name has 2 to 30 characters; 1 was entered"


def test_a_chinese_name_of_31_characters_is_too_long() -> None:
    assert validate_person_name("张" * 30) == "张" * 30
    reason = reason_of(validate_person_name, "张" * 31)
    assert_reason(reason, zh=("2 至 30", "31 个"), en=("2 to 30", "31 were"))


@pytest.mark.parametrize(("raw", "letter"), [("张San", "S"), ("John张", "J"), ("王Ｘ", "Ｘ")])
def test_chinese_mixed_with_latin_letters_names_the_letter(raw: str, letter: str) -> None:
    reason = reason_of(validate_person_name, raw)
    assert_reason(reason, zh=(f"拉丁字母 “{letter}”",), en=(f"Latin letter “{letter}”",))


@pytest.mark.parametrize(("raw", "digit"), [("张3", "3"), ("张三２", "２"), ("李①", "①")])
def test_digits_in_a_chinese_name_are_named(raw: str, digit: str) -> None:
    reason = reason_of(validate_person_name, raw)
    assert_reason(reason, zh=("数字", f"“{digit}”"), en=("digits", f"“{digit}”"))


@pytest.mark.parametrize("symbol", ["-", "，", "。", "は", "김", "_"])
def test_other_characters_in_a_chinese_name_are_named(symbol: str) -> None:
    reason = reason_of(validate_person_name, f"张{symbol}三")
    assert_reason(reason, zh=(f"“{symbol}”", "汉字"), en=(f"“{symbol}”", "Chinese characters"))


def test_an_invisible_character_in_a_name_is_named_by_code_point() -> None:
    reason = reason_of(validate_person_name, "张\u200b三")
    assert_reason(reason, zh=("U+200B",), en=("U+200B",))


@pytest.mark.parametrize("raw", ["", "   ", "\u3000", "\t\n"])
def test_an_empty_name_is_refused_as_not_entered(raw: str) -> None:
    reason = reason_of(validate_person_name, raw)
    assert reason == Text("未输入姓名", "no name entered")


# --------------------------------------------------------------------------- names: Latin


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("John Smith", "John Smith"),
        ("JOHN SMITH", "JOHN SMITH"),  # case is kept as typed
        ("josé müller", "josé müller"),
        ("Nguyễn Văn An", "Nguyễn Văn An"),
        ("Jose\u0301", "José"),  # a decomposed accent is composed
        ("  John   Smith \t", "John Smith"),
        ("Jean-Luc d'Arc, Jr.", "Jean-Luc d'Arc, Jr."),
        ("O’Brien", "O'Brien"),
        ("Ｊｏｈｎ Ｓｍｉｔｈ", "John Smith"),
        ("Øyvind Åsmund Ærø", "Øyvind Åsmund Ærø"),
        ("Łukasz Gößl", "Łukasz Gößl"),
        ("Al", "Al"),
    ],
)
def test_latin_names_are_accepted_with_whitespace_collapsed(raw: str, name: str) -> None:
    assert validate_person_name(raw) == name


def test_a_combining_accent_without_a_precomposed_letter_is_kept() -> None:
    # q + combining acute has no precomposed form.
    assert validate_person_name("Aq\u0301a") == "Aq\u0301a"


@pytest.mark.parametrize(
    ("raw", "char"),
    [("John3", "3"), ("J0hn Smith", "0")],
)
def test_digits_in_a_latin_name_are_named(raw: str, char: str) -> None:
    reason = reason_of(validate_person_name, raw)
    assert_reason(reason, zh=("数字", f"“{char}”"), en=("digits", f"“{char}”"))


@pytest.mark.parametrize("char", ["@", "_", "/", "·", "Д", "α", "ジ", "!"])
def test_other_characters_in_a_latin_name_are_named(char: str) -> None:
    reason = reason_of(validate_person_name, f"John{char}Smith")
    assert_reason(reason, zh=(f"“{char}”", "拉丁字母"), en=(f"“{char}”", "Latin letters"))


def test_a_name_of_only_punctuation_has_no_letters() -> None:
    reason = reason_of(validate_person_name, "-- .")
    assert_reason(reason, zh=("没有字母",), en=("no letters",))


def test_a_one_letter_latin_name_is_too_short() -> None:
    reason = reason_of(validate_person_name, "J")
    assert reason.en == "a foreign name has 2 to 60 characters; 1 was entered"
    assert reason.zh == "外文姓名应为 2 至 60 个字符，实际输入 1 个"


def test_a_latin_name_of_61_characters_is_too_long() -> None:
    assert validate_person_name("A" * 60) == "A" * 60
    reason = reason_of(validate_person_name, "A" * 30 + " " + "B" * 30)
    assert_reason(reason, zh=("2 至 60", "61 个"), en=("2 to 60", "61 were"))


# --------------------------------------------------------------------------- names: properties

_han = st.sampled_from("张王李赵欧阳娜买提明阿卜杜热合曼〇\U00020000\U0002a700")
_chinese_names = (
    st.lists(st.text(_han, min_size=1, max_size=6), min_size=1, max_size=3)
    .map("·".join)
    .filter(lambda name: len(name) >= 2)
)


@given(_chinese_names)
def test_well_formed_chinese_names_are_accepted_unchanged(name: str) -> None:
    assert validate_person_name(name) == name


@given(st.text(max_size=40))
def test_validate_person_name_is_idempotent_on_its_output(raw: str) -> None:
    try:
        name = validate_person_name(raw)
    except InvalidInput as error:
        assert error.reason.zh and error.reason.en
        return
    assert validate_person_name(name) == name


@given(st.text(alphabet="张三阿·•・.  JoséMüller-'", max_size=20))
def test_validate_person_name_is_idempotent_on_name_like_text(raw: str) -> None:
    try:
        name = validate_person_name(raw)
    except InvalidInput:
        return
    assert validate_person_name(name) == name


def test_han_detection_covers_all_extension_blocks_and_ling() -> None:
    for ch in "〇\u3400\u4e00\u9fff\U00020000\U0002a700\U0002ebf0\U00030000\U00031350\U000323b0":
        assert is_han_character(ch), hex(ord(ch))
    for ch in "a·。ア김1\u3006":
        assert not is_han_character(ch), ch


# --------------------------------------------------------------------------- addresses


@pytest.mark.parametrize(
    ("raw", "address"),
    [
        ("广东省广州市天河区体育西路 1 号", "广东省广州市天河区体育西路 1 号"),
        ("  广州市天河区\t体育西路\n\n1号  ", "广州市天河区 体育西路 1号"),
        ("广州市天河区　　体育西路１号", "广州市天河区 体育西路1号"),
        ("深圳市南山区科技园Ａ栋１２０３室", "深圳市南山区科技园A栋1203室"),
        ("深圳市南山区（科技园）Ａ栋，３楼：前台；", "深圳市南山区（科技园）A栋，3楼：前台；"),
        ("某某小区３－５号", "某某小区3-5号"),
        ("Flat 5, 1 Main Street", "Flat 5, 1 Main Street"),
        ("北京市海淀区中关村大街〇号", "北京市海淀区中关村大街〇号"),
    ],
)
def test_addresses_are_normalised(raw: str, address: str) -> None:
    assert validate_address(raw) == address


def test_chinese_punctuation_in_addresses_is_kept_full_width() -> None:
    assert (
        validate_address("天河区（近地铁站），体育西路！？") == "天河区（近地铁站），体育西路！？"
    )


@pytest.mark.parametrize("raw", ["", "   ", "\u3000\n"])
def test_an_empty_address_is_refused_as_not_entered(raw: str) -> None:
    assert reason_of(validate_address, raw) == Text("未输入地址", "no address entered")


def test_an_address_of_five_characters_is_too_short() -> None:
    assert validate_address("天河区体育西") == "天河区体育西"
    reason = reason_of(validate_address, "天河区体育")
    assert reason.zh == "地址应为 6 至 120 个字符，实际输入 5 个"
    assert reason.en == "an address has 6 to 120 characters; 5 were entered"


def test_an_address_of_121_characters_is_too_long() -> None:
    assert validate_address("路" * 120) == "路" * 120
    reason = reason_of(validate_address, "路" * 121)
    assert_reason(reason, zh=("6 至 120", "121 个"), en=("6 to 120", "121 were"))


def test_length_is_counted_after_whitespace_is_collapsed() -> None:
    reason = reason_of(validate_address, "天河     区体")
    assert_reason(reason, zh=("实际输入 5 个",), en=("5 were entered",))


@pytest.mark.parametrize("raw", ["12345678", "1-2-3 #4", "（１２３）４５６"])
def test_an_address_of_only_digits_and_punctuation_is_refused(raw: str) -> None:
    reason = reason_of(validate_address, raw)
    assert_reason(reason, zh=("只有数字和标点",), en=("only digits and punctuation",))


@pytest.mark.parametrize("char", ["\x07", "\x00", "\u200b", "\ufeff", "\ue000", "\x7f"])
def test_control_and_invisible_characters_in_an_address_are_named(char: str) -> None:
    reason = reason_of(validate_address, f"广州市天河区{char}体育西路")
    code = f"U+{ord(char):04X}"
    assert_reason(reason, zh=(code, "控制字符"), en=(code, "control"))


@given(st.text(max_size=150))
def test_validate_address_is_idempotent_on_its_output(raw: str) -> None:
    try:
        address = validate_address(raw)
    except InvalidInput as error:
        assert error.reason.zh and error.reason.en
        return
    assert validate_address(address) == address


@given(
    st.text(alphabet="广州市天河区１２３ＡＢ，（）：；！？,()- \t\n\u3000", min_size=6, max_size=40)
)
def test_validate_address_is_idempotent_on_address_like_text(raw: str) -> None:
    try:
        address = validate_address(raw)
    except InvalidInput:
        return
    assert validate_address(address) == address
    assert address == address.strip()
    assert "  " not in address


@settings(max_examples=1000)
@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_a_mobile_is_taken_exactly_when_phonenumbers_reads_it_as_a_mainland_mobile(
        number: str) -> None:
    """The check makes the number from its digits and asks for its type once; phonenumbers'
    own way (parse the text, validate, then ask the type) must agree, within the ranges in
    person-to-person service."""
    import phonenumbers

    parsed = phonenumbers.parse("+86" + number)
    expected = (_MOBILE_RANGES.match(number) is not None and phonenumbers.is_valid_number(parsed)
                and phonenumbers.number_type(parsed) in {
                    phonenumbers.PhoneNumberType.MOBILE,
                    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE})
    try:
        taken = validate_phone(number) == Phone(PhoneKind.MOBILE, number)
    except InvalidInput:
        taken = False
    assert taken == expected
