"""What a logged-in clerk's terminal, sloppy or hostile, can send with its operations: scan ids
that are not its own or not new, pieces after a purge, signature images that are PNGs in name
only, queue tickets that would bend a hall's KPIs; on SQLite and PostgreSQL."""

import base64
import hashlib
import io
import os
import struct
import uuid
import zlib
from datetime import UTC, datetime, time, timedelta

import pytest
from PIL import Image
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hallcore.domain.deadlines import HALL_TZ
from hallcore.signing import image_sha256, receipt_signature
from hallcore.wire import MAX_SIGNATURE_HEIGHT, MAX_SIGNATURE_WIDTH
from hallserver.models import AuditEntryRow, HallRow, OperationRow, ScanRow, TokenRow
from hallserver.scans import purge_scans
from hallserver.settings import ServerSettings
from tests.support.factories import NEW_CONNECTION
from tests.support.server import (
    SUPERVISOR_PASSWORD,
    allow_old_operations,
    holder_of,
    logged_in,
    seeded_client,
)
from tests.support.signatures import signature

TH, YX = "GZ-TH-01", "GZ-YX-01"
CONTENT = os.urandom(5000)


@pytest.fixture
def client(server_engine):
    yield from seeded_client(server_engine, accounts=20, halls=2, settings=ServerSettings())


@pytest.fixture
def th(client):
    return logged_in(client, TH, "T01", "gz-th-01-c1")


def scan_ref(content=CONTENT):
    return {"scan_id": str(uuid.uuid4()), "kind": "id_document", "media_type": "image/jpeg",
            "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}


def with_scans(terminal, *refs):
    op = terminal.operation("new_connection", NEW_CONNECTION)
    op["scans"] = list(refs)
    return op


def put(terminal, scan_id, offset, piece):
    return terminal.client.put(
        f"/api/v1/scans/{scan_id}", params={"offset": offset}, content=piece,
        headers={**terminal.headers, "Content-Type": "application/octet-stream"})


def stored_scan(engine, scan_id):
    with Session(engine) as session:
        return session.get(ScanRow, scan_id)


def stored_operation(engine, operation_id):
    with Session(engine) as session:
        return session.get(OperationRow, operation_id)


# --- document scans --------------------------------------------------------------------------

def test_a_scan_id_another_halls_operation_holds_refuses_the_operation(client, th,
                                                                       server_engine):
    ref = scan_ref()
    [first] = th.push(with_scans(th, ref))
    assert first["outcome"] == "applied"
    yx = logged_in(client, YX, "T01", "gz-yx-01-c1")
    taken = with_scans(yx, ref)
    [result] = yx.push(taken)
    assert (result["outcome"], result["code"]) == ("rejected", "bad_scans")
    assert "扫描件" in result["reason"]["zh"] and "scan" in result["reason"]["en"]
    assert stored_operation(server_engine, taken["operation_id"]) is None
    # The scan stays the first terminal's, and is told to the other hall as unknown.
    assert stored_scan(server_engine, ref["scan_id"]).hall_id == TH
    assert put(yx, ref["scan_id"], 0, CONTENT).status_code == 404
    assert put(th, ref["scan_id"], 0, CONTENT).json()["complete"]


def test_the_same_scan_twice_in_an_operation_or_a_batch_is_refused(th, server_engine):
    ref = scan_ref()
    twice = with_scans(th, ref, {**scan_ref(b"short"), "scan_id": ref["scan_id"]})
    [result] = th.push(twice)
    assert result["code"] == "bad_scans"
    other = scan_ref()
    first, second = with_scans(th, other), with_scans(th, other)
    results = th.push(first, second)
    assert [r["outcome"] for r in results] == ["applied", "rejected"]
    assert results[1]["code"] == "bad_scans"
    row = stored_scan(server_engine, other["scan_id"])
    assert row.operation_id == first["operation_id"]
    assert stored_scan(server_engine, ref["scan_id"]) is None
    with Session(server_engine) as session:
        refused = session.scalars(select(AuditEntryRow.subject).where(
            AuditEntryRow.action == "push_refused")).all()
    assert sorted(refused) == sorted([twice["operation_id"], second["operation_id"]])


def test_a_repeated_push_with_other_scans_announces_none_of_them(th, server_engine):
    ref = scan_ref()
    op = with_scans(th, ref)
    th.push(op)
    [again] = th.push({**op, "scans": [scan_ref(), {**ref, "size": 10}]})
    assert again["outcome"] == "duplicate"
    with Session(server_engine) as session:
        scans = session.scalars(select(ScanRow)).all()
    assert [(s.scan_id, s.size) for s in scans] == [(ref["scan_id"], len(CONTENT))]


def test_a_refused_operations_scan_cannot_be_uploaded(th, server_engine):
    ref = scan_ref()
    op = with_scans(th, ref)
    op["clerk"] = "gz-th-01-c9"  # never logged in here
    [result] = th.push(op)
    assert result["code"] == "unknown_clerk"
    answer = put(th, ref["scan_id"], 0, CONTENT)
    assert answer.status_code == 404 and answer.json()["code"] == "scan_not_found"
    assert stored_scan(server_engine, ref["scan_id"]) is None


def test_a_purged_scan_takes_no_more_pieces(th, server_engine):
    ref = scan_ref()
    th.push(with_scans(th, ref))
    assert put(th, ref["scan_id"], 0, CONTENT[:2048]).status_code == 200
    with Session(server_engine) as session, session.begin():
        session.get(ScanRow, ref["scan_id"]).purge_after = datetime.now(UTC)
        assert purge_scans(session, "operator", datetime.now(UTC)) == 1
    # Neither the rest nor the whole from the start brings the content back.
    for offset, piece in ((2048, CONTENT[2048:]), (0, CONTENT)):
        answer = put(th, ref["scan_id"], offset, piece)
        assert answer.status_code == 410 and answer.json()["code"] == "scan_purged"
        assert answer.json()["message"]["zh"]
    row = stored_scan(server_engine, ref["scan_id"])
    assert row.content is None and row.complete_at is None


def test_a_repeat_of_an_earlier_piece_changes_nothing(th, server_engine):
    ref = scan_ref()
    th.push(with_scans(th, ref))
    put(th, ref["scan_id"], 0, CONTENT[:1000])
    put(th, ref["scan_id"], 1000, CONTENT[1000:2000])
    # A second copy of the terminal, behind, sends the first piece again.
    late = put(th, ref["scan_id"], 0, CONTENT[:1000])
    assert late.status_code == 200 and late.json()["received"] == 2000
    assert put(th, ref["scan_id"], 500, b"\0" * 100).status_code == 409
    assert stored_scan(server_engine, ref["scan_id"]).content == CONTENT[:2000]


@pytest.mark.parametrize("offset", ["-1", "1.5", "abc", "1e3", str(2**70)])
def test_an_offset_that_is_no_place_in_a_scan_is_refused_in_both_languages(th, offset):
    ref = scan_ref()
    th.push(with_scans(th, ref))
    answer = put(th, ref["scan_id"], offset, CONTENT[:10])
    assert answer.status_code == 422
    said = answer.json()
    assert said["code"] == "invalid_request" and said["fields"]["offset"]["zh"]
    assert put(th, ref["scan_id"], 0, CONTENT).json()["complete"]  # nothing taken


def test_an_expired_supervisor_token_sees_no_scans(client, th, server_engine):
    ref = scan_ref()
    op = with_scans(th, ref)
    th.push(op)
    put(th, ref["scan_id"], 0, CONTENT)
    supervisor = logged_in(client, TH, "T03", "gz-th-01-s1", SUPERVISOR_PASSWORD)
    with Session(server_engine) as session, session.begin():
        session.execute(update(TokenRow).values(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    for answer in (supervisor.get("/scans", operation_id=op["operation_id"]),
                   supervisor.get(f"/scans/{ref['scan_id']}/content")):
        assert answer.status_code == 401 and answer.json()["code"] == "not_authenticated"


def test_a_scans_content_is_never_taken_for_anything_but_its_media_type(client, th):
    # The bytes are the terminal's: whatever they are, a browser must not run them as a page.
    page = b"<html><script>alert(1)</script></html>"
    ref = scan_ref(page)
    op = with_scans(th, ref)
    th.push(op)
    put(th, ref["scan_id"], 0, page)
    supervisor = logged_in(client, TH, "T03", "gz-th-01-s1", SUPERVISOR_PASSWORD)
    answer = supervisor.get(f"/scans/{ref['scan_id']}/content")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
    assert answer.headers["x-content-type-options"] == "nosniff"


# --- the customer's signature --------------------------------------------------------------

def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data))


def png(width, height, rows=None, *, depth=1, colour=0, interlace=0, after=b""):
    """A PNG built by hand, each chunk's CRC right: its IHDR may say what its pixels are not.
    `rows`: the pixel data as inflated (each row's filter byte first); by default white rows
    of the IHDR's size."""
    if rows is None:
        rows = (b"\0" + b"\xff" * ((width * depth + 7) // 8)) * height
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(rows, 9))
            + _chunk(b"IEND", b"") + after)


def pillow_png(width, height):
    out = io.BytesIO()
    Image.new("1", (width, height), 1).save(out, format="PNG", optimize=True)
    return out.getvalue()


def suspend(th, image):
    account = next(a for a in th.all_accounts() if a["status"] == "active" and a["id_number"]
                   and not a["arrears_fen"])
    return th.operation("suspend", holder_of(account), account=account,
                        customer_signature=image)


def test_a_hand_built_png_of_a_signatures_size_is_taken(th):
    # The checks below refuse what they should, not every PNG that was not made by Pillow.
    [result] = th.push(suspend(th, png(MAX_SIGNATURE_WIDTH, MAX_SIGNATURE_HEIGHT)))
    assert result["outcome"] == "applied"


@pytest.mark.parametrize("image", [
    pillow_png(60_000, 1),  # a valid PNG, a line no receipt can hold
    pillow_png(1, 60_000),
    pillow_png(MAX_SIGNATURE_WIDTH + 1, MAX_SIGNATURE_HEIGHT),
], ids=["wide", "tall", "one-pixel-over"])
def test_a_signature_larger_than_a_signatures_pixels_is_refused(th, server_engine, image):
    assert len(image) < 32 * 1024
    [result] = th.push(suspend(th, image))
    assert (result["outcome"], result["code"]) == ("rejected", "bad_customer_signature")
    said = result["field_errors"]["customer_signature"]
    assert f"{MAX_SIGNATURE_WIDTH} × {MAX_SIGNATURE_HEIGHT}" in said["zh"]
    with Session(server_engine) as session:
        assert session.scalars(select(OperationRow)).first() is None


@pytest.mark.parametrize("image", [
    # The IHDR says 600 x 180, the pixels are of 60 x 18.
    png(600, 180, (b"\0" + b"\xff" * 8) * 18),
    # ... or are a bomb: far more than 600 x 180 once inflated.
    png(600, 180, b"\0" * 10_000_000),
    # A bit depth no PNG has for its colour type.
    png(100, 50, depth=16, colour=3),
    png(100, 50, depth=3),
    # Interlaced: not as a signature is written.
    png(100, 50, interlace=1),
    # Something after the image's end.
    png(100, 50, after=b"ID 440301199001011234"),
    # No pixels at all: IHDR then IEND.
    b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", 100, 50, 1, 0, 0, 0, 0))
    + _chunk(b"IEND", b""),
    # A row with a filter no PNG has.
    png(100, 50, (b"\x07" + b"\xff" * 13) * 50),
], ids=["small-pixels", "bomb", "depth-16-palette", "depth-3", "interlaced", "trailer",
        "no-idat", "bad-filter"])
def test_a_png_whose_header_does_not_tell_its_pixels_is_refused(th, server_engine, image):
    [result] = th.push(suspend(th, image))
    assert (result["outcome"], result["code"]) == ("rejected", "bad_customer_signature")
    assert "PNG" in result["field_errors"]["customer_signature"]["en"]


def test_a_signature_added_to_a_repeated_push_is_not_kept(th, server_engine):
    op = suspend(th, None)
    [first] = th.push(op)
    assert first["outcome"] == "applied"
    image = signature()
    # Signed again by the terminal's own key, with the image's hash: a duplicate all the same.
    again = {**op, "customer_signature": base64.b64encode(image).decode(),
             "receipt_signature": receipt_signature(th.key, op["receipt_no"],
                                                    op["operation_id"], image_sha256(image))}
    [result] = th.push(again)
    assert result["outcome"] == "duplicate"
    row = stored_operation(server_engine, op["operation_id"])
    assert row.customer_signature is None and row.receipt_signature == op["receipt_signature"]


# --- the queue ticket --------------------------------------------------------------------------

def test_a_wait_longer_than_the_hall_is_open_is_not_counted(client, th, server_engine):
    allow_old_operations(server_engine, days=3)
    with Session(server_engine) as session, session.begin():
        session.execute(update(HallRow).where(HallRow.id == TH).values(
            opens_at=time(9, 0), closes_at=time(17, 0)))
    # Yesterday at 16:00 at the hall: one day, whenever the test runs.
    made = datetime.combine(datetime.now(HALL_TZ).date() - timedelta(days=1), time(16, 0),
                            HALL_TZ)
    ops = []
    for waited in (timedelta(hours=7, minutes=59), timedelta(hours=11, minutes=59)):
        op = th.operation("new_connection", NEW_CONNECTION, created_at=made)
        op["ticket"] = {"number": "A001", "source": "queue",
                        "issued_at": (made - timedelta(minutes=1) - waited).isoformat(),
                        "called_at": (made - timedelta(minutes=1)).isoformat()}
        ops.append(op)
    assert [r["outcome"] for r in th.push(*ops)] == ["applied", "applied"]
    waits = [stored_operation(server_engine, op["operation_id"]).waiting_seconds for op in ops]
    # The hall is open 8 hours: a wait of 7 h 59 min is counted, one of 11 h 59 min is not.
    assert waits == [(7 * 60 + 59) * 60, None]


@pytest.mark.parametrize(("issued", "called"), [
    ("1900-01-01T00:00:00+00:00", "1900-01-01T00:10:00+00:00"),  # before the epoch
    ("8999-12-31T20:00:00+00:00", "8999-12-31T21:00:00+00:00"),  # far in the future
    ("2026-01-01T10:00:00", None),  # no time zone, no call
    (None, "1969-12-31T23:59:59-12:00"),
])
def test_ticket_times_no_queue_gave_are_kept_and_counted_nowhere(client, th, server_engine,
                                                                  issued, called):
    op = th.operation("new_connection", NEW_CONNECTION)
    op["ticket"] = {"number": "Z-999", "source": "queue", "issued_at": issued,
                    "called_at": called}
    op["handling_seconds"] = 300
    [result] = th.push(op)
    assert result["outcome"] == "applied"
    row = stored_operation(server_engine, op["operation_id"])
    assert (row.ticket_no, row.waiting_seconds) == ("Z-999", None)
    supervisor = logged_in(client, TH, "T03", "gz-th-01-s1", SUPERVISOR_PASSWORD)
    today = datetime.now(HALL_TZ).date()
    report = supervisor.get("/reports/kpi", since=str(today - timedelta(days=1)),
                            until=str(today + timedelta(days=1)))
    assert report.status_code == 200, report.text
    hours = report.json()["hours"]  # the request's hour, then the whole day
    assert [(row["handled"], row["waits"]) for row in hours] == [(1, 0), (1, 0)]


def test_a_sign_off_the_request_did_not_need_is_not_kept_as_given(th, server_engine):
    """A suspension needs no supervisor, so its sign-off is never checked: a forged token, or
    another hall's supervisor's "signature", is not stored or audited as a sign-off."""
    accounts = [a for a in th.all_accounts() if a["status"] == "active" and a["id_number"]][:2]
    token_claimed = th.operation("suspend", holder_of(accounts[0]), account=accounts[0])
    token_claimed.update(approved_by="gz-th-01-s1", approval_token="forged-token-0123456789")
    signature_claimed = th.operation("suspend", holder_of(accounts[1]), account=accounts[1])
    signature_claimed.update(approved_by="gz-yx-01-s1", approval_signature="ab" * 64)
    results = th.push(token_claimed, signature_claimed)
    assert [r["outcome"] for r in results] == ["applied", "applied"]
    ids = [token_claimed["operation_id"], signature_claimed["operation_id"]]
    with Session(server_engine) as session:
        assert session.scalars(select(OperationRow.approved_by).where(
            OperationRow.operation_id.in_(ids))).all() == [None, None]
        details = session.scalars(select(AuditEntryRow.detail).where(
            AuditEntryRow.subject.in_(ids))).all()
    assert len(details) == 2
    assert not any({"approved_by", "sign_off"} & detail.keys() for detail in details)


def test_fields_the_server_could_not_read_are_not_kept(th, server_engine):
    """A rejected request's unreadable payload (here 200 kB of it, nested deep) is no request:
    the answer names the wrong fields, and the stored operation keeps none of it."""
    account = next(a for a in th.all_accounts() if a["status"] == "active")
    nested: dict = {"x": "y" * 200_000}
    for _ in range(200):
        nested = {"n": nested}
    op = th.operation("rename", {"junk": nested}, account=account)
    [result] = th.push(op)
    assert result["outcome"] == "rejected" and result["field_errors"]
    with Session(server_engine) as session:
        assert session.get(OperationRow, op["operation_id"]).payload == {}
