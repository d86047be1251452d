"""The customer at their screen: they sign with the mouse and confirm, or decline."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from hallclient.counter.signature import Stroke
from hallclient.ui.customer_screen import CustomerScreen, SignaturePad
from tests.support.signatures import STROKES

LEFT = Qt.MouseButton.LeftButton


def draw(pad: SignaturePad, strokes: tuple[Stroke, ...] = STROKES) -> None:
    """The strokes drawn on the pad with the mouse, as a hand moves it."""
    for stroke in strokes:
        points = [QPoint(round(x), round(y)) for x, y in stroke]
        QTest.mousePress(pad, LEFT, Qt.KeyboardModifier.NoModifier, points[0])
        for point in points[1:]:
            QTest.mouseMove(pad, point)
        QTest.mouseRelease(pad, LEFT, Qt.KeyboardModifier.NoModifier, points[-1])


def sign(screen: CustomerScreen) -> None:
    """The customer signs on their screen and confirms."""
    screen.show_to_customer()
    draw(screen.pad)
    QTest.mouseClick(screen.confirm, LEFT)


def decline(screen: CustomerScreen) -> None:
    screen.show_to_customer()
    QTest.mouseClick(screen.decline, LEFT)


def customer_at_screen(shown: list[CustomerScreen], act: Callable[[CustomerScreen], None] = sign
             ) -> Callable[[CustomerScreen], None]:
    """The counter's `ask_signature`: each screen shown kept in `shown`, then `act` on it."""
    def ask(screen: CustomerScreen) -> None:
        shown.append(screen)
        act(screen)
    return ask
