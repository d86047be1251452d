"""A simulated ID card reader: a pseudo-terminal that speaks the readers' serial protocol, so
the serial backend reads it exactly as it reads a reader on /dev/ttyUSB0. It drives the demo
(`hallclient --demo`: a button lays the next demo card on it) and the tests, which also make it
fail as readers fail: no card, a bad checksum, an answer that stops half way, the reader
unplugged in the middle of a frame.

Its cards come from the demo data: holders of accounts the demo's server seeded (a read finds
them), a new holder for a transfer, an expired card, a name of rare characters. Their photo is
the simulator's own small PNG, made at start; a real card's photo is in the vendor's WLT
format, which only the vendor's library decodes.
"""

from __future__ import annotations

import io
import os
import select
import threading
import tty
from collections.abc import Iterable
from datetime import date, timedelta
from enum import Enum

from hallclient.devices.idcard import PHOTO_BYTES, CardData, encode_base_text
from hallclient.devices.idcard_serial import (
    CARD_FOUND,
    DONE,
    FIND_CARD,
    NO_CARD,
    PREAMBLE,
    READ_BASE,
    SELECT_CARD,
    SELECT_FAILED,
    SerialCardReader,
    frame,
)
from hallcore.domain.accounts import Account, AccountStatus
from hallcore.domain.ids import IdDocType, make_resident_id

_TICK_SECONDS = 0.02  # how soon the simulator notices that it is to stop


class Fault(Enum):
    """How the next read of the base message goes wrong."""

    BAD_CHECKSUM = "bad_checksum"
    SHORT_FRAME = "short_frame"  # half the answer, then silence
    UNPLUG = "unplug"  # half the answer, then the reader is gone


class CardSimulator:
    """A reader on a pseudo-terminal: `port` is the path the serial backend opens. `lay(card)`
    puts a card on it, read once and then taken off (a reader reads a card once per laying)."""

    def __init__(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # bytes as sent: no echo, no line editing
        self.port = os.ttyname(self._slave)
        self._fds: tuple[int, ...] = (self._master, self._slave)  # open until unplugged
        self._card: CardData | None = None
        self._fault: Fault | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="idcard-simulator",
                                        daemon=True)
        self._thread.start()

    def lay(self, card: CardData | None, *, fault: Fault | None = None) -> None:
        """`card` on the reader (None: nothing); `fault` spoils the read of its text."""
        with self._lock:
            self._card, self._fault = card, fault

    @property
    def card(self) -> CardData | None:
        with self._lock:
            return self._card

    def unplug(self) -> None:
        """The reader is gone: its end of the line closes."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()
        with self._lock:
            fds, self._fds = self._fds, ()
        for fd in fds:
            os.close(fd)

    close = unplug

    # --- the reader's side of the line -------------------------------------------------------

    def _serve(self) -> None:
        pending = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], _TICK_SECONDS)
            if not ready:
                continue
            try:
                pending += os.read(self._master, 4096)
            except OSError:
                return
            while (request := _take_request(pending)) is not None:
                request_bytes, pending = request
                if not self._answer(request_bytes):
                    return

    def _answer(self, command: bytes) -> bool:
        """Answer one command; False once the reader is unplugged."""
        with self._lock:
            card, fault = self._card, self._fault
            if command == READ_BASE and card is not None:
                self._card = self._fault = None  # read once
        if card is None:
            answer = frame(_status({FIND_CARD: NO_CARD, SELECT_CARD: SELECT_FAILED}.get(
                command, NO_CARD)))
        elif command == FIND_CARD:
            answer = frame(_status(CARD_FOUND) + bytes(4))
        elif command == SELECT_CARD:
            answer = frame(_status(DONE) + bytes(8))
        else:
            answer = frame(_status(DONE) + base_message(card))
        if fault is Fault.BAD_CHECKSUM and command == READ_BASE:
            answer = answer[:-1] + bytes([answer[-1] ^ 0xFF])
        elif fault in (Fault.SHORT_FRAME, Fault.UNPLUG) and command == READ_BASE:
            answer = answer[:len(answer) // 2]
        os.write(self._master, answer)
        if fault is Fault.UNPLUG and command == READ_BASE:
            self.unplug()
            return False
        return True


def _status(sw3: int) -> bytes:
    return bytes([0, 0, sw3])


def _take_request(pending: bytes) -> tuple[bytes, bytes] | None:
    """The command of the first whole request in `pending` and what follows it."""
    start = pending.find(PREAMBLE)
    if start < 0 or len(pending) < start + len(PREAMBLE) + 2:
        return None
    at = start + len(PREAMBLE)
    length = int.from_bytes(pending[at:at + 2], "big")
    end = at + 2 + length
    if len(pending) < end:
        return None
    return pending[at + 2:at + 4], pending[end:]


def base_message(card: CardData) -> bytes:
    """The answer's data to "read the base message": the lengths, the text, the photo."""
    photo = (card.photo or b"")[:PHOTO_BYTES].ljust(PHOTO_BYTES, b"\0")
    text = encode_base_text(card)
    return len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big") + text + photo


class SimulatedReader(SerialCardReader):
    """The serial backend over a simulator of its own, for `id_reader: simulated`."""

    def __init__(self, cards: Iterable[CardData] = (), **timing: float) -> None:
        self.simulator = CardSimulator()
        super().__init__(self.simulator.port, **timing)
        self.cards = tuple(cards)
        self.laid = 0  # how many of `cards` were laid on the reader

    def lay_next(self) -> CardData | None:
        """Lay the next of `cards` on the reader, round and round; None without cards."""
        if not self.cards:
            return None
        card = self.cards[self.laid % len(self.cards)]
        self.laid += 1
        self.simulator.lay(card)
        return card

    def shut_down(self) -> None:
        """The port, then the simulator: at the application's end."""
        super().close()
        self.simulator.close()


# --- the demo's cards --------------------------------------------------------------------------

_AUTHORITY = "广州市公安局天河分局"
RARE_NAME = "王\U0002C317\u4DAE"  # 王𬌗䶮: URO, Extension E, Extension A — all printable
# The new holder of the sample transfer (hallclient/samples.py).
NEW_HOLDER = ("林晓燕", "440106199203154429", "广州市天河区体育西路103号维多利广场B座2501房")


def simulated_photo() -> bytes:
    """The simulator's own photo: a head and shoulders in grey, as a PNG under 1 KB."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (102, 126), 235)
    draw = ImageDraw.Draw(image)
    draw.ellipse((31, 18, 71, 66), fill=120)
    draw.pieslice((11, 70, 91, 170), 180, 360, fill=90)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    photo = out.getvalue()
    assert len(photo) <= PHOTO_BYTES
    return photo


def card_of(name: str, number: str, address: str, *, valid_until: date | None,
            photo: bytes | None) -> CardData:
    """A card for a resident ID number: the birth date and sex the number holds."""
    birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    valid_from = (valid_until or birth + timedelta(days=365 * 46)) - timedelta(days=365 * 20)
    return CardData(
        name=name, sex="男" if int(number[16]) % 2 else "女", nation="汉", birth_date=birth,
        address=address[:35], id_number=number, authority=_AUTHORITY, valid_from=valid_from,
        valid_until=valid_until, photo=photo)


def demo_cards(accounts: Iterable[Account], today: date) -> tuple[CardData, ...]:
    """The demo's cards: two holders of active accounts among `accounts` (with a valid resident
    ID card on record), the sample transfer's new holder, an expired card and a rare name."""
    photo = simulated_photo()
    holders = [a for a in accounts if a.status is AccountStatus.ACTIVE
               and a.id_type is IdDocType.RESIDENT_ID and a.id_number is not None
               and (a.id_valid_until is None or a.id_valid_until >= today)][:2]
    cards = [card_of(a.holder_name, a.id_number or "", a.supply_address,
                     valid_until=a.id_valid_until, photo=photo) for a in holders]
    name, number, address = NEW_HOLDER
    cards.append(card_of(name, number, address, valid_until=date(today.year + 9, 6, 30),
                         photo=photo))
    expired = card_of("黄志强", make_resident_id("440104", date(1968, 3, 9), 135),
                      "广州市越秀区环市东路339号", valid_until=today - timedelta(days=40),
                      photo=photo)
    rare = card_of(RARE_NAME, make_resident_id("440106", date(1990, 10, 2), 246),
                   "广州市天河区天河路208号天河城公寓5栋802房", valid_until=None, photo=photo)
    return (*cards, expired, rare)
