"""A HallServer in a background thread on a loopback port: for the demo and for tests."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine

from hallserver.app import create_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmbeddedServer:
    """Serves `engine` on 127.0.0.1; can be stopped and started again on the same port.
    Over TLS when given a certificate (for 127.0.0.1) and its key."""

    def __init__(self, engine: Engine, port: int | None = None, *,
                 tls_cert: Path | None = None, tls_key: Path | None = None) -> None:
        self.engine = engine
        self.port = port or free_port()
        self.tls_cert = tls_cert
        self.tls_key = tls_key
        scheme = "https" if tls_cert else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._app: FastAPI | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 10.0) -> None:
        self._app = create_app(self.engine)
        config = uvicorn.Config(self._app, host="127.0.0.1", port=self.port,
                                log_level="warning", lifespan="off",
                                ssl_certfile=self.tls_cert, ssl_keyfile=self.tls_key)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="hallserver",
                                        daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the embedded server did not start on port {self.port}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            if self._app is not None:
                # Pulls waiting for a change answer now: the server stops without them.
                self._app.state.waiting_pulls.close()
            self._server.should_exit = True
            self._thread.join(10)
        self._server = None
        self._app = None
        self._thread = None
