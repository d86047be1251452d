"""Contact details as a clerk types them: phone numbers, personal names and addresses.

Every validator normalises what it accepts (so its output validates to itself) and raises
`InvalidInput` with a reason in both languages that names what is wrong and what is expected.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

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
    MOBILE = "mobile"
    LANDLINE = "landline"


@dataclass(frozen=True, slots=True)
class Phone:
    kind: PhoneKind
    # mobile "13812345678"; landline "020-87654321", "0755-2345678", "020-87654321-123"
    number: str


_MOBILE_LENGTH = 11
_EXT_MAX = 6
_EXT_MARKER = re.compile(r"转|分机|ext\.?", re.IGNORECASE)
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"))
_SEPARATORS = frozenset(" -()")
# Letters a hurried clerk types for a digit.
_LOOKALIKE_DIGITS = {"O": "0", "o": "0", "l": "1", "I": "1"}


def validate_phone(raw: str) -> Phone:
    """A mainland mobile or landline number, normalised; see `Phone.number` for the forms."""
    text = " ".join(_normalise_phone_text(raw).split())
    if not text:
        raise _invalid("未输入电话号码", "no phone number entered")
    body, extension = _split_marked_extension(text, raw)
    _check_phone_characters(body, raw)
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


def _strip_country_code(body: str) -> str:
    digits = _digits(body)
    if body.startswith("+"):
        if not digits.startswith("86"):
            raise _invalid(
                "只受理中国大陆号码（+86），输入的是 +{p}…",
                "only mainland China numbers (+86) are accepted; +{p}… was entered",
                p=digits[:3],
            )
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


def _no_leading_zero_or_one(national: str) -> InvalidInput:
    if len(national) in (7, 8):
        return _invalid(
            "缺少区号：固定电话须以区号开头（如 020-87654321），手机号码以 1 开头",
            "the area code is missing: a landline starts with its area code "
            "(e.g. 020-87654321), a mobile number with 1",
        )
    return _invalid(
        "电话号码应以 1（手机）或 0（固定电话区号）开头，输入的号码以 {d} 开头",
        "a phone number starts with 1 (mobile) or 0 (landline area code); this one starts with {d}",
        d=national[0],
    )


def _landline(national: str, body: str, extension: str | None) -> Phone:
    if extension is None and "-" in body:
        national, extension = _split_hyphen_extension(national, body)
    problem = _landline_problem(national)
    if problem is not None:
        raise InvalidInput(problem)
    area = national[: _area_code_length(national)]
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
    if national[1] == "0":
        return Text(
            "区号不能以 00 开头；国际号码只受理 +86 的手机号码",
            "an area code cannot start with 00; of international numbers only +86 mobile "
            "numbers are accepted",
        )
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
    if len(area) == 3:
        if len(local) == 8:
            return None
        return Text(
            "区号 {a} 的电话号码应为 8 位，实际输入 {n} 位",
            "a number with area code {a} has 8 digits after it; {were} entered",
        ).format(a=area, n=len(local), were=_were(len(local)))
    if len(local) in (7, 8):
        return None
    return Text(
        "区号 {a} 的电话号码应为 7 或 8 位，实际输入 {n} 位",
        "a number with area code {a} has 7 or 8 digits after it; {were} entered",
    ).format(a=area, n=len(local), were=_were(len(local)))


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
    if not any(_is_latin_letter(ch) for ch in name):
        raise _invalid("姓名中没有字母", "the name contains no letters")
    _check_length(name, _LATIN_NAME_MIN, _LATIN_NAME_MAX, Text("外文姓名", "a foreign name"))
    return name


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
