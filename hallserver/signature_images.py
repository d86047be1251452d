"""The customer's handwritten signature as a pushed operation carries it: base64 of a PNG of
at most MAX_SIGNATURE_BYTES and MAX_SIGNATURE_WIDTH x MAX_SIGNATURE_HEIGHT pixels, as the
customer's screen writes one. The server draws nothing, it keeps the image and the hash the
receipt signs; but whoever looks at it later decodes it, so it is checked as a decoder would
read it: every chunk and its CRC, a header a PNG can have (non-interlaced), pixel data that
inflates to exactly what the header says (never further: a small image cannot be a bomb), and
nothing after its end."""

from __future__ import annotations

import binascii
import struct
import zlib
from base64 import b64decode

from hallcore.domain.text import Text
from hallcore.wire import (
    MAX_SIGNATURE_BYTES,
    MAX_SIGNATURE_HEIGHT,
    MAX_SIGNATURE_WIDTH,
    PushOperation,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A chunk's length and type; its data and CRC follow.
_CHUNK = struct.Struct(">I4s")
_CRC = struct.Struct(">I")
# IHDR's data: width, height, bit depth, colour type, compression, filter, interlace.
_IHDR = struct.Struct(">IIBBBBB")
# The bit depths each colour type allows (PNG 11.2.2), and its samples per pixel.
_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
_SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_FILTERS = 5  # none, sub, up, average, Paeth


class SignatureImageInvalid(ValueError):
    """`reason` names the field and what is wrong, in both languages."""

    def __init__(self, reason: Text) -> None:
        super().__init__(reason.en)
        self.reason = reason


MISSING = Text("此业务须有客户签名（customer_signature），业务未保存",
               "this request needs the customer's signature (customer_signature): nothing was "
               "stored")
NOT_PNG = Text("客户签名（customer_signature）不是有效的 PNG 图像，业务未保存",
               "the customer's signature (customer_signature) is not a valid PNG image: "
               "nothing was stored")
TOO_LARGE = Text(f"客户签名（customer_signature）超过 {MAX_SIGNATURE_BYTES} 字节，业务未保存",
                 f"the customer's signature (customer_signature) is larger than "
                 f"{MAX_SIGNATURE_BYTES} bytes: nothing was stored")
TOO_MANY_PIXELS = Text(
    f"客户签名（customer_signature）超过 {MAX_SIGNATURE_WIDTH} × {MAX_SIGNATURE_HEIGHT} 像素，"
    "业务未保存",
    f"the customer's signature (customer_signature) is larger than {MAX_SIGNATURE_WIDTH} × "
    f"{MAX_SIGNATURE_HEIGHT} pixels: nothing was stored")


def signature_image(op: PushOperation) -> bytes | None:
    """The customer's signature PNG of `op`, None when they did not sign; raises
    SignatureImageInvalid for one that is not a PNG within the limits."""
    if op.customer_signature is None:
        return None
    try:
        image = b64decode(op.customer_signature, validate=True)
    except binascii.Error:
        raise SignatureImageInvalid(NOT_PNG) from None
    if len(image) > MAX_SIGNATURE_BYTES:
        raise SignatureImageInvalid(TOO_LARGE)
    check_png(image)
    return image


def _chunks(image: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of each chunk of `image`, its CRC checked; IEND the last, nothing after."""
    if not image.startswith(PNG_SIGNATURE):
        raise SignatureImageInvalid(NOT_PNG)
    chunks: list[tuple[bytes, bytes]] = []
    at = len(PNG_SIGNATURE)
    while not chunks or chunks[-1][0] != b"IEND":
        if at + _CHUNK.size > len(image):
            raise SignatureImageInvalid(NOT_PNG)
        length, kind = _CHUNK.unpack_from(image, at)
        data_at = at + _CHUNK.size
        at = data_at + length + _CRC.size
        if at > len(image):
            raise SignatureImageInvalid(NOT_PNG)
        data = image[data_at:data_at + length]
        if zlib.crc32(kind + data) != _CRC.unpack_from(image, data_at + length)[0]:
            raise SignatureImageInvalid(NOT_PNG)
        chunks.append((kind, data))
    if at != len(image):
        raise SignatureImageInvalid(NOT_PNG)
    return chunks


def check_png(image: bytes) -> None:
    """Raise SignatureImageInvalid unless `image` is a non-interlaced PNG of at most the
    signature's pixels whose pixel data is exactly what its header says."""
    chunks = _chunks(image)
    kind, header = chunks[0]
    if kind != b"IHDR" or len(header) != _IHDR.size:
        raise SignatureImageInvalid(NOT_PNG)
    width, height, depth, colour, compression, filtering, interlace = _IHDR.unpack(header)
    if (depth not in _DEPTHS.get(colour, ()) or (compression, filtering, interlace) != (0, 0, 0)
            or not width or not height):
        raise SignatureImageInvalid(NOT_PNG)
    if width > MAX_SIGNATURE_WIDTH or height > MAX_SIGNATURE_HEIGHT:
        raise SignatureImageInvalid(TOO_MANY_PIXELS)
    stride = (width * _SAMPLES[colour] * depth + 7) // 8 + 1  # a row and its filter byte
    expected = stride * height
    inflater = zlib.decompressobj()
    try:
        pixels = inflater.decompress(
            b"".join(data for kind, data in chunks if kind == b"IDAT"), expected + 1)
    except zlib.error:
        raise SignatureImageInvalid(NOT_PNG) from None
    if len(pixels) != expected or not inflater.eof or (colour == 3 and not any(
            kind == b"PLTE" for kind, _ in chunks)):
        raise SignatureImageInvalid(NOT_PNG)
    if any(pixels[row] >= _FILTERS for row in range(0, expected, stride)):
        raise SignatureImageInvalid(NOT_PNG)
