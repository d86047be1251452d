"""The customer's rating window on the five levels of the national scheme (好差评): five
buttons in both languages, the keys 5 to 1 of a rating keypad, and a reason asked for the two
lowest."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from hallclient.ui.rating import RatingWindow
from hallcore.wire import Rating
from tests.support.screen import SCREEN_AT_150, cut_off

RECEIPT = "GZ-TH-01-T01-20261125-0001"
GOOD = [Rating.VERY_SATISFIED, Rating.SATISFIED, Rating.BASICALLY_SATISFIED]
BAD = [Rating.DISSATISFIED, Rating.VERY_DISSATISFIED]


@pytest.fixture
def window(qtbot):
    """The window as the customer sees it, the keyboard in it; what it emits in `.said`."""
    w = RatingWindow(RECEIPT)
    qtbot.addWidget(w)
    w.said = []
    w.rated.connect(lambda rating, reason: w.said.append((rating, reason)))
    w.show()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    return w


def key(qtbot, k, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(QApplication.focusWidget() or QApplication.activeWindow(), k, modifier)


def test_five_buttons_best_first_in_both_languages_with_their_keys(window):
    assert list(window.buttons) == list(Rating)
    texts = [window.buttons[r].text() for r in Rating]
    assert texts == ["5  非常满意\nVery satisfied", "4  满意\nSatisfied",
                     "3  基本满意\nBasically satisfied", "2  不满意\nDissatisfied",
                     "1  非常不满意\nVery dissatisfied"]
    # None is a default, none takes the keyboard: only the customer's choice rates.
    for button in [*window.buttons.values(), window.skip, window.submit, window.back]:
        assert not (button.isDefault() or button.autoDefault())
    assert all(b.focusPolicy() == Qt.FocusPolicy.NoFocus for b in window.buttons.values())


@pytest.mark.parametrize("rating", GOOD)
def test_a_tap_on_a_good_level_rates_at_once(qtbot, window, rating):
    window.reason.setText("  很快  ")  # a comment is optional at every level
    qtbot.mouseClick(window.buttons[rating], Qt.MouseButton.LeftButton)
    assert window.said == [(rating, "很快")] and not window.isVisible()


@pytest.mark.parametrize(("digit", "rating"), [
    (Qt.Key.Key_5, Rating.VERY_SATISFIED), (Qt.Key.Key_4, Rating.SATISFIED),
    (Qt.Key.Key_3, Rating.BASICALLY_SATISFIED)])
@pytest.mark.parametrize("keypad", [False, True])
def test_a_key_rates_its_level(qtbot, window, digit, rating, keypad):
    assert QApplication.focusWidget() is window.reason
    modifier = Qt.KeyboardModifier.KeypadModifier if keypad else Qt.KeyboardModifier.NoModifier
    key(qtbot, digit, modifier)
    assert window.said == [(rating, None)] and not window.isVisible()
    assert window.reason.text() == ""


@pytest.mark.parametrize(("digit", "rating"), [(Qt.Key.Key_2, Rating.DISSATISFIED),
                                               (Qt.Key.Key_1, Rating.VERY_DISSATISFIED)])
def test_a_bad_level_asks_for_the_reason_then_rates_with_it(qtbot, window, digit, rating):
    key(qtbot, digit)
    assert window.said == [] and window.isVisible()
    assert window.asking_reason
    assert "哪里让您不满意" in window.question.text() and "what went wrong" in (
        window.question.text())
    assert all(not b.isVisible() for b in window.buttons.values())
    assert window.submit.isVisible() and window.back.isVisible() and not window.skip.isVisible()
    assert QApplication.focusWidget() is window.reason
    qtbot.keyClicks(window.reason, "waited 2 hours")  # digits are words now
    key(qtbot, Qt.Key.Key_Return)
    assert window.said == [(rating, "waited 2 hours")] and not window.isVisible()


def test_the_reason_may_be_left_empty(qtbot, window):
    qtbot.mouseClick(window.buttons[Rating.VERY_DISSATISFIED], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.submit, Qt.MouseButton.LeftButton)
    assert window.said == [(Rating.VERY_DISSATISFIED, None)]


def test_a_reason_written_before_is_not_asked_again(qtbot, window):
    qtbot.keyClicks(window.reason, "ok")
    qtbot.mouseClick(window.buttons[Rating.DISSATISFIED], Qt.MouseButton.LeftButton)
    assert window.said == [(Rating.DISSATISFIED, "ok")] and not window.isVisible()


@pytest.mark.parametrize("leave", ["back", "escape"])
def test_back_from_the_reason_to_the_five_levels_rates_nothing(qtbot, window, leave):
    qtbot.mouseClick(window.buttons[Rating.DISSATISFIED], Qt.MouseButton.LeftButton)
    if leave == "back":
        qtbot.mouseClick(window.back, Qt.MouseButton.LeftButton)
    else:
        key(qtbot, Qt.Key.Key_Escape)
    assert window.isVisible() and not window.asking_reason and window.said == []
    assert all(b.isVisible() for b in window.buttons.values()) and window.skip.isVisible()
    assert not window.submit.isVisible()
    key(qtbot, Qt.Key.Key_4)  # a mistaken tap put right
    assert window.said == [(Rating.SATISFIED, None)]


def test_once_the_customer_writes_digits_are_words_and_enter_rates_nothing(qtbot, window):
    qtbot.keyClicks(window.reason, "window3")
    for k in (Qt.Key.Key_5, Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space,
              Qt.Key.Key_6, Qt.Key.Key_0):
        key(qtbot, k)
    assert window.reason.text() == "window35 60" and window.said == [] and window.isVisible()


def test_other_keys_rate_nothing(qtbot, window):
    for k in (Qt.Key.Key_6, Qt.Key.Key_0, Qt.Key.Key_Return):
        window.reason.clear()
        key(qtbot, k)
    key(qtbot, Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier)
    assert window.said == [] and window.isVisible()


def test_no_rating_closes_without_a_rating(qtbot, window):
    qtbot.mouseClick(window.skip, Qt.MouseButton.LeftButton)
    assert window.said == [] and not window.isVisible()


@pytest.mark.parametrize("bad", [False, True])
def test_nothing_is_cut_off_at_150_percent(qtbot, window, bad):
    window.resize(*SCREEN_AT_150)
    if bad:
        qtbot.mouseClick(window.buttons[Rating.VERY_DISSATISFIED], Qt.MouseButton.LeftButton)
    qtbot.wait(10)
    assert window.width() <= SCREEN_AT_150[0] and window.height() <= SCREEN_AT_150[1]
    assert cut_off(window) == []


def test_every_level_shows_its_words_whole_at_the_windows_own_size(window):
    """Shown as it opens (no second screen: on the clerk's), not resized: each level is as
    wide as its longest line, padding included ("Very dissatisfied" was cut off under X)."""
    window.adjustSize()
    for button in window.buttons.values():
        metrics = button.fontMetrics()
        widest = max(metrics.horizontalAdvance(line) for line in button.text().splitlines())
        assert button.width() >= widest + 16, button.text()
