"""What a receipt can print: the characters that the client's font chain has glyphs for.

The validators of names and addresses accept only these, on the client and on the server alike
(the server has no fonts): a character the receipt cannot print would leave a blank on the
receipt the customer signs. The table is generated from the fonts themselves
(`scripts/printable_ranges.py`) and committed in `printable_ranges`; the client's receipts use
it too, to pick the font of each character without reading the big fonts first
(`hallclient.receipts.fonts`).
"""

from __future__ import annotations

from bisect import bisect_right
from functools import cache

from hallcore.domain.printable_ranges import FONTS, RANGES

__all__ = ["FONTS", "chain_font", "is_printable", "parse_ranges"]


def parse_ranges(table: str) -> list[tuple[int, int, int]]:
    """(first, last, font) triples from the table's text: "first-last:font" in hexadecimal,
    separated by white space, a single code point as "first:font"."""
    out: list[tuple[int, int, int]] = []
    for item in table.split():
        span, font = item.split(":")
        first, _, last = span.partition("-")
        out.append((int(first, 16), int(last or first, 16), int(font)))
    return out


@cache
def _table() -> tuple[list[int], list[tuple[int, int, int]]]:
    # Parsed on first use (some 10 ms), not when a program that never needs it imports it.
    table = parse_ranges(RANGES)
    return [first for first, _, _ in table], table


def chain_font(ch: str) -> int | None:
    """The index in `FONTS` of the first font with a glyph for `ch`; None if none has one."""
    code = ord(ch)
    firsts, table = _table()
    i = bisect_right(firsts, code) - 1
    if i >= 0:
        _, last, font = table[i]
        if code <= last:
            return font
    return None


def is_printable(ch: str) -> bool:
    """True where a receipt prints `ch` (a glyph, or a space)."""
    return chain_font(ch) is not None
