"""HallClient's log file: `logs/hallclient.log` in the data directory, rotated at 1 MB with five
old files kept, in a folder only its owner can open.

Nothing personal or secret goes in: database errors carry no statement values
(hallcore/db/engine.py), an unexpected error is logged by its type and place, never its
message (`where`), and the command line logs which command ran and how it ended, not its
arguments.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from logging.handlers import RotatingFileHandler
from pathlib import Path

LOG_FILE = "hallclient.log"
MAX_BYTES = 1_000_000
BACKUPS = 5

log = logging.getLogger(__name__)


def log_dir(data_dir: Path) -> Path:
    return data_dir / "logs"


def where(exc: BaseException) -> str:
    """Where an exception was raised, without its message: a database error's message carries
    the statement's parameters, customers' ID numbers and phones among them, and a log is no
    place for those (the server's unexpected-error handler does the same)."""
    return "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))


def setup_logging(data_dir: Path, *, max_bytes: int = MAX_BYTES,
                  backups: int = BACKUPS) -> RotatingFileHandler:
    """Every logger's INFO and above into the rotating log file; returns its handler."""
    folder = log_dir(data_dir)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkdir's mode is cut by the umask and leaves an existing folder as it was. (On Windows
    # this only clears read-only; the user's own %LOCALAPPDATA% keeps others out there.)
    os.chmod(folder, 0o700)
    handler = RotatingFileHandler(folder / LOG_FILE, maxBytes=max_bytes, backupCount=backups,
                                  encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.getEffectiveLevel() > logging.INFO:
        root.setLevel(logging.INFO)
    # Alembic names each of its plugins at every start; its upgrades stay in the log.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    return handler


@contextmanager
def logging_to(data_dir: Path) -> Iterator[None]:
    """The log file for the length of the block; an error that escapes it is logged (type and
    place). Without a writable log folder HallClient goes on, and says so."""
    root = logging.getLogger()
    level = root.level
    handler: RotatingFileHandler | None = None
    try:
        handler = setup_logging(data_dir)
    except OSError as exc:
        print(f"hallclient: no log file: {log_dir(data_dir)} cannot be written "
              f"({exc.strerror}).", file=sys.stderr)
    if handler is None:
        yield
        return
    try:
        yield
    except Exception as exc:
        log.critical("stopped by %s\n%s", type(exc).__name__, where(exc))
        raise
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()
