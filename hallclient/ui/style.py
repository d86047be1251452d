"""The application's one style sheet: the native look, except that the input the keyboard is
in wears a clear frame in the focus colour. Clerks work from the keyboard (Enter walks a form),
and the native focus cue of a check box or a choice is a faint dotted line.

A border is as wide at rest (1 px, plus 1 px more of padding) as in focus (2 px), so nothing
moves when the focus does."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication

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
    """Give every window of the application the style sheet, dialogs included."""
    if not isinstance(app, QApplication):
        raise TypeError("a style sheet needs an application with windows (QApplication)")
    app.setStyleSheet(STYLE_SHEET)
