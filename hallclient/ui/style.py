"""The application's one style sheet: the native look, except that the input the keyboard is
in wears a clear frame in the focus colour. Clerks work from the keyboard (Enter walks a form),
and the native focus cue of a check box or a choice is a faint dotted line.

A border is as wide at rest (1 px, plus 1 px more of padding) as in focus (2 px), so nothing
moves when the focus does.

The application's font falls back on the receipt's font chain (`hallclient.receipts.chain`),
so a name of rare characters shows on screen as on the receipt rather than as boxes."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from hallclient.receipts.chain import CHAIN, font_path
from hallclient.ui import palette

STYLE_SHEET = f"""
QLineEdit, QComboBox, QAbstractSpinBox {{
    border: 1px solid {palette.FRAME};
    border-radius: 3px;
    padding: 2px 3px;
}}
QLineEdit:focus, QComboBox:focus, QAbstractSpinBox:focus {{
    border: 2px solid {palette.FOCUS};
    padding: 1px 2px;
}}
QCheckBox, QRadioButton {{
    border: 2px solid transparent;
    border-radius: 3px;
    padding: 1px 2px;
}}
QCheckBox:focus, QRadioButton:focus {{
    border-color: {palette.FOCUS};
}}
"""


def apply_style(app: QCoreApplication) -> None:
    """Give every window of the application the style sheet and the font, dialogs included."""
    if not isinstance(app, QApplication):
        raise TypeError("a style sheet needs an application with windows (QApplication)")
    app.setStyleSheet(STYLE_SHEET)
    app.setFont(chain_font(app.font()))


def chain_families() -> list[str]:
    """The font chain's families, first to last. A family the system has is taken as it is;
    another is added to the application's fonts from the file the receipts use (some 5 ms a
    font, as in the packaged app); a font found in neither place is left out."""
    families: list[str] = []
    for font in CHAIN:
        if QFontDatabase.hasFamily(font.family):
            families.append(font.family)
            continue
        path = font_path(font)
        font_id = -1 if path is None else QFontDatabase.addApplicationFont(str(path))
        if font_id >= 0 and font.family in QFontDatabase.applicationFontFamilies(font_id):
            families.append(font.family)
    return families


def chain_font(base: QFont) -> QFont:
    """`base` (the platform's font, for Latin text) falling back on the font chain: Qt takes
    each character from the first family that has it, then from the system's fallbacks."""
    font = QFont(base)
    font.setFamilies([*base.families(), *(f for f in chain_families()
                                          if f not in base.families())])
    return font
