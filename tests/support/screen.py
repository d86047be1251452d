"""What a clerk would see cut off on the halls' screens."""

from PySide6.QtWidgets import QAbstractButton, QLabel, QProgressBar, QWidget

# The logical size of a 1920x1080 screen at 150% scaling, less a taskbar.
SCREEN_AT_150 = (1280, 680)


def cut_off(window: QWidget) -> list[str]:
    """The visible labels, buttons and bars whose text does not fit the room they were given."""
    out = []
    for w in window.findChildren(QWidget):
        if not w.isVisible() or w.width() == 0:
            continue
        if isinstance(w, QLabel) and w.text() and w.wordWrap():
            needed, has = w.heightForWidth(w.width()), w.height()
        elif isinstance(w, (QLabel, QAbstractButton)) and w.text():
            needed, has = w.sizeHint().width(), w.width()
        elif isinstance(w, QProgressBar) and w.text():
            needed, has = w.fontMetrics().horizontalAdvance(w.text()), w.width()
        else:
            continue
        if needed > has:
            out.append(f"{w.text()!r}: needs {needed} px, has {has}")
    return out

