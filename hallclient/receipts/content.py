"""What a receipt says, in both languages, built from a recorded counter request."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from hallclient.receipts.qr import QrPayload
from hallclient.store.operations import RecordedOperation
from hallcore.domain.accounts import SMS_LANGUAGES, STATUS_LABELS, Account, format_yuan
from hallcore.domain.business import BUSINESS_TYPES, BusinessKind
from hallcore.domain.contact import sms_capable
from hallcore.domain.deadlines import HALL_TZ, Deadline, HallCalendar
from hallcore.domain.masking import mask_id_number, mask_phone
from hallcore.domain.text import Lang, Text
from hallcore.signing import image_sha256


class ReceiptState(Enum):
    """Where the request stands when its receipt is drawn; a reprint draws it as it stands
    then (the outbox knows what the server answered)."""

    OFFLINE = "offline"  # recorded while the server could not be reached
    SENDING = "sending"  # recorded online: the sync sends it within seconds
    CONFIRMED = "confirmed"  # the server applied it
    REFUSED = "refused"  # the server found a conflict or refused it: a clerk follows it up


# The outbox's answered states (store/models.py OutboxRow.state); "pending" is not answered.
_ANSWERED = {"applied": ReceiptState.CONFIRMED, "duplicate": ReceiptState.CONFIRMED,
             "conflict": ReceiptState.REFUSED, "rejected": ReceiptState.REFUSED}


def state_now(outbox_state: str, issued_as: ReceiptState) -> ReceiptState:
    """The state of a kept receipt's request: the server's answer, else still as it was issued
    (waiting for the network, or being sent)."""
    return _ANSWERED.get(outbox_state, issued_as)


_STATUS = {
    ReceiptState.OFFLINE: Text("已受理（待确认）", "accepted (pending confirmation)"),
    ReceiptState.SENDING: Text("已受理（确认中）", "accepted (being confirmed)"),
    ReceiptState.CONFIRMED: Text("已受理，已确认", "accepted and confirmed"),
    ReceiptState.REFUSED: Text("已受理，待核实", "accepted, under review"),
}
_STATE_NOTE = {
    ReceiptState.OFFLINE: Text("网络恢复后本业务将提交确认，如需重新办理将通知您。",
                               "It will be confirmed once the network is back; we will contact "
                               "you should anything need redoing."),
    ReceiptState.SENDING: Text("本业务正在提交系统确认，如需重新办理将通知您。",
                               "It is being sent for confirmation; we will contact you should "
                               "anything need redoing."),
    ReceiptState.REFUSED: Text("本业务需进一步核实，工作人员将与您联系处理。",
                               "It needs checking further; our staff will contact you to "
                               "settle it."),
}


@dataclass(frozen=True, slots=True)
class HallInfo:
    hall_id: str
    name: Text
    service_phone: str = "95598"


@dataclass(frozen=True, slots=True)
class ReceiptContent:
    hall: HallInfo
    terminal_id: str
    clerk: str
    receipt_no: str
    issued_at: datetime
    kind: BusinessKind
    account_number: str | None  # None until the server opens a new account
    holder_name: str
    holder_id_masked: str
    changes: tuple[Text, ...]
    state: ReceiptState
    due: datetime | None  # None: finished at the counter
    next_steps: tuple[Text, ...]  # what follows, whatever the state (`state_note` says that)
    signature_line: bool
    qr: QrPayload
    # Printed across the title: a reprint's "copy", a printer test page's "sample".
    marking: Text | None = None
    # The supervisor who signed the request off, as named on the receipt (name, else id).
    approved_by: str | None = None
    # The language the customer reads (their SMS language): the receipt's language follows.
    customer_lang: Lang = "zh"
    # The customer's handwritten signature (PNG), drawn on the receipt. Not in its JSON: the
    # outbox keeps it with the operation, and a reprint takes it from there.
    customer_signature: bytes | None = None

    @property
    def signature_digest(self) -> str | None:
        """The customer's signature's SHA-256 as printed beside it: its first 16 hex digits in
        groups of four, enough to compare with the one the server holds."""
        if self.customer_signature is None:
            return None
        digest = image_sha256(self.customer_signature)[:16]
        return " ".join(digest[i:i + 4] for i in range(0, 16, 4))

    def to_json(self) -> dict[str, Any]:
        """What is kept with the receipt, so that a reprint says exactly what the original
        said (the account may have changed since)."""
        return {
            "hall": {"hall_id": self.hall.hall_id, "name": _text_json(self.hall.name),
                     "service_phone": self.hall.service_phone},
            "terminal_id": self.terminal_id, "clerk": self.clerk,
            "receipt_no": self.receipt_no, "issued_at": self.issued_at.isoformat(),
            "kind": self.kind.value, "account_number": self.account_number,
            "holder_name": self.holder_name, "holder_id_masked": self.holder_id_masked,
            "changes": [_text_json(t) for t in self.changes], "state": self.state.value,
            "due": self.due.isoformat() if self.due else None,
            "next_steps": [_text_json(t) for t in self.next_steps],
            "signature_line": self.signature_line,
            "qr": {"receipt_no": self.qr.receipt_no, "operation_id": self.qr.operation_id,
                   "signature": self.qr.signature},
            "approved_by": self.approved_by, "customer_lang": self.customer_lang,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReceiptContent:
        hall = data["hall"]
        next_steps = tuple(Text(**t) for t in data["next_steps"])
        if "state" in data:
            state = ReceiptState(data["state"])
        else:  # kept before states were: "pending" then, with the network's line in the steps
            state = ReceiptState.OFFLINE if data["pending"] else ReceiptState.CONFIRMED
            next_steps = tuple(t for t in next_steps if t != _STATE_NOTE[ReceiptState.OFFLINE])
        return cls(
            hall=HallInfo(hall["hall_id"], Text(**hall["name"]), hall["service_phone"]),
            terminal_id=data["terminal_id"], clerk=data["clerk"],
            receipt_no=data["receipt_no"], issued_at=datetime.fromisoformat(data["issued_at"]),
            kind=BusinessKind(data["kind"]), account_number=data["account_number"],
            holder_name=data["holder_name"], holder_id_masked=data["holder_id_masked"],
            changes=tuple(Text(**t) for t in data["changes"]), state=state,
            due=datetime.fromisoformat(data["due"]) if data["due"] else None,
            next_steps=next_steps, signature_line=data["signature_line"],
            qr=QrPayload(**data["qr"]), approved_by=data.get("approved_by"),
            customer_lang=data.get("customer_lang", "zh"))

    @property
    def status(self) -> Text:
        return _STATUS[self.state]

    @property
    def state_note(self) -> Text | None:
        """What the state means for the customer; nothing once the server confirmed it."""
        return _STATE_NOTE.get(self.state)


def _text_json(text: Text) -> dict[str, str]:
    return {"zh": text.zh, "en": text.en}


COPY = Text("补打副本", "COPY")
SAMPLE = Text("样张，非有效回执", "SAMPLE, not a valid receipt")


def _yes_no(value: bool) -> Text:
    return Text("同意", "yes") if value else Text("不同意", "no")


# Fields of an account a receipt reports when they change, with how each is shown.
_REPORTED: tuple[tuple[str, Text, Callable[[Any], Text | str]], ...] = (
    ("holder_name", Text("户主", "Holder"), str),
    ("id_number", Text("证件号码", "ID number"), lambda v: mask_id_number(v or "")),
    ("phone", Text("联系电话", "Phone"), lambda v: mask_phone(v) if v else "—"),
    ("mailing_address", Text("通讯地址", "Mailing address"), lambda v: v or "—"),
    ("status", Text("用电状态", "Supply"), lambda v: STATUS_LABELS[v]),
    ("sms_consent", Text("短信通知", "SMS notices"), _yes_no),
    ("sms_language", Text("短信语言", "SMS language"), lambda v: SMS_LANGUAGES[v]),
)


def _line(label: Text, value: Text | str) -> Text:
    return Text("{l}：{v}", "{l}: {v}").format(l=label, v=value)


def _arrow(label: Text, old: Text | str, new: Text | str) -> Text:
    return Text("{l}：{o} → {n}", "{l}: {o} → {n}").format(l=label, o=old, n=new)


def change_lines(kind: BusinessKind, before: Account | None, after: Account | None,
                 payload: Mapping[str, Any]) -> tuple[Text, ...]:
    """The change made, field by field, with personal data masked."""
    if before is None or after is None:  # a new connection
        return (
            _line(Text("申请人", "Applicant"), payload["applicant_name"]),
            _line(Text("用电地址", "Supply address"), payload["supply_address"]),
        )
    lines = [
        _arrow(label, show(getattr(before, attr)), show(getattr(after, attr)))
        for attr, label, show in _REPORTED
        if getattr(before, attr) != getattr(after, attr)
    ]
    if "resume_on" in payload:
        lines.append(_line(Text("计划恢复日期", "Planned resumption"), payload["resume_on"]))
    if payload.get("carry_arrears") and before.arrears_fen:
        lines.append(_line(Text("新户主承接欠费", "Arrears taken on"),
                           format_yuan(before.arrears_fen)))
    return tuple(lines)


def next_steps(kind: BusinessKind, due: Deadline | None,
               sms_phone: str | None) -> tuple[Text, ...]:
    """What follows the request, for the customer: the committed date (or done at the
    counter), a visit, the SMS they will get."""
    btype = BUSINESS_TYPES[kind]
    steps: list[Text] = []
    if due is None:
        steps.append(Text("本业务已当场办结。", "This request was completed at the counter."))
    else:
        steps.append(Text("承诺于 {d} 前办结。", "We commit to completing it by {d}.").format(
            d=f"{due.at:%Y-%m-%d}"))
        if due.estimated:
            years = "、".join(map(str, due.unknown_years))
            steps.append(Text(f"此日期未计{years}年的法定节假日，如遇节假日顺延。",
                              f"This date leaves out the public holidays of {years}: it moves "
                              "later by any that fall before it."))
    if btype.site_visit:
        visits = "、".join(s.label.zh for s in btype.steps) or "现场工作"
        visits_en = ", ".join(s.label.en for s in btype.steps) or "site work"
        steps.append(Text(f"工作人员将与您预约上门（{visits}）。",
                          f"Our staff will call to arrange a visit ({visits_en})."))
    if sms_phone:
        steps.append(Text("办理进度将以短信通知 {p}。", "Progress will be sent by SMS to {p}.")
                     .format(p=mask_phone(sms_phone)))
    return tuple(steps)


def build_receipt(recorded: RecordedOperation, before: Account | None,
                  payload: Mapping[str, Any], *, hall: HallInfo, terminal_id: str, clerk: str,
                  pending: bool, calendar: HallCalendar, online: bool = False,
                  approved_by: str | None = None) -> ReceiptContent:
    """`pending`: the server has not answered the request yet; `online`: it could be reached
    when the request was recorded. `approved_by`: the supervisor who signed it off, as the
    receipt names them. The committed date is counted on `calendar`, as the server will."""
    btype = BUSINESS_TYPES[recorded.kind]
    after = recorded.account
    customer = customer_of(before, after, payload)
    state = ReceiptState.CONFIRMED if not pending else (
        ReceiptState.SENDING if online else ReceiptState.OFFLINE)
    issued = recorded.issued_at.astimezone(HALL_TZ)
    due = committed_date(recorded.kind, issued, calendar)
    return ReceiptContent(
        hall=hall, terminal_id=terminal_id, clerk=clerk, receipt_no=recorded.receipt_no,
        issued_at=issued, kind=recorded.kind, account_number=customer.account_number,
        holder_name=customer.name, holder_id_masked=mask_id_number(customer.id_number),
        changes=change_lines(recorded.kind, before, after, payload), state=state,
        due=due.at if due else None,
        next_steps=next_steps(recorded.kind, due, customer.sms_phone),
        signature_line=btype.customer_signs,
        qr=QrPayload(recorded.receipt_no, recorded.operation_id, recorded.signature),
        approved_by=approved_by, customer_lang=customer.lang,
        customer_signature=recorded.customer_signature)


@dataclass(frozen=True, slots=True)
class Customer:
    """Whom a request is done for, as the receipt and the customer's screen name them."""

    account_number: str | None  # None until the server opens a new account
    name: str
    id_number: str
    sms_phone: str | None  # where the progress SMS go; None: none are sent
    lang: Lang  # the language they read (their SMS language)


def customer_of(before: Account | None, after: Account | None,
                payload: Mapping[str, Any]) -> Customer:
    """The customer of a request, from the account before and after it (after a transfer,
    the new holder) or a new connection's application."""
    holder = after or before
    if holder is not None:
        customer = Customer(holder.number, holder.holder_name, holder.id_number or "",
                            holder.phone if holder.sms_consent else None, holder.sms_language)
    else:
        customer = Customer(None, payload["applicant_name"], payload["applicant_id_number"],
                            payload["phone"] if payload.get("sms_consent") else None,
                            payload.get("sms_language", "zh"))
    if not sms_capable(customer.sms_phone):
        # SMS reach mainland mobiles only: a consent on record with another phone (kept from
        # before the rule) promises nothing.
        customer = dataclasses.replace(customer, sms_phone=None)
    return customer


def committed_date(kind: BusinessKind, accepted: datetime,
                   calendar: HallCalendar) -> Deadline | None:
    """The date the hall commits to for a request accepted at `accepted`, counted as the
    server counts it; None for a request finished at the counter."""
    limit = BUSINESS_TYPES[kind].time_limit
    return None if limit.at_counter else calendar.deadline(accepted, limit)
