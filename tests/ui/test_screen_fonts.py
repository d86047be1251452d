"""On screen, a name of rare characters shows in the receipt's font chain, not as boxes: the
application's font falls back on the chain's families (hallclient.ui.style)."""

import pytest
from PySide6.QtGui import QFont, QFontDatabase, QFontMetrics, QImage, QPainter, QRawFont
from PySide6.QtWidgets import QLabel

from hallclient.ui.style import apply_style, chain_families
from tests.support.font_chain import accepted_han, require_font_chain

RARE_NAME = "王\U0002C317\u4DAE"


@pytest.fixture
def styled(qapp):
    """The application as the app styles it; its font and style sheet restored after."""
    require_font_chain()
    font, sheet = QFont(qapp.font()), qapp.styleSheet()
    apply_style(qapp)
    yield qapp
    qapp.setFont(font)
    qapp.setStyleSheet(sheet)


def test_the_applications_font_falls_back_on_the_whole_chain(styled):
    families = styled.font().families()
    assert families[-4:] == ["WenQuanYi Micro Hei", "HanaMinA", "HanaMinB", "BabelStone Han"]
    assert chain_families() == families[-4:]  # adding the fonts again changes nothing
    assert QLabel(RARE_NAME).font().families() == families  # every widget inherits it


def test_fonts_the_system_lacks_are_added_from_their_files(qapp, monkeypatch):
    """As in the packaged app on a counter PC: the fonts come from the resources folder."""
    require_font_chain()
    monkeypatch.setattr(QFontDatabase, "hasFamily", lambda family: False)
    assert chain_families() == ["WenQuanYi Micro Hei", "HanaMinA", "HanaMinB", "BabelStone Han"]


def test_every_han_character_a_name_accepts_has_a_glyph_on_screen(styled):
    """Each character is drawn by the first family of the application's font that has it, with
    an outline: Qt's own fallbacks, which differ from machine to machine, are not needed."""
    font = styled.font()
    metrics = QFontMetrics(font)
    raw = [QRawFont.fromFont(QFont(family)) for family in font.families()]
    missing: list[str] = []
    for code, printed in accepted_han().items():
        ucs4 = ord(printed)
        chosen = next((r for r in raw if r.supportsCharacter(ucs4)), None)
        glyphs = chosen.glyphIndexesForString(printed) if chosen is not None else []
        if (not glyphs or chosen.pathForGlyph(glyphs[0]).isEmpty()
                or not metrics.inFontUcs4(ucs4)):
            missing.append(f"U+{code:04X}")
    assert not missing, f"{len(missing)} without a glyph: {missing[:10]}"


def test_a_rare_name_is_drawn_with_ink_for_every_character(styled):
    label = QLabel(RARE_NAME)
    font = label.font()
    font.setPixelSize(40)
    metrics = QFontMetrics(font)
    image = QImage(metrics.horizontalAdvance(RARE_NAME) + 20, 60, QImage.Format.Format_Grayscale8)
    image.fill(255)
    painter = QPainter(image)
    painter.setFont(font)
    painter.drawText(10, 45, RARE_NAME)
    painter.end()
    left = 10
    for ch in RARE_NAME:
        width = metrics.horizontalAdvance(ch)
        ink = [image.pixelColor(x, y).value() for x in range(left + 3, left + width - 3)
               for y in range(5, 55)]
        assert min(ink) < 128, f"U+{ord(ch):04X} drawn blank"
        left += width
