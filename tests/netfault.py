"""A loopback TCP proxy that drops, delays and cuts connections, decided per connection."""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from collections.abc import Callable

Fault = str  # "pass" | "drop" | "delay" | "cut_response"


class FaultyProxy:
    def __init__(self, upstream_port: int, choose: Callable[[], Fault]) -> None:
        self.upstream_port = upstream_port
        self.choose = choose
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.counts: dict[Fault, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(5)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            fault = self.choose()
            self.counts[fault] = self.counts.get(fault, 0) + 1
            threading.Thread(target=self._serve, args=(client, fault), daemon=True).start()

    def _serve(self, client: socket.socket, fault: Fault) -> None:
        if fault == "drop":
            client.close()
            return
        if fault == "delay":
            time.sleep(0.3)
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        except OSError:
            client.close()
            return
        threading.Thread(target=_pipe, args=(client, upstream, None), daemon=True).start()
        # The answer comes back whole, or (cut_response) only its first half.
        _pipe(upstream, client, 0.5 if fault == "cut_response" else None)


def _pipe(source: socket.socket, target: socket.socket, cut_at: float | None) -> None:
    try:
        while data := source.recv(65536):
            if cut_at is not None:
                target.sendall(data[: max(1, int(len(data) * cut_at))])
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        for s in (source, target):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


def random_faults(seed: int, weights: dict[Fault, float]) -> Callable[[], Fault]:
    rng = random.Random(seed)
    faults, w = zip(*weights.items(), strict=True)
    return lambda: rng.choices(faults, w)[0]
