"""The customer's handwritten signature: the strokes drawn on the customer's screen (mouse, pen
or touch) made into a small PNG, cropped to the ink and held under MAX_SIGNATURE_BYTES.

The image is bilevel (black ink on white, one bit a pixel) and at most 600 x 180 pixels: it
prints crisply on the thermal roll, a signature is 1-3 KB, and no scribble can make it larger
than the limit. The same strokes always give the same bytes (no timestamp or other
varying chunk is written), so the image's hash, which the receipt signature covers, can be
made again from the same input.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from itertools import pairwise

from PIL import Image, ImageDraw

from hallcore.domain.text import Text
from hallcore.wire import MAX_SIGNATURE_BYTES, MAX_SIGNATURE_HEIGHT, MAX_SIGNATURE_WIDTH

Point = tuple[float, float]
Stroke = Sequence[Point]

# The pen's travel (logical pixels of the pad) below which a mark is not taken as a
# signature: a tap or a tick is not a name.
MIN_INK = 60.0
# Pixels of the image, ink and margin: the wire's limit, which the server holds it to. The
# largest image it allows (one no deflate can compress) is about 14 KB: a push batch of such
# is cut by its bytes at about 180 operations (hallclient/sync/engine.py PUSH_BODY_BUDGET); a
# signature is 1-3 KB, and 500 of them go in one batch.
MAX_WIDTH, MAX_HEIGHT = MAX_SIGNATURE_WIDTH, MAX_SIGNATURE_HEIGHT
MARGIN = 6
PEN = 3  # pixels: a stroke as a ballpoint pen draws it at this size
# The limit holds by the image's size: at most 600 x 180 bits, 13 680 bytes a row's filter
# byte included, which deflate stores with a few bytes more when it cannot compress them.
assert MAX_HEIGHT * (MAX_WIDTH // 8 + 1) + 1024 <= MAX_SIGNATURE_BYTES


class SignatureRefused(Exception):
    """The strokes are not a signature; `reason` says what to do."""

    def __init__(self, reason: Text) -> None:
        super().__init__(reason.en)
        self.reason = reason


NOT_SIGNED = Text("还没有签名：请在框内签上您的姓名",
                  "Nothing is signed yet: please sign your name in the box")
TOO_SHORT = Text("签名过短：请点“重签”后在框内签上您的完整姓名",
                 "The signature is too short: press Clear and sign your full name in the box")


def ink_length(strokes: Sequence[Stroke]) -> float:
    """How far the pen travelled on the pad, over all strokes."""
    return sum(math.dist(a, b) for stroke in strokes for a, b in pairwise(stroke))


def signature_png(strokes: Sequence[Stroke]) -> bytes:
    """The strokes as a PNG cropped to the ink, scaled down to fit 600 x 180 pixels (so within
    MAX_SIGNATURE_BYTES); raises SignatureRefused for no strokes or too little ink."""
    points = [point for stroke in strokes for point in stroke]
    if not points:
        raise SignatureRefused(NOT_SIGNED)
    if ink_length(strokes) < MIN_INK:
        raise SignatureRefused(TOO_SHORT)
    left = min(x for x, _ in points)
    top = min(y for _, y in points)
    width = max(x for x, _ in points) - left
    height = max(y for _, y in points) - top
    scale = min(1.0, (MAX_WIDTH - 2 * MARGIN) / max(width, 1.0),
                (MAX_HEIGHT - 2 * MARGIN) / max(height, 1.0))
    return _draw(strokes, (left, top), (width, height), scale)


def _draw(strokes: Sequence[Stroke], origin: Point, size: Point, scale: float) -> bytes:
    image = Image.new("1", (math.ceil(size[0] * scale) + 2 * MARGIN,
                            math.ceil(size[1] * scale) + 2 * MARGIN), 1)
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        # Whole pixels: the same strokes make the same image wherever they are rounded.
        line = [(round((x - origin[0]) * scale) + MARGIN, round((y - origin[1]) * scale) + MARGIN)
                for x, y in stroke]
        if len(line) == 1:
            x, y = line[0]
            draw.ellipse((x - PEN // 2, y - PEN // 2, x + PEN // 2, y + PEN // 2), fill=0)
        else:
            draw.line(line, fill=0, width=PEN, joint="curve")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
