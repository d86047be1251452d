"""The ID card reader through its vendor's SDK library, loaded with ctypes (libsdtapi.so,
sdtapi.dll, termb.dll...): whichever of the two families the library exports.

- sdtapi: SDT_OpenPort, SDT_StartFindIDCard, SDT_SelectIDCard, SDT_ReadBaseMsg, SDT_ClosePort.
  Each answers the SAM module's status: 0x90 done, 0x9F a card found, 0x80 no card, 0x81 not
  selected; 0x01-0x05 the port is not open, no answer, a garbled line (the reader is gone).
  The base message comes back in buffers: the text, and the photo in WLT.
- termb: InitComm, Authenticate, Read_Content, CloseComm, answering 1 for done. Read_Content
  writes the card into files beside the library: wz.txt (the text) and zp.bmp (the photo,
  decoded by the library itself).

USB readers are ports 1001-1016: the first that opens is the reader.
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
import time
from pathlib import Path
from typing import Any

from hallclient.devices.idcard import (
    PHOTO_BYTES,
    TEXT_BYTES,
    CardData,
    CardUnreadable,
    NoCard,
    ReaderNotFound,
    ReaderUnplugged,
    SdkUnavailable,
    decode_base_message,
)

USB_PORTS = range(1001, 1017)
DONE, CARD_FOUND, NO_CARD = 0x90, 0x9F, 0x80
# The SAM module's answers that mean the line to the reader is gone.
LINE_GONE = frozenset({0x01, 0x02, 0x03, 0x05})
TERMB_DONE = 1
SDTAPI = ("SDT_OpenPort", "SDT_StartFindIDCard", "SDT_SelectIDCard", "SDT_ReadBaseMsg",
          "SDT_ClosePort")
TERMB = ("InitComm", "Authenticate", "Read_Content", "CloseComm")
TERMB_TEXT, TERMB_PHOTO = "wz.txt", "zp.bmp"
POLL_SECONDS = 0.1


def _load(path: str) -> Any:
    loader = ctypes.WinDLL if sys.platform == "win32" else ctypes.CDLL  # type: ignore[attr-defined]
    try:
        return loader(path)
    except OSError:  # no such file, not a library, a dependency of it missing
        raise SdkUnavailable from None


def _exports(library: Any, names: tuple[str, ...]) -> bool:
    return all(hasattr(library, name) for name in names)


class SdkCardReader:
    """A reader through the vendor library at `path`."""

    def __init__(self, path: str, *, poll_seconds: float = POLL_SECONDS) -> None:
        self.path = path
        self.poll_seconds = poll_seconds
        self._family: _Sdtapi | _Termb | None = None

    def open(self) -> None:
        library = _load(self.path)
        family: _Sdtapi | _Termb
        if _exports(library, SDTAPI):
            family = _Sdtapi(library)
        elif _exports(library, TERMB):
            family = _Termb(library, Path(self.path).resolve().parent)
        else:
            raise SdkUnavailable
        family.open()
        self._family = family

    def close(self) -> None:
        family, self._family = self._family, None
        if family is not None:
            family.close()

    def read_card(self, timeout: float) -> CardData:
        family = self._family
        if family is None:
            raise ReaderNotFound
        deadline = time.monotonic() + timeout
        while not family.find():
            if time.monotonic() >= deadline:
                raise NoCard
            time.sleep(self.poll_seconds)
        return family.read()


class _Sdtapi:
    def __init__(self, library: Any) -> None:
        self.lib = library
        self.port: int | None = None

    def open(self) -> None:
        self.port = next((p for p in USB_PORTS if self.lib.SDT_OpenPort(p) == DONE), None)
        if self.port is None:
            raise ReaderNotFound

    def close(self) -> None:
        if self.port is not None:
            self.lib.SDT_ClosePort(self.port)
            self.port = None

    def _checked(self, status: int) -> int:
        if status in LINE_GONE:
            self.close()
            raise ReaderUnplugged
        return status

    def find(self) -> bool:
        info = ctypes.create_string_buffer(8)
        status = self._checked(self.lib.SDT_StartFindIDCard(self.port, info, 0))
        if status not in (CARD_FOUND, NO_CARD):
            raise CardUnreadable
        return status == CARD_FOUND

    def read(self) -> CardData:
        info = ctypes.create_string_buffer(8)
        if self._checked(self.lib.SDT_SelectIDCard(self.port, info, 0)) != DONE:
            raise CardUnreadable
        text, photo = ctypes.create_string_buffer(TEXT_BYTES), ctypes.create_string_buffer(
            PHOTO_BYTES)
        text_len, photo_len = ctypes.c_uint(0), ctypes.c_uint(0)
        status = self._checked(self.lib.SDT_ReadBaseMsg(
            self.port, text, ctypes.byref(text_len), photo, ctypes.byref(photo_len), 0))
        if status != DONE or text_len.value != TEXT_BYTES or photo_len.value > PHOTO_BYTES:
            raise CardUnreadable
        return decode_base_message(text.raw, photo.raw[:photo_len.value])


class _Termb:
    def __init__(self, library: Any, folder: Path) -> None:
        self.lib = library
        self.folder = folder  # where Read_Content writes the card
        self.opened = False

    def open(self) -> None:
        if not any(self.lib.InitComm(p) == TERMB_DONE for p in USB_PORTS):
            raise ReaderNotFound
        self.opened = True

    def close(self) -> None:
        if self.opened:
            self.lib.CloseComm()
            self.opened = False

    def find(self) -> bool:
        return bool(self.lib.Authenticate() == TERMB_DONE)

    def read(self) -> CardData:
        text_file, photo_file = self.folder / TERMB_TEXT, self.folder / TERMB_PHOTO
        for stale in (text_file, photo_file):  # the previous card's files are not this one's
            with contextlib.suppress(OSError):
                stale.unlink(missing_ok=True)
        if self.lib.Read_Content(1) != TERMB_DONE:
            raise CardUnreadable
        try:
            text = text_file.read_bytes()
            photo = photo_file.read_bytes() if photo_file.exists() else None
        except OSError:
            raise CardUnreadable from None
        return decode_base_message(text[:TEXT_BYTES], photo)
