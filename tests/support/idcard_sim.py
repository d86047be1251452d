"""The ID card reader in the tests: the product's simulated reader on a pseudo-terminal
(hallclient/devices/idcard_sim.py), the simulated vendor library compiled from
idcard_sdk_sim.c, and the tests' cards."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from hallclient.devices.idcard_sim import (
    RARE_NAME,
    CardSimulator,
    Fault,
    SimulatedReader,
    card_of,
    simulated_photo,
)
from tests.support.factories import OTHER_ID

__all__ = ["CardSimulator", "Fault", "SimulatedReader"]

SDK_SOURCE = Path(__file__).with_name("idcard_sdk_sim.c")
PHOTO = simulated_photo()
# A new holder's card, valid for years after the tests' day.
CARD = card_of("林晓燕", OTHER_ID, "广州市天河区体育西路103号维多利广场B座2501房",
               valid_until=date(2036, 5, 31), photo=PHOTO)
EXPIRED_CARD = replace(CARD, valid_until=date(2026, 10, 31))  # before TODAY, 2026-11-25
LONG_TERM_CARD = replace(CARD, valid_until=None)
RARE_NAME_CARD = replace(CARD, name=RARE_NAME)
UNPRINTABLE = "\U00030041"  # 𰁁, Extension G: no font of the receipt's chain has it
UNPRINTABLE_NAME_CARD = replace(CARD, name="王" + UNPRINTABLE)
WLT_PHOTO_CARD = replace(CARD, photo=b"WLT" + bytes(1021))  # as a real card: not an image


def fast_reader() -> SimulatedReader:
    """A simulated reader that gives up on an answer in 0.3 s: a failure is seen at once."""
    return SimulatedReader(answer_seconds=0.3, poll_seconds=0.01)


def sdk_library(directory: Path, *, termb: bool = False) -> Path:
    """The simulated vendor library, compiled into `directory`: the sdtapi family, or termb."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed: the simulated vendor library cannot be compiled")
    library = directory / ("libtermb.so" if termb else "libsdtapi.so")
    subprocess.run([gcc, "-shared", "-fPIC", "-O1", "-o", str(library), str(SDK_SOURCE),
                    *(["-DTERMB"] if termb else []), "-ldl"], check=True)
    return library
