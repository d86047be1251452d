"""Print jobs that come out of the test CUPS queue."""

import time
from datetime import UTC, datetime
from pathlib import Path

from hallclient.receipts.content import HallInfo
from hallclient.receipts.testpage import sample_receipts
from hallcore.domain.text import Text
from tests.support import PRINT_QUEUE as QUEUE

OUT = Path.home() / "PDF"  # where cups-pdf puts the jobs of this user
RECEIPTS = sample_receipts(HallInfo("GZ-TH-01", Text("天河营业厅", "Tianhe")), "T01",
                           datetime(2026, 11, 25, 3, tzinfo=UTC))


def new_jobs(before, count, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = sorted(set(OUT.glob("*.pdf")) - before, key=lambda p: p.stat().st_mtime)
        if len(done) >= count:
            time.sleep(0.5)  # let cups-pdf finish writing
            return done
        time.sleep(0.2)
    raise AssertionError(f"{count} print jobs did not come out of {QUEUE} in {timeout} s")
