"""The table of printable characters in hallcore is the one the installed fonts give."""

from hallclient.receipts.chain import CHAIN
from hallcore.domain import printable_ranges
from hallcore.domain.printable import FONTS, parse_ranges
from scripts.printable_ranges import chain_ranges, current_ranges, render
from tests.support.font_chain import require_font_chain


def test_regenerating_the_table_from_the_fonts_gives_the_committed_one():
    require_font_chain()
    assert tuple(font.file for font in CHAIN) == FONTS
    assert parse_ranges(printable_ranges.RANGES) == current_ranges(), (
        "the fonts changed: run .venv/bin/python -m scripts.printable_ranges")


def test_each_code_point_goes_to_the_first_font_that_has_it():
    assert chain_ranges([{1, 2, 5}, {2, 3, 4, 9}, {9, 10}]) == [
        (1, 2, 0), (3, 4, 1), (5, 5, 0), (9, 9, 1), (10, 10, 2)]


def test_the_written_table_reads_back():
    ranges = [(0x20, 0x7E, 0), (0xA0, 0xA0, 0), (0x2C317, 0x2C317, 1)]
    namespace: dict[str, object] = {}
    exec(render(ranges), namespace)
    assert parse_ranges(str(namespace["RANGES"])) == ranges
