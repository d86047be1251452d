"""Identity documents a customer may present at the counter, and validation of their numbers.

Every rejection raises `InvalidInput` whose bilingual reason names the offending character or
value and says what was expected, so the clerk can correct a typo without guessing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal, NoReturn

from hallcore.domain.text import InvalidInput, Text

Sex = Literal["M", "F"]


class IdDocType(StrEnum):
    RESIDENT_ID = "resident_id"
    RESIDENCE_PERMIT_HMT = "residence_permit_hmt"
    TRAVEL_PERMIT_HKMO = "travel_permit_hkmo"
    TRAVEL_PERMIT_TW = "travel_permit_tw"
    FOREIGN_PERMANENT_RESIDENT = "foreign_permanent_resident"
    PASSPORT = "passport"


DOC_TYPE_LABELS: dict[IdDocType, Text] = {
    IdDocType.RESIDENT_ID: Text("居民身份证", "Resident Identity Card"),
    IdDocType.RESIDENCE_PERMIT_HMT: Text(
        "港澳台居民居住证", "Residence Permit for Hong Kong, Macao and Taiwan Residents"
    ),
    IdDocType.TRAVEL_PERMIT_HKMO: Text(
        "港澳居民来往内地通行证", "Mainland Travel Permit for Hong Kong and Macao Residents"
    ),
    IdDocType.TRAVEL_PERMIT_TW: Text(
        "台湾居民来往大陆通行证", "Mainland Travel Permit for Taiwan Residents"
    ),
    IdDocType.FOREIGN_PERMANENT_RESIDENT: Text(
        "外国人永久居留身份证", "Foreign Permanent Resident ID Card"
    ),
    IdDocType.PASSPORT: Text("护照", "Passport"),
}


@dataclass(frozen=True, slots=True)
class IdDocument:
    doc_type: IdDocType
    number: str
    birth_date: date | None
    sex: Sex | None


MIN_BIRTH_YEAR = 1890

# ISO 7064 MOD 11-2 as used by GB 11643-1999: weight of position i is 2**(17-i) mod 11.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"

_MAINLAND_PROVINCES = frozenset(
    f"{code:02d}"
    for first, last in ((11, 15), (21, 23), (31, 37), (41, 46), (50, 54), (61, 65))
    for code in range(first, last + 1)
)
_TAIWAN_PROVINCE = "71"  # Taiwan's province-level code in GB/T 2260, accepted for citizens
_HMT_PROVINCES = frozenset({"81", "82", "83"})
_HMT_PERMIT_AREAS = ("810000", "820000", "830000")

_DIGITS = frozenset("0123456789")
_UPPER_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


# --- input normalisation -------------------------------------------------------------------


def normalize_id_input(raw: str) -> str:
    """What clerks and card readers type, made comparable. Does not validate.

    Full-width forms become ASCII (NFKC), all whitespace and invisible format characters
    (zero-width space, BOM) are dropped wherever they are, and a-z become A-Z.
    """
    # Dropping a space can let NFKC compose the neighbours differently (and NFKC can produce
    # spaces, e.g. from U+00A8), so repeat until nothing changes; real input needs one pass.
    text = raw
    for _ in range(8):
        again = _normalize_once(text)
        if again == text:
            break
        text = again
    return text


def _normalize_once(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text)
    kept = "".join(c for c in folded if not _is_blank(c))
    # Only ASCII letters are upper-cased: str.upper() maps e.g. "ß" to "SS", which would
    # silently turn a wrong character into two plausible ones.
    return kept.translate(_ASCII_UPPER)


def _is_blank(c: str) -> bool:
    return c.isspace() or unicodedata.category(c) == "Cf"


# --- failure messages ----------------------------------------------------------------------


def _fail(zh: str, en: str, **values: object) -> NoReturn:
    raise InvalidInput(Text(zh, en).format(**values))


def _shown(c: str) -> str:
    """A character as it can be read aloud: itself, or its code point if invisible."""
    return c if c.isprintable() else f"U+{ord(c):04X}"


def _fail_char(position: int, c: str, rule: Text) -> NoReturn:
    """Character `c` at 1-based `position` breaks `rule` (a plain Text without placeholders)."""
    _fail(
        "第 {pos} 位是“{c}”；" + rule.zh,
        "character {pos} is '{c}'; " + rule.en,
        pos=position,
        c=_shown(c),
    )


def _require_chars(number: str, allowed: frozenset[str], start: int, stop: int, rule: Text) -> None:
    """Positions start..stop-1 (0-based) must be in `allowed`; report the first that is not."""
    for index in range(start, min(stop, len(number))):
        if number[index] not in allowed:
            _fail_char(index + 1, number[index], rule)


# What a misplaced character should have been, completing "character 7 is 'A'; ...".
_RULE_DIGITS_BEFORE_CHECK = Text(
    "校验码之前只能是数字", "only digits are allowed before the check character"
)
_RULE_CHECK_CHAR = Text("校验码只能是数字或 X", "the check character must be a digit or X")
_RULE_OLD_CARD = Text("旧版 15 位号码只能是数字", "an old 15-digit card has only digits")
_RULE_H_OR_M = Text("应为 H（香港）或 M（澳门）", "it should be H (Hong Kong) or M (Macao)")
_RULE_DIGITS_AFTER_H_OR_M = Text("H 或 M 之后只能是数字", "only digits are allowed after H or M")
_RULE_DIGITS = Text("只能是数字", "only digits are allowed")
_RULE_NATIONALITY = Text(
    "前三位应为字母（国籍代码）", "the first three characters should be letters (nationality)"
)
_RULE_DIGITS_AFTER_NATIONALITY = Text(
    "国籍代码之后只能是数字", "only digits are allowed after the three-letter nationality code"
)
_RULE_LETTERS_DIGITS = Text("只能是字母或数字", "only letters and digits are allowed")


# --- MOD 11-2 ------------------------------------------------------------------------------


def resident_id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits of an 18-character number."""
    if len(first17) != 17 or not set(first17) <= _DIGITS:
        raise ValueError(f"17 ASCII digits expected, got {first17!r}")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def _require_check_char(number: str) -> None:
    # A mistyped digit anywhere breaks the check, and the last is seldom the one: naming the
    # check character invited clerks to change it until the number passed. The reason is the
    # same whatever the digits, so it tells nobody which check character would pass.
    if number[17] != resident_id_check_char(number[:17]):
        _fail(
            "号码未通过校验：请重新读卡，或对照证件逐位核对",
            "the number fails its check: read the card again, or compare every digit with the "
            "document",
        )


def _require_18_char_form(number: str) -> None:
    """17 digits then a digit or X: the shape shared by every MOD 11-2 number."""
    _require_chars(number, _DIGITS, 0, 17, _RULE_DIGITS_BEFORE_CHECK)
    if number[17] not in _DIGITS and number[17] != "X":
        _fail_char(18, number[17], _RULE_CHECK_CHAR)


# --- birth dates ---------------------------------------------------------------------------


def _birth_date(year: int, month: int, day: int, shown: str, today: date) -> date:
    """The date the digits encode; `shown` is how those digits appear in the number."""
    try:
        born = date(year, month, day)
    except ValueError:
        _fail_not_a_date(year, month, day, shown)
    if born > today:
        _fail("出生日期 {shown} 晚于今天", "birth date {shown} is in the future", shown=shown)
    if year < MIN_BIRTH_YEAR:
        _fail(
            "出生年份 {year} 早于 {min} 年",
            "birth year {year} is before {min}",
            year=year,
            min=MIN_BIRTH_YEAR,
        )
    return born


def _fail_not_a_date(year: int, month: int, day: int, shown: str) -> NoReturn:
    if month == 2 and day == 29 and year >= 1:
        _fail(
            "出生日期 {shown} 不是有效日期（{year} 年不是闰年）",
            "birth date {shown} is not a date ({year} is not a leap year)",
            shown=shown,
            year=year,
        )
    _fail("出生日期 {shown} 不是有效日期", "birth date {shown} is not a date", shown=shown)


def _yyyymmdd(digits: str, today: date) -> date:
    return _birth_date(int(digits[:4]), int(digits[4:6]), int(digits[6:]), digits, today)


def _sex(sequence_digit: str) -> Sex:
    return "M" if int(sequence_digit) % 2 == 1 else "F"


# --- area codes ----------------------------------------------------------------------------


def _require_resident_area(number: str) -> None:
    """First two digits of a citizen's number: a province-level code (or Taiwan's 71)."""
    province = number[:2]
    if province in _MAINLAND_PROVINCES or province == _TAIWAN_PROVINCE:
        return
    if province in _HMT_PROVINCES:
        _fail(
            "地区码 {area} 属于港澳台居民居住证号码，请将证件类型选为“港澳台居民居住证”",
            "area code {area} belongs to a Hong Kong/Macao/Taiwan residence-permit number; "
            "choose 港澳台居民居住证 as the document type",
            area=number[:6],
        )
    if number.startswith("9") and len(number) == 18:
        _fail(
            "以 9 开头的 18 位号码是外国人永久居留身份证号码，"
            "请将证件类型选为“外国人永久居留身份证”",
            "an 18-character number starting with 9 is a Foreign Permanent Resident ID Card "
            "number; choose 外国人永久居留身份证 as the document type",
        )
    _fail(
        "前两位 {province} 不是省级行政区划代码",
        "first two digits {province} are not a province-level area code",
        province=province,
    )


def _require_hmt_permit_area(number: str) -> None:
    area = number[:6]
    if area in _HMT_PERMIT_AREAS:
        return
    zh = "地区码应为 810000（香港）、820000（澳门）或 830000（台湾），而不是 {area}"
    en = "area code should be 810000 (Hong Kong), 820000 (Macao) or 830000 (Taiwan), not {area}"
    if area[:2] in _MAINLAND_PROVINCES:
        zh += "；内地地区码说明这是居民身份证号码"
        en += "; a mainland area code means this is a Resident Identity Card number"
    _fail(zh, en, area=area)


# --- document types ------------------------------------------------------------------------


def _validate_resident_id(number: str, today: date) -> IdDocument:
    if len(number) == 15:
        return _validate_old_resident_id(number, today)
    if len(number) != 18:
        _fail(
            "应为 18 位（旧版一代证为 15 位数字），实际输入 {n} 位",
            "18 characters (or 15 digits for an old card) expected, {n} given",
            n=len(number),
        )
    _require_18_char_form(number)
    _require_resident_area(number)
    return _finish_18_char_citizen(IdDocType.RESIDENT_ID, number, today)


def _validate_old_resident_id(number: str, today: date) -> IdDocument:
    """First-generation card (GB 11643-1989): 6 area + YYMMDD of 19YY + 3 sequence, no check."""
    _require_chars(number, _DIGITS, 0, 15, _RULE_OLD_CARD)
    _require_resident_area(number)
    yymmdd = number[6:12]
    born = _birth_date(1900 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:]), yymmdd, today)
    return IdDocument(IdDocType.RESIDENT_ID, number, born, _sex(number[14]))


def _validate_hmt_permit(number: str, today: date) -> IdDocument:
    _require_length(number, 18)
    _require_18_char_form(number)
    _require_hmt_permit_area(number)
    return _finish_18_char_citizen(IdDocType.RESIDENCE_PERMIT_HMT, number, today)


def _finish_18_char_citizen(doc_type: IdDocType, number: str, today: date) -> IdDocument:
    """Birth date (positions 7-14), check character, sex (position 17) of a GB 11643 number."""
    born = _yyyymmdd(number[6:14], today)
    _require_check_char(number)
    return IdDocument(doc_type, number, born, _sex(number[16]))


def _require_length(number: str, expected: int) -> None:
    if len(number) != expected:
        _fail(
            "应为 {expected} 位，实际输入 {n} 位",
            "{expected} characters expected, {n} given",
            expected=expected,
            n=len(number),
        )


def _validate_hkmo_permit(number: str, today: date) -> IdDocument:
    if number[0] not in "HM":
        _fail_char(1, number[0], _RULE_H_OR_M)
    _require_chars(number, _DIGITS, 1, len(number), _RULE_DIGITS_AFTER_H_OR_M)
    digits = len(number) - 1
    if digits not in (8, 10):
        _fail(
            "{letter} 之后应为 8 位或 10 位数字，实际输入 {n} 位",
            "8 or 10 digits expected after {letter}, {n} given",
            letter=number[0],
            n=digits,
        )
    return IdDocument(IdDocType.TRAVEL_PERMIT_HKMO, number, None, None)


def _validate_tw_permit(number: str, today: date) -> IdDocument:
    _require_chars(number, _DIGITS, 0, len(number), _RULE_DIGITS)
    if len(number) != 8:
        _fail("应为 8 位数字，实际输入 {n} 位", "8 digits expected, {n} given", n=len(number))
    return IdDocument(IdDocType.TRAVEL_PERMIT_TW, number, None, None)


def _validate_foreign_pr(number: str, today: date) -> IdDocument:
    if len(number) == 18:
        return _validate_foreign_pr_2023(number, today)
    if len(number) == 15:
        return _validate_foreign_pr_2004(number, today)
    _fail(
        "应为 18 位（2023 版）或 15 位（2004/2017 版），实际输入 {n} 位",
        "18 characters (2023 card) or 15 characters (2004/2017 card) expected, {n} given",
        n=len(number),
    )


def _validate_foreign_pr_2023(number: str, today: date) -> IdDocument:
    """2023 card: 9, province of issue (2), nationality (3, ISO 3166 numeric), YYYYMMDD,
    sequence (3, last digit odd for men), MOD 11-2 check character, like a citizen's number.

    The nationality code is not checked against ISO 3166: no country table is kept here.
    """
    if number[0] != "9":
        _fail(
            "18 位外国人永久居留身份证号码以 9 开头，而不是 {first}",
            "an 18-character Foreign Permanent Resident ID number starts with 9, not {first}",
            first=_shown(number[0]),
        )
    _require_18_char_form(number)
    if number[1:3] not in _MAINLAND_PROVINCES:
        _fail(
            "第 2-3 位 {province} 不是省级行政区划代码",
            "characters 2-3, {province}, are not a province-level area code",
            province=number[1:3],
        )
    born = _yyyymmdd(number[6:14], today)
    _require_check_char(number)
    return IdDocument(IdDocType.FOREIGN_PERMANENT_RESIDENT, number, born, _sex(number[16]))


def _validate_foreign_pr_2004(number: str, today: date) -> IdDocument:
    """2004 card (numbers kept on the 2017 card): nationality (3 letters, ISO 3166 alpha-3),
    place of issue (4 digits), YYMMDD, 2 more digits.

    Not checked: the nationality code against ISO 3166 (no table kept), the place code, and
    the last digit, whose check algorithm has no published specification we can rely on.
    Sex is not derived either, for the same reason.
    """
    _require_chars(number, _UPPER_LETTERS, 0, 3, _RULE_NATIONALITY)
    _require_chars(number, _DIGITS, 3, 15, _RULE_DIGITS_AFTER_NATIONALITY)
    born = _yymmdd_any_century(number[7:13], today)
    return IdDocument(IdDocType.FOREIGN_PERMANENT_RESIDENT, number, born, None)


def _yymmdd_any_century(yymmdd: str, today: date) -> date:
    """The number has no century: take 20YY unless that is not a date or still to come.

    Holders born 1900-19YY with YY <= today's YY would be misread as children; at more than
    a hundred years old they are rare enough to accept that.
    """
    yy, month, day = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    try:
        recent = date(2000 + yy, month, day)
    except ValueError:
        recent = None
    if recent is not None and recent <= today:
        return recent
    return _birth_date(1900 + yy, month, day, yymmdd, today)


def _validate_passport(number: str, today: date) -> IdDocument:
    _require_chars(number, _DIGITS | _UPPER_LETTERS, 0, len(number), _RULE_LETTERS_DIGITS)
    if not 5 <= len(number) <= 17:
        _fail(
            "应为 5 至 17 位字母或数字，实际输入 {n} 位",
            "5 to 17 letters and digits expected, {n} given",
            n=len(number),
        )
    if not set(number) & _DIGITS:
        _fail(
            "护照号码至少含一位数字，输入中没有数字",
            "a passport number has at least one digit; none given",
        )
    return IdDocument(IdDocType.PASSPORT, number, None, None)


_VALIDATORS: dict[IdDocType, Callable[[str, date], IdDocument]] = {
    IdDocType.RESIDENT_ID: _validate_resident_id,
    IdDocType.RESIDENCE_PERMIT_HMT: _validate_hmt_permit,
    IdDocType.TRAVEL_PERMIT_HKMO: _validate_hkmo_permit,
    IdDocType.TRAVEL_PERMIT_TW: _validate_tw_permit,
    IdDocType.FOREIGN_PERMANENT_RESIDENT: _validate_foreign_pr,
    IdDocType.PASSPORT: _validate_passport,
}


def validate_id(doc_type: IdDocType, raw: str, *, today: date | None = None) -> IdDocument:
    """Normalise `raw`, then check it is a well-formed number of `doc_type`.

    Raises InvalidInput naming the first problem found. `today` bounds birth dates.
    """
    number = normalize_id_input(raw)
    if not number:
        _fail("未输入证件号码", "no ID number entered")
    return _VALIDATORS[doc_type](number, today if today is not None else date.today())


# --- demo data -----------------------------------------------------------------------------


def make_resident_id(area_code: str, birth: date, sequence: int) -> str:
    """A well-formed 18-character number (demo data and tests).

    The sequence's parity gives the sex (odd: male). The area code is only checked to be six
    digits, so 810000-830000 build residence-permit numbers; choosing a real area is the caller's
    business.
    """
    if len(area_code) != 6 or not set(area_code) <= _DIGITS:
        raise ValueError(f"area code must be 6 digits, got {area_code!r}")
    if not 0 <= sequence <= 999:
        raise ValueError(f"sequence must be 0..999, got {sequence}")
    first17 = f"{area_code}{birth:%Y%m%d}{sequence:03d}"
    if len(first17) != 17:
        raise ValueError(f"birth year must have four digits, got {birth.year}")
    return first17 + resident_id_check_char(first17)
