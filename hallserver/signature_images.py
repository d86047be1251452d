"""The customer's handwritten signature as a pushed operation carries it: base64 of a PNG of
at most MAX_SIGNATURE_BYTES. Checked by its signature bytes and header (IHDR, with its CRC),
not decoded: the server draws nothing, it keeps the image and the hash the receipt signs."""

from __future__ import annotations

import binascii
import struct
import zlib
from base64 import b64decode

from hallcore.domain.text import Text
from hallcore.wire import MAX_SIGNATURE_BYTES, PushOperation

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The first chunk: length 13, "IHDR", width, height, depth, colour type, compression,
# filter, interlace, then its CRC.
_IHDR = struct.Struct(">I4sIIBBBBBI")


class SignatureImageInvalid(ValueError):
    """`reason` names the field and what is wrong, in both languages."""

    def __init__(self, reason: Text) -> None:
        super().__init__(reason.en)
        self.reason = reason


NOT_PNG = Text("客户签名（customer_signature）不是有效的 PNG 图像，业务未保存",
               "the customer's signature (customer_signature) is not a valid PNG image: "
               "nothing was stored")
TOO_LARGE = Text(f"客户签名（customer_signature）超过 {MAX_SIGNATURE_BYTES} 字节，业务未保存",
                 f"the customer's signature (customer_signature) is larger than "
                 f"{MAX_SIGNATURE_BYTES} bytes: nothing was stored")


def signature_image(op: PushOperation) -> bytes | None:
    """The customer's signature PNG of `op`, None when they did not sign; raises
    SignatureImageInvalid for one that is not a PNG within the limit."""
    if op.customer_signature is None:
        return None
    try:
        image = b64decode(op.customer_signature, validate=True)
    except binascii.Error:
        raise SignatureImageInvalid(NOT_PNG) from None
    if len(image) > MAX_SIGNATURE_BYTES:
        raise SignatureImageInvalid(TOO_LARGE)
    if not is_png(image):
        raise SignatureImageInvalid(NOT_PNG)
    return image


def is_png(image: bytes) -> bool:
    """Whether `image` starts as a PNG does: its signature, then an intact IHDR chunk of a
    picture with pixels."""
    header = image[len(PNG_SIGNATURE):len(PNG_SIGNATURE) + _IHDR.size]
    if not image.startswith(PNG_SIGNATURE) or len(header) < _IHDR.size:
        return False
    length, kind, width, height, *_, crc = _IHDR.unpack(header)
    intact: bool = zlib.crc32(header[4:-4]) == crc
    return length == 13 and kind == b"IHDR" and width > 0 and height > 0 and intact
