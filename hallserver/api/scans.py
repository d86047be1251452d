"""Document scans: the terminal that pushed an operation uploads its scans' bytes in pieces
(resumable, exactly once); a supervisor of the hall lists and views them, each view audited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response

from hallcore.domain.text import Text
from hallcore.wire import MAX_SCAN_BYTES, UUID_PATTERN, ScanList, ScanStatus
from hallserver.api.deps import CallerDep, SessionDep, SupervisorDep, WriteSessionDep
from hallserver.api.errors import ApiError
from hallserver.scans import (
    ScanHashMismatch,
    ScanNotFound,
    ScanNotReceived,
    ScanOutOfOrder,
    ScanPastSize,
    ScanPurged,
    operation_scans,
    receive_piece,
    scan_status,
    view_scan,
)

router = APIRouter(tags=["scans"])

ScanId = Annotated[str, Path(pattern=UUID_PATTERN)]
# The offset of the request's bytes (the body) in the scan.
RECEIVED_HEADER = "X-Scan-Received"


def _purged() -> ApiError:
    return ApiError(410, "scan_purged", Text(
        "该扫描件已超过保存期限，内容已删除",
        "the scan was kept for the retention period and its content is deleted"))


def _not_found(scan_id: str) -> ApiError:
    # The same answer for another hall's or terminal's scan: whether it exists is not told.
    return ApiError(404, "scan_not_found", Text(
        f"没有编号为 {scan_id} 的扫描件", f"no document scan {scan_id}"))


@router.put("/scans/{scan_id}", response_model=ScanStatus)
def upload_piece(
    caller: CallerDep, session: WriteSessionDep, scan_id: ScanId,
    offset: Annotated[int, Query(ge=0, le=MAX_SCAN_BYTES)],
    piece: Annotated[bytes, Body(media_type="application/octet-stream")],
) -> ScanStatus:
    """Bytes of a scan the caller's terminal announced with an operation, starting at
    `offset`. A repeat changes nothing; a piece that does not continue what was received is
    409 with the offset to resume from (also in the X-Scan-Received header); a hash that does
    not match once complete is 422 and the upload starts over; a scan past its retention is
    410 (nothing more is kept)."""
    try:
        status = receive_piece(session, caller, scan_id, offset, piece, datetime.now(UTC))
    except ScanNotFound:
        raise _not_found(scan_id) from None
    except ScanPurged:
        raise _purged() from None
    except ScanPastSize:
        raise ApiError(413, "scan_past_size", Text(
            "扫描件内容超出上传业务时申报的大小", "the bytes go past the scan's announced size"
        )) from None
    except ScanOutOfOrder as gap:
        raise ApiError(409, "scan_out_of_order", Text(
            f"扫描件已收到 {gap.received} 字节，请从该位置继续上传",
            f"{gap.received} bytes of the scan were received: continue from there"),
            headers={RECEIVED_HEADER: str(gap.received)}) from None
    except ScanHashMismatch:
        session.commit()  # what was received is dropped
        raise ApiError(422, "scan_hash_mismatch", Text(
            "扫描件内容与申报的校验值不符，已丢弃，请重新上传",
            "the scan does not match its announced hash: it was dropped, upload it again"),
            headers={RECEIVED_HEADER: "0"}) from None
    session.commit()
    return status


@router.get("/scans/{scan_id}/status", response_model=ScanStatus)
def upload_status(caller: CallerDep, session: SessionDep, scan_id: ScanId) -> ScanStatus:
    """How much of a scan of the caller's terminal the server holds."""
    try:
        return scan_status(session, caller, scan_id)
    except ScanNotFound:
        raise _not_found(scan_id) from None


@router.get("/scans", response_model=ScanList)
def list_scans(caller: SupervisorDep, session: WriteSessionDep,
               operation_id: Annotated[str, Query(pattern=UUID_PATTERN)]) -> ScanList:
    """The scans of an operation of the supervisor's hall (what they are, not what they show);
    the listing is audited."""
    try:
        scans = operation_scans(session, caller, operation_id, datetime.now(UTC))
    except ScanNotFound:
        raise ApiError(404, "operation_not_found", Text(
            f"本营业厅没有编号为 {operation_id} 的业务",
            f"no operation {operation_id} at your hall")) from None
    session.commit()
    return ScanList(operation_id=operation_id, scans=scans)


@router.get("/scans/{scan_id}/content", response_class=Response, responses={
    200: {"content": {"image/jpeg": {}, "image/png": {}},
          "description": "the scan as it was taken"}})
def scan_content(caller: SupervisorDep, session: WriteSessionDep, scan_id: ScanId
                 ) -> Response:
    """A scan of the supervisor's hall, to look at; the view is audited."""
    try:
        scan = view_scan(session, caller, scan_id, datetime.now(UTC))
    except ScanNotFound:
        raise _not_found(scan_id) from None
    except ScanPurged:
        raise _purged() from None
    except ScanNotReceived:
        raise ApiError(409, "scan_not_received", Text(
            "该扫描件尚未从柜台终端完整上传，请稍后再看",
            "the counter terminal has not uploaded the whole scan yet; look again later"
        )) from None
    session.commit()
    return Response(scan.content, media_type=scan.media_type,
                    # The bytes are the terminal's: never taken for anything but an image.
                    headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
