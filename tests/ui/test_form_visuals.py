"""How the business forms look to a clerk at the keyboard: where the inputs start, and which
input the keyboard is in."""

import pytest
from PySide6.QtCore import QPoint

from hallclient.forms import FORMS
from hallclient.ui import palette
from hallclient.ui.form_view import FormView
from hallclient.ui.i18n import use_language
from hallclient.ui.style import STYLE_SHEET, apply_style
from hallcore.domain.business import BusinessKind


def first_input_x(view):
    return next(iter(view.inputs.values())).mapTo(view, QPoint(0, 0)).x()


def test_every_form_starts_its_inputs_at_the_same_x_in_both_languages(qtbot, english):
    views = []
    for spec in FORMS.values():
        view = FormView(spec)
        qtbot.addWidget(view)
        view.resize(900, 700)
        view.show()
        views.append(view)
    for lang in ("en", "zh"):
        use_language(lang)  # the label column follows the longest label of this language
        for view in views:
            view.layout().activate()
        assert len({first_input_x(view) for view in views}) == 1, lang


@pytest.fixture
def styled_transfer(qtbot, english):
    view = FormView(FORMS[BusinessKind.TRANSFER])
    view.setStyleSheet(STYLE_SHEET)  # as the application has it, without restyling the suite
    qtbot.addWidget(view)
    view.show()
    qtbot.waitActive(view)
    return view


def left_edge_colours(widget):
    image = widget.grab().toImage()
    return {image.pixelColor(x, image.height() // 2).name() for x in range(3)}


@pytest.mark.parametrize("name", ["new_holder_name", "new_holder_id_type",
                                  "new_holder_sms_consent", "new_holder_id_valid_until",
                                  "settled"])
def test_the_input_the_keyboard_is_in_wears_a_clear_frame_and_nothing_moves(
        qtbot, styled_transfer, name):
    view = styled_transfer
    widget = view.inputs.get(name) or getattr(view, name)
    geometry = widget.geometry()
    view.submit_button.setFocus()
    assert palette.FOCUS not in left_edge_colours(widget)
    widget.setFocus()
    qtbot.waitUntil(lambda: palette.FOCUS in left_edge_colours(widget))
    assert widget.geometry() == geometry


def test_the_application_takes_the_style_sheet_at_start(qapp):
    before = qapp.styleSheet()
    try:
        apply_style(qapp)
        assert qapp.styleSheet() == STYLE_SHEET
    finally:
        qapp.setStyleSheet(before)
