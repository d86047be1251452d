"""Contact details as a clerk types them: phone numbers, personal names and addresses.

Every validator normalises what it accepts (so its output validates to itself) and raises
`InvalidInput` with a reason in both languages that names what is wrong and what is expected.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from phonenumbers import PhoneNumberType

from hallcore.domain.printable import is_printable
from hallcore.domain.text import InvalidInput, Text

# --------------------------------------------------------------------------- shared helpers

# Ranges rather than unicodedata names: Python 3.11 knows Unicode 14 only, but rare name
# characters live in Extensions H, I and J (Unicode 15-17), which a newer input method can type.
_HAN_RANGES: tuple[tuple[int, int], ...] = (
    (0x3007, 0x3007),  # 〇, used as a digit-like character in names
    (0x3400, 0x4DBF),  # Extension A
    (0x4E00, 0x9FFF),  # URO
    (0xF900, 0xFAFF),  # compatibility ideographs (12 of them are unified ideographs)
    (0x20000, 0x2A6DF),  # Extension B
    (0x2A700, 0x2EE5F),  # Extensions C, D, E, F, I
    (0x2F800, 0x2FA1F),  # compatibility supplement
    (0x30000, 0x3347F),  # Extensions G, H, J
)


def is_han_character(ch: str) -> bool:
    """True for a CJK unified ideograph of any block, and for 〇."""
    code = ord(ch)
    return any(low <= code <= high for low, high in _HAN_RANGES)


def _show(ch: str, typed: str = "", normalise: Callable[[str], str] = lambda s: s) -> str:
    """A character as a clerk can recognise it in a message; invisible ones by code point.

    `ch` was found in `normalise(typed)`; the message shows it as typed ("，" rather than ",").
    """
    ch = next((t for t in typed if ch in normalise(t)), ch)
    if ch.isprintable() and not ch.isspace():
        return f"“{ch}”"
    return f"U+{ord(ch):04X}"


def _were(n: int) -> str:
    return "1 was" if n == 1 else f"{n} were"


def _invalid(zh: str, en: str, **values: object) -> InvalidInput:
    return InvalidInput(Text(zh, en).format(**values))


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


# --------------------------------------------------------------------------- phone numbers


class PhoneKind(StrEnum):
    MOBILE = "mobile"  # a mainland mobile number
    LANDLINE = "landline"  # a mainland landline
    # Hong Kong, Macao, Taiwan or abroad, mobile or landline alike.
    OUTSIDE_MAINLAND = "outside_mainland"


@dataclass(frozen=True, slots=True)
class Phone:
    kind: PhoneKind
    # mobile "13812345678"; landline "020-87654321", "0931-8123456", "020-87654321-123";
    # outside the mainland in E.164 form, "+85291234567"
    number: str

    @property
    def sms_capable(self) -> bool:
        """The hall's SMS gateway is a mainland carrier's platform: it texts mainland mobile
        numbers only."""
        return self.kind is PhoneKind.MOBILE


def sms_capable(number: str | None) -> bool:
    """Can the hall's SMS gateway text this number, as stored or as typed? Only a valid
    mainland mobile number can; no number, a landline, a number outside the mainland, or one
    that is not (or no longer) a valid mobile number cannot."""
    if not number:
        return False
    try:
        return validate_phone(number).sms_capable
    except InvalidInput:
        return False


_MOBILE_LENGTH = 11
# Mainland mobile ranges in person-to-person service (the national numbering plan): 13x, 15x
# but 154, 162 and 165-167 (virtual operators), 170-178 (174: satellite), 18x, 19x but 194.
# The 14x ranges are IoT and data-only SIMs: nobody answers a call or reads an SMS on them.
_MOBILE_RANGES = re.compile(r"1(?:3\d|5[0-35-9]|6[25-7]|7[0-8]|8\d|9[0-35-9])")
_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
_LANDLINE_TYPES = frozenset({PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
# Outside the mainland: numbers a customer can be reached on, not toll-free, premium-rate,
# shared-cost, pager or voicemail numbers.
_PERSONAL_TYPES = _MOBILE_TYPES | _LANDLINE_TYPES | {
    PhoneNumberType.PERSONAL_NUMBER, PhoneNumberType.VOIP}
_IDD_PREFIX = "00"  # dialled before a country code from the mainland
_MAINLAND_CODE = "86"
_EXT_MAX = 6
_EXT_MARKER = re.compile(r"转|分机|ext\.?", re.IGNORECASE)
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"))
_SEPARATORS = frozenset(" -()")
# Letters a hurried clerk types for a digit.
_LOOKALIKE_DIGITS = {"O": "0", "o": "0", "l": "1", "I": "1"}


# A request's phone is validated several times on its way (the payload, the rules, the SMS
# notices): parsed once. The answer depends on the text alone; a refusal is not kept.
@functools.lru_cache(maxsize=4096)
def validate_phone(raw: str) -> Phone:
    """A mainland mobile or landline number, or one outside the mainland written with its
    country or region code, normalised; see `Phone.number` for the forms. Beyond the shape,
    the number must be one in service as phonenumbers knows the numbering plans."""
    text = " ".join(_normalise_phone_text(raw).split())
    if not text:
        raise _invalid("未输入电话号码", "no phone number entered")
    body, extension = _split_marked_extension(text, raw)
    _check_phone_characters(body, raw)
    international = _international_digits(body)
    if international is not None:
        if extension is not None:
            raise _invalid(
                "境外号码不受理分机号，请去掉分机号“{e}”",
                "a number outside the mainland is taken without an extension; remove the "
                "extension “{e}”",
                e=extension,
            )
        return _outside_mainland(*international)
    national = _strip_country_code(body)
    if national.startswith("1"):
        if extension is not None:
            raise _invalid(
                "手机号码没有分机号，请去掉分机号“{e}”",
                "a mobile number has no extension; remove the extension “{e}”",
                e=extension,
            )
        _check_mobile(national)
        return Phone(PhoneKind.MOBILE, national)
    if national.startswith("0"):
        return _landline(national, body, extension)
    raise _no_leading_zero_or_one(national)


def _normalise_phone_text(text: str) -> str:
    return _nfkc(text).translate(_DASHES)


def _split_marked_extension(text: str, raw: str) -> tuple[str, str | None]:
    """Split off an extension written after 转, 分机 or ext; None when there is no marker."""
    markers = _EXT_MARKER.findall(text)
    if not markers:
        return text, None
    if len(markers) > 1:
        raise _invalid(
            "只能有一个分机号，输入中出现了 {n} 处分机标记（{m}）",
            "only one extension is allowed; {n} extension markers ({m}) were entered",
            n=len(markers),
            m="、".join(markers),
        )
    marker = markers[0]
    body, extension = _EXT_MARKER.split(text, maxsplit=1)
    body, extension = body.strip(" -"), "".join(extension.split())
    if not body:
        raise _invalid("“{m}”前面没有电话号码", "no phone number before “{m}”", m=marker)
    if not extension:
        raise _invalid(
            "“{m}”后面没有分机号：请输入分机号，或去掉“{m}”",
            "nothing follows “{m}”: enter the extension digits or remove “{m}”",
            m=marker,
        )
    _check_extension(extension, raw)
    return body, extension


def _check_extension(extension: str, raw: str) -> None:
    for ch in extension:
        if not ("0" <= ch <= "9"):
            raise _invalid(
                "分机号只能是数字，其中有 {c}",
                "an extension has digits only; it contains {c}",
                c=_show(ch, raw, _normalise_phone_text),
            )
    if len(extension) > _EXT_MAX:
        raise _invalid(
            "分机号为 1 至 {max} 位数字，实际输入 {n} 位",
            "an extension has 1 to {max} digits; {were} entered",
            max=_EXT_MAX,
            n=len(extension),
            were=_were(len(extension)),
        )


def _check_phone_characters(body: str, raw: str) -> None:
    for index, ch in enumerate(body):
        if "0" <= ch <= "9" or ch in _SEPARATORS or (ch == "+" and index == 0):
            continue
        raise _phone_character_problem(ch, _show(ch, raw, _normalise_phone_text))
    if not any("0" <= ch <= "9" for ch in body):
        raise _invalid("电话号码中没有数字", "the phone number contains no digits")


def _phone_character_problem(ch: str, shown: str) -> InvalidInput:
    if ch == "+":
        return _invalid(
            "“+”只能写在国家代码前、号码最前面",
            "“+” may only stand first, before the country code",
        )
    if ch in _LOOKALIKE_DIGITS:
        return _invalid(
            "电话号码中有字母 {c}，只能输入数字（是否应为数字 {d}？）",
            "the phone number contains the letter {c}; only digits are allowed "
            "(did you mean the digit {d}?)",
            c=shown,
            d=_LOOKALIKE_DIGITS[ch],
        )
    if ch.isascii() and ch.isalpha():
        return _invalid(
            "电话号码中有字母 {c}，只能输入数字",
            "the phone number contains the letter {c}; only digits are allowed",
            c=shown,
        )
    return _invalid(
        "电话号码中不能有 {c}，只能输入数字（可用空格、连字符“-”和括号分隔）",
        "the phone number cannot contain {c}; only digits, with spaces, hyphens “-” "
        "or parentheses as separators",
        c=shown,
    )


def _digits(text: str) -> str:
    return "".join(ch for ch in text if "0" <= ch <= "9")


def _international_digits(body: str) -> tuple[str, str] | None:
    """(the prefix as typed, "+" or "00"; the country code and number after it) for a number
    outside the mainland; None for a mainland one, with or without +86."""
    digits = _digits(body)
    if body.startswith("+"):
        prefix, rest = "+", digits
    elif digits.startswith(_IDD_PREFIX):
        prefix, rest = _IDD_PREFIX, digits[len(_IDD_PREFIX) :]
    else:
        return None
    return None if rest.startswith(_MAINLAND_CODE) else (prefix, rest)


def _strip_country_code(body: str) -> str:
    digits = _digits(body)
    if body.startswith("+"):
        return _mobile_after_country_code(digits[2:], "+86")
    if digits.startswith("0086"):
        return _mobile_after_country_code(digits[4:], "0086")
    # Without "+" or "00", a leading 86 is a country code only if a full mobile follows it.
    if len(digits) == _MOBILE_LENGTH + 2 and digits.startswith("861"):
        return digits[2:]
    return digits


def _mobile_after_country_code(national: str, prefix: str) -> str:
    if not national.startswith("1"):
        raise _invalid(
            "国家代码 {p} 只能用于手机号码；固定电话请以区号开头输入，如 020-87654321",
            "the country code {p} is accepted before mobile numbers only; enter a landline "
            "starting with its area code, e.g. 020-87654321",
            p=prefix,
        )
    return national


def _check_mobile(national: str) -> None:
    if national[1:2] == "4":
        raise _invalid(
            "14 开头的号码是物联网卡或上网卡号码，不能接听电话和接收短信：请留客户的手机号码",
            "a number starting with 14 belongs to an IoT or data-only SIM, which cannot take "
            "calls or SMS: ask for the customer's mobile number",
        )
    if len(national) != _MOBILE_LENGTH:
        raise _invalid(
            "手机号码应为 11 位，实际输入 {n} 位",
            "a mobile number has 11 digits; {were} entered",
            n=len(national),
            were=_were(len(national)),
        )
    if national[1] not in "3456789":
        raise _invalid(
            "手机号码应以 13 至 19 开头，没有以“{p}”开头的大陆手机号码",
            "a mobile number starts with 13 to 19; “{p}” is not a mainland mobile prefix",
            p=national[:2],
        )
    if not _MOBILE_RANGES.match(national):
        raise _invalid(
            "没有以 {p} 开头的大陆手机号码（该号段未分配给手机用户），请与客户核对",
            "no mainland mobile number starts with {p} (the range is not allocated to mobile "
            "users); check the number with the customer",
            p=national[:3],
        )
    # Eleven digits known to be a mobile's: the number made directly, not parsed from text
    # (phonenumbers' parse was 40% of the check).
    if not _in_service(phonenumbers.PhoneNumber(country_code=int(_MAINLAND_CODE),
                                                national_number=int(national)),
                       _MOBILE_TYPES):
        raise _invalid(
            "号码无效：{p} 号段中没有这个手机号码，请与客户核对",
            "not a valid number: the {p} range has no such mobile number; check it with the "
            "customer",
            p=national[:4],
        )


def _no_leading_zero_or_one(national: str) -> InvalidInput:
    if len(national) in (7, 8):
        return _invalid(
            "缺少区号：固定电话须以区号开头（如 020-87654321），手机号码以 1 开头；"
            "境外号码请以 + 和国家或地区代码开头（如 +852）",
            "the area code is missing: a landline starts with its area code "
            "(e.g. 020-87654321), a mobile number with 1; a number outside the mainland "
            "starts with + and its country or region code (e.g. +852)",
        )
    return _invalid(
        "电话号码应以 1（手机）、0（固定电话区号）或 +（境外号码）开头，输入的号码以 {d} 开头",
        "a phone number starts with 1 (mobile), 0 (landline area code) or + (outside the "
        "mainland); this one starts with {d}",
        d=national[0],
    )


# --- what phonenumbers knows of numbering plans: the second opinion on a number's shape


def _parsed(digits: str) -> phonenumbers.PhoneNumber | None:
    """The number of `digits`, country code first; None where phonenumbers cannot read it."""
    try:
        return phonenumbers.parse("+" + digits)
    except phonenumbers.NumberParseException:
        return None


def _in_service(number: phonenumbers.PhoneNumber | None, kinds: frozenset[int]) -> bool:
    # number_type is UNKNOWN for a number is_valid_number refuses (both match the number's
    # region's patterns), and no kind is UNKNOWN: one lookup, not the same one twice.
    return number is not None and phonenumbers.number_type(number) in kinds


def _mainland_landline(national: str) -> phonenumbers.PhoneNumber | None:
    """A mainland landline (area code with its 0, then the local number) if it is one."""
    number = _parsed(_MAINLAND_CODE + national[1:])
    return number if _in_service(number, _LANDLINE_TYPES) else None


@functools.cache
def _area_example(area: str, length: int) -> phonenumbers.PhoneNumber | None:
    """A landline with the area code and a local number of `length` digits, if the area uses
    that length."""
    numbers = (_mainland_landline(area + (first + "2345678")[:length]) for first in "23456789")
    return next((number for number in numbers if number is not None), None)


def _area_lengths(area: str) -> tuple[int, ...]:
    """The lengths of the local numbers used with the area code; none if it is not in use."""
    return tuple(length for length in (7, 8) if _area_example(area, length) is not None)


def _area_place(area: str) -> Text | None:
    """Where the area code is used: ("广东省深圳市", "Shenzhen, Guangdong")."""
    example = _area_example(area, 8) or _area_example(area, 7)
    return None if example is None else _place(example, country_only=False)


def load_place_names() -> None:
    """Load the place names ahead of the first refusal that names one (a terminal does it at
    start-up, off the UI thread), so the clerk typing a wrong number never waits for it."""
    from phonenumbers import geocoder  # noqa: F401


def _place(number: phonenumbers.PhoneNumber, *, country_only: bool) -> Text | None:
    """Where a valid number is (its city, or its country or region only), in both
    languages; None where phonenumbers names no place."""
    # Imported here: loading every place name takes half a second, and only refusals name one.
    from phonenumbers import geocoder

    name = (geocoder.country_name_for_number if country_only
            else geocoder.description_for_valid_number)
    zh, en = name(number, "zh"), name(number, "en")
    return Text(zh, en) if zh and en else None


def _lengths_text(lengths: tuple[int, ...]) -> Text:
    return Text(" 或 ".join(map(str, lengths)), " or ".join(map(str, lengths)))


def _outside_mainland(prefix: str, digits: str) -> Phone:
    """A number outside the mainland: `digits` are its country or region code and number, typed
    after `prefix` ("+" or "00"). Normalised to E.164, "+85291234567"."""
    # Country codes are prefix-free: at most one of the first 1-3 digits is one.
    country = next((int(digits[:n]) for n in (1, 2, 3) if len(digits) >= n
                    and int(digits[:n]) in phonenumbers.supported_calling_codes()), None)
    if country is None:
        raise _invalid(
            "“{p}{c}…”不是有效的国家或地区代码，请与客户核对",
            "“{p}{c}…” is not a valid country or region code; check it with the customer",
            p=prefix,
            c=digits[:3],
        )
    number = _parsed(digits)
    if _in_service(number, _PERSONAL_TYPES):
        assert number is not None
        return Phone(PhoneKind.OUTSIDE_MAINLAND,
                     phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    where = _region(country, f"{prefix}{country}")  # named in refusals only: see _place
    if number is not None and phonenumbers.is_valid_number(number):
        raise _invalid(
            "这是{w}的服务号码（如免费电话、声讯电话），不是客户本人的电话：请留客户的手机或住宅电话",
            "this is a service number in {w} (toll-free, premium rate or the like), not the "
            "customer's own phone: ask for their mobile or home number",
            w=where,
        )
    # Unreadable (no digits after the code, or hundreds of them): count what was typed.
    national = (digits[len(str(country)) :] if number is None
                else phonenumbers.national_significant_number(number))
    lengths = _region_lengths(country)
    if lengths and len(national) not in lengths:
        raise _invalid(
            "{w}的电话号码在国家或地区代码之后应为 {l} 位，实际输入 {n} 位",
            "a number in {w} has {l} digits after the country or region code; {were} entered",
            w=where,
            l=_lengths_text(lengths),
            n=len(national),
            were=_were(len(national)),
        )
    raise _invalid(
        "号码无效：{w}没有这个电话号码，请与客户核对",
        "not a valid number: {w} has no such number; check it with the customer",
        w=where,
    )


def _region(country_code: int, typed: str) -> Text:
    """Where a country code leads, with the code as typed: "香港（+852）", "United Kingdom
    (0044)"; a code shared by several countries (+1, +7) alone."""
    regions = phonenumbers.region_codes_for_country_code(country_code)
    example = phonenumbers.example_number(regions[0]) if len(regions) == 1 else None
    place = None if example is None else _place(example, country_only=True)
    if place is not None:
        return Text("{p}（{c}）", "{p} ({c})").format(p=place, c=typed)
    return Text(f"{typed} ", typed)


def _region_lengths(country_code: int) -> tuple[int, ...]:
    """How many digits follow the code in a landline or mobile number of that country or
    region (no limit known: empty)."""
    lengths: set[int] = set()
    for region in phonenumbers.region_codes_for_country_code(country_code):
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        if metadata is None:
            continue
        for desc in (metadata.fixed_line, metadata.mobile):
            if desc is not None:
                lengths.update(desc.possible_length or ())
    return tuple(sorted(n for n in lengths if n > 0))


def _landline(national: str, body: str, extension: str | None) -> Phone:
    if extension is None and "-" in body:
        national, extension = _split_hyphen_extension(national, body)
    problem = _landline_problem(national)
    if problem is not None:
        raise InvalidInput(problem)
    area = national[: _area_code_length(national)]
    problem = _landline_in_service_problem(area, national[len(area) :])
    if problem is not None:
        raise InvalidInput(problem)
    number = f"{area}-{national[len(area) :]}"
    if extension is not None:
        number = f"{number}-{extension}"
    return Phone(PhoneKind.LANDLINE, number)


def _split_hyphen_extension(national: str, body: str) -> tuple[str, str | None]:
    """Read a last hyphenated group as an extension when what precedes it is already a
    complete landline: "020-87654321-123" has one, "020-8765-4321" does not."""
    last_group = _digits(body.rsplit("-", 1)[1])
    head = national[: len(national) - len(last_group)]
    if head and last_group and _landline_problem(head) is None:
        _check_extension(last_group, "")
        return head, last_group
    return national, None


def _area_code_length(national: str) -> int:
    # 010 and 02X are the only 3-digit area codes; all others are 0 + 3 digits.
    return 3 if national[1:2] in ("1", "2") else 4


def _landline_problem(national: str) -> Text | None:
    """Why `national` (digits, starting with 0) is not a landline number, or None."""
    problem = _area_code_problem(national)
    if problem is not None:
        return problem
    area_length = _area_code_length(national)
    area, local = national[:area_length], national[area_length:]
    if not local:
        return Text(
            "只输入了区号 {a}，缺少电话号码",
            "only the area code {a} was entered; the number is missing",
        ).format(a=area)
    if not _area_lengths(area):  # said before what follows it, which would not matter
        return Text(
            "没有区号 {a}，请与客户核对", "there is no area code {a}; check it with the customer"
        ).format(a=area)
    if local[0] in "01":
        return Text(
            "区号 {a} 后面的号码不能以 {d} 开头（本地号码以 2 至 9 开头）",
            "the number after area code {a} cannot start with {d} (local numbers start "
            "with 2 to 9)",
        ).format(a=area, d=local[0])
    return _local_length_problem(area, local)


def _area_code_problem(national: str) -> Text | None:
    if len(national) < 3:
        return Text(
            "区号为 3 或 4 位（如 010、020、0755），只输入了 {n} 位",
            "an area code has 3 or 4 digits (e.g. 010, 020, 0755); only {n} entered",
        ).format(n=len(national))
    if national[1] == "1" and national[2] != "0":
        if len(national) == _MOBILE_LENGTH + 1 and national[2] in "3456789":
            return Text(
                "手机号码前不要加 0，请输入 {m}", "enter a mobile number without a leading 0: {m}"
            ).format(m=national[1:])
        return Text(
            "没有区号 {a}：以 01 开头的区号只有 010（北京）",
            "there is no area code {a}: the only area code starting with 01 is 010 (Beijing)",
        ).format(a=national[:3])
    if len(national) < _area_code_length(national):
        return Text(
            "以 0{d} 开头的区号为 4 位，只输入了 {n} 位",
            "an area code starting with 0{d} has 4 digits; only {n} entered",
        ).format(d=national[1], n=len(national))
    return None


def _local_length_problem(area: str, local: str) -> Text | None:
    """The shape alone: 8 digits after a 3-digit area code, 7 or 8 after a 4-digit one. Which
    of them an area uses is `_landline_in_service_problem`'s business, yet the message names it
    where it is known."""
    shape = (8,) if len(area) == 3 else (7, 8)
    if len(local) in shape:
        return None
    return _wrong_local_length(area, local, shape)


def _wrong_local_length(area: str, local: str, shape: tuple[int, ...]) -> Text:
    lengths, place = _area_lengths(area), _area_place(area)
    where = Text("区号 {a} ", "area code {a}") if place is None else Text(
        "区号 {a}（{p}）", "area code {a} ({p})")
    return Text(
        "{w}的电话号码应为 {l} 位，实际输入 {n} 位",
        "a number with {w} has {l} digits after it; {were} entered",
    ).format(w=where.format(a=area, p=place or ""), l=_lengths_text(lengths or shape),
             n=len(local), were=_were(len(local)))


def _landline_in_service_problem(area: str, local: str) -> Text | None:
    """Why a landline of the right shape, of an area code in use, is no number in service, or
    None: the area's numbers have another length (Shenzhen's 8 digits), or phonenumbers knows
    no such number."""
    lengths = _area_lengths(area)  # in use: `_landline_problem` said it first
    if len(local) not in lengths:
        return _wrong_local_length(area, local, lengths)
    if _mainland_landline(area + local) is None:
        return Text(
            "号码无效：区号 {a} 下没有这个电话号码，请与客户核对",
            "not a valid number: area code {a} has no such number; check it with the customer",
        ).format(a=area)
    return None


# --------------------------------------------------------------------------- personal names

_CHINESE_NAME_MIN, _CHINESE_NAME_MAX = 2, 30
_LATIN_NAME_MIN, _LATIN_NAME_MAX = 2, 60
_NAME_DOT = "·"  # U+00B7, the separator of transliterated minority and foreign names
# Dot variants that input methods and card readers produce (NFKC already folds the
# full-width ．and half-width ･ into "." and ・).
_DOT_VARIANTS = str.maketrans(dict.fromkeys("\u2022\u30fb\u2027\u2219\u22c5", _NAME_DOT))
_NAME_LOOKALIKES = str.maketrans(
    {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2010": "-", "\u2011": "-"}
)
_LATIN_NAME_PUNCTUATION = frozenset(" -'.,")


def validate_person_name(raw: str) -> str:
    """A Chinese name (Han characters, · between parts) or a Latin-script foreign name."""
    text = _normalise_name_text(raw).strip()
    if not text:
        raise _invalid("未输入姓名", "no name entered")
    if any(is_han_character(ch) for ch in text):
        return _validate_chinese_name(text, raw)
    return _validate_latin_name(text, raw)


def _normalise_name_text(text: str) -> str:
    return _nfkc(text).translate(_DOT_VARIANTS).translate(_NAME_LOOKALIKES)


def _is_latin_letter(ch: str) -> bool:
    return ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN ")


def _name_character_problem(ch: str, raw: str, *, chinese: bool) -> InvalidInput:
    shown = _show(ch, raw, _normalise_name_text)
    if unicodedata.category(ch).startswith("N"):
        return _invalid(
            "姓名中不能有数字，输入中有 {c}",
            "a name cannot contain digits; {c} was entered",
            c=shown,
        )
    if chinese and _is_latin_letter(ch):
        return _invalid(
            "中文姓名中不能夹杂拉丁字母 {c}：请只输入中文姓名，或只输入外文姓名",
            "a Chinese name cannot contain the Latin letter {c}: enter either the Chinese "
            "name or the foreign name alone",
            c=shown,
        )
    if chinese:
        return _invalid(
            "中文姓名只能由汉字和间隔号“·”组成，其中有 {c}",
            "a Chinese name may contain only Chinese characters and the dot “·”; it contains {c}",
            c=shown,
        )
    return _invalid(
        "外文姓名只能由拉丁字母、空格及 - ' . , 组成，其中有 {c}",
        "a foreign name may contain only Latin letters, spaces and - ' . ,; it contains {c}",
        c=shown,
    )


def _validate_chinese_name(text: str, raw: str) -> str:
    # Clerks and card readers put spaces between characters; "." between characters is a dot.
    name = "".join(text.split()).replace(".", _NAME_DOT)
    for ch in name:
        if not (is_han_character(ch) or ch == _NAME_DOT):
            raise _name_character_problem(ch, raw, chinese=True)
    _check_printable(name, _NAME_UNPRINTABLE, lambda ch: _show(ch, raw, _normalise_name_text))
    _check_name_dots(name)
    _check_length(name, _CHINESE_NAME_MIN, _CHINESE_NAME_MAX, Text("中文姓名", "a Chinese name"))
    return name


def _check_name_dots(name: str) -> None:
    if name.startswith(_NAME_DOT):
        raise _invalid("姓名不能以间隔号“·”开头", "a name cannot start with the dot “·”")
    if name.endswith(_NAME_DOT):
        raise _invalid("姓名不能以间隔号“·”结尾", "a name cannot end with the dot “·”")
    if _NAME_DOT * 2 in name:
        raise _invalid("姓名中间隔号“·”不能连续出现", "a name cannot have two dots “·” in a row")


def _validate_latin_name(text: str, raw: str) -> str:
    name = " ".join(text.split())
    previous = " "
    for ch in name:
        # A combining accent (left when no precomposed letter exists) belongs to its letter.
        is_accent = _is_mark(ch) and _is_latin_letter_or_accent(previous)
        if not (_is_latin_letter(ch) or ch in _LATIN_NAME_PUNCTUATION or is_accent):
            raise _name_character_problem(ch, raw, chinese=False)
        previous = ch
    _check_printable(name, _NAME_UNPRINTABLE, lambda ch: _show(ch, raw, _normalise_name_text))
    if not any(_is_latin_letter(ch) for ch in name):
        raise _invalid("姓名中没有字母", "the name contains no letters")
    _check_length(name, _LATIN_NAME_MIN, _LATIN_NAME_MAX, Text("外文姓名", "a foreign name"))
    return name


# A character the receipt's fonts lack would print as a blank on the receipt the customer signs
# (hallcore.domain.printable): the clerk checks it against the document, by its position.
_NAME_UNPRINTABLE = Text(
    "姓名第{n}个字 {c} 无法打印在回执上，请核对证件",
    "character {n} of the name, {c}, cannot be printed on the receipt; check it against the ID "
    "document",
)
_ADDRESS_UNPRINTABLE = Text(
    "地址第{n}个字 {c} 无法打印在回执上，请核对后改用其他写法",
    "character {n} of the address, {c}, cannot be printed on the receipt; check it and write "
    "that part another way",
)


def _check_printable(text: str, problem: Text, show: Callable[[str], str] = _show) -> None:
    """Refuse the first character a receipt cannot print, by its position among the characters
    that are not spaces (as a clerk counts them on the document); `show` shows it as typed."""
    position = 0
    for ch in text:
        if ch.isspace():
            continue
        position += 1
        if not is_printable(ch):
            shown, code = show(ch), f"U+{ord(ch):04X}"
            # With its code point: the screen may lack the glyph as well.
            named = Text(shown, shown) if shown == code else Text(f"{shown}（{code}）",
                                                                   f"{shown} ({code})")
            raise InvalidInput(problem.format(n=position, c=named))


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch).startswith("M")


def _is_latin_letter_or_accent(ch: str) -> bool:
    return _is_latin_letter(ch) or _is_mark(ch)


def _check_length(value: str, low: int, high: int, what: Text) -> None:
    if low <= len(value) <= high:
        return
    raise InvalidInput(
        Text(
            what.zh + "应为 {low} 至 {high} 个字符，实际输入 {n} 个",
            what.en + " has {low} to {high} characters; {were} entered",
        ).format(low=low, high=high, n=len(value), were=_were(len(value)))
    )


# --------------------------------------------------------------------------- addresses

_ADDRESS_MIN, _ADDRESS_MAX = 6, 120
# Full-width punctuation that is the correct form in Chinese text; NFKC would make it ASCII.
_CHINESE_PUNCTUATION = "，（）：；！？"
_CHINESE_PUNCTUATION_SPLIT = re.compile(f"([{_CHINESE_PUNCTUATION}])")
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs"})


def validate_address(raw: str) -> str:
    """An address with full-width letters and digits made ASCII and whitespace collapsed."""
    text = _normalise_address(raw)
    _check_address_characters(text)
    address = " ".join(text.split())
    if not address:
        raise _invalid("未输入地址", "no address entered")
    _check_length(address, _ADDRESS_MIN, _ADDRESS_MAX, Text("地址", "an address"))
    if not any(is_han_character(ch) or ch.isalpha() for ch in address):
        raise _invalid(
            "地址中只有数字和标点：请输入区县、街道、小区或楼栋名称",
            "the address has only digits and punctuation: enter the district, street, "
            "community or building name",
        )
    return address


def _normalise_address(raw: str) -> str:
    # Odd items of the split are the kept punctuation marks; NFKC runs between them.
    parts = _CHINESE_PUNCTUATION_SPLIT.split(raw)
    return "".join(part if i % 2 else _nfkc(part) for i, part in enumerate(parts))


def _check_address_characters(text: str) -> None:
    for ch in text:
        if ch.isspace():  # tabs and line breaks from pasted text become single spaces
            continue
        if unicodedata.category(ch) in _INVISIBLE_CATEGORIES:
            raise _invalid(
                "地址中有不可见的控制字符或私用区字符 {c}，请删除后重新输入该处文字",
                "the address contains an invisible control or private-use character {c}; "
                "delete it and retype that part",
                c=_show(ch),
            )
    _check_printable(text, _ADDRESS_UNPRINTABLE)
