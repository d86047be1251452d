"""Masking of personal data shown on screens the customer can see and printed on receipts.

Each hidden character becomes one "*", so a masked value keeps the length of the original
(except that a combining accent of a hidden letter disappears with its letter). Inputs are
expected in the normalised forms the validators return; anything else is masked conservatively.
"""

from __future__ import annotations

import re
import unicodedata

from hallcore.domain.contact import is_han_character

_MASK = "*"


def _hide(text: str) -> str:
    return _MASK * len(text)


def _keep_ends(text: str, head: int, tail: int) -> str:
    return text[:head] + _hide(text[head : len(text) - tail]) + text[len(text) - tail :]


# --------------------------------------------------------------------------- ID numbers


def mask_id_number(number: str) -> str:
    """ "440301199001011234" -> "4403**********1234": the region and the check part stay."""
    if len(number) <= 4:
        return _hide(number)
    keep = 2 if len(number) <= 8 else 4
    return _keep_ends(number, keep, keep)


# --------------------------------------------------------------------------- phone numbers

_MOBILE = re.compile(r"1\d{10}")
_LANDLINE = re.compile(r"(?P<area>0\d{2,3})-(?P<local>\d{7,8})(?:-(?P<ext>\d{1,6}))?")
_UNKNOWN_PHONE_TAIL = 4
_UNKNOWN_PHONE_MIN = 8  # shorter unknown values are hidden entirely


def mask_phone(number: str) -> str:
    """Mobile "13812345678" -> "138****5678"; landline "020-87654321-12" -> "020-****4321-**"."""
    if _MOBILE.fullmatch(number):
        return _keep_ends(number, 3, 4)
    landline = _LANDLINE.fullmatch(number)
    if landline:
        masked = f"{landline['area']}-{_keep_ends(landline['local'], 0, 4)}"
        extension = landline["ext"]
        return masked if extension is None else f"{masked}-{_hide(extension)}"
    # Not a validated number: show no more than the last four characters.
    if len(number) < _UNKNOWN_PHONE_MIN:
        return _hide(number)
    return _keep_ends(number, 0, _UNKNOWN_PHONE_TAIL)


# --------------------------------------------------------------------------- names

# Separators of a Latin name stay visible, so the shape "J*** S****" remains readable.
_LATIN_WORDS = re.compile(r"([\s\-'.,·]+)")


def mask_name(name: str) -> str:
    """Chinese "欧阳娜娜" -> "欧***" (the dot · stays); Latin "John Smith" -> "J*** S****".

    Only the first character is shown, of a Latin name the initial of each word; a name or word
    of a single character is hidden entirely, since showing it would show all of it.
    """
    if any(is_han_character(ch) for ch in name):
        return _mask_chinese_name(name)
    # Odd items of the split are separator runs, even items the words between them.
    parts = _LATIN_WORDS.split(name)
    return "".join(part if i % 2 else _mask_latin_word(part) for i, part in enumerate(parts))


def _mask_chinese_name(name: str) -> str:
    if len(name) <= 1:
        return _hide(name)
    return name[0] + "".join(ch if ch == "·" else _MASK for ch in name[1:])


def _mask_latin_word(word: str) -> str:
    # An accent goes with its letter: shown on the initial, gone with a hidden letter.
    letters = "".join(ch for ch in word if not _is_mark(ch))
    if len(letters) <= 1:
        return _hide(letters)
    initial_end = 1
    while initial_end < len(word) and _is_mark(word[initial_end]):
        initial_end += 1
    return word[:initial_end] + _hide(letters[1:])


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch).startswith("M")
