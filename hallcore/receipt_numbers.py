"""Receipt numbers: `{hall}-{terminal}-{YYYYMMDD}-{NNNN}`, the day in the halls' time zone and a
sequence per terminal and day. A terminal id holds no `-`, so a number names its terminal
unambiguously, and the server accepts from a terminal only numbers of its own."""

from __future__ import annotations

import re
from collections.abc import Iterable

_TAIL = re.compile(r"^([0-9]{8})-([0-9]{4,9})$")


def format_receipt_no(hall_id: str, terminal_id: str, day: str, seq: int) -> str:
    return f"{hall_id}-{terminal_id}-{day}-{seq:04d}"


def own_number(receipt: str, hall_id: str, terminal_id: str) -> tuple[str, int] | None:
    """(day, sequence) of `receipt` when it is a number of this hall's terminal; else None."""
    prefix = f"{hall_id}-{terminal_id}-"
    if not receipt.startswith(prefix):
        return None
    found = _TAIL.match(receipt[len(prefix):])
    if found is None or int(found[2]) == 0:
        return None
    return found[1], int(found[2])


def latest(numbers: Iterable[str | None], hall_id: str, terminal_id: str) -> str | None:
    """The latest of a terminal's numbers (by day, then sequence), each read once; None and
    another terminal's numbers count as none."""
    best, best_key = None, None
    for number in numbers:
        key = own_number(number, hall_id, terminal_id) if number is not None else None
        if key is not None and (best_key is None or key > best_key):
            best, best_key = number, key
    return best
