"""The customer's queue ticket as an operation is stored, and the waiting time the server can
believe from it.

The ticket and its times come from the terminal, which had them from the hall's queue system:
input, like anything pushed. They are kept as given; the waiting time (issued → called), a KPI
figure, is counted only where the pair holds together:
- the queue system's own times (`source` queue): a typed or scanned ticket has no call time;
- issued ≤ called ≤ the operation's time plus the clock skew the server allows elsewhere (the
  queue system and the counter PC run on two clocks; a customer is called before being served);
- the wait shorter than the hall is open (its opening hours, and at most 12 hours), issued and
  called on the operation's hall day: nobody waits longer than the doors are open, and
  tickets are numbered afresh each day, so a longer wait, a wait across midnight, or a ticket
  of another day carried into today's request, is a mistake or a made-up figure that would
  bend the hall's averages.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from hallcore.audit_chain import as_utc
from hallcore.domain.deadlines import HALL_TZ, OpeningHours
from hallcore.wire import QueueTicket, TicketSource

MAX_WAIT = timedelta(hours=12)


def longest_wait(hours: OpeningHours) -> timedelta:
    """The longest wait believed at a hall open these hours."""
    day = datetime.combine(date.min, hours.closes) - datetime.combine(date.min, hours.opens)
    return min(day, MAX_WAIT)


def ticket_columns(ticket: QueueTicket | None, created_at: datetime, skew: timedelta,
                   longest: timedelta) -> dict[str, Any]:
    """The operation row's ticket columns (ticket_no … waiting_seconds), every one of them
    whether or not there is a ticket: a batch's rows are inserted together, by the same keys.
    `longest`: the hall's longest_wait."""
    if ticket is None:
        return dict.fromkeys(("ticket_no", "ticket_source", "ticket_issued_at",
                              "ticket_called_at", "waiting_seconds"))
    issued = as_utc(ticket.issued_at) if ticket.issued_at else None
    called = as_utc(ticket.called_at) if ticket.called_at else None
    return dict(ticket_no=ticket.number, ticket_source=ticket.source.value,
                ticket_issued_at=issued, ticket_called_at=called,
                waiting_seconds=waiting_seconds(ticket, created_at, skew, longest))


def waiting_seconds(ticket: QueueTicket, created_at: datetime, skew: timedelta,
                    longest: timedelta = MAX_WAIT) -> int | None:
    """Whole seconds from the ticket's issue to its call, or None where they cannot be
    believed (see the module's rules)."""
    if ticket.source is not TicketSource.QUEUE or ticket.issued_at is None or (
            ticket.called_at is None):
        return None
    issued, called, made = (as_utc(t) for t in (ticket.issued_at, ticket.called_at, created_at))
    if not issued <= called <= made + skew or called - issued >= longest:
        return None
    day = made.astimezone(HALL_TZ).date()
    if issued.astimezone(HALL_TZ).date() != day or called.astimezone(HALL_TZ).date() != day:
        return None
    return int((called - issued).total_seconds())
