"""The receipt's font chain in tests: its fonts required, and the characters of GB 18030-2022's
implementation levels that names may hold."""

import os
from functools import cache

import pytest

from hallclient.receipts.chain import CHAIN, font_path
from hallcore.domain.contact import _HAN_RANGES, validate_person_name
from hallcore.domain.text import InvalidInput

# The compatibility ideographs GB 18030 maps to two-byte codes (FD9C–FE4F).
GB18030_COMPATIBILITY = [cp for cp in range(0xF900, 0xFB00)
                         if len(chr(cp).encode("gb18030")) == 2]
# Implementation levels 1 and 2: the BMP's unified ideographs (URO and Extension A) and those.
GB18030_LEVELS_1_2 = [*range(0x3400, 0x4DC0), *range(0x4E00, 0xA000), *GB18030_COMPATIBILITY]
# Level 3: Extensions B–F, as GB 18030-2022 lists them (Unicode 13's repertoire).
GB18030_LEVEL_3 = [*range(0x20000, 0x2A6D7), *range(0x2A700, 0x2B735), *range(0x2B740, 0x2B81E),
                   *range(0x2B820, 0x2CEA2), *range(0x2CEB0, 0x2EBE1)]


def require_font_chain() -> None:
    """Skip where a font of the chain is not installed; in CI (./dev installs them), fail."""
    missing = [font.file for font in CHAIN if font_path(font) is None]
    if missing:
        reason = f"the receipt fonts {missing} are not installed (./dev setup installs them)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def accepted_name(ch: str) -> str | None:
    """What a name of 王 and `ch` is accepted as (NFKC may change `ch`), or None if refused."""
    try:
        return validate_person_name("王" + ch)
    except InvalidInput:
        return None


@cache
def accepted_han() -> dict[int, str]:
    """Every code point of the Han blocks that names accept, with the character printed for it."""
    out: dict[int, str] = {}
    for low, high in _HAN_RANGES:
        for code in range(low, high + 1):
            name = accepted_name(chr(code))
            if name is not None:
                out[code] = name[1:]
    return out
