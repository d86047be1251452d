"""The SMS gateway over SMPP 3.4 (smpplib): one transceiver bind per process, kept alive with
enquire_link and bound again when it drops, by a receiving thread that also takes the
delivery reports, late ones included, and records them (hallserver/notifications.py).

A message goes as one submit_sm per segment (UCS2 for Chinese, UDH concatenation for a long
one), each asking for a delivery report and carrying the row's id (modulo 2^16) as its
user_message_reference, by which a report is matched when the answer with its message id was
lost. Whatever happens once the first segment may have gone out is SubmitUnconfirmed: the
message is never sent twice by itself."""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

# smpplib has no type hints: its PDUs are Any here.
from smpplib import consts, gsm, smpp
from smpplib.client import Client
from smpplib.exceptions import ConnectionError as SmppConnectionError
from smpplib.exceptions import PDUError

from hallcore.domain.deadlines import HALL_TZ
from hallserver.notifications import (
    REFERENCE_MODULO,
    DeliveryReport,
    HandingOver,
    SubmitRefused,
    SubmitUnconfirmed,
)

log = logging.getLogger(__name__)
# smpplib's own log repeats what this module reports, and at debug level dumps every PDU,
# phones and texts included: personal data, never logged.
CLIENT_LOG = f"{__name__}.client"
logging.getLogger(CLIENT_LOG).setLevel(logging.ERROR)

# Refusals after which the same message may be tried again later (nothing went).
TRANSIENT_STATUSES = frozenset({consts.SMPP_ESME_RTHROTTLED, consts.SMPP_ESME_RMSGQFUL,
                                consts.SMPP_ESME_RSYSERR, 0x45})  # 0x45: submit_sm failed
# SMPP 3.4 5.2.28: message_state of a delivery report, as the stat of its text.
MESSAGE_STATES = {1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV",
                  6: "ACCEPTD", 7: "UNKNOWN", 8: "REJECTD"}
OK: int = consts.SMPP_ESME_ROK
TEMPORARY_APP_ERROR: int = consts.SMPP_ESME_RX_T_APPN  # the gateway sends the report again
SMSC_DELIVERY_RECEIPT = 0x04  # esm_class of a deliver_sm that is a delivery report
INTERNATIONAL, ISDN = 1, 1
CHINA = "86"
_RECEIPT_ID = re.compile(r"\bid:(\S+)", re.IGNORECASE)
_RECEIPT_STAT = re.compile(r"\bstat:(\w+)", re.IGNORECASE)
_RECEIPT_DONE = re.compile(r"\bdone date:(\d{10,12})", re.IGNORECASE)


class GatewayUnavailable(ConnectionError):
    """The gateway cannot be reached or refuses the bind; nothing was sent. The message says
    what to check, for the operator."""


class Reports(Protocol):
    """Where the gateway's answers and reports are recorded (notifications.SmsRecorder)."""

    def accepted(self, notification_id: int, part: int, parts: int,
                 message_id: str) -> None: ...
    def report(self, report: DeliveryReport) -> bool: ...


@dataclass(frozen=True, slots=True)
class SmppConfig:
    host: str
    port: int
    system_id: str
    password: str = field(repr=False)
    system_type: str = ""
    source_addr: str = ""  # the service number shown to the customer; empty: the gateway's
    enquire_link_seconds: float = 30.0  # the keep-alive of an idle bind
    response_seconds: float = 10.0  # how long a submit_sm waits for its answer
    retry_seconds: float = 10.0  # between attempts to bind while the gateway is away


@dataclass(frozen=True, slots=True)
class Segments:
    parts: list[bytes]
    data_coding: int
    esm_class: int


def segments(text: str) -> Segments:
    """The text as submit_sm payloads: GSM 7-bit (one octet a character) when it can be, else
    UCS2; over one message, split with a concatenation header (UDH) in each part."""
    parts, coding, esm_class = gsm.make_parts(text, consts.SMPP_ENCODING_DEFAULT)
    return Segments(list(parts), coding, esm_class)


def parse_receipt(pdu: Any, now: datetime) -> DeliveryReport | None:
    """The delivery report a deliver_sm carries (its TLVs, else its text); None when it is
    not one."""
    if not (pdu.esm_class or 0) & SMSC_DELIVERY_RECEIPT:
        return None
    text = bytes(pdu.short_message or b"").decode("latin-1")
    message_id = _text(pdu.receipted_message_id) or _match(_RECEIPT_ID, text)
    state = MESSAGE_STATES.get(pdu.message_state or 0) or _match(_RECEIPT_STAT, text)
    if not message_id or not state:
        return None
    done = _match(_RECEIPT_DONE, text)
    at = now
    if done:
        with contextlib.suppress(ValueError):  # the gateway's clock, China time
            at = datetime.strptime(done, "%y%m%d%H%M%S" if len(done) == 12 else "%y%m%d%H%M"
                                   ).replace(tzinfo=HALL_TZ).astimezone(UTC)
    return DeliveryReport(message_id=message_id, state=state.upper(), at=at,
                          phone=national(_text(pdu.source_addr)),
                          reference=pdu.user_message_reference)


def _socket_of(client: Client) -> socket.socket | None:
    sock: socket.socket | None = client._socket  # smpplib has no public way to its socket
    return sock


def _text(value: bytes | str | None) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1").rstrip("\0")
    return value or ""


def _match(pattern: re.Pattern[str], text: str) -> str:
    found = pattern.search(text)
    return found.group(1) if found else ""


def national(address: str) -> str | None:
    """A mainland mobile number as the gateway writes it (8613800138000, +86…) in the form the
    notifications keep (13800138000)."""
    digits = address.lstrip("+")
    if len(digits) == 13 and digits.startswith(CHINA):
        digits = digits[len(CHINA):]
    return digits or None


@dataclass(slots=True)
class _Waiting:
    """A submit_sm waiting for its answer."""

    notification_id: int
    part: int
    parts: int
    done: threading.Event = field(default_factory=threading.Event)
    status: int | None = None  # None: the connection dropped first
    message_id: str = ""


class SmppGateway:
    """The SMS gateway over one SMPP transceiver bind; `start` it, `close` it at the end."""

    def __init__(self, config: SmppConfig, reports: Reports) -> None:
        self.config = config
        self.reports = reports
        self._lock = threading.Lock()  # the connection: (re)binding and dropping
        self._send_lock = threading.Lock()  # one PDU at a time on the socket
        self._client: Client | None = None
        self._waiting: dict[int, _Waiting] = {}
        self._last_failure: tuple[float, str] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, name="smpp-receive", daemon=True)

    # --- the connection ------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            client = self._client
        if client is not None:
            try:
                with self._send_lock:
                    client.send_pdu(smpp.make_pdu("unbind", client=client))
            except (SmppConnectionError, PDUError, OSError):
                pass
            self._drop(client, "closed", expected=True)
        self._thread.join(timeout=self.config.enquire_link_seconds + 5)

    def connect(self) -> None:
        """Bind now unless bound; GatewayUnavailable says why it cannot, for the operator."""
        self._bound()

    def _bound(self) -> Client:
        """The bound client, binding now unless the last attempt failed a moment ago;
        GatewayUnavailable (nothing sent) when it cannot be."""
        with self._lock:
            if self._client is not None:
                return self._client
            if self._last_failure is not None:
                at, problem = self._last_failure
                if time.monotonic() - at < self.config.retry_seconds:
                    raise GatewayUnavailable(problem)
            try:
                self._client = self._bind()
            except GatewayUnavailable as exc:
                self._last_failure = (time.monotonic(), str(exc))
                raise
            self._last_failure = None
            return self._client

    def _bind(self) -> Client:
        c = self.config
        where = f"SMS gateway {c.host}:{c.port}"
        # Connecting and binding wait `response_seconds`; a bound line is read with the
        # keep-alive's period as its timeout.
        client = Client(c.host, c.port, timeout=c.response_seconds,
                        allow_unknown_opt_params=True, logger_name=CLIENT_LOG)
        try:
            client.connect()
        except SmppConnectionError:
            raise GatewayUnavailable(
                f"{where} cannot be reached: check HALLSERVER_SMPP_HOST and "
                "HALLSERVER_SMPP_PORT, and that this machine may connect to it") from None
        try:
            client.bind_transceiver(system_id=c.system_id, password=c.password,
                                    system_type=c.system_type)
        except PDUError as exc:
            client.disconnect()
            status = exc.args[1] if len(exc.args) > 1 else None
            why = consts.DESCRIPTIONS.get(status, "refused") if status is not None else exc
            raise GatewayUnavailable(
                f"{where} refused the bind as {c.system_id!r} ({why}): check "
                "HALLSERVER_SMPP_SYSTEM_ID and the password (HALLSERVER_SMPP_PASSWORD_FILE)"
            ) from None
        except (SmppConnectionError, OSError):
            client.disconnect()
            raise GatewayUnavailable(f"{where} closed the connection or did not answer the "
                                     "bind (is it an SMPP server?)") from None
        sock = _socket_of(client)
        if sock is not None:
            sock.settimeout(c.enquire_link_seconds)
        log.info("bound to the %s as a transceiver", where)
        return client

    def _drop(self, client: Client, why: str, *, expected: bool = False) -> None:
        """Forget a connection that failed; every submit waiting on it learns it will get no
        answer."""
        with self._lock:
            current = self._client is client
            if not current:
                return
            self._client = None
            waiting, self._waiting = self._waiting, {}
        log.log(logging.INFO if expected else logging.WARNING, "SMS gateway connection %s (%s)",
                "closed" if expected else "lost", why)
        sock = _socket_of(client)
        with contextlib.suppress(OSError):
            if sock is not None:  # wakes the receiving thread if it is reading
                sock.shutdown(socket.SHUT_RDWR)
            client.disconnect()
        for entry in waiting.values():
            entry.done.set()

    # --- sending -------------------------------------------------------------------------

    def send(self, notification_id: int, phone: str, text: str,
             handing_over: HandingOver) -> Sequence[str]:
        message = segments(text)
        client = self._bound()
        handing_over(len(message.parts))
        ids = []
        for part, payload in enumerate(message.parts, start=1):
            entry = _Waiting(notification_id, part, len(message.parts))
            where = f"part {part} of {len(message.parts)}"
            try:
                self._submit(client, entry, phone, payload, message)
            except Exception as exc:  # the bytes may have gone out all the same
                self._drop(client, type(exc).__name__)
                raise SubmitUnconfirmed(f"{where}: connection lost while sending") from exc
            if not entry.done.wait(self.config.response_seconds):
                raise SubmitUnconfirmed(f"{where}: no answer within "
                                        f"{self.config.response_seconds:g} s")
            if entry.status is None:
                raise SubmitUnconfirmed(f"{where}: connection lost before the answer")
            if entry.status != consts.SMPP_ESME_ROK:
                why = f"{where}: {consts.DESCRIPTIONS.get(entry.status, 'refused')} " \
                      f"(0x{entry.status:08x})"
                if part > 1:  # the first parts went: the customer has some of it
                    raise SubmitUnconfirmed(why)
                if entry.status in TRANSIENT_STATUSES:
                    raise GatewayUnavailable(why)
                raise SubmitRefused(why)
            ids.append(entry.message_id)
        return ids

    def _submit(self, client: Client, entry: _Waiting, phone: str, payload: bytes,
                message: Segments) -> None:
        c = self.config
        pdu = smpp.make_pdu(
            "submit_sm", client=client, source_addr_ton=0, source_addr_npi=0,
            source_addr=c.source_addr, dest_addr_ton=INTERNATIONAL, dest_addr_npi=ISDN,
            destination_addr=CHINA + phone, short_message=payload,
            data_coding=message.data_coding, esm_class=message.esm_class,
            registered_delivery=1,  # a delivery report, delivered or not
            user_message_reference=entry.notification_id % REFERENCE_MODULO)
        with self._lock:
            self._waiting[pdu.sequence] = entry
        with self._send_lock:
            client.send_pdu(pdu)

    # --- receiving -----------------------------------------------------------------------

    def _receive(self) -> None:
        """Read what the gateway sends while bound; bind again when the connection drops (late
        reports come then); enquire_link when the line has been quiet."""
        linked = True  # no enquire_link waiting for its answer
        while not self._stop.is_set():
            try:
                client = self._bound()
            except GatewayUnavailable as exc:
                log.warning("%s", exc)
                self._stop.wait(self.config.retry_seconds)
                continue
            try:
                pdu = client.read_pdu()
            except TimeoutError:
                if not linked:
                    self._drop(client, "no answer to enquire_link")
                    linked = True
                    continue
                linked = False
                self._reply(client, smpp.make_pdu("enquire_link", client=client))
                continue
            except (SmppConnectionError, PDUError, OSError) as exc:
                if not self._stop.is_set():
                    self._drop(client, type(exc).__name__)
                linked = True
                continue
            linked = True
            try:
                self._dispatch(client, pdu)
            except Exception:  # one bad PDU must not stop the receiving
                log.exception("SMS gateway PDU %s not handled", pdu.command)

    def _dispatch(self, client: Client, pdu: Any) -> None:
        if pdu.command in ("submit_sm_resp", "generic_nack"):
            self._answered(pdu)
        elif pdu.command == "deliver_sm":
            status = self._delivered(pdu)
            resp = smpp.make_pdu("deliver_sm_resp", client=client, status=status)
            resp.sequence = pdu.sequence
            self._reply(client, resp)
        elif pdu.command == "enquire_link":
            resp = smpp.make_pdu("enquire_link_resp", client=client)
            resp.sequence = pdu.sequence
            self._reply(client, resp)
        elif pdu.command == "unbind":
            resp = smpp.make_pdu("unbind_resp", client=client)
            resp.sequence = pdu.sequence
            self._reply(client, resp)
            self._drop(client, "the gateway unbound")
        elif pdu.command != "enquire_link_resp":
            log.info("SMS gateway sent %s: ignored", pdu.command)

    def _reply(self, client: Client, pdu: Any) -> None:
        try:
            with self._send_lock:
                client.send_pdu(pdu)
        except (SmppConnectionError, PDUError, OSError) as exc:
            self._drop(client, type(exc).__name__)

    def _answered(self, pdu: Any) -> None:
        with self._lock:
            entry = self._waiting.pop(pdu.sequence, None)
        if entry is None:
            log.warning("SMS gateway answered a submit this process does not know (%s)",
                        pdu.sequence)
            return
        message_id = _text(pdu.message_id) if pdu.command == "submit_sm_resp" else ""
        if pdu.status == consts.SMPP_ESME_ROK and message_id:
            # Recorded before any report on it is read; also after the sender stopped waiting.
            self.reports.accepted(entry.notification_id, entry.part, entry.parts, message_id)
        entry.status = pdu.status
        entry.message_id = message_id
        entry.done.set()

    def _delivered(self, pdu: Any) -> int:
        """Record a delivery report; the status to answer (an error: the gateway sends it
        again later)."""
        report = parse_receipt(pdu, datetime.now(UTC))
        if report is None:
            log.info("SMS gateway delivered a message that is no delivery report: ignored")
            return OK
        try:
            if not self.reports.report(report):
                log.warning("delivery report %s %s matches no SMS", report.message_id,
                            report.state)
        except Exception:
            log.exception("delivery report %s not recorded", report.message_id)
            return TEMPORARY_APP_ERROR
        return OK
