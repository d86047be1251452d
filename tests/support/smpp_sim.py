"""A small SMPP 3.4 gateway (SMSC) for the tests: real PDUs over TCP on a free loopback port,
one thread per connection. It binds transceivers, answers submit_sm, sends delivery reports,
and counts every submit by its user_message_reference.

Switches: `drop_responses` (answer no submit_sm), `close_after_submit` (drop the connection
once a submit is read, unanswered), `reports` ("now" right after the answer, "after_reconnect"
held until the next bind, "none"), `echo_reference` (the report carries the reference),
`report_state`, `refuse_bind`."""

from __future__ import annotations

import contextlib
import itertools
import socket
import struct
import threading
from dataclasses import dataclass, field
from typing import Any

from smpplib import consts, smpp

RINVPASWD = 0x0000000E


class _Sequence:
    """The sequence numbers of the PDUs the gateway starts."""

    def __init__(self) -> None:
        self._numbers = itertools.count(1)
        self.sequence = 0

    def next_sequence(self) -> int:
        self.sequence = next(self._numbers)
        return self.sequence


@dataclass
class Submit:
    reference: int | None
    destination: str
    data_coding: int
    esm_class: int
    short_message: bytes
    message_id: str


@dataclass
class SmppSimulator:
    system_id: str = "hall"
    password: str = "secret"
    drop_responses: bool = False
    close_after_submit: bool = False
    reports: str = "now"  # now | after_reconnect | none
    echo_reference: bool = True
    report_state: str = "DELIVRD"
    refuse_bind: bool = False
    submits: list[Submit] = field(default_factory=list)
    binds: int = 0
    acked_reports: int = 0
    _held: list[Submit] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _connections: list[socket.socket] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._seq = _Sequence()
        self._stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        self._stopped.set()
        with contextlib.suppress(OSError):  # wakes the accepting thread
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self.disconnect_all()

    def disconnect_all(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def count(self, reference: int) -> int:
        """How many submit_sm carried this reference."""
        with self._lock:
            return sum(1 for s in self.submits if s.reference == reference)

    def message(self, reference: int) -> str:
        """The text the submits of a reference make, reassembled by their UDH headers."""
        with self._lock:
            parts = [s for s in self.submits if s.reference == reference]
        pieces: dict[int, bytes] = {}
        for part in parts:
            data = part.short_message
            if part.esm_class & consts.SMPP_GSMFEAT_UDHI:
                header = data[: data[0] + 1]  # 05 00 03 ref total seq
                assert header[1:3] == b"\x00\x03" and header[4] == len(parts)
                pieces[header[5]] = data[len(header):]
            else:
                pieces[1] = data
        body = b"".join(pieces[i] for i in sorted(pieces))
        encoding = "utf-16-be" if parts[0].data_coding == consts.SMPP_ENCODING_ISO10646 \
            else "latin-1"
        return body.decode(encoding)

    # --- the server ----------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._connections.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            while True:
                pdu = self._read(conn)
                if pdu is None or not self._handle(conn, pdu):
                    break
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def _read(self, conn: socket.socket) -> Any:
        head = self._exactly(conn, 4)
        if head is None:
            return None
        (length,) = struct.unpack(">L", head)
        body = self._exactly(conn, length - 4)
        if body is None:
            return None
        return smpp.parse_pdu(head + body, client=self._seq, allow_unknown_opt_params=True)

    @staticmethod
    def _exactly(conn: socket.socket, size: int) -> bytes | None:
        data = b""
        while len(data) < size:
            chunk = conn.recv(size - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def _send(self, conn: socket.socket, pdu: Any) -> None:
        conn.sendall(pdu.generate())

    def _answer(self, conn: socket.socket, request: Any, command: str, status: int = 0,
                **fields: Any) -> None:
        resp = smpp.make_pdu(command, client=self._seq, status=status, **fields)
        resp.sequence = request.sequence
        self._send(conn, resp)

    def _handle(self, conn: socket.socket, pdu: Any) -> bool:
        """Act on a PDU; False to close the connection."""
        if pdu.command == "bind_transceiver":
            good = (not self.refuse_bind and pdu.system_id.decode() == self.system_id
                    and pdu.password.decode() == self.password)
            self._answer(conn, pdu, "bind_transceiver_resp", 0 if good else RINVPASWD,
                         system_id="SIM")
            if not good:
                return False
            with self._lock:
                self.binds += 1
                held, self._held = self._held, []
            for submit in held:
                self._report(conn, submit)
        elif pdu.command == "submit_sm":
            submit = Submit(pdu.user_message_reference, pdu.destination_addr.decode(),
                            pdu.data_coding, pdu.esm_class, bytes(pdu.short_message),
                            f"SIM{next(self._ids)}")
            with self._lock:
                self.submits.append(submit)
                if self.reports == "after_reconnect":
                    self._held.append(submit)
            if self.close_after_submit:
                return False
            if not self.drop_responses:
                self._answer(conn, pdu, "submit_sm_resp", message_id=submit.message_id)
            if self.reports == "now":
                self._report(conn, submit)
        elif pdu.command == "deliver_sm_resp":
            with self._lock:
                self.acked_reports += pdu.status == 0
        elif pdu.command == "enquire_link":
            self._answer(conn, pdu, "enquire_link_resp")
        elif pdu.command == "unbind":
            self._answer(conn, pdu, "unbind_resp")
            return False
        return True

    def _report(self, conn: socket.socket, submit: Submit) -> None:
        """A delivery report of `submit`, as an SMSC writes it (text and TLVs)."""
        state = {"DELIVRD": 2, "EXPIRED": 3, "UNDELIV": 5, "REJECTD": 8}[self.report_state]
        text = (f"id:{submit.message_id} sub:001 dlvrd:001 submit date:2612081200 "
                f"done date:2612081201 stat:{self.report_state} err:000 text:")
        fields: dict[str, Any] = {
            "source_addr_ton": 1, "source_addr_npi": 1, "source_addr": submit.destination,
            "esm_class": 0x04, "short_message": text.encode(),
            "receipted_message_id": submit.message_id, "message_state": state}
        if self.echo_reference:
            fields["user_message_reference"] = submit.reference
        self._send(conn, smpp.make_pdu("deliver_sm", client=self._seq, **fields))
