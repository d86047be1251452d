"""Receipt numbers: `{hall}-{terminal}-{YYYYMMDD}-{NNNN}`, the day in the halls' time zone and a
sequence per terminal and day. A terminal id holds no `-`, so a number names its terminal
unambiguously, and the server accepts from a terminal only numbers of its own."""

from __future__ import annotations

import re

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


def later(first: str | None, second: str | None, hall_id: str, terminal_id: str
          ) -> str | None:
    """The later of two numbers of one terminal (by day, then sequence); None counts as none."""
    numbers = [n for n in (first, second) if n is not None and own_number(
        n, hall_id, terminal_id) is not None]
    return max(numbers, key=lambda n: own_number(n, hall_id, terminal_id) or ("", 0),
               default=None)
