"""Masking of ID numbers, phones and names for screens and receipts."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from hallcore.domain.contact import validate_phone
from hallcore.domain.masking import mask_id_number, mask_name, mask_phone
from tests.support.phones import mainland_landlines, mainland_mobiles, outside_mainland

# --------------------------------------------------------------------------- ID numbers


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("440301199001011234", "4403**********1234"),
        ("44030119900101123X", "4403**********123X"),
        ("440301900101123", "4403*******1123"),  # first-generation 15-digit card
        ("H12345678", "H123*5678"),  # 9 characters: the long rule
        ("12345678", "12****78"),
        ("E1234567", "E1****67"),
        ("12345", "12*45"),
        ("1234", "****"),
        ("1", "*"),
        ("", ""),
    ],
)
def test_id_numbers_keep_only_their_ends(number: str, masked: str) -> None:
    assert mask_id_number(number) == masked


@given(st.text(alphabet="0123456789XABC", max_size=40))
def test_id_masking_keeps_length_and_never_reveals_the_middle(number: str) -> None:
    masked = mask_id_number(number)
    assert len(masked) == len(number)
    keep = 0 if len(number) <= 4 else 2 if len(number) <= 8 else 4
    assert masked[:keep] == number[:keep]
    assert masked[len(number) - keep :] == number[len(number) - keep :]
    assert set(masked[keep : len(number) - keep]) <= {"*"}


@given(st.from_regex(r"[0-9]{17}[0-9X]", fullmatch=True))
def test_eighteen_character_id_numbers_hide_birth_date_and_sequence(number: str) -> None:
    assert mask_id_number(number) == number[:4] + "*" * 10 + number[14:]


# --------------------------------------------------------------------------- phones


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("13812345678", "138****5678"),
        ("020-87654321", "020-****4321"),
        ("010-62345678", "010-****5678"),
        ("0755-2345678", "0755-***5678"),
        ("0755-23456789", "0755-****6789"),
        ("020-87654321-123", "020-****4321-***"),
        ("0755-2345678-8", "0755-***5678-*"),
    ],
)
def test_phones_keep_prefix_and_last_four_digits(number: str, masked: str) -> None:
    assert mask_phone(number) == masked


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("138 1234 5678", "*********5678"),
        ("+8613812345678", "**********5678"),
        ("12345678", "****5678"),
        ("1234567", "*******"),
        ("", ""),
    ],
)
def test_phones_not_in_normal_form_show_at_most_the_last_four(number: str, masked: str) -> None:
    assert mask_phone(number) == masked


_MOBILE = r"1[3-9][0-9]{9}"
_LANDLINE = (
    r"(010|02[0-9])-[2-9][0-9]{7}(-[0-9]{1,6})?|0[3-9][0-9]{2}-[2-9][0-9]{6,7}(-[0-9]{1,6})?"
)
_MOBILE_OR_LANDLINE = re.compile(rf"{_MOBILE}|{_LANDLINE}")
_mobiles = st.from_regex(_MOBILE, fullmatch=True)
_landlines = st.from_regex(_LANDLINE, fullmatch=True)


@given(_mobiles)
def test_mobile_masking_hides_the_middle_four(number: str) -> None:
    masked = mask_phone(number)
    assert len(masked) == len(number)
    assert masked[:3] == number[:3]
    assert masked[3:7] == "****"
    assert masked[7:] == number[7:]


@given(_landlines)
def test_landline_masking_hides_all_but_area_code_and_last_four(number: str) -> None:
    masked = mask_phone(number)
    assert len(masked) == len(number)
    area, local, *extension = number.split("-")
    masked_area, masked_local, *masked_extension = masked.split("-")
    assert masked_area == area
    assert masked_local == "*" * (len(local) - 4) + local[-4:]
    assert [set(part) for part in masked_extension] == [{"*"} for _ in extension]


@given(st.one_of(mainland_mobiles, mainland_landlines))
def test_masking_accepts_what_validate_phone_returns(number: str) -> None:
    assert mask_phone(validate_phone(number).number) == mask_phone(number)


@given(outside_mainland)
def test_a_number_outside_the_mainland_shows_only_its_last_four_digits(number: str) -> None:
    masked = mask_phone(validate_phone(number).number)
    assert masked == "*" * (len(number) - 4) + number[-4:]


@given(st.text(max_size=30))
def test_unrecognised_phone_text_reveals_at_most_its_last_four_characters(text: str) -> None:
    assume(not _MOBILE_OR_LANDLINE.fullmatch(text))
    masked = mask_phone(text)
    assert len(masked) == len(text)
    hidden = max(len(text) - 4, 0) if len(text) >= 8 else len(text)
    assert masked[:hidden] == "*" * hidden
    assert masked[hidden:] == text[hidden:]


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("欧阳娜娜", "欧***"),
        ("王小明", "王**"),
        ("阿卜杜热合曼·买买提明", "阿*****·****"),
        ("张", "*"),
        ("", ""),
    ],
)
def test_chinese_names_keep_only_the_first_character(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("John Smith", "J*** S****"),
        ("José Müller", "J*** M*****"),
        ("Émile Zola", "É**** Z***"),
        ("Jean-Luc O'Neil", "J***-L** *'N***"),
        ("Smith, John", "S****, J***"),
        ("J. Smith", "*. S****"),  # a lone initial would be the whole word
        ("A B", "* *"),
        ("Al", "A*"),
        ("X", "*"),
    ],
)
def test_latin_names_keep_the_initial_of_each_word(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_a_combining_accent_goes_with_its_letter() -> None:
    assert mask_name("E\u0301mile Aq\u0301a") == "E\u0301**** A**"


_han = st.sampled_from("张王李赵欧阳娜买提明阿卜杜热合曼〇\U00020000")
_chinese_names = st.lists(st.text(_han, min_size=1, max_size=6), min_size=1, max_size=3).map(
    "·".join
)


@given(_chinese_names)
def test_chinese_name_masking_reveals_only_the_first_character(name: str) -> None:
    masked = mask_name(name)
    assert len(masked) == len(name)
    if len(name) == 1:
        assert masked == "*"
        return
    assert masked[0] == name[0]
    for original, shown in zip(name[1:], masked[1:], strict=True):
        assert shown == ("·" if original == "·" else "*")


_latin_words = st.text(st.sampled_from("abcdefgXYZéüßØ"), min_size=1, max_size=8)
_latin_names = st.lists(_latin_words, min_size=1, max_size=4).map(" ".join)


@given(_latin_names)
def test_latin_name_masking_keeps_length_and_reveals_only_initials(name: str) -> None:
    masked = mask_name(name)
    assert len(masked) == len(name)
    for word, masked_word in zip(name.split(" "), masked.split(" "), strict=True):
        if len(word) == 1:
            assert masked_word == "*"
        else:
            assert masked_word == word[0] + "*" * (len(word) - 1)
