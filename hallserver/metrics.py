"""Prometheus metrics, served at /metrics (hallserver/app.py) in the text format.

Counted as they happen: requests by route template, method and status, their latency, pushes
and the outcome of each pushed operation, the sync lag of those stored, failed and throttled
logins. Read from the database at scrape time: the SMS queue.

Several uvicorn workers are several processes, each with its own counts: with
PROMETHEUS_MULTIPROC_DIR set (a directory of its own, which `hallserver serve` empties at
start), each process writes its counts there and a scrape, answered by any worker, adds them
all up (prometheus_client's multiprocess mode). Without it, the counts are the answering
process's own: right for one worker.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from hallcore.audit_chain import as_utc
from hallcore.wire import OperationResult, Outcome, PushOperation
from hallserver.models import NotificationRow
from hallserver.settings import MULTIPROC_ENV

log = logging.getLogger(__name__)

HTTP_REQUESTS = Counter("hallserver_http_requests", "HTTP requests answered, by route template, "
                        "method and status", ["route", "method", "status"])
HTTP_SECONDS = Histogram(
    "hallserver_http_request_duration_seconds", "Time to answer a request, by route template "
    "and method", ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
PUSHES = Counter("hallserver_pushes", "Pushes answered (batches of operations)")
PUSHED_OPERATIONS = Counter(
    "hallserver_push_operations", "Pushed operations by outcome (applied, duplicate, conflict, "
    "rejected) and, for one refused unproven, its code", ["outcome", "code"])
SYNC_LAG = Histogram(
    "hallserver_sync_lag_seconds", "From an operation made at the counter to its arrival at "
    "the server, of the operations stored (hours: a terminal that was offline)",
    buckets=(1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86400, 3 * 86400, 7 * 86400))
LOGIN_FAILURES = Counter("hallserver_login_failures",
                         "Wrong clerk ids or passwords: at logins and supervisors' sign-offs")
LOGINS_THROTTLED = Counter("hallserver_logins_throttled", "Logins and sign-offs refused for "
                           "too many failures (429), by whose: one clerk id's or one client "
                           "address's", ["by"])


@lru_cache(maxsize=1024)
def _request_series(route: str, method: str, status: int) -> tuple[Counter, Histogram]:
    """The request counter and latency histogram of one route, method and status: `labels`
    looks them up under a lock at each call; the routes are few (templates, not paths)."""
    return HTTP_REQUESTS.labels(route, method, str(status)), HTTP_SECONDS.labels(route, method)


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    requests, latency = _request_series(route, method, status)
    requests.inc()
    latency.observe(seconds)


def observe_push(ops: Sequence[PushOperation], results: Sequence[OperationResult]) -> None:
    """A push answered: its operations' outcomes, and the lag of those it stored (not the
    duplicates, stored before, nor those refused unproven, stored nowhere)."""
    PUSHES.inc()
    now = datetime.now(UTC)
    made = {op.operation_id: as_utc(op.created_at) for op in ops}
    for result in results:
        code = result.code.value if result.code is not None else "none"
        PUSHED_OPERATIONS.labels(result.outcome.value, code).inc()
        if result.outcome is not Outcome.DUPLICATE and result.code is None:
            # A terminal's clock may run a little ahead (the clock skew it is allowed).
            SYNC_LAG.observe(max(0.0, (now - made[result.operation_id]).total_seconds()))


class SmsQueue(Collector):
    """The customer SMS not sent yet, by state, counted at each scrape (by the index on
    state; the sent ones are not read). An unconfirmed one waits for the operator
    (`hallserver sms unconfirmed`): worth an alert."""

    STATES = ("pending", "sending", "submitted", "unconfirmed")

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterable[Metric]:
        try:
            with self.engine.connect() as conn:
                counts = {state: count for state, count in conn.execute(
                    select(NotificationRow.state, func.count())
                    .where(NotificationRow.state.in_(self.STATES))
                    .group_by(NotificationRow.state))}
        except SQLAlchemyError as exc:
            # The other metrics are still worth a scrape while the database is away.
            log.warning("SMS queue not read for /metrics: %s", type(exc).__name__)
            return
        gauge = GaugeMetricFamily("hallserver_sms_queue", "Customer SMS not sent yet: pending "
                                  "(waiting, or retrying after a failure) and sending "
                                  "(claimed by a worker)", labels=["state"])
        for state in self.STATES:
            gauge.add_metric([state], counts.get(state, 0))
        yield gauge


def exposition(engine: Engine) -> bytes:
    """Every metric, in Prometheus's text format."""
    registry: CollectorRegistry = REGISTRY
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # not annotated
    return generate_latest(registry) + generate_latest(SmsQueue(engine))
