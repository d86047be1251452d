"""Customer SMS: delivered once, retried with backoff, never sent twice by parallel workers."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hallserver.models import NotificationRow
from hallserver.notifications import LogFileGateway, deliver_due


def notes(engine):
    with Session(engine) as s:
        return s.scalars(select(NotificationRow).order_by(NotificationRow.id)).all()


class FlakyGateway:
    def __init__(self, failures):
        self.failures = failures
        self.sent = []

    def send(self, notification_id, phone, text, handing_over):
        if self.failures:
            self.failures -= 1
            raise ConnectionError("gateway unreachable")
        handing_over(1)
        self.sent.append(notification_id)
        return []


def test_due_notices_are_delivered_to_the_log(queued, tmp_path):
    log = tmp_path / "sms.log"
    assert deliver_due(queued, LogFileGateway(log)) == (5, 0)
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [line["phone"] for line in lines] == ["13800138000"] * 5
    assert all("已受理" in line["text"] for line in lines)
    assert {n.state for n in notes(queued)} == {"sent"}
    assert deliver_due(queued, LogFileGateway(log)) == (0, 0)


def test_failed_send_is_kept_with_its_error_and_retried_later(queued):
    gateway = FlakyGateway(failures=5)
    now = datetime.now(UTC)
    assert deliver_due(queued, gateway, now=now) == (0, 5)
    failed = notes(queued)
    assert {n.state for n in failed} == {"pending"}
    assert all("gateway unreachable" in n.last_error and n.attempts == 1 for n in failed)
    # Not before the backoff has passed...
    assert deliver_due(queued, gateway, now=now + timedelta(seconds=5)) == (0, 0)
    # ...then delivered.
    assert deliver_due(queued, gateway, now=now + timedelta(minutes=1)) == (5, 0)
    assert {n.state for n in notes(queued)} == {"sent"}


def test_backoff_grows_with_each_failure(queued):
    with Session(queued) as s, s.begin():
        for row in s.scalars(select(NotificationRow).where(NotificationRow.id > 1)):
            s.delete(row)
    gateway = FlakyGateway(failures=100)
    now = datetime.now(UTC)
    waits = []
    for _ in range(4):
        deliver_due(queued, gateway, now=now, limit=1)
        row = notes(queued)[0]
        next_at = row.next_attempt_at.replace(tzinfo=row.next_attempt_at.tzinfo or UTC)
        waits.append(next_at - now)
        now = next_at
    assert waits == [timedelta(seconds=30 * 2**i) for i in range(4)]


def test_parallel_workers_never_send_a_notice_twice(queued):
    sent = []
    lock = threading.Lock()

    class Recording:
        def send(self, notification_id, phone, text, handing_over):
            handing_over(1)
            with lock:
                sent.append(notification_id)
            return []

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda _: deliver_due(queued, Recording()), range(6)))
    assert sorted(sent) == [n.id for n in notes(queued)]
    assert len(sent) == 5


def test_a_worker_that_died_mid_send_is_taken_over_after_the_claim_timeout(queued):
    with Session(queued) as s, s.begin():
        for row in s.scalars(select(NotificationRow)):
            row.state = "sending"
            row.claimed_at = datetime.now(UTC) - timedelta(minutes=10)
    gateway = FlakyGateway(failures=0)
    assert deliver_due(queued, gateway) == (5, 0)
