"""HallClient's colours, each named for what it tells the clerk: the same meaning has the same
colour in every window (online and synced are the green of a figure that meets its target),
and a colour changes here, once.

Text colours are style sheets (`text_colour`) on labels, and QColor(name) where items or a
painter draw."""

from __future__ import annotations

OK = "#1b7f3a"  # online, synced, meets its target, satisfied
WARNING = "#8a5a00"  # waiting to be sent, due within a day, basically satisfied
REFUSED = "#b00020"  # offline, refused, a conflict, overdue, short of a target, an error
TEXT = "#202020"  # text a chart draws, a message that is no error
MUTED = "#8a8a8a"  # no figure yet, what a figure counts, a chart's axis
GRID = "#e6e6e6"  # a chart's quarter lines
PAPER = "white"  # behind a chart's bars and values, and text on a coloured button
FRAME = "#9a9a9a"  # the border of an input at rest
FOCUS = "#1565c0"  # the frame of the input the keyboard is in


def text_colour(colour: str) -> str:
    """The style sheet that writes a widget's text in `colour`."""
    return f"color: {colour};"
