"""Claims: "this account is being changed at hall X".

The terminal claims an account when a form opens on it and releases it when the form closes;
online only, never queued (a claim sent late would tell colleagues something no longer true).
The district's claims of other terminals arrive with the waiting pull (worker.py) and are kept
here, in memory, for the counter's notice. A claim only informs: the clerk may go on, and the
server's conflict handling stays as it is.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from hallclient.sync.api import NotAuthenticated, ServerApi, ServerRefused, ServerUnreachable
from hallcore.domain.deadlines import HALL_TZ
from hallcore.domain.text import Text
from hallcore.wire import AccountClaim

log = logging.getLogger(__name__)

_Key = tuple[str, str, str]  # account number, hall id, terminal id


def claim_notice(claim: AccountClaim) -> Text:
    since = claim.since.astimezone(HALL_TZ).strftime("%H:%M")
    return Text(f"此账户正在{claim.hall_name}办理业务（自{since}）",
                f"This account is being changed at hall {claim.hall_name} (since {since})")


class ClaimBoard:
    """The district's standing claims of the other terminals, and this terminal's own claims
    sent to the server one at a time off the caller's thread."""

    def __init__(self, api: ServerApi, hall_id: str, terminal_id: str) -> None:
        self.api = api
        self.hall_id, self.terminal_id = hall_id, terminal_id
        self._lock = threading.Lock()
        self._claims: dict[_Key, AccountClaim] = {}
        self.cursor = 0  # the claims cursor of the next waiting pull
        self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hallclient-claims")

    def take(self, claims: list[AccountClaim], cursor: int) -> None:
        """What a pull said of the district's claims changed after `self.cursor`."""
        with self._lock:
            for claim in claims:
                key = (claim.account_number, claim.hall_id, claim.terminal_id)
                if (claim.hall_id, claim.terminal_id) == (self.hall_id, self.terminal_id):
                    continue
                if claim.released:
                    self._claims.pop(key, None)
                else:
                    self._claims[key] = claim
            self.cursor = cursor

    def standing(self, account_number: str, now: datetime | None = None) -> list[AccountClaim]:
        """The other terminals' claims of the account that have not expired, oldest first."""
        now = now or datetime.now(UTC)
        with self._lock:
            found = [c for (number, _, _), c in self._claims.items()
                     if number == account_number and c.expires_at > now]
        return sorted(found, key=lambda c: c.since)

    def claim(self, account_number: str) -> None:
        self._sender.submit(self._send, self.api.claim, account_number)

    def release(self, account_number: str) -> None:
        self._sender.submit(self._send, self.api.release, account_number)

    def close(self) -> None:
        self._sender.shutdown(wait=False, cancel_futures=True)

    @staticmethod
    def _send(request: Callable[[str], object], account_number: str) -> None:
        try:
            request(account_number)
        except (ServerUnreachable, NotAuthenticated, ServerRefused) as exc:
            # Offline, or the session is renewed by the next sync: nothing waits to be sent.
            log.info("account claim not sent: %s", type(exc).__name__)
