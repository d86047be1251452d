"""The raw limit of HallServer's HTTP stack: the same application (FastAPI, HallServer's
middleware: request context and access line, forwarded addresses, body size limit; its error
handlers and garbage-collector tuning) served by uvicorn with the options `hallserver serve`
gives it, and one more route that answers a small constant JSON without touching a database.
Whatever a HallServer route costs beyond this endpoint is its own work.

    python -m bench.bare_app --port 8123 [--workers 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import create_engine

from bench.servers import SERVER_START_TIMEOUT, free_port, log_tail
from hallcore.wire import API_PREFIX

CONSTANT_PATH = f"{API_PREFIX}/bench/constant"


def app_factory() -> FastAPI:
    from hallserver.app import create_app
    from hallserver.asgi import tune_garbage_collector

    # An engine no request uses (create_engine connects at the first use only).
    app = create_app(create_engine("sqlite://"))

    @app.get(CONSTANT_PATH, include_in_schema=False)
    def constant() -> dict[str, object]:
        # A plain `def`, as HallServer's routes: answered on the same thread pool.
        return {"accounts": [], "next_cursor": 0, "more": False}

    tune_garbage_collector()
    return app


def serve(port: int, workers: int) -> None:
    """uvicorn as `hallserver serve` runs it (hallserver/__main__.py)."""
    import uvicorn

    from hallserver.logs import logging_config
    from hallserver.settings import load_settings

    settings = load_settings()
    uvicorn.run("bench.bare_app:app_factory", factory=True, host="127.0.0.1", port=port,
                workers=workers, log_level=settings.log_level,
                log_config=logging_config(settings.log_format, settings.log_level),
                access_log=False, proxy_headers=False)


@contextmanager
def running_bare_app(log: Path, workers: int) -> Iterator[tuple[str, int]]:
    """The bare app on a free loopback port; yields its base URL and process id."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.bare_app", "--port", str(port), "--workers",
             str(workers)], stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            cwd=Path(__file__).resolve().parents[1])
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.perf_counter() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the bare app exited with {process.returncode}:\n"
                                   f"{log_tail(log)}")
            try:
                if httpx.get(base_url + CONSTANT_PATH, timeout=2.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.perf_counter() > deadline:
                raise RuntimeError(f"the bare app did not answer:\n{log_tail(log)}")
            time.sleep(0.2)
        yield base_url, process.pid
    finally:
        process.terminate()  # SIGTERM: uvicorn's graceful stop, workers included
        process.wait(30)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bare_app",
                                     description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    serve(args.port, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
