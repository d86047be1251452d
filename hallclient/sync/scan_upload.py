"""Uploading the document scans of pushed operations (PUT /scans/{scan_id}), after the push
of each sync round.

A scan goes once the server has stored its operation (answered applied, conflict or rejected;
not one refused unproven, which the server never stored, nor one still in the outbox): its
bytes in pieces, each acknowledged piece recorded (`ScanRow.uploaded`), so that an upload cut
midway resumes from what the server holds. The server takes a repeated piece as nothing new,
so a piece whose answer was lost is simply sent again: each byte is kept exactly once. While
the server cannot be reached the scans wait, as the outbox does."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from hallclient.store.models import OutboxRow, ScanRow
from hallclient.sync.api import ServerRefused

if TYPE_CHECKING:
    from hallclient.store.cache import Cache
    from hallclient.sync.engine import Credentials

log = logging.getLogger(__name__)

PIECE_BYTES = 256 * 1024
# The outbox states of operations the server answered having stored them.
_STORED = ("applied", "conflict", "rejected")


@dataclass(frozen=True, slots=True)
class _Scan:
    scan_id: str
    size: int
    uploaded: int
    content: bytes


def _waiting(cache: Cache) -> list[str]:
    """The scans to upload now: pending, their operation stored by the server."""
    with cache.read() as session:
        rows = session.execute(
            select(ScanRow.scan_id, OutboxRow.result)
            .join(OutboxRow, OutboxRow.operation_id == ScanRow.operation_id)
            .where(ScanRow.state == "pending", OutboxRow.state.in_(_STORED))
            .order_by(ScanRow.created_at, ScanRow.scan_id)).all()
    # A refusal with a code stored nothing (a foreign receipt number, a bad signature...).
    return [scan_id for scan_id, result in rows if not (result or {}).get("code")]


def _load(cache: Cache, scan_id: str) -> _Scan:
    with cache.read() as session:
        row = session.get(ScanRow, scan_id)
        assert row is not None
        return _Scan(row.scan_id, row.size, row.uploaded, row.content)


def _record(cache: Cache, scan_id: str, received: int, complete: bool) -> None:
    """What the server acknowledged holding of the scan."""
    with cache.write() as session:
        session.execute(update(ScanRow).where(ScanRow.scan_id == scan_id).values(
            uploaded=received, state="uploaded" if complete else "pending"))


def upload_scans(cache: Cache, credentials: Credentials, *,
                 piece_bytes: int = PIECE_BYTES) -> int:
    """Upload the scans waiting; returns how many the server now holds complete. Raises
    ServerUnreachable (or LoginNeeded) as the push does: the rest waits for the next round."""
    complete = 0
    for scan_id in _waiting(cache):
        complete += _upload(cache, credentials, _load(cache, scan_id), piece_bytes)
    return complete


def _upload(cache: Cache, credentials: Credentials, scan: _Scan, piece_bytes: int) -> bool:
    api = credentials.api
    offset = scan.uploaded
    # Enough turns for every piece twice (the server telling where to resume once) and more.
    for _ in range(2 * (scan.size // piece_bytes + 2)):
        try:
            if offset >= scan.size:  # every byte sent, the last answer lost
                status = credentials.call(partial(api.scan_status, scan.scan_id))
            else:
                status = credentials.call(partial(
                    api.upload_scan_piece, scan.scan_id, offset,
                    scan.content[offset:offset + piece_bytes]))
        except ServerRefused as refused:
            if refused.status == 409:
                # Not where the server is (another copy of this terminal went on): ask.
                status = credentials.call(partial(api.scan_status, scan.scan_id))
            elif refused.status == 422 and refused.error is not None and (
                    refused.error.code == "scan_hash_mismatch"):
                log.warning("scan %s: the server dropped it (hash mismatch); sent again "
                            "from the start at the next round", scan.scan_id)
                _record(cache, scan.scan_id, 0, False)
                return False
            else:
                # Unknown to the server (a database restored before its operation came):
                # it is announced again when the operation is pushed again.
                log.warning("scan %s: the server refused it (HTTP %s); tried again at the "
                            "next round", scan.scan_id, refused.status)
                return False
        _record(cache, scan.scan_id, status.received, status.complete)
        if status.complete:
            return True
        offset = status.received
    log.warning("scan %s: no progress; tried again at the next round", scan.scan_id)
    return False
