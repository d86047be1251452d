"""One customer at the counter, from the first search keystroke (or the clerk's "Next
customer") to the next customer or the customer's rating.

Its clock gives each request's handling time: the customer's time at the counter up to the
submit. Timed from the business key alone, the search, the questions and the checking of the
ID document before it went uncounted and the hall's handling-time figure came out too low.
"""

from __future__ import annotations

import time
from collections.abc import Callable

MAX_HANDLING_SECONDS = 86_400  # the wire's limit: a day


class CustomerSession:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._started_at: float | None = None
        self.visit = 0  # which customer: what comes late (a rating) ends only its own visit

    @property
    def running(self) -> bool:
        return self._started_at is not None

    def begin(self) -> None:
        """The customer's visit starts now, unless it already has."""
        if self._started_at is None:
            self._start()

    def next_customer(self) -> None:
        """The clerk calls the next customer: this visit ends and the next one starts."""
        self._start()

    def end(self, visit: int) -> None:
        """The customer of `visit` has rated the service: that visit is over, unless the next
        customer's has started meanwhile."""
        if visit == self.visit:
            self._started_at = None

    def _start(self) -> None:
        self.visit += 1
        self._started_at = self._clock()

    def handling_seconds(self) -> int | None:
        """Whole seconds since the visit started; None when no visit is running."""
        if self._started_at is None:
            return None
        return min(int(self._clock() - self._started_at), MAX_HANDLING_SECONDS)
