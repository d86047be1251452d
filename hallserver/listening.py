"""A PostgreSQL LISTEN on a connection of its own, for a thread of the server process: the
waiting pulls' wake-ups (notify.py) and the callers' cache (auth_cache.py) each keep one."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from sqlalchemy import URL

log = logging.getLogger(__name__)

# How often the listening thread looks up from its connection to see whether it is to stop:
# a stopping server (and each test's app) waits up to this long for it.
LISTEN_TICK = 0.1
_RECONNECT_SECONDS = (1.0, 2.0, 5.0, 10.0)


def listen_until_stopped(url: URL, channel: str, stop: threading.Event, *, what: str,
                         on_listening: Callable[[], None],
                         on_notice: Callable[[str], None],
                         on_lost: Callable[[], None] = lambda: None) -> None:
    """LISTEN on `channel` of `url`'s database until `stop` is set: `on_listening` each time a
    connection listens (whatever was notified while none did is lost), `on_notice` with each
    notice's payload, `on_lost` when a connection ends. A connection that fails is made again
    after 1, 2, 5, then every 10 seconds; the failure is logged as listening for `what`."""
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    failures = 0
    while not stop.is_set():
        try:
            with psycopg.connect(conninfo, autocommit=True) as connection:
                connection.execute(f"LISTEN {channel}")
                failures = 0
                on_listening()
                while not stop.is_set():
                    for notice in connection.notifies(timeout=LISTEN_TICK):
                        on_notice(notice.payload)
        except psycopg.Error as exc:
            delay = _RECONNECT_SECONDS[min(failures, len(_RECONNECT_SECONDS) - 1)]
            failures += 1
            log.warning("listening for %s failed (%s); again in %.0f s", what,
                        type(exc).__name__, delay)
            stop.wait(delay)
        finally:
            on_lost()
