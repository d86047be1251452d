"""What every benchmark returns: figures, each beside the raw limit measured in the same run."""

from __future__ import annotations

import math
import os
import platform
import resource
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured figure.

    `raw` is the raw limit measured in the same run on the same data (a bare sqlite3 query, a
    bare Qt window, ...), described by `raw_label`; `goal` is the target in words and `met`
    whether the figure reaches it (None where the issue sets no goal).
    """

    area: str
    name: str
    value: float
    unit: str
    raw: float | None = None
    raw_label: str = ""
    goal: str = ""
    met: bool | None = None
    notes: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class BenchContext:
    """What a benchmark is given: the size to run at and a scratch directory of its own."""

    quick: bool
    work_dir: Path
    pg_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/hall_bench"
    options: dict[str, Any] = field(default_factory=dict)

    def scratch(self, name: str) -> Path:
        path = self.work_dir / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def kept(self, name: str) -> Path:
        """A directory kept between runs for what is slow to make and the same each time (a
        seeded server database, a full-size cache): $HALL_BENCH_CACHE, else the user's cache
        directory (hallclient-bench). Never in the repository."""
        from platformdirs import user_cache_path

        root = Path(os.environ.get("HALL_BENCH_CACHE") or user_cache_path("hallclient-bench"))
        path = root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def pg_database(self, suffix: str) -> str:
        """A PostgreSQL database of one benchmark's own on `pg_url`'s server, named after
        `pg_url`'s database + `_suffix` (hall_bench_push, ...), so areas never share one."""
        from sqlalchemy.engine import make_url

        url = make_url(self.pg_url)
        return url.set(database=f"{url.database}_{suffix}").render_as_string(
            hide_password=False)


def percentile(samples: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100) by the nearest-rank method."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def time_calls(call: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds of each of `repeat` calls."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, MB: Linux's VmHWM, its own memory's high
    mark. Not ru_maxrss, which Linux carries across exec: a child spawned by a benchmark that
    had grown to 800 MB reported 800 MB whatever it used itself."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> dict[str, Any]:
    """The machine and code a run was made on, for the record."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=False).stdout.strip()
    except OSError:
        commit = ""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpu": cpu, "cores": os.cpu_count(), "commit": commit,
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)}
