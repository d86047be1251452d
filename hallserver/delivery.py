"""The notification delivery loop, run beside the API in each server process (or alone)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from sqlalchemy import Engine

from hallserver.notifications import LogFileGateway, SmsGateway, deliver_due

log = logging.getLogger(__name__)


def default_gateway(sms_log: Path) -> SmsGateway:
    sms_log.parent.mkdir(parents=True, exist_ok=True)
    return LogFileGateway(sms_log)


class DeliveryLoop:
    """Delivers due notifications every `interval` seconds until stopped."""

    def __init__(self, engine: Engine, gateway: SmsGateway, interval: float = 5.0) -> None:
        self.engine = engine
        self.gateway = gateway
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sms-delivery", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                deliver_due(self.engine, self.gateway)
            except Exception:  # the database is away: try again next round
                log.exception("notification delivery round failed")
            self._stop.wait(self.interval)
