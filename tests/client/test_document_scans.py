"""From an image file or a camera frame to the scan attached to a request: refused in a
sentence naming the file when it is no usable image, upright, without metadata, cropped, and
within the size limit at a readable resolution."""

import io
import os

import pytest
from PIL import Image

from hallclient.devices import scans
from hallclient.devices.scans import (
    ScanRefused,
    attachable,
    open_image,
    read_image_file,
    room_for_another,
    still_to_scan,
    trim_border,
    wanted_scans,
)
from hallcore.domain.business import BusinessKind
from hallcore.wire import MAX_SCAN_BYTES, MAX_SCANS, ScanKind, ScanMediaType

RED, BLUE, WHITE = (220, 20, 20), (20, 20, 220), (255, 255, 255)


def encoded(image, kind="JPEG", **options):
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue()


def halves(size=(300, 200)):
    """Left half red, right half blue."""
    image = Image.new("RGB", size, BLUE)
    image.paste(RED, (0, 0, size[0] // 2, size[1]))
    return image


def decoded(scan):
    return Image.open(io.BytesIO(scan.content))


def test_a_file_that_is_no_image_is_refused_naming_it(tmp_path):
    path = tmp_path / "申请表.txt"
    path.write_text("not an image", encoding="utf-8")
    with pytest.raises(ScanRefused) as refused:
        read_image_file(path)
    assert "申请表.txt" in refused.value.reason.zh and "申请表.txt" in refused.value.reason.en
    assert "JPEG" in refused.value.reason.zh


def test_a_cut_image_is_refused_as_damaged(tmp_path):
    path = tmp_path / "id-card.jpg"
    path.write_bytes(encoded(halves((800, 600)))[:2000])
    with pytest.raises(ScanRefused) as refused:
        read_image_file(path)
    assert "id-card.jpg" in refused.value.reason.zh
    assert "damaged" in refused.value.reason.en


def test_a_missing_file_is_refused_naming_it(tmp_path):
    with pytest.raises(ScanRefused) as refused:
        read_image_file(tmp_path / "gone.png")
    assert "gone.png" in refused.value.reason.en


def test_a_decompression_bomb_is_refused_before_it_is_decoded():
    # 64 megapixels of one colour: a file of a few kilobytes.
    bomb = encoded(Image.new("1", (8000, 8000)), "PNG")
    assert len(bomb) < 100_000
    with pytest.raises(ScanRefused) as refused:
        open_image(bomb, "bomb.png")
    assert "bomb.png" in refused.value.reason.zh and "megapixels" in refused.value.reason.en


def test_exif_orientation_is_applied_and_every_metadata_dropped():
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: turn 90° clockwise to show
    exif[0x010F] = "Camera maker"  # Make
    exif[0x0110] = "Model 7"  # Model
    exif[0x8825] = {1: "N", 2: (23.0, 7.0, 0.0)}  # GPS: latitude
    source = encoded(halves(), exif=exif.tobytes(), icc_profile=b"\0" * 200)
    assert Image.open(io.BytesIO(source)).getexif()[0x010F] == "Camera maker"
    scan = attachable(open_image(source, "photo.jpg"), ScanKind.ID_DOCUMENT, "photo.jpg")
    assert (scan.kind, scan.media_type) == (ScanKind.ID_DOCUMENT, ScanMediaType.JPEG)
    image = decoded(scan)
    assert image.size == (200, 300)  # upright: the left half is now on top
    assert _near(image.getpixel((100, 20)), RED) and _near(image.getpixel((100, 280)), BLUE)
    assert not image.getexif()
    assert not {"exif", "icc_profile", "comment"} & image.info.keys()
    assert b"Camera maker" not in scan.content and b"Model 7" not in scan.content


def _near(pixel, colour, tolerance=40):
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


def test_a_large_noisy_image_is_brought_within_the_limit_at_a_readable_size():
    noise = Image.frombytes("RGB", (3000, 2000), os.urandom(3000 * 2000 * 3))
    assert len(encoded(noise, quality=85)) > MAX_SCAN_BYTES
    scan = attachable(noise, ScanKind.OTHER, "noise.png")
    assert len(scan.content) <= MAX_SCAN_BYTES
    assert max(decoded(scan).size) == 2000  # the quality went down before the size did


def test_an_image_that_never_fits_is_refused(monkeypatch):
    monkeypatch.setattr(scans, "MAX_SCAN_BYTES", 2000)
    noise = Image.frombytes("RGB", (1500, 1000), os.urandom(1500 * 1000 * 3))
    with pytest.raises(ScanRefused) as refused:
        attachable(noise, ScanKind.OTHER, "noise.png")
    assert "noise.png" in refused.value.reason.zh


def test_the_chosen_rectangle_is_what_is_attached():
    image = halves((400, 200))
    scan = attachable(image, ScanKind.ID_DOCUMENT, "x", crop=(0, 0, 150, 100))
    cropped = decoded(scan)
    assert cropped.size == (150, 100)
    assert _near(cropped.getpixel((140, 90)), RED)  # nothing of the blue half
    with pytest.raises(ScanRefused):
        attachable(image, ScanKind.ID_DOCUMENT, "x", crop=(10, 10, 15, 15))


def test_the_uniform_border_is_trimmed():
    page = Image.new("RGB", (600, 400), WHITE)
    page.paste(halves((200, 120)), (150, 90))
    assert trim_border(page) == (150, 90, 350, 210)
    assert trim_border(Image.new("RGB", (50, 40), WHITE)) == (0, 0, 50, 40)


def test_a_transparent_png_is_attached_on_white():
    image = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    scan = attachable(open_image(encoded(image, "PNG"), "t.png"), ScanKind.OTHER, "t.png")
    assert _near(decoded(scan).getpixel((50, 50)), WHITE)


def test_the_documents_each_business_asks_for():
    assert wanted_scans(BusinessKind.TRANSFER) == (ScanKind.ID_DOCUMENT, ScanKind.OWNERSHIP)
    for kind in BusinessKind:
        assert ScanKind.ID_DOCUMENT in wanted_scans(kind)  # each names who presents an ID
    assert still_to_scan(BusinessKind.TRANSFER, [ScanKind.ID_DOCUMENT]) == (
        ScanKind.OWNERSHIP,)
    assert still_to_scan(BusinessKind.RENAME, [ScanKind.ID_DOCUMENT]) == ()


def test_at_most_max_scans_a_request():
    assert room_for_another(MAX_SCANS - 1) is None
    assert str(MAX_SCANS) in room_for_another(MAX_SCANS).zh
