"""What the customer is shown before they sign: the request as the receipt will describe it —
business, account, the new values, their personal data masked, the committed date — in the
language the receipt will be in (hallclient/receipts/render.py `reading`).

Plain Python over the receipt's own parts (hallclient/receipts/content.py), so what the
customer signs and what the paper then says cannot differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from hallclient.receipts.content import (
    change_lines,
    committed_date,
    customer_of,
    next_steps,
)
from hallclient.receipts.render import ReceiptLang, reading
from hallclient.store.operations import RequestRefused
from hallcore.domain.accounts import Account
from hallcore.domain.business import (
    BUSINESS_TYPES,
    BusinessKind,
    apply_change,
    check,
    validate_payload,
)
from hallcore.domain.deadlines import HALL_TZ, HallCalendar
from hallcore.domain.masking import mask_id_number
from hallcore.domain.text import Lang, Text


@dataclass(frozen=True, slots=True)
class CustomerView:
    business: Text
    account_number: str | None  # None: a new connection's, assigned later
    holder_name: str
    holder_id_masked: str
    changes: tuple[Text, ...]
    due: date | None  # None: finished at the counter
    next_steps: tuple[Text, ...]
    lang: ReceiptLang  # what the customer reads: Chinese, or both for an English reader

    def lines(self) -> tuple[Text, ...]:
        """The request, line by line, labelled as on the receipt."""
        account = self.account_number or Text("待分配", "to be assigned")
        return (
            _line(Text("业务类型", "Business"), self.business),
            _line(Text("户号", "Account"), account),
            _line(Text("客户", "Customer"), f"{self.holder_name}  {self.holder_id_masked}"),
            *self.changes,
            *self.next_steps,
        )

    def text(self) -> str:
        """The lines in the customer's language(s), each Chinese line before its English."""
        langs: tuple[Lang, ...] = ("zh", "en") if self.lang == "both" else (self.lang,)
        return "\n".join(line[lang] for line in self.lines() for lang in langs)


def _line(label: Text, value: Text | str) -> Text:
    return Text("{l}：{v}", "{l}: {v}").format(l=label, v=value)


def customer_view(kind: BusinessKind, account: Account | None,
                  raw_payload: Mapping[str, object], *, now: datetime,
                  calendar: HallCalendar) -> CustomerView:
    """The request as the customer will sign it. Raises PayloadInvalid for a form that does
    not validate and RequestRefused for a request the rules refuse, as recording it would:
    the customer is never asked to sign what cannot be accepted."""
    btype = BUSINESS_TYPES[kind]
    payload = validate_payload(kind, raw_payload)
    before = None if btype.opens_account else account
    decision = check(kind, before, payload, today=now.astimezone(HALL_TZ).date())
    if not decision.allowed:
        assert decision.reason is not None
        raise RequestRefused(decision.reason)
    after = None if before is None else apply_change(kind, before, payload)
    customer = customer_of(before, after, payload)
    due = committed_date(kind, now.astimezone(HALL_TZ), calendar)
    return CustomerView(
        business=btype.label, account_number=customer.account_number,
        holder_name=customer.name, holder_id_masked=mask_id_number(customer.id_number),
        changes=change_lines(kind, before, after, payload), due=due.at.date() if due else None,
        next_steps=next_steps(kind, due, customer.sms_phone), lang=reading(customer.lang))
