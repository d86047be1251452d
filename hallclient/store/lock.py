"""One writer per cache: a second HallClient process on the same cache refuses to start."""

from __future__ import annotations

import sys
from pathlib import Path
from types import TracebackType
from typing import IO

from hallclient.store.cache import CacheError, unwritable
from hallcore.domain.text import Text


class CacheInUse(CacheError):
    """Another HallClient process holds the cache's lock."""

    def __init__(self, folder: Path) -> None:
        super().__init__(Text(
            f"本机已有一个 HallClient 正在使用此缓存（{folder}），可能是另一个窗口或同步命令。"
            "请改用那个窗口，或将其关闭后重新启动 HallClient。",
            f"HallClient is already running on this cache ({folder}): another window or a sync "
            "command. Use that one, or close it and start again."))


class CacheLock:
    """An exclusive lock on `<cache>.lock`, held while the process uses the cache. The operating
    system drops it when the process ends, however it ends (even by SIGKILL)."""

    def __init__(self, cache_path: Path) -> None:
        self.cache_path = cache_path
        self.path = cache_path.with_name(cache_path.name + ".lock")
        self._file: IO[bytes] | None = None

    def acquire(self) -> None:
        """Raises CacheInUse, or CacheReadOnly when the lock file cannot be written."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(self.path, "a+b")  # noqa: SIM115 - held open for the process's life
        except OSError as exc:
            if (fault := unwritable(self.cache_path, exc)) is not None:
                raise fault from exc
            raise
        try:
            _lock(handle)
        except OSError:
            handle.close()
            raise CacheInUse(self.path.parent) from None
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing drops the lock
            self._file = None

    def __enter__(self) -> CacheLock:
        self.acquire()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None
                 ) -> None:
        self.release()


if sys.platform == "win32":
    import msvcrt

    def _lock(handle: IO[bytes]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
else:
    import fcntl

    def _lock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


