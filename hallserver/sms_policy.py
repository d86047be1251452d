"""When a customer SMS may go: the per-number limits, the quiet hours, and how long a message
handed to the gateway without an answer waits for a sign of it (hallserver/notifications.py
applies them when a worker claims a message)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from hallcore.domain.business import Notice
from hallcore.domain.deadlines import HALL_TZ

# Sent in the quiet hours too: the customer's request did not go through as they expect (it
# was refused, or must be checked again), and they should know before they count on it. That
# it was accepted or completed can wait for the morning.
URGENT_NOTICES = frozenset({Notice.REJECTED, Notice.CONFLICT})

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class SmsPolicy:
    # At most this many messages to one phone in any minute and in any 24 hours; one over
    # waits until it may go.
    per_minute: int = 10
    per_day: int = 50
    # China time; the start after the end wraps over midnight; equal: no quiet hours.
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    # A message handed over whose answer was lost waits this long for a late answer or a
    # delivery report before it is left to the operator ("unconfirmed").
    confirm_window: timedelta = timedelta(minutes=60)

    def quiet_until(self, notice: str, now: datetime) -> datetime | None:
        """The end of the quiet hours `now` is in, when the notice waits for it; None when it
        may go now."""
        if notice in URGENT_NOTICES or self.quiet_start == self.quiet_end:
            return None
        local = now.astimezone(HALL_TZ)
        clock, day = local.time(), local.date()
        if self.quiet_start < self.quiet_end:
            quiet = self.quiet_start <= clock < self.quiet_end
        else:
            quiet = clock >= self.quiet_start or clock < self.quiet_end
            if clock >= self.quiet_start:
                day += DAY
        if not quiet:
            return None
        return datetime.combine(day, self.quiet_end, tzinfo=HALL_TZ).astimezone(UTC)

    def limit_until(self, recent: Iterable[datetime], now: datetime) -> datetime | None:
        """When the next message to a phone may go, given when its earlier ones went (those
        of the last day are enough); None when it may go now."""
        times = sorted(recent)
        until = None
        for limit, window in ((self.per_minute, MINUTE), (self.per_day, DAY)):
            within = [t for t in times if t > now - window]
            if len(within) >= limit:
                # When enough of them have left the window for one more to fit.
                free = within[len(within) - limit] + window
                until = free if until is None else max(until, free)
        return until
