"""What a receipt says of its request: where it stands when the receipt is drawn (sent, waiting
for the network, confirmed, refused) and who signed it off, on the first print and on a
reprint."""

import subprocess
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from hallclient.counter.requests import (
    CounterDesk,
    CounterRequest,
    make_request,
    reprint_receipt,
)
from hallclient.receipts.content import HallInfo
from hallclient.store.models import OutboxRow, ReceiptRow
from hallclient.store.operations import OverrideNeeded, SignOff, TerminalIdentity
from hallcore.domain.business import BusinessKind
from hallcore.domain.text import Text
from tests.support.factories import TERMINAL_KEY, account, holder_presents

NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
WAITS_FOR_NETWORK = "网络恢复后本业务将提交确认"


@pytest.fixture
def desk(one_account_cache):
    return CounterDesk(one_account_cache, TerminalIdentity("GZ-TH-01", "T01", TERMINAL_KEY),
                       "gz-th-01-c1", HallInfo("GZ-TH-01", Text("天河营业厅", "Tianhe")))


def text_of(pdf, tmp_path):
    path = tmp_path / "receipt.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    return " ".join(done.split())  # the roll wraps long lines


def suspend(online):
    return CounterRequest(BusinessKind.SUSPEND, account().number, holder_presents(),
                          online=online)


def set_outbox_state(desk, operation_id, state):
    with desk.cache.write() as s:
        s.execute(update(OutboxRow).where(OutboxRow.operation_id == operation_id)
                  .values(state=state))


def test_an_online_request_is_not_said_to_wait_for_the_network(desk, tmp_path):
    text = text_of(make_request(desk, suspend(online=True), NOW).receipt.pdf, tmp_path)
    assert WAITS_FOR_NETWORK not in text
    assert "已受理" in text and "正在提交系统确认" in text


def test_an_offline_request_says_it_waits_for_the_network(desk, tmp_path):
    text = text_of(make_request(desk, suspend(online=False), NOW).receipt.pdf, tmp_path)
    assert WAITS_FOR_NETWORK in text and "已受理（待确认）" in text


def test_a_close_signed_off_online_names_the_supervisor_and_no_network_wait(desk, tmp_path):
    close = CounterRequest(BusinessKind.CLOSE, account().number, holder_presents(),
                           online=True, online_only=frozenset({BusinessKind.CLOSE}))
    with pytest.raises(OverrideNeeded) as needed:
        make_request(desk, close, NOW)
    signed = CounterRequest(
        close.kind, close.account_number, close.payload, online=True,
        online_only=close.online_only,
        sign_off=SignOff("gz-th-01-s1", needed.value.operation_id, token="t" * 32,
                         supervisor_name="黄敏"))
    changes = make_request(desk, signed, NOW)
    text = text_of(changes.receipt.pdf, tmp_path)
    assert WAITS_FOR_NETWORK not in text
    assert "审批：主管 黄敏" in text
    copy = reprint_receipt(desk, changes.recorded.receipt_no, NOW)
    assert "审批：主管 黄敏" in text_of(copy.pdf, tmp_path)


def test_a_supervisor_whose_name_is_not_known_is_named_by_their_id(desk, tmp_path):
    request = CounterRequest(BusinessKind.CLOSE, account().number, holder_presents(),
                             online=False)
    with pytest.raises(OverrideNeeded) as needed:
        make_request(desk, request, NOW)
    changes = make_request(desk, CounterRequest(
        request.kind, request.account_number, request.payload, online=False,
        sign_off=SignOff("gz-th-01-s1", needed.value.operation_id, token="t" * 32)), NOW)
    assert "审批：主管 gz-th-01-s1" in text_of(changes.receipt.pdf, tmp_path)


def test_a_request_without_a_sign_off_names_no_supervisor(desk, tmp_path):
    assert "审批" not in text_of(make_request(desk, suspend(online=True), NOW).receipt.pdf,
                                 tmp_path)


@pytest.mark.parametrize(("state", "says", "not_said"), [
    ("applied", "已受理，已确认", WAITS_FOR_NETWORK),
    ("duplicate", "已受理，已确认", WAITS_FOR_NETWORK),
    ("conflict", "工作人员将与您联系", WAITS_FOR_NETWORK),
    ("rejected", "工作人员将与您联系", "已确认"),
    ("pending", WAITS_FOR_NETWORK, "已确认"),
])
def test_a_reprint_says_where_the_request_stands_now(desk, tmp_path, state, says, not_said):
    issued = make_request(desk, suspend(online=False), NOW)
    set_outbox_state(desk, issued.recorded.operation_id, state)
    text = text_of(reprint_receipt(desk, issued.recorded.receipt_no, NOW).pdf, tmp_path)
    assert says in text and not_said not in text
    assert "补打副本" in text and "承诺于" in text  # the committed date stays


def test_a_receipt_kept_before_states_were_kept_is_reprinted_as_it_stands_now(desk, tmp_path):
    """Receipts kept by earlier versions said "pending" and carried the network line among
    their steps, and named no supervisor: a reprint drops the stale line, and takes the
    supervisor from the outbox."""
    issued = make_request(desk, suspend(online=False), NOW)
    old = issued.receipt.content.to_json()
    for key in ("state", "approved_by", "customer_lang"):
        del old[key]
    old["pending"] = True
    old["next_steps"].append({
        "zh": "网络恢复后本业务将提交确认，如需重新办理将通知您。",
        "en": "It will be confirmed once the network is back; we will contact you should "
              "anything need redoing."})
    with desk.cache.write() as s:
        s.execute(update(ReceiptRow).values(content=old))
        s.execute(update(OutboxRow).values(state="applied", approved_by="gz-th-01-s2"))
    text = text_of(reprint_receipt(desk, issued.recorded.receipt_no, NOW).pdf, tmp_path)
    assert WAITS_FOR_NETWORK not in text and "已受理，已确认" in text
    assert "审批：主管 gz-th-01-s2" in text
    assert "承诺于" in text  # the steps it said stay


def test_the_receipt_kept_says_the_state_it_was_issued_in(desk):
    make_request(desk, suspend(online=True), NOW)
    with desk.cache.read() as s:
        kept = s.scalars(select(ReceiptRow.content)).one()
    assert kept["state"] == "sending"
