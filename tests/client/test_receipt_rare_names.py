"""A name of rare characters on the receipt the customer signs: every character printed, and
read back from the PDF (GB 18030-2022: rare characters are common in names)."""

import subprocess
import sys
from datetime import date

import pytest
from PIL import Image
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from bench.receipts import rare_name_receipt
from hallclient.receipts import chain, fonts
from hallclient.receipts.content import ReceiptContent
from hallclient.receipts.render import embedded_font, render_pdf
from hallclient.samples import sample_account, sample_payload
from hallcore.domain.business import BusinessKind, validate_payload
from tests.support.font_chain import (
    GB18030_LEVEL_3,
    GB18030_LEVELS_1_2,
    accepted_han,
    accepted_name,
    require_font_chain,
)

RARE_NAME = "王\U0002C317\u4DAE"  # 王𬌗䶮: URO, Extension E, Extension A
# One character of each block beyond the common font: Extensions A to H.
EXTENSIONS = "\u4DAE\U00020BB7\U0002A700\U0002B740\U0002B820\U0002CEB0\U00030000\U00031350"


@pytest.fixture(autouse=True)
def _font_chain():
    require_font_chain()


def transfer_to(name: str) -> ReceiptContent:
    """The receipt of the sample transfer to `name`, a name the counter accepts."""
    kind = BusinessKind.TRANSFER
    payload = validate_payload(kind, {**sample_payload(kind, sample_account(kind),
                                                       date(2026, 11, 25)),
                                      "new_holder_name": name})
    assert payload["new_holder_name"] == name
    return rare_name_receipt(name)


def pdftotext(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "receipt.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


@pytest.mark.parametrize("layout", ["a4", "80mm"])
def test_a_transfer_to_a_rare_name_prints_the_whole_name(layout, tmp_path):
    content = transfer_to(RARE_NAME)
    assert content.holder_name == RARE_NAME
    pdf = render_pdf(content, layout=layout, lang="both")
    text = pdftotext(pdf, tmp_path)
    assert f"客户：{RARE_NAME}" in text and f"Customer: {RARE_NAME}" in text
    assert len(pdf) < 60 * 1024


def test_a_name_of_every_extension_is_read_back_whole(tmp_path):
    name = "王" + EXTENSIONS
    pdf = render_pdf(transfer_to(name), layout="80mm")
    assert name in pdftotext(pdf, tmp_path)
    (tmp_path / "receipt.pdf").write_bytes(pdf)
    embedded = subprocess.run(["pdffonts", str(tmp_path / "receipt.pdf")], capture_output=True,
                              text=True, check=True).stdout
    for family in ("WenQuanYiMicroHei", "HanaMinA", "HanaMinB", "BabelStoneHan"):
        assert family in embedded


def test_each_rare_character_is_drawn_with_ink_in_its_own_place(tmp_path):
    """Rasterised, the cell of each character has ink: no blank where a glyph belongs."""
    size = 40
    with embedded_font():
        widths = [fonts.string_width(ch, size) for ch in EXTENSIONS]
        canvas = Canvas(str(tmp_path / "line.pdf"), pagesize=(sum(widths) + 20, 60))
        fonts.draw_string(canvas, 10, 15, EXTENSIONS, size)
        canvas.save()
    subprocess.run(["pdftoppm", "-r", "72", "-png", "-singlefile", str(tmp_path / "line.pdf"),
                    str(tmp_path / "line")], check=True)
    image = Image.open(tmp_path / "line.png").convert("L")
    left = 10.0
    for ch, width in zip(EXTENSIONS, widths, strict=True):
        cell = image.crop((int(left) + 2, 5, int(left + width) - 2, 55))
        assert cell.getextrema()[0] < 128, f"U+{ord(ch):04X} printed blank"
        left += width


def test_runs_split_text_by_the_font_that_has_each_character():
    with embedded_font():
        assert fonts.runs("客户：王𬌗䶮 4401") == [
            ("HallCJK", "客户：王"), ("HallHanaMinA", "\U0002C317\u4DAE"), ("HallCJK", " 4401")]
        assert fonts.string_width("王\U0002C317", 10) == pytest.approx(
            pdfmetrics.stringWidth("王", "HallCJK", 10)
            + pdfmetrics.stringWidth("\U0002C317", "HallHanaMinA", 10))


def test_a_character_no_font_has_stays_in_the_first_font():
    with embedded_font():
        assert fonts.runs("王\U000323B0") == [("HallCJK", "王\U000323B0")]


def test_without_a_big_font_its_characters_fall_back_to_the_first_font(monkeypatch, caplog):
    monkeypatch.setattr(fonts, "_LOADED", {})
    monkeypatch.setattr(fonts, "font_path", lambda font: None if font.file == "HanaMinB.ttf"
                        else chain.font_path(font))
    with embedded_font():
        assert fonts.runs("王\U00020001\u4DAE") == [("HallCJK", "王\U00020001"),
                                                    ("HallHanaMinA", "\u4DAE")]
    assert "receipt font HanaMinB.ttf is not installed" in caplog.text
    assert "\U00020001" not in caplog.text  # what was printed stays out of the log


@pytest.mark.parametrize(("codes", "level"), [
    (GB18030_LEVELS_1_2, "GB 18030-2022 levels 1 and 2"),
    (GB18030_LEVEL_3, "GB 18030-2022 level 3"),
])
def test_gb18030_levels_are_accepted_in_names_whole(codes, level):
    refused = [f"U+{code:04X}" for code in codes if accepted_name(chr(code)) is None]
    assert not refused, f"{level}: {len(refused)} refused, {refused[:10]}"


def test_every_han_character_a_name_accepts_has_a_glyph_in_the_font_that_prints_it():
    """Over every Han block (GB 18030's levels and beyond): the font the run splitter picks maps
    the character to a glyph with an outline: no blank, no .notdef box."""
    missing: list[str] = []
    with embedded_font():
        for code, printed in accepted_han().items():
            face = pdfmetrics.getFont(fonts.pdf_font(printed).pdf_name).face
            glyph = face.charToGlyph.get(ord(printed), 0)
            if not glyph or face.glyphPos[glyph + 1] <= face.glyphPos[glyph]:
                missing.append(f"U+{code:04X}")
    assert not missing, f"{len(missing)} without a glyph: {missing[:10]}"


COMMON_THEN_RARE = """
import sys
from reportlab.pdfbase.pdfmetrics import getRegisteredFontNames
from tests.client.test_receipt_rare_names import transfer_to
from hallclient.receipts.render import render_pdf
render_pdf(transfer_to("林晓燕"))
print(sorted(getRegisteredFontNames()))
render_pdf(transfer_to(sys.argv[1]))
print(sorted(getRegisteredFontNames()))
"""


def test_the_big_fonts_are_read_only_when_a_text_needs_them():
    out = subprocess.run([sys.executable, "-c", COMMON_THEN_RARE, "王\U00020001"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert out == ["['HallCJK']", "['HallCJK', 'HallHanaMinB']"]
