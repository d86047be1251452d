"""The ID card reader over its serial port: the SAM module's protocol that the certified
readers' vendors share.

A frame is the preamble AA AA AA 96 69, a two-byte length (big-endian) of what follows, then
the command and its parameter (to the reader) or the status SW1 SW2 SW3 (from it), the data,
and a checksum: the XOR of every byte from the length on. Commands: find a card (20 01),
select it (20 02), read its base message, text and photo (30 01). SW3 0x90 is done, 0x9F a
card found, 0x80 no card, 0x81 the card could not be selected; anything else a read error.

Every way a read can go wrong ends in one CardReaderError and no card: no answer, a short
frame or a bad checksum (the card is laid again), the port gone (the reader unplugged).
"""

from __future__ import annotations

import contextlib
import time
from functools import reduce
from operator import xor

import serial

from hallclient.devices.idcard import (
    PHOTO_BYTES,
    TEXT_BYTES,
    CardData,
    CardReaderError,
    CardUnreadable,
    NoCard,
    ReaderNotFound,
    ReaderUnplugged,
    decode_base_message,
)

PREAMBLE = bytes.fromhex("AAAAAA9669")
FIND_CARD, SELECT_CARD, READ_BASE = b"\x20\x01", b"\x20\x02", b"\x30\x01"
DONE, CARD_FOUND, NO_CARD, SELECT_FAILED = 0x90, 0x9F, 0x80, 0x81
BAUD_RATE = 115_200
# A reader answers a command within a few milliseconds and reads the card in under a second.
ANSWER_SECONDS = 2.0
POLL_SECONDS = 0.1  # between two "find a card" while none is on the reader


def checksum(body: bytes) -> int:
    return reduce(xor, body, 0)


def frame(payload: bytes) -> bytes:
    """A whole frame around `payload` (command or status, then data): its length counts the
    checksum too."""
    body = (len(payload) + 1).to_bytes(2, "big") + payload
    return PREAMBLE + body + bytes([checksum(body)])


class SerialCardReader:
    """A reader on a serial port (USB adapters: /dev/ttyUSB0, COM3)."""

    def __init__(self, port: str, *, answer_seconds: float = ANSWER_SECONDS,
                 poll_seconds: float = POLL_SECONDS) -> None:
        self.port = port
        self.answer_seconds = answer_seconds
        self.poll_seconds = poll_seconds
        self._serial: serial.Serial | None = None

    def open(self) -> None:
        try:
            self._serial = serial.Serial(self.port, BAUD_RATE, timeout=self.answer_seconds)
        except (serial.SerialException, OSError, ValueError):
            raise ReaderNotFound from None

    def close(self) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()  # may be gone with the reader

    def read_card(self, timeout: float) -> CardData:
        deadline = time.monotonic() + timeout
        while (status := self._command(FIND_CARD, answered=True)[0]) == NO_CARD:
            if time.monotonic() >= deadline:
                raise NoCard
            time.sleep(self.poll_seconds)
        if status != CARD_FOUND:
            raise CardUnreadable
        if self._command(SELECT_CARD)[0] != DONE:  # SELECT_FAILED: the card moved
            raise CardUnreadable
        status, data = self._command(READ_BASE)
        if status != DONE or len(data) < 4:
            raise CardUnreadable
        text_len, photo_len = int.from_bytes(data[:2], "big"), int.from_bytes(data[2:4], "big")
        if text_len != TEXT_BYTES or photo_len > PHOTO_BYTES or len(data) != 4 + text_len + \
                photo_len:
            raise CardUnreadable
        return decode_base_message(data[4:4 + text_len], data[4 + text_len:])

    def _command(self, command: bytes, *, answered: bool = False) -> tuple[int, bytes]:
        """Send `command`, return the answer's SW3 and data. `answered`: no answer at all means
        no reader at the port (the first command of a read); otherwise the read failed."""
        port = self._serial
        if port is None:
            raise ReaderNotFound
        try:
            port.reset_input_buffer()  # what is left of an answer given up on
            port.write(frame(command))
            return _answer(port, no_answer=ReaderNotFound() if answered else CardUnreadable())
        except CardReaderError:
            raise
        except (serial.SerialException, OSError):
            # The port went away under the read: the reader was unplugged. The next read
            # opens it again.
            self.close()
            raise ReaderUnplugged from None


def _answer(port: serial.Serial, *, no_answer: CardReaderError) -> tuple[int, bytes]:
    head = _read_exactly(port, len(PREAMBLE) + 2)
    if not head:
        raise no_answer
    if len(head) < len(PREAMBLE) + 2 or head[:len(PREAMBLE)] != PREAMBLE:
        raise CardUnreadable
    length = int.from_bytes(head[-2:], "big")
    rest = _read_exactly(port, length)
    if length < 4 or len(rest) < length:  # a short frame: the answer stopped half way
        raise CardUnreadable
    if checksum(head[-2:] + rest[:-1]) != rest[-1]:
        raise CardUnreadable
    return rest[2], rest[3:-1]


def _read_exactly(port: serial.Serial, n: int) -> bytes:
    """Up to `n` bytes, fewer when the reader stops sending for the port's timeout."""
    got = b""
    while len(got) < n:
        chunk = port.read(n - len(got))
        if not chunk:
            break
        got += chunk
    return got
