"""Customer SMS through an SMPP 3.4 gateway (tests/support/smpp_sim.py): delivery reports, a
message never sent twice when its answer is lost, per-number limits, quiet hours, long
Chinese messages, a gateway that is down, and only mainland mobiles."""

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hallcore.domain.business import Notice
from hallcore.domain.deadlines import HALL_TZ
from hallcore.wire import AccountWire
from hallserver.__main__ import main
from hallserver.models import AuditEntryRow, NotificationRow, SmsSegmentRow
from hallserver.notifications import (
    REFERENCE_MODULO,
    LogFileGateway,
    SmsRecorder,
    deliver_due,
    queue_notices,
    sms_number,
)
from hallserver.settings import ServerSettings, SettingsError
from hallserver.smpp import GatewayUnavailable, SmppConfig, SmppGateway
from hallserver.sms_policy import SmsPolicy
from tests.support.smpp_sim import SmppSimulator

PHONE = "13800138000"
# The reports' "done date" (2612081201, China time).
REPORTED = datetime(2026, 12, 8, 4, 1, tzinfo=UTC)
LONG_CHINESE = ("【供电营业厅】您的新装用电申请已受理，受理号GZ-TH-01-T01-000123。现场勘查将在三个"
                "工作日内完成，请保持电话畅通；如需改约，请拨打95598或到营业厅办理。") * 2


@pytest.fixture
def sim():
    simulator = SmppSimulator()
    yield simulator
    simulator.stop()


def gateway_to(engine, port, password="secret"):
    gateway = SmppGateway(SmppConfig("127.0.0.1", port, "hall", password, response_seconds=1,
                                     retry_seconds=0.2), SmsRecorder(engine))
    gateway.start()
    return gateway


@pytest.fixture
def smpp(queued, sim):
    gateway = gateway_to(queued, sim.port)
    yield gateway
    gateway.close()


def notes(engine):
    with Session(engine) as s:
        return s.scalars(select(NotificationRow).order_by(NotificationRow.id)).all()


def keep_only(engine, count):
    """Only the first `count` queued notices."""
    with Session(engine) as s, s.begin():
        for row in s.scalars(select(NotificationRow).order_by(NotificationRow.id)).all()[count:]:
            s.delete(row)


def add_notices(engine, notice, text="短信"):
    """One more notice of each queued operation, due now."""
    now = datetime.now(UTC)
    with Session(engine) as s, s.begin():
        for op in sorted({n.operation_id for n in s.scalars(select(NotificationRow))}):
            s.add(NotificationRow(operation_id=op, notice=notice, phone=PHONE, text=text,
                                  queued_at=now, next_attempt_at=now))


def wait_for(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("not so within the time")


def reference(row):
    return row.id % REFERENCE_MODULO


def at_hall_time(hour):
    """The next such hour of the hall's clock after the notices were queued."""
    day = (datetime.now(HALL_TZ) + timedelta(days=1)).date()
    return datetime(day.year, day.month, day.day, hour, tzinfo=HALL_TZ).astimezone(UTC)


# --- delivery and reports --------------------------------------------------------------------


def test_each_message_goes_once_and_its_delivery_report_is_recorded(queued, sim, smpp):
    assert deliver_due(queued, smpp) == (5, 0)
    wait_for(lambda: {n.state for n in notes(queued)} == {"delivered"})
    rows = notes(queued)
    assert [sim.count(reference(n)) for n in rows] == [1] * 5
    assert {s.destination for s in sim.submits} == {"86" + PHONE}
    by_reference = {s.reference: s.message_id for s in sim.submits}
    for row in rows:
        assert row.gateway_message_id == by_reference[reference(row)]
        assert (row.delivery_state, row.delivery_at, row.parts) == ("DELIVRD", REPORTED, 1)
        assert row.sent_at is not None
    # The report is recorded, then its deliver_sm_resp sent: the gateway counts it a moment
    # after the row says delivered.
    wait_for(lambda: sim.acked_reports == 5)
    assert deliver_due(queued, smpp) == (0, 0)


def test_an_undelivered_report_is_recorded_as_such(queued, sim, smpp):
    keep_only(queued, 1)
    sim.report_state = "UNDELIV"
    assert deliver_due(queued, smpp) == (1, 0)
    wait_for(lambda: notes(queued)[0].state == "undelivered")
    assert notes(queued)[0].delivery_state == "UNDELIV"


def test_a_lost_answer_is_not_sent_again_and_a_late_report_settles_it(queued, sim, smpp):
    keep_only(queued, 1)
    sim.drop_responses, sim.reports = True, "after_reconnect"
    now = datetime.now(UTC)
    assert deliver_due(queued, smpp, now=now) == (0, 1)
    [row] = notes(queued)
    assert (row.state, row.gateway_message_id) == ("submitted", None)
    assert "no answer" in row.last_error
    # Later rounds, even after the claim timeout, leave it alone.
    assert deliver_due(queued, smpp, now=now + timedelta(minutes=30)) == (0, 0)
    assert sim.count(reference(row)) == 1
    # The connection drops; on the next bind the gateway sends the report, matched by the
    # reference the message carried.
    sim.disconnect_all()
    wait_for(lambda: notes(queued)[0].state == "delivered")
    [row] = notes(queued)
    assert (row.delivery_state, row.delivery_at) == ("DELIVRD", REPORTED)
    assert row.sent_at == row.submitted_at
    assert sim.binds == 2 and sim.count(reference(row)) == 1


def test_a_report_after_a_reconnect_is_matched_by_its_message_id(queued, sim, smpp):
    keep_only(queued, 1)
    sim.reports, sim.echo_reference = "after_reconnect", False
    assert deliver_due(queued, smpp) == (1, 0)
    assert notes(queued)[0].state == "sent"
    sim.disconnect_all()
    wait_for(lambda: notes(queued)[0].state == "delivered")
    assert notes(queued)[0].gateway_message_id == sim.submits[0].message_id


def test_without_answer_nor_report_it_is_left_to_the_operator_never_sent_twice(
        queued, sim, smpp, capsys):
    keep_only(queued, 1)
    sim.close_after_submit, sim.reports = True, "none"
    now = datetime.now(UTC)
    assert deliver_due(queued, smpp, now=now) == (0, 1)
    [row] = notes(queued)
    assert row.state == "submitted" and "connection lost" in row.last_error
    window = SmsPolicy().confirm_window
    assert deliver_due(queued, smpp, now=now + window - timedelta(minutes=1)) == (0, 0)
    assert notes(queued)[0].state == "submitted"
    assert deliver_due(queued, smpp, now=now + window + timedelta(minutes=1)) == (0, 0)
    assert notes(queued)[0].state == "unconfirmed"
    assert deliver_due(queued, smpp, now=now + 2 * window) == (0, 0)
    assert sim.count(reference(row)) == 1
    # The operator sees it (the phone masked) and decides to send it again.
    url = str(queued.url.render_as_string(hide_password=False))
    assert main(["sms", "unconfirmed", "--db", url]) == 0
    listing = capsys.readouterr().out
    assert f"{row.id:>8}" in listing and "138****8000" in listing and PHONE not in listing
    assert main(["sms", "resend", str(row.id), "--db", url]) == 0
    with Session(queued) as s:
        assert s.scalars(select(AuditEntryRow.action)).all()[-1] == "sms_resend"
    sim.close_after_submit = False
    assert deliver_due(queued, smpp, now=datetime.now(UTC)) == (1, 0)
    assert sim.count(reference(row)) == 2
    # Only an unconfirmed one is sent again.
    assert main(["sms", "resend", str(row.id), "--db", url]) == 2
    assert "not unconfirmed" in capsys.readouterr().err


def test_a_long_chinese_message_goes_in_ucs2_segments_and_is_delivered_whole(queued, sim,
                                                                             smpp):
    keep_only(queued, 1)
    with Session(queued) as s, s.begin():
        s.execute(update(NotificationRow).values(text=LONG_CHINESE))
    assert deliver_due(queued, smpp) == (1, 0)
    wait_for(lambda: notes(queued)[0].state == "delivered")
    [row] = notes(queued)
    parts = [s for s in sim.submits if s.reference == reference(row)]
    assert len(parts) == row.parts == 3
    assert {(p.data_coding, p.esm_class) for p in parts} == {(8, 0x40)}
    assert sim.message(reference(row)) == LONG_CHINESE
    with Session(queued) as s:
        segments = s.scalars(select(SmsSegmentRow).order_by(SmsSegmentRow.part)).all()
    assert [(g.part, g.message_id, g.delivery_state) for g in segments] == [
        (i + 1, p.message_id, "DELIVRD") for i, p in enumerate(parts)]


# --- the gateway away ------------------------------------------------------------------------


def test_a_gateway_that_is_down_leaves_the_messages_pending_with_backoff(queued):
    with socket.create_server(("127.0.0.1", 0)) as unused:
        port = unused.getsockname()[1]  # nothing listens there any more
    gateway = gateway_to(queued, port)
    try:
        now = datetime.now(UTC)
        assert deliver_due(queued, gateway, now=now) == (0, 5)
        rows = notes(queued)
        assert {n.state for n in rows} == {"pending"}
        assert {n.next_attempt_at for n in rows} == {now + timedelta(seconds=30)}
        assert all("cannot be reached" in n.last_error and n.submitted_at is None
                   for n in rows)
        # The next round tries again, and backs off further.
        time.sleep(0.3)
        assert deliver_due(queued, gateway, now=now + timedelta(minutes=1)) == (0, 5)
        assert {n.attempts for n in notes(queued)} == {2}
    finally:
        gateway.close()


def test_a_refused_bind_says_what_to_check(queued, sim):
    gateway = SmppGateway(SmppConfig("127.0.0.1", sim.port, "hall", "wrong"),
                          SmsRecorder(queued))
    with pytest.raises(GatewayUnavailable, match=r"refused the bind as 'hall'.*PASSWORD"):
        gateway.connect()
    assert deliver_due(queued, gateway) == (0, 5)
    assert {n.state for n in notes(queued)} == {"pending"}


def test_notify_delivers_through_the_configured_smpp_gateway(queued, sim, tmp_path,
                                                             monkeypatch, capsys):
    secret = tmp_path / "smpp-password"
    secret.write_text("secret\n", encoding="utf-8")
    for name, value in (("SMS_GATEWAY", "smpp"), ("SMPP_HOST", "127.0.0.1"),
                        ("SMPP_PORT", str(sim.port)), ("SMPP_SYSTEM_ID", "hall"),
                        ("SMPP_PASSWORD_FILE", str(secret)), ("SMS_QUIET_HOURS", "")):
        monkeypatch.setenv(f"HALLSERVER_{name}", value)
    url = str(queued.url.render_as_string(hide_password=False))
    assert main(["notify", "--db", url, "--once"]) == 0
    assert capsys.readouterr().out == "sent 5, failed 0\n"
    assert len(sim.submits) == 5
    secret.write_text("nope\n", encoding="utf-8")
    # A round that could not reach the gateway says so to a script: nothing was sent.
    assert main(["notify", "--db", url, "--once"]) == 1
    assert "refused the bind" in capsys.readouterr().err
    monkeypatch.delenv("HALLSERVER_SMPP_PASSWORD_FILE")
    assert main(["notify", "--db", url, "--once"]) == 2
    assert "HALLSERVER_SMPP_PASSWORD_FILE" in capsys.readouterr().err


# --- per-number limits and quiet hours -------------------------------------------------------


def test_the_eleventh_message_to_a_number_in_a_minute_waits(queued, tmp_path):
    add_notices(queued, Notice.COMPLETED.value)
    add_notices(queued, Notice.CONFLICT.value)
    gateway, now = LogFileGateway(tmp_path / "sms.log"), at_hall_time(10)
    policy = SmsPolicy(per_minute=10, per_day=12)
    assert deliver_due(queued, gateway, now=now, policy=policy) == (10, 0)
    waiting = [n for n in notes(queued) if n.state == "pending"]
    assert len(waiting) == 5
    assert {n.next_attempt_at for n in waiting} == {now + timedelta(minutes=1)}
    assert all(n.attempts == 0 for n in waiting)
    # A minute later two more fit the day's limit; the rest wait a day.
    assert deliver_due(queued, gateway, now=now + timedelta(minutes=1), policy=policy) == (2, 0)
    assert {n.next_attempt_at for n in notes(queued) if n.state == "pending"} == {
        now + timedelta(days=1)}


def test_parallel_workers_keep_to_the_per_number_limit(queued, tmp_path):
    add_notices(queued, Notice.COMPLETED.value)
    add_notices(queued, Notice.CONFLICT.value)
    gateway, now, policy = LogFileGateway(tmp_path / "sms.log"), at_hall_time(10), SmsPolicy()
    with ThreadPoolExecutor(6) as pool:
        rounds = list(pool.map(lambda _: deliver_due(queued, gateway, now=now, limit=3,
                                                     policy=policy), range(6)))
    assert sum(sent for sent, _ in rounds) == 10
    assert len((tmp_path / "sms.log").read_text(encoding="utf-8").splitlines()) == 10


def test_quiet_hours_hold_a_notice_that_can_wait_and_not_an_urgent_one(queued, tmp_path):
    keep_only(queued, 1)
    add_notices(queued, Notice.REJECTED.value, text="未能办理")
    gateway, night = LogFileGateway(tmp_path / "sms.log"), at_hall_time(22)
    assert deliver_due(queued, gateway, now=night, policy=SmsPolicy()) == (1, 0)
    accepted, rejected = notes(queued)
    assert (rejected.notice, rejected.state) == ("rejected", "sent")
    assert (accepted.state, accepted.next_attempt_at) == (
        "pending", night + timedelta(hours=10))  # 08:00 the next morning
    assert deliver_due(queued, gateway, now=night + timedelta(hours=10),
                       policy=SmsPolicy()) == (1, 0)


@pytest.mark.parametrize(("hour", "minute", "until"), [
    (21, 0, (1, 8)), (23, 59, (1, 8)), (0, 0, (0, 8)), (7, 59, (0, 8)),
    (8, 0, None), (20, 59, None)])
def test_quiet_hours_wrap_over_midnight(hour, minute, until):
    now = datetime(2026, 12, 8, hour, minute, tzinfo=HALL_TZ)
    expected = None if until is None else datetime(2026, 12, 8 + until[0], until[1],
                                                   tzinfo=HALL_TZ)
    assert SmsPolicy().quiet_until("accepted", now) == expected
    assert SmsPolicy().quiet_until("rejected", now) is None


# --- only mainland mobiles -------------------------------------------------------------------


@pytest.mark.parametrize(("phone", "queued_to"), [
    ("020-87654321", None), ("0755-2345678", None), ("+44 20 7946 0958", None),
    ("+1 415 555 0100", None), ("not a phone", None),
    ("138 0013 8000", PHONE), ("+86 138-0013-8000", PHONE)])
def test_only_a_mainland_mobile_is_sent_an_sms(queued, phone, queued_to):
    assert sms_number(phone) == queued_to
    [first] = notes(queued)[:1]
    with Session(queued) as s, s.begin():
        s.execute(update(NotificationRow).values(notice="completed"))  # free "accepted"
        account = AccountWire.model_construct(sms_consent=True, phone=phone,
                                              sms_language="zh")

        class Op:
            operation_id, business_type, receipt_no = first.operation_id, "new_connection", "R1"

        queue_notices(s, Op(), account, [Notice.ACCEPTED], datetime.now(UTC))
    added = [n.phone for n in notes(queued) if n.notice == "accepted"]
    assert added == ([] if queued_to is None else [queued_to])


def test_a_password_too_long_is_said_of_the_setting_that_gave_it(tmp_path):
    too_long = "123456789"
    given = ServerSettings(sms_gateway="smpp", smpp_host="127.0.0.1", smpp_system_id="hall",
                           smpp_password=too_long)
    with pytest.raises(SettingsError, match=r"^HALLSERVER_SMPP_PASSWORD='…'"):
        given.smpp_config()
    secret = tmp_path / "smpp-password"
    secret.write_text(too_long, encoding="utf-8")
    with pytest.raises(SettingsError, match=r"^HALLSERVER_SMPP_PASSWORD_FILE='…'"):
        given.model_copy(update={"smpp_password": None,
                                 "smpp_password_file": secret}).smpp_config()


@pytest.mark.parametrize("number", ["99999999999", "0", "-3", "seven"])
def test_resend_takes_only_the_number_of_an_sms(queued, number):
    url = str(queued.url.render_as_string(hide_password=False))
    with pytest.raises(SystemExit) as ended:
        main(["sms", "resend", number, "--db", url])
    assert ended.value.code == 2
