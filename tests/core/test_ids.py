"""Identity-document numbers: normalisation, validation and the reasons given for rejection."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from hallcore.domain.ids import (
    DOC_TYPE_LABELS,
    MIN_BIRTH_YEAR,
    IdDocType,
    IdDocument,
    make_resident_id,
    normalize_id_input,
    resident_id_check_char,
    validate_id,
)
from hallcore.domain.text import InvalidInput, Text

TODAY = date(2025, 6, 1)

RID = IdDocType.RESIDENT_ID
HMT = IdDocType.RESIDENCE_PERMIT_HMT
HKMO = IdDocType.TRAVEL_PERMIT_HKMO
TW = IdDocType.TRAVEL_PERMIT_TW
FPR = IdDocType.FOREIGN_PERMANENT_RESIDENT
PASSPORT = IdDocType.PASSPORT

PUBLISHED_EXAMPLE = "11010519491231002X"  # GB 11643-1999 example, born 1949-12-31, female
HK_PERMIT_SAMPLE = "810000199408230021"  # residence-permit samples published by Beijing police
TW_PERMIT_SAMPLE = "830000199201300022"

PROVINCES = [
    *range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47),
    *range(50, 55), *range(61, 66), 71,
]  # fmt: skip
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2, 1)


def rejected(doc_type: IdDocType, raw: str) -> Text:
    with pytest.raises(InvalidInput) as caught:
        validate_id(doc_type, raw, today=TODAY)
    return caught.value.reason


def valid(doc_type: IdDocType, raw: str) -> IdDocument:
    return validate_id(doc_type, raw, today=TODAY)


def foreign_2023(province: str, nationality: str, birth: str, sequence: str) -> str:
    first17 = "9" + province + nationality + birth + sequence
    return first17 + resident_id_check_char(first17)


def with_check(area: str, birth: str, sequence: str) -> str:
    """An 18-character number with the right check character, whatever the birth digits."""
    first17 = area + birth + sequence
    return first17 + resident_id_check_char(first17)


# --- MOD 11-2 check character --------------------------------------------------------------


@pytest.mark.parametrize(
    ("first17", "check"),
    [
        ("11010519491231002", "X"),  # GB 11643-1999 example
        ("44052418800101001", "4"),  # GB 11643-1999 appendix example
        ("81000019940823002", "1"),
        ("83000019920130002", "2"),
    ],
)
def test_check_char_matches_published_examples(first17: str, check: str) -> None:
    assert resident_id_check_char(first17) == check


@pytest.mark.parametrize("bad", ["1101051949123100", "110105194912310021", "1101051949123100A"])
def test_check_char_needs_exactly_17_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        resident_id_check_char(bad)


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_check_char_makes_weighted_sum_one_mod_11(first17: str) -> None:
    check = resident_id_check_char(first17)
    values = [int(c) for c in first17] + [10 if check == "X" else int(check)]
    assert sum(v * w for v, w in zip(values, WEIGHTS, strict=True)) % 11 == 1


# --- resident ID, 18 characters: accepted ---------------------------------------------------


def test_published_example_is_valid_with_birth_date_and_sex() -> None:
    doc = valid(RID, PUBLISHED_EXAMPLE)
    assert doc == IdDocument(RID, PUBLISHED_EXAMPLE, date(1949, 12, 31), "F")


def test_lower_case_check_x_is_accepted_and_upper_cased() -> None:
    assert valid(RID, PUBLISHED_EXAMPLE.lower()).number == PUBLISHED_EXAMPLE


def test_odd_17th_digit_means_male() -> None:
    number = make_resident_id("440308", date(1999, 1, 10), 151)
    assert number == "440308199901101512"
    assert valid(RID, number).sex == "M"


def test_taiwan_area_code_71_is_accepted() -> None:
    assert valid(RID, make_resident_id("710000", date(1980, 5, 5), 12)).number.startswith("71")


def test_born_today_is_accepted() -> None:
    assert valid(RID, make_resident_id("110105", TODAY, 1)).birth_date == TODAY


def test_born_on_feb_29_of_a_leap_year_is_accepted() -> None:
    assert valid(RID, make_resident_id("110105", date(2000, 2, 29), 1)).birth_date == date(
        2000, 2, 29
    )


def test_today_defaults_to_the_real_date() -> None:
    assert validate_id(RID, PUBLISHED_EXAMPLE).birth_date == date(1949, 12, 31)


# --- resident ID, 18 characters: rejected, with the reason ---------------------------------


CHECK_FAILED = Text("号码未通过校验：请重新读卡，或对照证件逐位核对",
                    "the number fails its check: read the card again, or compare every digit "
                    "with the document")


def test_wrong_check_char_asks_for_the_card_to_be_read_again() -> None:
    assert rejected(RID, "110105194912310025") == CHECK_FAILED


@pytest.mark.parametrize(
    ("doc_type", "area"),
    [(RID, "110105"), (IdDocType.RESIDENCE_PERMIT_HMT, "810000")],
)
def test_the_check_refusal_never_shows_the_check_character_that_would_pass(
    doc_type: IdDocType, area: str
) -> None:
    for sequence in range(0, 1000, 37):
        good = make_resident_id(area, date(1985, 6, 1), sequence)
        for wrong in (c for c in "0123456789X" if c != good[-1]):
            reason = rejected(doc_type, good[:-1] + wrong)
            assert reason == CHECK_FAILED
            assert good[-1] not in reason.zh + reason.en


def test_wrong_check_char_does_not_point_at_the_last_digit() -> None:
    """A typo anywhere breaks the check: the reason is the same whichever digit is last, so
    it suggests no digit to change."""
    reasons = {rejected(RID, PUBLISHED_EXAMPLE[:-1] + last) for last in "0123456789"}
    assert reasons == {CHECK_FAILED}
    assert rejected(RID, "11010519491231102X") == CHECK_FAILED  # a typo in position 15


def test_letter_before_check_char_is_reported_by_position() -> None:
    reason = rejected(RID, "110105A9491231002X")
    assert reason.en == "character 7 is 'A'; only digits are allowed before the check character"
    assert reason.zh == "第 7 位是“A”；校验码之前只能是数字"


def test_x_anywhere_but_last_is_reported_by_position() -> None:
    assert rejected(RID, "1101051949123100X2").en.startswith("character 17 is 'X'")


def test_check_char_that_is_neither_digit_nor_x_is_reported() -> None:
    reason = rejected(RID, "11010519491231002Y")
    assert reason.en == "character 18 is 'Y'; the check character must be a digit or X"
    assert "第 18 位是“Y”" in reason.zh


def test_invisible_character_is_shown_as_code_point() -> None:
    assert rejected(RID, "110105\x0019491231002").en.startswith("character 7 is 'U+0000'")


@pytest.mark.parametrize(("raw", "given"), [("11010519491231002", 17), ("1101051949123100", 16)])
def test_wrong_length_says_how_many_were_given(raw: str, given: int) -> None:
    reason = rejected(RID, raw)
    assert reason.en == f"18 characters (or 15 digits for an old card) expected, {given} given"
    assert f"实际输入 {given} 位" in reason.zh


@pytest.mark.parametrize("province", ["00", "10", "16", "20", "24", "38", "47", "55", "60", "66"])
def test_unknown_province_is_named(province: str) -> None:
    reason = rejected(RID, make_resident_id(province + "0105", date(1990, 1, 1), 1))
    assert reason.en == f"first two digits {province} are not a province-level area code"
    assert province in reason.zh


@pytest.mark.parametrize("area", ["810000", "820000", "830000"])
def test_hmt_area_code_on_resident_id_points_to_the_residence_permit(area: str) -> None:
    reason = rejected(RID, make_resident_id(area, date(1990, 1, 1), 1))
    assert area in reason.en and "residence-permit" in reason.en
    assert "港澳台居民居住证" in reason.en
    assert area in reason.zh and "港澳台居民居住证" in reason.zh


def test_number_starting_with_9_points_to_foreign_permanent_resident_card() -> None:
    reason = rejected(RID, foreign_2023("11", "840", "19800101", "001"))
    assert "外国人永久居留身份证" in reason.zh and "Foreign Permanent Resident" in reason.en


def test_impossible_birth_date_is_quoted() -> None:
    reason = rejected(RID, with_check("110105", "19991332", "002"))
    assert reason == Text("出生日期 19991332 不是有效日期", "birth date 19991332 is not a date")


def test_feb_29_in_a_non_leap_year_is_explained() -> None:
    reason = rejected(RID, with_check("110105", "19990229", "002"))
    assert reason.en == "birth date 19990229 is not a date (1999 is not a leap year)"
    assert "19990229" in reason.zh and "1999 年不是闰年" in reason.zh


def test_feb_29_1900_is_not_a_leap_day() -> None:
    assert "1900 is not a leap year" in rejected(RID, with_check("110105", "19000229", "002")).en


def test_future_birth_date_is_rejected() -> None:
    tomorrow = TODAY + timedelta(days=1)
    reason = rejected(RID, make_resident_id("110105", tomorrow, 1))
    assert reason == Text("出生日期 20250602 晚于今天", "birth date 20250602 is in the future")


def test_birth_year_before_1890_is_rejected_even_with_right_check_char() -> None:
    # 440524188001010014 is GB 11643's own example: its check character is right, but nobody
    # born in 1880 comes to the counter, so the year floor rejects it.
    assert MIN_BIRTH_YEAR == 1890
    reason = rejected(RID, "440524188001010014")
    assert reason == Text("出生年份 1880 早于 1890 年", "birth year 1880 is before 1890")


# --- resident ID, old 15-digit card --------------------------------------------------------


def test_old_15_digit_card_is_valid_with_19yy_birth_date() -> None:
    doc = valid(RID, "610104620927690")
    assert doc == IdDocument(RID, "610104620927690", date(1962, 9, 27), "F")


def test_old_card_sex_comes_from_last_digit() -> None:
    assert valid(RID, "110105491231003").sex == "M"


def test_old_card_letter_is_reported_by_position() -> None:
    assert (
        rejected(RID, "61010462092769A").en
        == "character 15 is 'A'; an old 15-digit card has only digits"
    )


def test_old_card_impossible_date_is_quoted_as_written() -> None:
    assert rejected(RID, "110105991332001").en == "birth date 991332 is not a date"


def test_old_card_feb_29_in_non_leap_year() -> None:
    assert (
        rejected(RID, "110105990229001").en
        == "birth date 990229 is not a date (1999 is not a leap year)"
    )


def test_old_card_unknown_province() -> None:
    assert rejected(RID, "990105620927690").en.startswith("first two digits 99")


# --- Hong Kong / Macao / Taiwan residence permit ---------------------------------------------


@pytest.mark.parametrize("sample", [HK_PERMIT_SAMPLE, TW_PERMIT_SAMPLE])
def test_published_residence_permit_samples_are_valid(sample: str) -> None:
    doc = valid(HMT, sample)
    assert doc.doc_type is HMT and doc.number == sample and doc.sex == "F"


def test_macao_residence_permit_is_valid() -> None:
    number = make_resident_id("820000", date(1970, 7, 1), 33)
    assert valid(HMT, number) == IdDocument(HMT, number, date(1970, 7, 1), "M")


def test_residence_permit_with_mainland_area_says_it_is_a_resident_id() -> None:
    reason = rejected(HMT, PUBLISHED_EXAMPLE)
    assert reason.en == (
        "area code should be 810000 (Hong Kong), 820000 (Macao) or 830000 (Taiwan), not 110105; "
        "a mainland area code means this is a Resident Identity Card number"
    )
    assert "110105" in reason.zh and "居民身份证" in reason.zh


def test_residence_permit_area_must_be_exact() -> None:
    reason = rejected(HMT, make_resident_id("810100", date(1990, 1, 1), 2))
    assert reason.en.endswith("not 810100")


def test_residence_permit_has_no_15_digit_form() -> None:
    reason = rejected(HMT, "810000900101002")
    assert reason == Text("应为 18 位，实际输入 15 位", "18 characters expected, 15 given")


def test_residence_permit_check_char_is_verified() -> None:
    assert rejected(HMT, "810000199408230022") == CHECK_FAILED


# --- input normalisation --------------------------------------------------------------------


def test_full_width_digits_and_x_are_folded() -> None:
    assert normalize_id_input("１１０１０５１９４９１２３１００２ｘ") == PUBLISHED_EXAMPLE
    assert valid(RID, "１１０１０５１９４９１２３１００２Ｘ").number == PUBLISHED_EXAMPLE


@pytest.mark.parametrize(
    "typed",
    [
        "11010519491231002X\r\n",  # card reader with line ending
        "\t110105 19491231 002x\n",
        "1101 0519 4912 3100 2X",
        "\u3000110105\u300019491231002X",  # ideographic space from a Chinese IME
        "\u200b11010519491231002X\ufeff",  # zero-width space and BOM pasted from elsewhere
    ],
)
def test_card_reader_and_keyboard_noise_is_removed(typed: str) -> None:
    assert normalize_id_input(typed) == PUBLISHED_EXAMPLE
    assert valid(RID, typed).number == PUBLISHED_EXAMPLE


def test_normalisation_upper_cases_letters_but_does_not_validate() -> None:
    assert normalize_id_input("h1234 5678") == "H12345678"
    assert normalize_id_input("abc-1") == "ABC-1"


def test_non_ascii_letters_are_not_upper_cased_into_other_letters() -> None:
    assert normalize_id_input("ß12345") == "ß12345"


@pytest.mark.parametrize("doc_type", list(IdDocType))
@pytest.mark.parametrize("raw", ["", "   ", "\r\n", "\u3000"])
def test_empty_input_says_nothing_was_entered(doc_type: IdDocType, raw: str) -> None:
    assert rejected(doc_type, raw) == Text("未输入证件号码", "no ID number entered")


# --- Hong Kong / Macao travel permit ---------------------------------------------------------


@pytest.mark.parametrize("number", ["H12345678", "M12345678", "H1234567890", "m1234567890"])
def test_hkmo_permit_accepts_h_or_m_and_8_or_10_digits(number: str) -> None:
    assert valid(HKMO, number) == IdDocument(HKMO, number.upper(), None, None)


def test_hkmo_permit_wrong_leading_letter() -> None:
    reason = rejected(HKMO, "C12345678")
    assert reason.en == "character 1 is 'C'; it should be H (Hong Kong) or M (Macao)"
    assert "第 1 位是“C”" in reason.zh


def test_hkmo_permit_letter_among_digits() -> None:
    assert (
        rejected(HKMO, "H1234A678").en == "character 6 is 'A'; only digits are allowed after H or M"
    )


@pytest.mark.parametrize(("number", "count"), [("H1234567", 7), ("M123456789", 9), ("H", 0)])
def test_hkmo_permit_wrong_digit_count(number: str, count: int) -> None:
    reason = rejected(HKMO, number)
    assert reason.en == f"8 or 10 digits expected after {number[0]}, {count} given"
    assert f"实际输入 {count} 位" in reason.zh


# --- Taiwan travel permit --------------------------------------------------------------------


def test_tw_permit_accepts_8_digits() -> None:
    assert valid(TW, "１２３４５６７８") == IdDocument(TW, "12345678", None, None)


@pytest.mark.parametrize(("number", "count"), [("1234567", 7), ("1234567890", 10)])
def test_tw_permit_wrong_digit_count(number: str, count: int) -> None:
    assert rejected(TW, number) == Text(
        f"应为 8 位数字，实际输入 {count} 位", f"8 digits expected, {count} given"
    )


def test_tw_permit_letter_is_reported_by_position() -> None:
    assert rejected(TW, "1234A678").en == "character 5 is 'A'; only digits are allowed"


# --- Foreign permanent resident ID card -----------------------------------------------------


def test_foreign_2023_card_is_valid_with_birth_date_and_sex() -> None:
    number = foreign_2023("11", "840", "19800101", "001")
    assert valid(FPR, number) == IdDocument(FPR, number, date(1980, 1, 1), "M")


def test_foreign_2023_card_wrong_check_char() -> None:
    number = foreign_2023("31", "392", "19751231", "002")
    wrong = "0" if number[-1] != "0" else "1"
    reason = rejected(FPR, number[:-1] + wrong)
    assert reason == CHECK_FAILED


def test_foreign_2023_card_must_start_with_9() -> None:
    reason = rejected(FPR, PUBLISHED_EXAMPLE)
    assert reason.en == "an 18-character Foreign Permanent Resident ID number starts with 9, not 1"
    assert "以 9 开头" in reason.zh


def test_foreign_2023_card_birth_date_at_positions_7_to_14() -> None:
    reason = rejected(FPR, foreign_2023("11", "840", "19801301", "001"))
    assert reason.en == "birth date 19801301 is not a date"


def test_foreign_2023_card_future_birth_date() -> None:
    assert rejected(FPR, foreign_2023("11", "840", "20300101", "001")).en.endswith("in the future")


def test_foreign_2023_card_unknown_province_of_issue() -> None:
    reason = rejected(FPR, foreign_2023("99", "840", "19800101", "001"))
    assert reason.en == "characters 2-3, 99, are not a province-level area code"


def test_foreign_2004_card_is_valid_and_birth_date_read_from_positions_8_to_13() -> None:
    assert valid(FPR, "usa110089010112") == IdDocument(
        FPR, "USA110089010112", date(1989, 1, 1), None
    )


def test_foreign_2004_card_two_digit_year_takes_the_latest_past_century() -> None:
    assert valid(FPR, "GBR110001010112").birth_date == date(2001, 1, 1)
    assert valid(FPR, "GBR110025120112").birth_date == date(1925, 12, 1)  # 2025-12-01 is ahead


def test_foreign_2004_card_impossible_birth_date() -> None:
    reason = rejected(FPR, "USA110089130112")
    assert reason == Text("出生日期 891301 不是有效日期", "birth date 891301 is not a date")


def test_foreign_2004_card_needs_three_letters() -> None:
    reason = rejected(FPR, "US1110089010112")
    assert reason.en == (
        "character 3 is '1'; the first three characters should be letters (nationality)"
    )


def test_foreign_2004_card_needs_digits_after_nationality() -> None:
    assert rejected(FPR, "USA11008901011X").en == (
        "character 15 is 'X'; only digits are allowed after the three-letter nationality code"
    )


def test_foreign_card_wrong_length() -> None:
    assert rejected(FPR, "USA1100890101").en == (
        "18 characters (2023 card) or 15 characters (2004/2017 card) expected, 13 given"
    )


# --- passport --------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["E12345678", "g1234567", "12345", "AB1234567890CDEFG"])
def test_passport_accepts_5_to_17_letters_and_digits(number: str) -> None:
    assert valid(PASSPORT, number) == IdDocument(PASSPORT, number.upper(), None, None)


@pytest.mark.parametrize(("number", "count"), [("E123", 4), ("E" * 10 + "1" * 8, 18)])
def test_passport_wrong_length(number: str, count: int) -> None:
    assert rejected(PASSPORT, number).en == f"5 to 17 letters and digits expected, {count} given"


def test_passport_needs_a_digit() -> None:
    assert rejected(PASSPORT, "ABCDEFG") == Text(
        "护照号码至少含一位数字，输入中没有数字",
        "a passport number has at least one digit; none given",
    )


@pytest.mark.parametrize(
    ("number", "position", "char"), [("E12-4567", 4, "-"), ("É1234567", 1, "É")]
)
def test_passport_other_characters_reported_by_position(
    number: str, position: int, char: str
) -> None:
    assert rejected(PASSPORT, number).en == (
        f"character {position} is '{char}'; only letters and digits are allowed"
    )


# --- labels, value object, demo-data builder -------------------------------------------------


def test_every_document_type_has_a_label_in_both_languages() -> None:
    assert set(DOC_TYPE_LABELS) == set(IdDocType)
    assert all(label.zh and label.en for label in DOC_TYPE_LABELS.values())
    assert DOC_TYPE_LABELS[RID] == Text("居民身份证", "Resident Identity Card")
    assert DOC_TYPE_LABELS[HMT].zh == "港澳台居民居住证"


def test_document_is_immutable() -> None:
    doc = valid(RID, PUBLISHED_EXAMPLE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        doc.number = "x"  # type: ignore[misc]


def test_make_resident_id_rebuilds_published_example() -> None:
    assert make_resident_id("110105", date(1949, 12, 31), 2) == PUBLISHED_EXAMPLE


@pytest.mark.parametrize(
    ("area", "sequence"), [("11010", 1), ("11010A", 1), ("110105", -1), ("110105", 1000)]
)
def test_make_resident_id_refuses_bad_arguments(area: str, sequence: int) -> None:
    with pytest.raises(ValueError):
        make_resident_id(area, date(1990, 1, 1), sequence)


# --- properties ------------------------------------------------------------------------------

areas = st.builds(
    lambda province, rest: f"{province:02d}{rest:04d}",
    st.sampled_from(PROVINCES),
    st.integers(0, 9999),
)
births = st.dates(min_value=date(MIN_BIRTH_YEAR, 1, 1), max_value=TODAY)
sequences = st.integers(0, 999)
valid_numbers = st.builds(make_resident_id, areas, births, sequences)


@given(areas, births, sequences)
def test_made_numbers_validate_and_round_trip_birth_date_and_sex(
    area: str, birth: date, sequence: int
) -> None:
    doc = valid(RID, make_resident_id(area, birth, sequence))
    assert doc.birth_date == birth
    assert doc.sex == ("M" if sequence % 2 else "F")


@given(valid_numbers, st.integers(0, 17), st.sampled_from("0123456789"))
def test_any_single_digit_substitution_is_detected(number: str, index: int, digit: str) -> None:
    assume(number[index] != digit)
    with pytest.raises(InvalidInput):
        valid(RID, number[:index] + digit + number[index + 1 :])


@given(valid_numbers, st.integers(0, 16))
def test_swapping_adjacent_different_digits_is_detected(number: str, index: int) -> None:
    a, b = number[index], number[index + 1]
    assume(a != b and a.isdigit() and b.isdigit())
    with pytest.raises(InvalidInput):
        valid(RID, number[:index] + b + a + number[index + 2 :])


@given(st.text())
def test_normalisation_is_idempotent(raw: str) -> None:
    once = normalize_id_input(raw)
    assert normalize_id_input(once) == once


FULL_WIDTH = {c: chr(ord(c) + 0xFEE0) for c in "0123456789X"}


@given(valid_numbers, st.data())
def test_noisy_typing_of_a_valid_number_normalises_back(number: str, data: st.DataObject) -> None:
    noisy = ""
    for c in number:
        noisy += data.draw(st.sampled_from(["", " ", "\t", "\u3000"]))
        noisy += data.draw(st.sampled_from([c, FULL_WIDTH[c], c.lower()]))
    noisy += data.draw(st.sampled_from(["", "\n", "\r\n"]))
    assert normalize_id_input(noisy) == number
    assert valid(RID, noisy).number == number
