"""The document scans of a counter request reach the server after their operation: in pieces,
resumed after a cut from what the server acknowledged, each byte kept exactly once; not before
the server stored the operation, and not for one it refused unproven."""

import itertools
import os

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hallclient.store.models import OutboxRow, ScanRow
from hallclient.store.operations import DocumentScan
from hallclient.sync.api import ServerUnreachable
from hallclient.sync.engine import LoginNeeded
from hallclient.sync.scan_upload import upload_scans
from hallcore.wire import ScanKind, ScanMediaType
from hallserver.models import ScanRow as ServerScan
from tests.support.counter import HALL, Counter
from tests.support.factories import NEW_CONNECTION
from tests.support.netfault import FaultyProxy

PIECE = 256 * 1024
CONTENT = os.urandom(PIECE * 2 + 1000)  # three pieces; its bytes are what matters here


def with_scan(counter, content=CONTENT):
    """A new connection recorded at `counter` with a scan of the applicant's ID: its id."""
    counter.record("new_connection", None, NEW_CONNECTION, scans=[
        DocumentScan(ScanKind.ID_DOCUMENT, ScanMediaType.JPEG, content)])
    with counter.cache.read() as s:
        return s.scalars(select(ScanRow.scan_id)).one()


def local(counter, scan_id):
    with counter.cache.read() as s:
        row = s.get(ScanRow, scan_id)
        return row.state, row.uploaded


def on_server(server, scan_id):
    with Session(server.engine) as s:
        row = s.get(ServerScan, scan_id)
        return None if row is None else (row.received, row.content, row.complete_at)


def test_a_sync_uploads_the_scan_after_its_operation(counters, server):
    counter = counters()
    scan_id = with_scan(counter)
    assert counter.engine.sync_once().pending == 0
    received, content, complete_at = on_server(server, scan_id)
    assert (received, content) == (len(CONTENT), CONTENT) and complete_at is not None
    assert local(counter, scan_id) == ("uploaded", len(CONTENT))


def test_a_cut_midway_resumes_from_what_the_server_acknowledged_exactly_once(
        tmp_path, counters, server):
    direct = counters()
    direct.engine.sync_once()  # the cache filled: the next rounds are push, scans, pull
    scan_id = with_scan(direct)
    # Through the proxy: the session renewed, the push, the first piece, then the second
    # piece reaches the server but its answer is lost; at the next round the piece sent
    # again reaches the server twice.
    faults = itertools.chain(["pass"] * 3, ["lose_response", "replay"],
                             itertools.repeat("pass"))
    proxy = FaultyProxy(server.port, lambda: next(faults))
    proxy.start()
    counter = Counter(tmp_path / f"{HALL}-T01", proxy.url, HALL, "T01", direct.clerk,
                      keyring=direct.keyring, timeout=2.0)
    counter.settings = direct.settings
    offsets = []
    send = counter.api.upload_scan_piece

    def sent(scan_id, offset, piece):
        offsets.append(offset)
        return send(scan_id, offset, piece)

    counter.api.upload_scan_piece = sent
    try:
        try:
            counter.engine.sync_once()
        except ServerUnreachable:
            pass
        else:
            raise AssertionError("the lost answer was not noticed")
        assert proxy.log[3] == ("lose_response", f"PUT /api/v1/scans/{scan_id}")
        assert local(counter, scan_id) == ("pending", PIECE)  # as far as acknowledged
        assert on_server(server, scan_id)[0] == 2 * PIECE  # the server has one more
        assert counter.engine.sync_once().pending == 0
        assert proxy.log[4] == ("replay", f"PUT /api/v1/scans/{scan_id}")
    finally:
        counter.close()
        proxy.stop()
    received, content, complete_at = on_server(server, scan_id)
    assert (received, content) == (len(CONTENT), CONTENT) and complete_at is not None
    assert local(counter, scan_id) == ("uploaded", len(CONTENT))
    # Three pieces, the one whose answer was lost sent again, nothing from the start again.
    assert offsets == [0, PIECE, PIECE, 2 * PIECE]


def test_offline_the_scan_waits_with_the_outbox_and_goes_when_the_server_is_back(
        counters, server):
    counter = counters()
    counter.engine.sync_once()
    scan_id = with_scan(counter)
    server.stop()
    with pytest.raises(ServerUnreachable):
        counter.engine.sync_once()
    assert local(counter, scan_id) == ("pending", 0)
    server.start()
    assert counter.engine.sync_once().pending == 0
    assert local(counter, scan_id) == ("uploaded", len(CONTENT))
    assert on_server(server, scan_id)[1] == CONTENT


def test_no_scan_goes_before_its_operation_is_stored_nor_for_one_refused_unproven(
        tmp_path, server):
    # No session, no server behind this address: an upload tried would raise.
    counter = Counter(tmp_path / "refused", "http://127.0.0.1:9", HALL, "T01", "gz-th-01-c1",
                      timeout=0.5)
    try:
        scan_id = with_scan(counter)
        assert upload_scans(counter.cache, counter.engine.credentials) == 0  # still pending
        with counter.cache.write() as s:
            s.execute(update(OutboxRow).values(state="rejected", result={
                "operation_id": "x", "outcome": "rejected", "code": "bad_signature"}))
        assert upload_scans(counter.cache, counter.engine.credentials) == 0
        assert local(counter, scan_id) == ("pending", 0)
        with counter.cache.write() as s:
            s.execute(update(OutboxRow).values(result={"operation_id": "x",
                                                       "outcome": "rejected"}))
        # A rejection the server stored: its scan is sent (here: a session is looked for).
        with pytest.raises(LoginNeeded):
            upload_scans(counter.cache, counter.engine.credentials)
    finally:
        counter.close()
