"""Start-up: from process start to the login window drawn, beside a bare PySide6 window.

Each start is a fresh process (QT_QPA_PLATFORM=offscreen) timed from just before it is spawned
to the first paint of its window, which the process reports (CLOCK_MONOTONIC is the machine's,
the same in both processes) and then ends at once. The app runs its real entry point,
`hallclient.__main__.main([])`, on a terminal set up earlier (settings and cache in a data
directory of the run's own); an application-wide event filter, installed before the entry
point runs, sees the login window's first paint. The raw limit is the same for
`QApplication` + `QWidget().show()`. Runs alternate between the two, and the medians are
compared. The first start on a new data directory (it creates and migrates the cache) is
reported apart.

    python -m bench.startup [--runs 10] [--importtime]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import BenchContext, Figure

AREA = "startup"
GOAL_RATIO = 1.5
TIMEOUT_S = 120

_ON_FIRST_PAINT = """
import os, time
from PySide6.QtCore import QEvent, QObject

class _FirstPaint(QObject):
    def __init__(self, wanted):
        super().__init__()
        self.wanted = wanted

    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and type(watched).__name__ == self.wanted:
            print(time.monotonic(), flush=True)
            os._exit(0)
        return False
"""

# The app's entry point as `hallclient` runs it; QApplication is made first only so that the
# filter can be installed (run_app takes the existing instance).
APP = _ON_FIRST_PAINT + """
import sys
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv)
watch = _FirstPaint("LoginWindow")
app.installEventFilter(watch)
from hallclient.__main__ import main
sys.exit(main([]))
"""

BARE = _ON_FIRST_PAINT + """
import sys
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication(sys.argv)
watch = _FirstPaint("QWidget")
app.installEventFilter(watch)
window = QWidget()
window.show()
sys.exit(app.exec())
"""


def _env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HALLCLIENT_DATA_DIR=str(data_dir))
    # `hallclient` opens its window only where it finds a screen; offscreen is one.
    env.setdefault("DISPLAY", ":0")
    return env


def _set_up_terminal(data_dir: Path) -> None:
    """A terminal that was set up (hall, terminal) and has run before."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "settings.json").write_text(json.dumps({
        "server_url": "http://127.0.0.1:9", "hall_id": "GZ-TH-01", "terminal_id": "T01",
        "installation_id": "bench-startup-installation", "language": "zh"}))


def start_ms(script: str, env: dict[str, str], python_args: tuple[str, ...] = ()) -> float:
    """Milliseconds from spawning a process running `script` to its window's first paint."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, *python_args, "-c", script], env=env,
                          capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    lines = done.stdout.split()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the window was not shown (exit {done.returncode}):\n"
                           f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return (float(lines[-1]) - started) * 1000


def measure(runs: int, work: Path) -> tuple[list[float], list[float], float]:
    """(app starts, bare starts, first app start on a new data directory), ms."""
    data_dir = work / "data"
    _set_up_terminal(data_dir)
    env = _env(data_dir)
    first = start_ms(APP, env)  # creates the cache
    start_ms(BARE, env)  # both once more, to warm the disk cache alike
    start_ms(APP, env)
    app: list[float] = []
    bare: list[float] = []
    for _ in range(runs):
        bare.append(start_ms(BARE, env))
        app.append(start_ms(APP, env))
    return app, bare, first


def run(ctx: BenchContext) -> list[Figure]:
    app, bare, first = measure(3 if ctx.quick else 10, ctx.scratch("startup"))
    app_ms, bare_ms = statistics.median(app), statistics.median(bare)
    ratio = app_ms / bare_ms
    return [
        Figure(AREA, "start-up to the login window", app_ms, "ms", raw=bare_ms,
               raw_label="bare QApplication + QWidget().show()",
               goal=f"< {GOAL_RATIO:g}× bare", met=ratio < GOAL_RATIO,
               notes=f"{ratio:.2f}× bare; median of {len(app)} fresh processes each "
                     f"(app {min(app):.0f}–{max(app):.0f} ms, bare "
                     f"{min(bare):.0f}–{max(bare):.0f} ms)"),
        Figure(AREA, "first start on a new data directory", first, "ms",
               raw=bare_ms, raw_label="bare QApplication + QWidget().show()",
               notes="creates and migrates the cache; no goal"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else "")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--importtime", type=Path,
                        help="write `python -X importtime` of one app start to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.importtime:
            data_dir = Path(tmp) / "data"
            _set_up_terminal(data_dir)
            env = _env(data_dir)
            start_ms(APP, env)
            started = time.monotonic()
            done = subprocess.run([sys.executable, "-X", "importtime", "-c", APP], env=env,
                                  capture_output=True, text=True, timeout=TIMEOUT_S,
                                  check=False)
            args.importtime.write_text(done.stderr)
            print(f"importtime written to {args.importtime} "
                  f"({(time.monotonic() - started) * 1000:.0f} ms with -X importtime)")
            return
        app, bare, first = measure(args.runs, Path(tmp))
    print(f"app  median {statistics.median(app):.0f} ms  {sorted(round(x) for x in app)}")
    print(f"bare median {statistics.median(bare):.0f} ms  {sorted(round(x) for x in bare)}")
    print(f"ratio {statistics.median(app) / statistics.median(bare):.2f}; first start "
          f"{first:.0f} ms")


if __name__ == "__main__":
    main()
