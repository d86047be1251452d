"""Document scans on the server: announced with their operation, uploaded in pieces by the
terminal that pushed it (resumable, exactly once, checked against the hash), seen by the hall's
supervisors only (each view audited), their content purged after the retention period; on
SQLite and PostgreSQL."""

import hashlib
import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hallserver.__main__ import main
from hallserver.models import AuditEntryRow, ScanRow
from hallserver.settings import ServerSettings
from tests.support.factories import NEW_CONNECTION
from tests.support.server import SUPERVISOR_PASSWORD, logged_in, seeded_client

TH, YX = "GZ-TH-01", "GZ-YX-01"
RETENTION = timedelta(days=30)
CONTENT = os.urandom(5000)  # what the terminal scanned: its bytes only matter here
PIECE = 2048


@pytest.fixture
def client(server_engine):
    yield from seeded_client(server_engine, accounts=20, halls=2,
                             settings=ServerSettings(scan_retention=RETENTION))


@pytest.fixture
def th(client):
    return logged_in(client, TH, "T01", "gz-th-01-c1")


def scan_ref(content=CONTENT, kind="id_document", sha256=None):
    return {"scan_id": str(uuid.uuid4()), "kind": kind, "media_type": "image/jpeg",
            "size": len(content), "sha256": sha256 or hashlib.sha256(content).hexdigest()}


def pushed_with(terminal, *refs):
    """A new connection pushed by `terminal` with the scans `refs`: its operation id."""
    op = terminal.operation("new_connection", NEW_CONNECTION)
    op["scans"] = list(refs)
    [result] = terminal.push(op)
    assert result["outcome"] == "applied", result
    return op["operation_id"]


def put(terminal, scan_id, offset, piece):
    return terminal.client.put(
        f"/api/v1/scans/{scan_id}", params={"offset": offset}, content=piece,
        headers={**terminal.headers, "Content-Type": "application/octet-stream"})


def upload(terminal, scan_id, content=CONTENT, start=0):
    answer = None
    for offset in range(start, len(content), PIECE):
        answer = put(terminal, scan_id, offset, content[offset:offset + PIECE])
        assert answer.status_code == 200, answer.text
    return answer.json()


def stored(engine, scan_id):
    with Session(engine) as session:
        return session.get(ScanRow, scan_id)


def test_a_pushed_operation_announces_its_scans_kept_for_the_retention(th, server_engine):
    ref = scan_ref()
    before = datetime.now(UTC)
    operation_id = pushed_with(th, ref)
    row = stored(server_engine, ref["scan_id"])
    assert (row.operation_id, row.hall_id, row.kind, row.size, row.received) == (
        operation_id, TH, "id_document", len(CONTENT), 0)
    assert row.content is None and row.complete_at is None
    assert before + RETENTION <= row.purge_after <= datetime.now(UTC) + RETENTION
    status = th.get(f"/scans/{ref['scan_id']}/status").json()
    assert status == {"scan_id": ref["scan_id"], "size": len(CONTENT), "received": 0,
                      "complete": False}


def test_the_push_audit_says_a_scan_exists_not_what_it_shows(th, server_engine):
    ref = scan_ref()
    operation_id = pushed_with(th, ref)
    with Session(server_engine) as session:
        detail = session.scalars(select(AuditEntryRow.detail).where(
            AuditEntryRow.action == "push", AuditEntryRow.subject == operation_id)).one()
    assert detail["scans"] == [{"kind": "id_document", "size": len(CONTENT)}]
    assert ref["sha256"] not in str(detail)


def test_pieces_upload_the_scan_and_complete_it_on_the_matching_hash(th, server_engine):
    ref = scan_ref()
    pushed_with(th, ref)
    status = upload(th, ref["scan_id"])
    assert status == {"scan_id": ref["scan_id"], "size": len(CONTENT),
                      "received": len(CONTENT), "complete": True}
    row = stored(server_engine, ref["scan_id"])
    assert row.content == CONTENT and row.complete_at is not None


def test_an_upload_cut_midway_resumes_from_what_was_received(th, server_engine):
    ref = scan_ref()
    pushed_with(th, ref)
    assert put(th, ref["scan_id"], 0, CONTENT[:PIECE]).status_code == 200
    # The terminal lost the answer: it asks where to go on.
    received = th.get(f"/scans/{ref['scan_id']}/status").json()["received"]
    assert received == PIECE
    assert upload(th, ref["scan_id"], start=received)["complete"]
    assert stored(server_engine, ref["scan_id"]).content == CONTENT


def test_a_repeated_piece_changes_nothing(th, server_engine):
    ref = scan_ref()
    pushed_with(th, ref)
    first = put(th, ref["scan_id"], 0, CONTENT[:PIECE]).json()
    again = put(th, ref["scan_id"], 0, CONTENT[:PIECE]).json()
    assert first == again == {"scan_id": ref["scan_id"], "size": len(CONTENT),
                              "received": PIECE, "complete": False}
    # A piece that repeats the end of what was received and goes on is taken for its rest.
    overlapping = put(th, ref["scan_id"], PIECE // 2, CONTENT[PIECE // 2:PIECE * 2]).json()
    assert overlapping["received"] == PIECE * 2
    done = upload(th, ref["scan_id"], start=PIECE * 2)
    repeat_after_done = put(th, ref["scan_id"], 0, CONTENT[:PIECE])
    assert repeat_after_done.status_code == 200 and repeat_after_done.json() == done
    assert stored(server_engine, ref["scan_id"]).content == CONTENT


def test_a_gap_or_a_different_overlap_is_409_with_the_offset_to_resume_from(th):
    ref = scan_ref()
    pushed_with(th, ref)
    put(th, ref["scan_id"], 0, CONTENT[:PIECE])
    gap = put(th, ref["scan_id"], PIECE * 2, CONTENT[PIECE * 2:PIECE * 3])
    assert gap.status_code == 409
    assert gap.json()["code"] == "scan_out_of_order"
    assert gap.headers["X-Scan-Received"] == str(PIECE)
    assert str(PIECE) in gap.json()["message"]["zh"]
    changed = bytes(b ^ 0xFF for b in CONTENT[:PIECE])
    assert put(th, ref["scan_id"], 0, changed).status_code == 409
    assert th.get(f"/scans/{ref['scan_id']}/status").json()["received"] == PIECE


def test_a_piece_past_the_announced_size_is_refused(th):
    ref = scan_ref()
    pushed_with(th, ref)
    answer = put(th, ref["scan_id"], len(CONTENT) - 10, b"x" * 20)
    assert answer.status_code == 413
    assert answer.json()["code"] == "scan_past_size"


def test_a_hash_mismatch_drops_what_was_received_and_the_upload_starts_over(
        th, server_engine):
    ref = scan_ref(sha256=hashlib.sha256(b"something else").hexdigest())
    pushed_with(th, ref)
    upload(th, ref["scan_id"], content=CONTENT[:-PIECE])
    last = put(th, ref["scan_id"], len(CONTENT) - PIECE, CONTENT[-PIECE:])
    assert last.status_code == 422
    assert last.json()["code"] == "scan_hash_mismatch"
    row = stored(server_engine, ref["scan_id"])
    assert (row.received, row.content, row.complete_at) == (0, None, None)


def test_another_terminal_or_hall_is_told_no_such_scan(client, th):
    ref = scan_ref()
    pushed_with(th, ref)
    other_terminal = logged_in(client, TH, "T02", "gz-th-01-c2")
    other_hall = logged_in(client, YX, "T01", "gz-yx-01-c1")
    for stranger in (other_terminal, other_hall):
        assert put(stranger, ref["scan_id"], 0, CONTENT[:PIECE]).status_code == 404
        answer = stranger.get(f"/scans/{ref['scan_id']}/status")
        assert answer.status_code == 404 and answer.json()["code"] == "scan_not_found"
    # Answered as an unknown scan is: whether another hall's exists is not told.
    unknown = put(th, str(uuid.uuid4()), 0, b"x")
    assert unknown.json()["code"] == put(other_hall, ref["scan_id"], 0, b"x").json()["code"]


def test_a_clerk_may_not_look_at_scans(th):
    ref = scan_ref()
    operation_id = pushed_with(th, ref)
    upload(th, ref["scan_id"])
    for answer in (th.get("/scans", operation_id=operation_id),
                   th.get(f"/scans/{ref['scan_id']}/content")):
        assert answer.status_code == 403
        assert answer.json()["code"] == "supervisor_only"
        assert answer.json()["message"]["zh"]


def test_a_supervisor_sees_the_halls_scans_and_each_view_is_audited(client, th,
                                                                     server_engine):
    ref, other = scan_ref(), scan_ref(b"other document", kind="ownership")
    operation_id = pushed_with(th, ref, other)
    upload(th, ref["scan_id"])
    supervisor = logged_in(client, TH, "T03", "gz-th-01-s1", SUPERVISOR_PASSWORD)
    listing = supervisor.get("/scans", operation_id=operation_id)
    assert listing.status_code == 200
    scans = {s["scan_id"]: s for s in listing.json()["scans"]}
    assert scans[ref["scan_id"]]["complete"] and not scans[other["scan_id"]]["complete"]
    assert scans[other["scan_id"]]["kind"] == "ownership"
    content = supervisor.get(f"/scans/{ref['scan_id']}/content")
    assert content.status_code == 200
    assert content.content == CONTENT
    assert content.headers["content-type"] == "image/jpeg"
    assert content.headers["cache-control"] == "no-store"
    not_yet = supervisor.get(f"/scans/{other['scan_id']}/content")
    assert not_yet.status_code == 409 and not_yet.json()["code"] == "scan_not_received"
    with Session(server_engine) as session:
        views = session.execute(select(AuditEntryRow.actor, AuditEntryRow.action,
                                       AuditEntryRow.subject, AuditEntryRow.detail).where(
            AuditEntryRow.action.in_(["scans_listed", "scan_viewed"]))
            .order_by(AuditEntryRow.id)).all()
    assert [(actor, action, subject) for actor, action, subject, _ in views] == [
        ("gz-th-01-s1", "scans_listed", operation_id),
        ("gz-th-01-s1", "scan_viewed", ref["scan_id"])]
    assert views[1].detail == {"kind": "id_document", "operation_id": operation_id,
                               "size": len(CONTENT)}
    other_hall = logged_in(client, YX, "T03", "gz-yx-01-s1", SUPERVISOR_PASSWORD)
    assert other_hall.get(f"/scans/{ref['scan_id']}/content").status_code == 404
    assert other_hall.get("/scans", operation_id=operation_id).status_code == 404


def test_purge_drops_the_content_past_the_retention_and_keeps_the_row(
        client, th, server_engine, capsys):
    old, recent = scan_ref(), scan_ref()
    old_op = pushed_with(th, old)
    pushed_with(th, recent)
    upload(th, old["scan_id"])
    upload(th, recent["scan_id"])
    with Session(server_engine) as session, session.begin():
        session.get(ScanRow, old["scan_id"]).purge_after = datetime.now(UTC) - timedelta(
            minutes=1)
    url = server_engine.url.render_as_string(hide_password=False)
    assert main(["scans", "purge", "--db", url]) == 0
    assert "purged the content of 1 scan" in capsys.readouterr().out
    row = stored(server_engine, old["scan_id"])
    assert row.content is None and row.purged_at is not None and row.size == len(CONTENT)
    assert stored(server_engine, recent["scan_id"]).content == CONTENT
    supervisor = logged_in(client, TH, "T03", "gz-th-01-s1", SUPERVISOR_PASSWORD)
    gone = supervisor.get(f"/scans/{old['scan_id']}/content")
    assert gone.status_code == 410 and gone.json()["code"] == "scan_purged"
    assert main(["scans", "list", "--db", url, "--operation", old_op]) == 0
    listed = capsys.readouterr().out
    assert old["scan_id"] in listed and "purged" in listed
    with Session(server_engine) as session:
        purges = session.scalars(select(AuditEntryRow.detail).where(
            AuditEntryRow.action == "scans_purged")).all()
    assert purges == [{"count": 1}]
