"""The customer's queue ticket (排队号): typed by the clerk, read by a barcode scanner, or
called from the hall's queue system (叫号系统).

What the ticket field takes (a barcode scanner types like a keyboard, so both arrive alike;
full-width characters, blanks and lower case are made ASCII upper case first, as ID input is):

- a ticket number: letters, digits and hyphens with at least one digit, at most 16 characters,
  e.g. ``A023`` — source ``typed`` (a scanner reading only the number cannot be told apart);
- a ticket's barcode payload ``Q:<number>:<issued at>``, e.g.
  ``Q:A023:2026-12-06T09:12:00+08:00`` — source ``scanned``, with the time the ticket was
  issued (ISO 8601; without an offset it is the halls' clock, China Standard Time).

The queue system, through a small HTTP protocol a hall can put in front of its vendor's system:

    POST {queue_url}/counters/{counter}/call          (no body)
    200 {"number": "A023",
         "issued_at": "2026-12-06T09:12:00+08:00",   ISO 8601, the ticket's issue time
         "called_at": "2026-12-06T09:31:40+08:00"}   ISO 8601, the call to this counter
    204                                               nobody is waiting

`counter` is this counter's window number in the hall (setting `queue_counter`). Any other
answer, none within a few seconds, or one that is not this JSON is a failure in words
(`QueueFailed`): the clerk types the ticket, or serves the customer without one.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import httpx

from hallclient.sync.api import trust
from hallcore.domain.deadlines import HALL_TZ
from hallcore.domain.ids import normalize_id_input
from hallcore.domain.text import InvalidInput, Text
from hallcore.wire import QueueTicket, TicketSource

# Letters, digits and hyphens (the wire's alphabet) with at least one digit: "A" alone is a
# queue's name, not a ticket.
_NUMBER = re.compile(r"(?=[A-Z-]*\d)[A-Z0-9-]{1,16}")
SCAN_PREFIX = "Q:"
# The queue system is on the hall's own network: it answers at once or not at all, and the
# clerk waits for it with the customer in front of the counter.
QUEUE_TIMEOUT = httpx.Timeout(3.0, connect=2.0)

_NOT_A_NUMBER = Text(
    "排队号应为字母和数字（如 A023），最多 16 位：请核对排队票后重新输入",
    "a ticket number is letters and digits (e.g. A023), at most 16: check the ticket and "
    "type it again")
_BAD_SCAN = Text(
    "排队票条码中的取号时间无法识别：请手工输入排队号",
    "the ticket barcode's issue time cannot be read: type the ticket number instead")


def parse_ticket(raw: str) -> QueueTicket:
    """The ticket the clerk typed or scanned; InvalidInput says what is wrong."""
    text = normalize_id_input(raw)
    if not text:
        raise InvalidInput(Text("请输入排队号（如 A023），或扫描排队票上的条码",
                                "type the ticket number (e.g. A023) or scan the ticket's "
                                "barcode"))
    if not text.startswith(SCAN_PREFIX):
        return QueueTicket(number=_number(text), source=TicketSource.TYPED)
    number, _, issued = text.removeprefix(SCAN_PREFIX).partition(":")
    try:
        issued_at = _time(issued)
    except ValueError as exc:
        raise InvalidInput(_BAD_SCAN) from exc
    return QueueTicket(number=_number(number), source=TicketSource.SCANNED, issued_at=issued_at)


def _number(text: str) -> str:
    if _NUMBER.fullmatch(text) is None:
        raise InvalidInput(_NOT_A_NUMBER)
    return text


def _time(text: str) -> datetime:
    """An ISO 8601 time; one without an offset is the halls' clock."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=HALL_TZ)


class QueueFailed(Exception):
    """The queue system gave no ticket; `reason` says so and what to do, in both languages."""

    def __init__(self, reason: Text) -> None:
        super().__init__(reason.en)
        self.reason = reason


_WITHOUT_IT = ("：请手工输入排队号，或不带排队号继续办理",
               ": type the ticket number, or serve the customer without one")


def _failed(zh: str, en: str) -> QueueFailed:
    return QueueFailed(Text(zh + _WITHOUT_IT[0], en + _WITHOUT_IT[1]))


class QueueSystem:
    """The hall's queue system, as this counter calls it (see the module's protocol)."""

    def __init__(self, base_url: str, counter: int, *,
                 timeout: httpx.Timeout | float = QUEUE_TIMEOUT,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.call_url = f"{base_url.rstrip('/')}/counters/{counter}/call"
        self._timeout = timeout
        self._transport = transport

    def call_next(self) -> QueueTicket | None:
        """The next customer's ticket, called to this counter; None when nobody waits.
        Raises QueueFailed; blocks for a few seconds at most (run it off the UI thread)."""
        try:
            with httpx.Client(timeout=self._timeout, verify=trust(),
                              transport=self._transport) as http:
                response = http.post(self.call_url)
        except httpx.TimeoutException as exc:
            raise _failed("叫号系统没有及时应答", "the queue system did not answer in time"
                          ) from exc
        except httpx.HTTPError as exc:  # refused, no route, a name not found, a cut answer
            raise _failed("连接不上叫号系统", "the queue system cannot be reached") from exc
        if response.status_code == 204:
            return None
        if response.status_code != 200:
            raise _failed("叫号系统拒绝了叫号", "the queue system refused the call")
        try:
            return _called(response.json())
        except (ValueError, TypeError, KeyError) as exc:  # pydantic's errors are ValueErrors
            raise _failed("叫号系统的应答无法识别", "the queue system's answer cannot be read"
                          ) from exc


def _called(answer: Any) -> QueueTicket:
    number = normalize_id_input(answer["number"])
    if _NUMBER.fullmatch(number) is None:
        raise ValueError("not a ticket number")
    return QueueTicket(number=number, source=TicketSource.QUEUE,
                       issued_at=_time(answer["issued_at"]),
                       called_at=_time(answer["called_at"]))
