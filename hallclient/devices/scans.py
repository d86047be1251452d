"""Document scans, from an image file or a document camera's frame to a scan attached to the
request (`DocumentScan`): read with Pillow and refused in a sentence when it is not an image
this counter takes; turned upright (EXIF orientation); optionally cropped (a rectangle the clerk
chose, or the uniform border trimmed); then re-encoded as a JPEG without any metadata (no
location nor device data leaves the terminal), scaled down and its quality stepped down until it
fits MAX_SCAN_BYTES at a size a document stays readable at.

Which documents a business asks for is said once here (`wanted_scans`): the counter shows what
is still to scan, and never blocks on it (the hall can take a paper copy instead)."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterable
from pathlib import Path

from PIL import Image, ImageChops, ImageOps, UnidentifiedImageError

from hallclient.store.operations import DocumentScan
from hallcore.domain.business import BUSINESS_TYPES, BusinessKind
from hallcore.domain.text import Text
from hallcore.wire import MAX_SCAN_BYTES, MAX_SCANS, ScanKind, ScanMediaType

# What a document camera or a scanner gives, far past any phone photo; a larger image is
# refused before it is decoded (a decompression bomb: a small file that unpacks to gigabytes).
# Pillow's own limit, checked as it opens a file (it warns past it, taken here as a refusal).
MAX_PIXELS = 50_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
MAX_FILE_BYTES = 40 * 1024 * 1024  # a file larger than this is not read at all
FORMATS = ("JPEG", "PNG", "BMP", "TIFF", "WEBP")
# The long side of the attached image: at most this, and the fit steps down to the last of
# these before it gives up (an A4 page's small print is unreadable much below 1200 px).
LONG_SIDES = (2000, 1600, 1400, 1200)
QUALITIES = (85, 75, 65, 55, 45)
# How far a pixel may differ from the border's colour and still count as border, when the
# border is trimmed (a camera's background is never quite even).
BORDER_TOLERANCE = 24

Box = tuple[int, int, int, int]  # left, upper, right, lower, in the upright image's pixels

KIND_NAMES = {
    ScanKind.ID_DOCUMENT: Text("身份证件", "ID document"),
    ScanKind.OWNERSHIP: Text("产权证明", "ownership document"),
    ScanKind.OTHER: Text("其他材料", "other document"),
}

# The documents a business asks for beyond the ID document of whoever presents one.
_ALSO_WANTED: dict[BusinessKind, tuple[ScanKind, ...]] = {
    BusinessKind.TRANSFER: (ScanKind.OWNERSHIP,),
}
# The fields by which a business names an applicant or a new holder and their ID document.
_ID_FIELDS = ("applicant_id_number", "new_holder_id_number")


class ScanRefused(Exception):
    """The image cannot be attached; `reason` says why and what to do, naming the file."""

    def __init__(self, reason: Text) -> None:
        super().__init__(reason.en)
        self.reason = reason


def wanted_scans(kind: BusinessKind) -> tuple[ScanKind, ...]:
    """The documents the hall keeps a scan of for this business: the ID document of the
    applicant or new holder, and for a transfer also the ownership document."""
    shows_id = any(field.name in _ID_FIELDS for field in BUSINESS_TYPES[kind].fields)
    return ((ScanKind.ID_DOCUMENT,) if shows_id else ()) + _ALSO_WANTED.get(kind, ())


def still_to_scan(kind: BusinessKind, attached: Iterable[ScanKind]) -> tuple[ScanKind, ...]:
    have = set(attached)
    return tuple(wanted for wanted in wanted_scans(kind) if wanted not in have)


def room_for_another(attached: int) -> Text | None:
    """Why no further scan can be attached to the request, or None while it can."""
    if attached < MAX_SCANS:
        return None
    return Text(f"每笔业务最多附 {MAX_SCANS} 份扫描件，请先删除一份再添加",
                f"a request takes at most {MAX_SCANS} scans: remove one before adding another")


def read_image_file(path: Path) -> Image.Image:
    """The image in the file at `path`, upright; ScanRefused naming the file otherwise."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ScanRefused(_too_large(path.name))
        data = path.read_bytes()
    except OSError:
        raise ScanRefused(Text(
            f"无法读取文件 {path.name}，请确认文件存在且可以打开后重试",
            f"the file {path.name} cannot be read: check that it exists and opens, then try "
            "again")) from None
    return open_image(data, path.name)


def open_image(data: bytes, name: str) -> Image.Image:
    """The image in `data` (a file's bytes or a camera's frame, called `name` in what the clerk
    reads), decoded, upright, in RGB; ScanRefused when it is not an image this counter takes."""
    try:
        with warnings.catch_warnings():
            # Past Pillow's limit it only warns; here that is a refusal as well.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)  # checks the pixels
            image.load()
            upright = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ScanRefused(_too_large(name)) from None
    except UnidentifiedImageError:
        raise ScanRefused(Text(
            f"文件 {name} 不是可以附加的图片（可用 JPEG、PNG、BMP、TIFF、WEBP），请另选文件",
            f"{name} is not an image that can be attached (JPEG, PNG, BMP, TIFF or WEBP "
            "are): choose another file")) from None
    except (OSError, ValueError, SyntaxError):
        # Pillow's ways of saying the file is cut or damaged.
        raise ScanRefused(Text(
            f"图片 {name} 已损坏或不完整，无法读取，请重新扫描或另选文件",
            f"the image {name} is damaged or incomplete and cannot be read: scan it again or "
            "choose another file")) from None
    return _rgb(upright)


def _too_large(name: str) -> Text:
    return Text(
        f"图片 {name} 过大（超过 {MAX_PIXELS // 1_000_000} 百万像素或 "
        f"{MAX_FILE_BYTES // (1024 * 1024)} MB），请降低扫描分辨率后重试",
        f"the image {name} is too large (over {MAX_PIXELS // 1_000_000} megapixels or "
        f"{MAX_FILE_BYTES // (1024 * 1024)} MB): scan it at a lower resolution and try again")


def _rgb(image: Image.Image) -> Image.Image:
    """The image in RGB; a transparent one on white, as it would be printed."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in (
            image.info)):
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, "white")
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB")


def trim_border(image: Image.Image) -> Box:
    """The part of `image` inside its uniform border (the colour of its top-left corner, within
    BORDER_TOLERANCE); the whole image when there is no border or nothing else."""
    background = Image.new("RGB", image.size, image.getpixel((0, 0)))
    difference = ImageChops.difference(image, background).convert("L")
    box = difference.point(lambda v: 255 if v > BORDER_TOLERANCE else 0).getbbox()
    return box if box is not None else (0, 0, image.width, image.height)


def attachable(image: Image.Image, kind: ScanKind, name: str, crop: Box | None = None
               ) -> DocumentScan:
    """`image` (as open_image gives it), cropped to `crop` if given, as the JPEG attached to
    the request: the long side at most LONG_SIDES[0], the quality stepped down, then the size,
    until it fits MAX_SCAN_BYTES; ScanRefused when it does not even at the smallest."""
    if crop is not None:
        left, upper, right, lower = crop
        inside = (max(0, left), max(0, upper), min(image.width, right),
                  min(image.height, lower))
        if inside[2] - inside[0] < 16 or inside[3] - inside[1] < 16:
            raise ScanRefused(Text("选取的区域太小，请重新框选证件",
                                   "the chosen area is too small: select the document again"))
        image = image.crop(inside)
    for long_side in LONG_SIDES:
        scaled = _scaled(image, long_side)
        for quality in QUALITIES:
            data = _jpeg(scaled, quality)
            if len(data) <= MAX_SCAN_BYTES:
                return DocumentScan(kind, ScanMediaType.JPEG, data)
    raise ScanRefused(Text(
        f"图片 {name} 细节过多，压缩到可读的清晰度仍超过 {MAX_SCAN_BYTES // 1024} KB，"
        "请只框选证件部分或重新扫描",
        f"the image {name} holds too much detail to fit {MAX_SCAN_BYTES // 1024} KB at a "
        "readable size: select the document only, or scan it again"))


def _scaled(image: Image.Image, long_side: int) -> Image.Image:
    if max(image.size) <= long_side:
        return image
    scaled = image.copy()
    scaled.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
    return scaled


def _jpeg(image: Image.Image, quality: int) -> bytes:
    # Saved without exif, icc_profile or comment: nothing but the pixels leaves the terminal.
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()
