"""A customer's handwritten signature for tests: strokes as a pad records them, and their PNG."""

from __future__ import annotations

from hallclient.counter.signature import Stroke, signature_png

# Three strokes of a short name, in the pad's logical pixels.
STROKES: tuple[Stroke, ...] = (
    ((20.0, 60.0), (40.0, 30.0), (60.0, 62.0), (80.0, 28.0), (100.0, 64.0)),
    ((120.0, 30.0), (120.0, 70.0), (150.0, 50.0), (120.0, 50.0)),
    ((170.0, 40.0), (200.0, 40.0), (185.0, 25.0), (185.0, 75.0)),
)


def signature() -> bytes:
    """The PNG of STROKES, as the customer's screen hands it to the request."""
    return signature_png(STROKES)


def other_signature() -> bytes:
    """Someone else's signature: another PNG, for a swapped image."""
    return signature_png([[(x, 100 - y) for x, y in stroke] for stroke in STROKES])
