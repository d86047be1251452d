"""UI stalls: the longest time the UI thread is blocked during a bootstrap and while a receipt
is rendered and printed.

A HallServer (`hallserver serve`, its own process, SQLite) is seeded with one hall whose
district holds every account. The desktop client runs as a clerk starts it, in a process of its
own (QT_QPA_PLATFORM=offscreen): `hallclient.ui.app.run_app`, the login window filled in and
submitted (by the hall's supervisor, whose login approves the new terminal), then the counter
window with its sync worker, which bootstraps the empty cache from the server on its background
thread. A heartbeat QTimer on the UI thread ticks every 5 ms; the longest gap between two ticks
is how long the UI thread could not answer. Phases:

- bootstrap: from the counter window shown to the bootstrap done and the first pull made;
- idle: the counter window with nothing to do, for a few seconds (the once-a-second garbage
  collection of the UI thread included);
- receipt: an account found by typing its number, suspend (F5) filled in and submitted (the
  request recorded and its receipt drawn off the UI thread), the preview shown, and Print
  pressed as soon as it can be (once the preview knows the printers, looked up off the UI
  thread) until the printer has it. To the CUPS queue HallPDF where there is one
  (`./dev test` sets it up), else to a PDF file through the same QPrinter code path.

Raw limit, same process: the same heartbeat in a bare QApplication, before the app starts.

    python -m bench.ui_stalls [--accounts 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import BenchContext, Figure

AREA = "ui_stalls"
GOAL_MS = 50.0
HEARTBEAT_MS = 5
IDLE_S = 3.0
BARE_S = 2.0
CHILD_TIMEOUT_S = 900
QUEUE = "HallPDF"
WARM_UP_MS = 500  # the first beats of a new application wait for its platform to settle
STACKS_ENV = "BENCH_STALL_STACKS"  # set: where the UI thread was during each stall, to a file
HALL = "GZ-TH-01"


# --- the measuring process (Qt) ---------------------------------------------------------------


def child(server_url: str, out: Path) -> int:
    """Run the app as a clerk would, heartbeat on the UI thread; phases' gaps into `out`."""
    import keyring
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from hallclient.auth.secrets import EphemeralKeyring

    backend = EphemeralKeyring()
    keyring.get_keyring = lambda: backend  # no Secret Service needed: the keys live here
    QApplication([])

    class Heartbeat:
        def __init__(self) -> None:
            self.last = time.perf_counter()
            self.phase = "bare"
            self.gaps: dict[str, list[float]] = {}
            self.timer = QTimer()
            self.timer.setTimerType(Qt.TimerType.PreciseTimer)
            self.timer.setInterval(HEARTBEAT_MS)
            self.timer.timeout.connect(self.tick)

        def tick(self) -> None:
            now = time.perf_counter()
            self.gaps.setdefault(self.phase, []).append((now - self.last) * 1000)
            self.last = now

        def enter(self, phase: str) -> None:
            self.tick()  # the gap before belongs to the phase that ends
            self.phase = phase

    beat = Heartbeat()
    beat.phase = "warm-up"
    beat.timer.start()
    loop = QEventLoop()
    QTimer.singleShot(WARM_UP_MS, lambda: beat.enter("bare"))
    QTimer.singleShot(WARM_UP_MS + int(BARE_S * 1000),
                      lambda: (beat.enter("app start"), loop.quit()))
    loop.exec()  # the raw limit: a bare application, nothing else running
    if os.environ.get(STACKS_ENV):
        _watch_stalls(beat, out.with_suffix(".stacks"))
        _trace_calls(beat, out.with_suffix(".calls"))

    from hallclient.ui.app import run_app
    from hallclient.ui.counter_window import CounterWindow
    from hallclient.ui.login_window import LoginWindow
    from hallclient.ui.receipt_preview import ReceiptPreview

    printer = _printing_target(out.parent)
    marks: dict[str, Any] = {"printer": printer}
    state: dict[str, Any] = {}

    def shown(kind: type) -> Any:
        return next((w for w in QApplication.topLevelWidgets()
                     if isinstance(w, kind) and w.isVisible()), None)

    def log_in() -> bool:
        login = shown(LoginWindow)
        if login is None:
            return False
        beat.enter("login")
        login.server.setText(server_url)
        login.hall.setText(HALL)
        login.terminal.setText("S01")
        # A new terminal works once a supervisor of its hall approved it by logging in at it:
        # the hall's supervisor logs in, and works the counter.
        from hallclient.demo import DEMO_SUPERVISOR
        from hallserver.seed import DEMO_SUPERVISOR_PASSWORD

        login.clerk.setText(DEMO_SUPERVISOR)
        login.password.setText(DEMO_SUPERVISOR_PASSWORD)
        login.submit()
        return True

    def counter_shown() -> bool:
        window = shown(CounterWindow)
        if window is None:
            return False
        beat.enter("bootstrap")
        state["window"] = window
        state["status"] = None
        window.status_bridge.changed.connect(lambda status: state.__setitem__("status", status))
        state["bootstrap_started"] = time.perf_counter()
        return True

    def bootstrapped() -> bool:
        status = state["status"]
        if status is None or status.bootstrap is not None or status.last_pull_at is None:
            return False
        marks["bootstrap_s"] = round(time.perf_counter() - state["bootstrap_started"], 2)
        beat.enter("idle")
        state["idle_until"] = time.perf_counter() + IDLE_S
        return True

    def idled() -> bool:
        if time.perf_counter() < state["idle_until"]:
            return False
        beat.enter("receipt")
        state["receipt_started"] = time.perf_counter()
        window = state["window"]
        target = _an_active_account(window.services.cache)
        state["target"] = target
        window.search.setFocus()
        window.search.setText(target.number)  # the search runs off the UI thread
        # Enter, as a clerk or a reader ends the number: the single match opens.
        QTest.keyClick(window.search, Qt.Key.Key_Return)
        return True

    def found() -> bool:
        window, target = state["window"], state["target"]
        if window.account is None or window.account.number != target.number:
            return False
        from hallcore.domain.business import BusinessKind

        window.open_form(BusinessKind.SUSPEND)
        view = window.form_views[BusinessKind.SUSPEND]
        view.fill({"applicant_id_type": target.id_type.value,
                   "applicant_id_number": target.id_number})
        view.submit()  # records the request, then renders the receipt off the UI thread
        return True

    def preview_shown() -> bool:
        preview = shown(ReceiptPreview)
        if preview is None or not preview.print_button.isEnabled():
            return False
        state["printed"] = False
        preview.printed.connect(lambda _name: state.__setitem__("printed", True))
        preview.print_failed.connect(lambda message: state.__setitem__("printed", message))
        preview.print_receipt()  # Print, as the clerk presses it; printing runs off the UI thread
        return True

    def printed() -> bool:
        if state["printed"] is False:
            return False
        if state["printed"] is not True:
            raise RuntimeError(f"printing failed: {state['printed']}")
        marks["receipt_s"] = round(time.perf_counter() - state["receipt_started"], 2)
        beat.enter("done")
        for widget in QApplication.topLevelWidgets():
            widget.close()
        return True

    steps: list[Callable[[], bool]] = [log_in, counter_shown, bootstrapped, idled, found,
                                       preview_shown, printed]
    failure: list[str] = []

    def drive() -> None:
        try:
            if steps and steps[0]():
                steps.pop(0)
        except Exception as exc:
            failure.append(f"{steps[0].__name__}: {type(exc).__name__}: {exc}")
            steps.clear()
            for widget in QApplication.topLevelWidgets():
                widget.close()
        if not steps:
            driver.stop()

    driver = QTimer()
    driver.setInterval(50)
    driver.timeout.connect(drive)
    driver.start()
    code = run_app(lang="zh")
    if steps and not failure:
        failure.append(f"stopped before {steps[0].__name__} (run_app returned {code})")
    out.write_text(json.dumps({"gaps": beat.gaps, "marks": marks, "failure": failure}))
    return 0 if not failure else 1


def _watch_stalls(beat: Any, path: Path) -> None:
    """Where the UI thread and the others are while a beat is late (sampled every 5 ms from
    another thread). The sampler itself needs Python's lock: when it wakes late, another
    thread held the lock meanwhile ("lock held"), and the innermost frames of the others say
    which, if it is in Python code or in a call of Qt made from it."""
    import threading
    import traceback

    main = threading.main_thread().ident
    assert main is not None

    def watch() -> None:
        with path.open("w") as out:
            while True:
                asleep = time.perf_counter()
                time.sleep(0.005)
                woke = time.perf_counter()
                late = (woke - beat.last) * 1000
                if late > 12:
                    frames = sys._current_frames()
                    frame = frames.get(main)
                    where = traceback.format_stack(frame, limit=12) if frame else []
                    out.write(f"--- {beat.phase} late {late:.0f} ms (beat {beat.last:.3f}, "
                              f"lock held {(woke - asleep) * 1000 - 5:.0f} ms)\n"
                              + "".join(where))
                    names = {thread.ident: thread.name for thread in threading.enumerate()}
                    for ident, other in frames.items():
                        if ident not in (main, threading.get_ident()):
                            out.write(f"  [{names.get(ident, ident)}]\n" + "".join(
                                "    " + line for line in traceback.format_stack(other,
                                                                              limit=3)))
                    out.flush()

    threading.Thread(target=watch, daemon=True).start()


def _trace_calls(beat: Any, path: Path) -> None:
    """When each of the slow suspects ran, on which thread (for reading beside the stalls)."""
    import functools
    import threading

    from hallclient.counter import requests
    from hallclient.sync import engine
    from hallclient.ui import (
        account_panel,
        counter_window,
        history_panel,
        printing,
        rating,
        receipt_preview,
        tasks_panel,
    )

    out = path.open("w", buffering=1)  # a line at a time: a short write, not the whole file

    def written(line: str) -> None:
        out.write(line + "\n")

    def traced(owner: Any, name: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                ended = time.perf_counter()
                written(f"{started:.3f} {ended:.3f} {(ended - started) * 1000:6.1f} ms "
                        f"{threading.current_thread().name:>20} {name}")

        setattr(owner, name, wrapper)

    window = counter_window.CounterWindow
    for name in ("_submit", "_recorded", "_refresh", "show_sync_status", "_show_receipt",
                 "_ask_rating"):
        traced(window, name)
    traced(account_panel.AccountPanel, "show_account")
    traced(history_panel.HistoryPanel, "refresh")
    traced(history_panel.HistoryPanel, "_render")
    traced(tasks_panel.TasksPanel, "refresh")
    for module, name in ((requests, "record_operation"), (requests, "render_pdf"),
                         (receipt_preview, "print_pdf"), (printing, "_print_job"),
                         (printing, "printer_names")):
        traced(module, name)
    traced(receipt_preview.ReceiptPreview, "__init__")
    traced(rating.RatingWindow, "__init__")
    traced(rating.RatingWindow, "show_to_customer")
    traced(engine.SyncEngine, "sync_once")
    traced(engine.SyncEngine, "push")
    traced(engine.SyncEngine, "pull")

    def beats() -> None:
        original = beat.tick

        def tick() -> None:
            gap = (time.perf_counter() - beat.last) * 1000
            if gap > 15:
                written(f"{beat.last:.3f} {time.perf_counter():.3f} {gap:6.1f} ms "
                        f"{'':>20} GAP {beat.phase}")
            original()

        beat.timer.timeout.disconnect()
        beat.timer.timeout.connect(tick)

    beats()


def _an_active_account(cache: Any) -> Any:
    from sqlalchemy import select

    from hallclient.store.accounts import account_from_row
    from hallclient.store.models import AccountRow

    with cache.read() as session:
        row = session.scalars(select(AccountRow).where(
            AccountRow.status == "active", AccountRow.id_number.is_not(None),
            AccountRow.arrears_fen == 0).order_by(AccountRow.number.desc()).limit(1)).one()
        return account_from_row(row)


def _printing_target(folder: Path) -> str:
    """The CUPS queue HallPDF where there is one; else Qt's own PDF output into a file, through
    the same code (hallclient/ui/printing.py): only the printer object is another."""
    from PySide6.QtPrintSupport import QPrinter, QPrinterInfo

    from hallclient.ui import printing, receipt_preview

    if not QPrinterInfo.printerInfo(QUEUE).isNull():
        printing_default = printing._printer_info

        def queue_info(name: str | None) -> QPrinterInfo:
            return printing_default(name or QUEUE)

        def queue_first() -> list[str]:
            """The system's list, looked up as always, the queue first: the preview's choice."""
            return [QUEUE, *(name for name in printing.printer_names() if name != QUEUE)]

        setattr(printing, "_printer_info", queue_info)  # noqa: B010 (a module's function)
        setattr(receipt_preview, "printer_names", queue_first)  # noqa: B010
        return f"CUPS queue {QUEUE}"
    target = folder / "printed.pdf"

    class PdfFilePrinter(QPrinter):
        def __init__(self, _info: QPrinterInfo, mode: QPrinter.PrinterMode) -> None:
            super().__init__(mode)
            self.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
            self.setOutputFileName(str(target))

    setattr(printing, "QPrinter", PdfFilePrinter)  # noqa: B010 (a module's name)
    setattr(printing, "_printer_info", lambda _name: QPrinterInfo())  # noqa: B010
    setattr(receipt_preview, "printer_names", lambda: ["PDF file"])  # noqa: B010
    return "PDF file (no CUPS queue here)"


# --- the benchmark ---------------------------------------------------------------------------


def measure(accounts: int, work: Path) -> dict[str, Any]:
    # Here, not at the top: the measuring process (this module's --child) loads what the
    # clerk's process loads, and no server modules. Half-loaded before PySide6 (pydantic loads
    # its parts lazily), they broke PySide6's import hook there.
    from bench.servers import prepare_database, running_server, sqlite_url

    db_url = sqlite_url(work / "server.sqlite3")
    prepare_database(db_url, accounts, halls=1)
    out = work / "stalls.json"
    data = work / "client"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HALLCLIENT_DATA_DIR=str(data))
    with running_server(db_url, work / "server.log") as (url, _pid):
        done = subprocess.run(
            [sys.executable, "-m", "bench.ui_stalls", "--child", url, "--out", str(out)],
            env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, check=False,
            cwd=Path(__file__).resolve().parents[1])
    if not out.exists():
        raise RuntimeError(f"the client process ended with {done.returncode}:\n"
                           f"{done.stdout[-3000:]}{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.read_text())
    if result["failure"]:
        raise RuntimeError(f"the client did not get through: {result['failure']}\n"
                           f"{done.stderr[-3000:]}")
    result["accounts"] = accounts
    return result


def _worst(gaps: list[float]) -> tuple[float, str]:
    ordered = sorted(gaps)
    over = sum(1 for gap in gaps if gap > GOAL_MS)
    return ordered[-1], (f"{len(gaps)} beats, next longest {ordered[-2]:.0f} ms, "
                         f"{over} over {GOAL_MS:g} ms" if len(ordered) > 1 else "")


def figures(result: dict[str, Any]) -> list[Figure]:
    gaps, marks = result["gaps"], result["marks"]
    bare, _ = _worst(gaps["bare"])
    label = f"bare QApplication, same {HEARTBEAT_MS} ms heartbeat"
    out = []
    for phase, name, what in (
            ("bootstrap", f"longest UI stall, bootstrap of {result['accounts']:,} accounts",
             f"bootstrap {marks.get('bootstrap_s')} s"),
            ("receipt", "longest UI stall, record + render + print a receipt",
             f"{marks.get('receipt_s')} s to the printer ({marks['printer']})"),
            ("idle", "longest UI stall, counter window idle", f"{IDLE_S:g} s")):
        worst, detail = _worst(gaps[phase])
        out.append(Figure(AREA, name, worst, "ms", raw=bare, raw_label=label,
                          goal=f"< {GOAL_MS:g} ms", met=worst < GOAL_MS,
                          notes=f"{what}; {detail}"))
    return out


def run(ctx: BenchContext) -> list[Figure]:
    result = measure(5_000 if ctx.quick else 100_000, ctx.scratch("ui_stalls"))
    return figures(result)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else "")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--child", metavar="SERVER_URL", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.out)
    with tempfile.TemporaryDirectory() as tmp:
        result = measure(args.accounts, Path(tmp))
    for figure in figures(result):
        print(f"{figure.name}: {figure.value:.0f} ms (bare {figure.raw:.0f} ms)  {figure.notes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
