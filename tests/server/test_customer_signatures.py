"""The customer's handwritten signature pushed with its operation: a PNG within the limit,
bound to the receipt signature; kept with the operation, checked again by the receipt's
verification."""

import base64
import inspect
import io
import random
import uuid
from datetime import UTC, datetime

import pytest
from PIL import Image
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hallclient.counter.signature import MAX_HEIGHT, MAX_WIDTH
from hallclient.sync.engine import PUSH_BODY_BUDGET, SyncEngine, within_budget
from hallcore.domain.business import BusinessKind
from hallcore.wire import (
    MAX_PUSH_BATCH,
    MAX_SCAN_BYTES,
    MAX_SCANS,
    MAX_SIGNATURE_BYTES,
    PushOperation,
    PushRequest,
    QueueTicket,
    ScanKind,
    ScanMediaType,
    ScanRef,
    TicketSource,
)
from hallserver.models import OperationRow
from hallserver.settings import ServerSettings
from hallserver.signature_images import PNG_SIGNATURE
from tests.support.factories import NEW_CONNECTION, OTHER_ID
from tests.support.server import holder_of, logged_in, seeded_client
from tests.support.signatures import other_signature, signature

# A transfer's payload as a clerk fills every field of it.
TRANSFER_PAYLOAD = {
    "new_holder_name": "欧阳晓燕", "new_holder_id_type": "resident_id",
    "new_holder_id_number": OTHER_ID, "new_holder_phone": "13800138000",
    "new_holder_sms_consent": True, "new_holder_sms_language": "zh",
    "new_holder_id_valid_until": "2036-05-17", "carry_arrears": True}


@pytest.fixture
def th(server_engine):
    for client in seeded_client(server_engine, accounts=40, halls=1,
                                settings=ServerSettings()):
        yield logged_in(client, "GZ-TH-01", "T01", "gz-th-01-c1")


def suspend(th, **options):
    account = next(a for a in th.all_accounts() if a["status"] == "active" and a["id_number"]
                   and not a["arrears_fen"])
    return th.operation("suspend", holder_of(account), account=account, **options)


def stored(engine):
    with Session(engine) as s:
        return s.scalars(select(OperationRow)).all()


def stored_count(engine):
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(OperationRow))


def test_a_signed_operation_is_stored_with_its_signature_and_its_receipt_verifies(
        th, server_engine):
    png = signature()
    op = suspend(th, customer_signature=png)
    [result] = th.push(op)
    assert result["outcome"] == "applied"
    [row] = stored(server_engine)
    assert row.customer_signature == png
    answer = th.get(f"/receipts/{op['receipt_no']}", signature=op["receipt_signature"]).json()
    assert answer["known"] and answer["signature_valid"]


def test_a_swapped_signature_is_refused_and_stored_nowhere(th, server_engine):
    op = suspend(th, customer_signature=signature())
    op["customer_signature"] = base64.b64encode(other_signature()).decode()
    [result] = th.push(op)
    assert (result["outcome"], result["code"]) == ("rejected", "bad_signature")
    assert stored_count(server_engine) == 0


def test_a_signature_left_out_after_signing_is_refused(th, server_engine):
    op = suspend(th, customer_signature=signature())
    del op["customer_signature"]
    [result] = th.push(op)
    assert result["code"] == "bad_signature" and stored_count(server_engine) == 0


@pytest.mark.parametrize("image", [
    b"GIF89a" + b"\0" * 200,  # another picture format
    PNG_SIGNATURE + b"\0\0\0\x0dIHDR" + b"\0" * 17,  # a PNG's start with a broken header
    signature()[:20],  # cut short
])
def test_a_signature_that_is_not_a_png_is_refused_naming_the_field(th, server_engine, image):
    [result] = th.push(suspend(th, customer_signature=image))
    assert (result["outcome"], result["code"]) == ("rejected", "bad_customer_signature")
    said = result["field_errors"]["customer_signature"]
    assert "PNG" in said["en"] and "客户签名" in said["zh"]
    assert stored_count(server_engine) == 0


def test_a_signature_over_the_limit_is_refused(th, server_engine):
    png = signature()
    # Within the wire's length of base64, one byte over the image's limit.
    over = png + b"\0" * (MAX_SIGNATURE_BYTES + 1 - len(png))
    [result] = th.push(suspend(th, customer_signature=over))
    assert result["code"] == "bad_customer_signature"
    assert str(MAX_SIGNATURE_BYTES) in result["field_errors"]["customer_signature"]["en"]
    # Far over: the request itself does not match the API, the field named.
    far = suspend(th, customer_signature=png + b"\0" * MAX_SIGNATURE_BYTES)
    response = th.client.post("/api/v1/push", json={"operations": [far]}, headers=th.headers)
    assert response.status_code == 422
    assert "operations.0.customer_signature" in response.json()["fields"]
    assert stored_count(server_engine) == 0


def test_an_operation_without_a_signature_is_still_accepted(th, server_engine):
    [result] = th.push(suspend(th))
    assert result["outcome"] == "applied"
    assert stored(server_engine)[0].customer_signature is None


def test_a_signature_changed_in_the_database_fails_the_receipts_verification(
        th, server_engine):
    op = suspend(th, customer_signature=signature())
    th.push(op)
    with Session(server_engine) as s, s.begin():
        s.execute(update(OperationRow).values(customer_signature=other_signature()))
    answer = th.get(f"/receipts/{op['receipt_no']}", signature=op["receipt_signature"]).json()
    assert not answer["known"] and not answer["signature_valid"]


def _signed_op(png: bytes) -> PushOperation:
    return PushOperation(
        operation_id=str(uuid.uuid4()), business_type=BusinessKind.TRANSFER,
        account_number="1000000001", base_version=4, payload=TRANSFER_PAYLOAD,
        created_at=datetime.now(UTC), clerk="gz-th-01-c1",
        receipt_no="GZ-TH-01-T01-20261125-0001", receipt_signature="ab" * 64,
        first_contact=True, handling_seconds=600, approved_by="gz-th-01-s1",
        approval_token="t" * 64, customer_signature=base64.b64encode(png).decode(),
        ticket=QueueTicket(number="A0123", source=TicketSource.QUEUE,
                           issued_at=datetime.now(UTC), called_at=datetime.now(UTC)),
        scans=[ScanRef(scan_id=str(uuid.uuid4()), kind=ScanKind.OWNERSHIP,
                       media_type=ScanMediaType.JPEG, size=MAX_SCAN_BYTES, sha256="0" * 64)
               ] * MAX_SCANS)


def test_a_push_batch_of_the_largest_signatures_is_cut_to_fit_the_body_limit():
    # The largest image a signature can be: noise over every pixel, which deflate cannot
    # compress, written as the signature's PNGs are.
    noise = Image.frombytes("1", (MAX_WIDTH, MAX_HEIGHT),
                            random.Random(1).randbytes(MAX_WIDTH * MAX_HEIGHT // 8))
    out = io.BytesIO()
    noise.save(out, format="PNG", optimize=True)
    largest = out.getvalue()
    assert len(largest) > 13_000  # it is incompressible indeed
    batch = inspect.signature(SyncEngine).parameters["push_batch"].default
    cut = within_budget([_signed_op(largest)] * batch)
    body = PushRequest(operations=cut).model_dump_json().encode()
    assert 150 < len(cut) < batch
    assert len(body) <= PUSH_BODY_BUDGET < ServerSettings().max_body_bytes
    # One more and it would not have been within the budget: the cut is exact.
    longer = PushRequest(operations=[_signed_op(largest)] * (len(cut) + 1))
    assert len(longer.model_dump_json().encode()) > PUSH_BODY_BUDGET


def test_a_full_push_batch_of_usual_signatures_is_sent_whole():
    usual = signature()  # a name's few strokes
    batch = inspect.signature(SyncEngine).parameters["push_batch"].default
    assert len(within_budget([_signed_op(usual)] * batch)) == batch == MAX_PUSH_BATCH


def test_a_request_the_customer_must_sign_is_not_taken_without_their_signature(
        th, server_engine):
    """Transfer, closing and a new connection need the customer's signature: the counter asks
    for it, and the server does not take a terminal's word that the customer agreed. Nothing
    is stored; a request that needs none goes through without one."""
    accounts = [a for a in th.all_accounts() if a["status"] == "active" and a["id_number"]]
    unsigned = [th.operation("transfer", {**holder_of(accounts[0]), **TRANSFER_PAYLOAD},
                             account=accounts[0], customer_signature=None),
                th.operation("close", holder_of(accounts[1]), account=accounts[1],
                             customer_signature=None),
                th.operation("new_connection", NEW_CONNECTION, customer_signature=None)]
    results = th.push(*unsigned)
    assert [(r["outcome"], r["code"]) for r in results] == [
        ("rejected", "bad_customer_signature")] * 3
    said = results[0]["field_errors"]["customer_signature"]
    assert "客户签名" in said["zh"] and "customer's signature" in said["en"]
    assert stored_count(server_engine) == 0
    [suspended] = th.push(th.operation("suspend", holder_of(accounts[2]), account=accounts[2],
                                       customer_signature=None))
    assert suspended["outcome"] == "applied"
