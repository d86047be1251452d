"""A loopback HTTP proxy that loses, delays, cuts and repeats requests, decided per request.

It reads each HTTP/1.1 request whole, forwards it to the server on a connection of its own and
hands the answer back, unless the fault chosen for the request says otherwise:

- `pass`: forwarded, answered.
- `drop`: the connection is closed; the request never reaches the server.
- `delay`: forwarded 0.3 s late (within any client timeout), answered.
- `lose_response`: the server does the request; the connection is closed without an answer.
- `slow_response`: the server does the request; its answer is held `hold` seconds (longer than
  the client waits) before it is sent.
- `cut_response`: the server does the request; the client gets the answer's head and half its
  body, then the connection is closed.
- `replay`: the request reaches the server twice (the second copy after the first answer);
  the client gets the second answer. Both answers are kept in `replayed`.
- `double_response`: forwarded once; the client gets the answer twice on its connection.

`log` lists every request's fault and target (`POST /api/v1/push`).

The server's answers carry Content-Length (FastAPI's JSON answers do); nothing is chunked.
"""

from __future__ import annotations

import contextlib
import random
import re
import socket
import threading
import time
from collections.abc import Callable

Fault = str  # "pass" | "drop" | "delay" | "lose_response" | "slow_response" | ...
Message = tuple[bytes, bytes]  # head (up to and with its blank line), body

_CONTENT_LENGTH = re.compile(rb"^content-length:\s*(\d+)\s*$", re.IGNORECASE | re.MULTILINE)


class FaultyProxy:
    def __init__(self, upstream_port: int, choose: Callable[[], Fault], *,
                 hold: float = 2.0) -> None:
        self.upstream_port = upstream_port
        self.choose = choose
        self.hold = hold
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log: list[tuple[Fault, str]] = []  # each request's fault and target, in order
        # Each replayed request's target and the server's two answers to it.
        self.replayed: list[tuple[str, Message, Message]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        _close(self._listener)  # the shutdown wakes the accept(); a close alone does not
        self._thread.join(5)

    def count(self, fault: Fault, target_suffix: str = "") -> int:
        """Requests that met `fault`, those whose target ends with `target_suffix` only."""
        return sum(1 for f, target in self.log
                   if f == fault and target.endswith(target_suffix))

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        reader = _Reader(client)
        try:
            while (request := reader.message()) is not None:
                if not self._answer(client, request):
                    return
        except OSError:
            pass
        finally:
            _close(client)

    def _answer(self, client: socket.socket, request: Message) -> bool:
        """Handle one request; False when the connection is to be closed."""
        target = _target(request[0])
        with self._lock:
            fault = self.choose()
            self.log.append((fault, target))
        if fault == "drop":
            return False
        if fault == "delay":
            time.sleep(0.3)
        answer = self._exchange(request)
        if fault == "replay":
            second = self._exchange(request)
            with self._lock:
                self.replayed.append((target, answer, second))
            answer = second
        if fault == "lose_response":
            return False
        if fault == "slow_response":
            time.sleep(self.hold)
        head, body = answer
        if fault == "cut_response":
            client.sendall(head + body[: len(body) // 2])
            return False
        client.sendall(head + body)
        if fault == "double_response":
            client.sendall(head + body)
        return True

    def _exchange(self, request: Message) -> Message:
        with socket.create_connection(("127.0.0.1", self.upstream_port)) as upstream:
            upstream.sendall(request[0] + request[1])
            answer = _Reader(upstream).message()
        if answer is None:
            raise ConnectionError("the server closed the connection without answering")
        return answer


class _Reader:
    """HTTP/1.1 messages off a socket, one after the other."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def message(self) -> Message | None:
        """The next message; None when the peer closed the connection between messages."""
        while b"\r\n\r\n" not in self.buffer:
            if not self._receive():
                if self.buffer:
                    raise ConnectionError("the connection closed inside a message's head")
                return None
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        head += b"\r\n\r\n"
        found = _CONTENT_LENGTH.search(head)
        length = int(found.group(1)) if found else 0
        self.buffer = rest
        while len(self.buffer) < length:
            if not self._receive():
                raise ConnectionError("the connection closed inside a message's body")
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return head, body

    def _receive(self) -> bool:
        data = self.sock.recv(65536)
        self.buffer += data
        return bool(data)


def _target(head: bytes) -> str:
    """The request's method and path, e.g. `POST /api/v1/push`."""
    method, target = head.split(b" ", 2)[:2]
    return f"{method.decode()} {target.decode().split('?', 1)[0]}"


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def random_faults(seed: int, weights: dict[Fault, float]) -> Callable[[], Fault]:
    rng = random.Random(seed)
    faults, w = zip(*weights.items(), strict=True)
    return lambda: rng.choices(faults, w)[0]
