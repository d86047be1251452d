"""A business form, declared once: its fields in order, with their labels (from the domain),
hints for the clerk, and a validator per field that runs as the clerk types. The Qt view in
hallclient/ui is generated from this; the payload it gives goes to `record_operation`, which
validates it again with the domain's `validate_payload`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from hallcore.domain.accounts import SMS_LANGUAGES, Account
from hallcore.domain.business import (
    BUSINESS_TYPES,
    ID_VALID_UNTIL_SUFFIX,
    SMS_CHOOSE_NO,
    SMS_YES_LATER,
    BusinessKind,
    BusinessType,
    Field,
    FieldKind,
    PayloadInvalid,
    expired_id_document,
    sms_consent_refusal,
    validate_payload,
)
from hallcore.domain.contact import validate_phone
from hallcore.domain.deadlines import HALL_TZ
from hallcore.domain.ids import DOC_TYPE_LABELS, IdDocType
from hallcore.domain.text import InvalidInput, Text
from hallcore.wire import NotSettledReason

NO_HINT = Text("", "")
# An optional choice's first item, which leaves the field out of the request, named for what
# that does: nothing said (the domain's default), or the account's value kept.
NOT_ASKED = Text("— 未询问 —", "— not asked —")
KEEP_CURRENT = Text("— 保持不变 —", "— keep current —")
# What a date field shows until a day is given.
NO_DATE = Text("— 未填写 —", "— not given —")
NO_DATE_BUT = Text("— 未填写；{hint} —", "— not given; {hint} —")
# Beside a field left out that the form asks although the domain does not need it.
ASK_THE_CUSTOMER = Text("请询问客户后选择", "ask the customer, then choose")


@dataclass(frozen=True, slots=True)
class FormField:
    field: Field
    hint: Text = NO_HINT  # placeholder: what to type
    # A date field's first day, in days from today: a day the domain would refuse (a
    # resumption not after today) is not offered. No last day is set: with one, a date edit
    # refuses a year typed while the month still shows today's (2027 over 2026-12-07 passes a
    # last day in June), and the rule check names the limit anyway. An ID document's end date
    # offers the past too: it is copied from the document, and a date edit turned the end of
    # an expired one into another day, which let the document pass; typed as it is, it is
    # refused with its date.
    first_day: int = 0

    def first_date(self, today: date) -> date:
        return today + timedelta(days=self.first_day)

    @property
    def no_date(self) -> Text:
        """What a date field shows until a day is given, its hint included."""
        return NO_DATE if self.hint == NO_HINT else NO_DATE_BUT.format(hint=self.hint)

    @property
    def name(self) -> str:
        return self.field.name


@dataclass(frozen=True, slots=True)
class FormSpec:
    kind: BusinessKind
    fields: tuple[FormField, ...]
    shortcut: str  # a key sequence, e.g. "F3"
    # Fields filled in from the selected account when the form opens (the holder's ID type).
    prefill_from_account: Mapping[str, str] = field(default_factory=dict)
    # Fields that change an account attribute (field -> attribute), shown beside its current
    # value. An optional one left out keeps that value, and its choice says so.
    current_from_account: Mapping[str, str] = field(default_factory=dict)
    # Optional for the domain, yet asked here: left out, the account would change without the
    # customer having said so (a transfer turns SMS notices off unless the new holder agrees).
    must_answer: frozenset[str] = frozenset()

    @property
    def business(self) -> BusinessType:
        return BUSINESS_TYPES[self.kind]

    @property
    def title(self) -> Text:
        return self.business.label

    def required(self, name: str) -> bool:
        """Must the clerk fill it in: the domain needs it, or this form asks it."""
        return self.business.field(name).required or name in self.must_answer

    def choices(self, name: str) -> tuple[tuple[object, Text], ...]:
        """What a choice field offers; an optional one starts with leaving it out (None),
        labelled for what that does."""
        f = self.business.field(name)
        offered = CHOICES[f.kind]
        if f.required:
            return offered
        unset = KEEP_CURRENT if name in self.current_from_account else NOT_ASKED
        return ((None, unset), *offered)

    def check_field(self, name: str, values: Mapping[str, object],
                    account: Account | None = None, *, today: date | None = None
                    ) -> Text | None:
        """The reason the field's current value cannot be taken, or None. A blank required
        field is not an error while the clerk is still typing; `payload` reports it.
        `account`: the account the form is for, whose phone and SMS consent a change of
        contact details keeps unless it changes them. `today`: the hall's day (an ID
        document's end date is judged on it)."""
        try:
            validate_payload(self.kind, {k: v for k, v in values.items()
                                         if k in self._names and not _blank(v)})
        except PayloadInvalid as exc:
            reason = exc.errors.get(name)
            if reason is not None and not _blank(values.get(name)):
                return reason
        expired = _expired({name: values.get(name)}, _hall_today(today))
        if expired:
            return expired[name]
        sms = self.business.sms
        if sms is not None and name == sms.consent:
            return self.sms_refusal(values, account)
        return None

    def sms_refusal(self, values: Mapping[str, object], account: Account | None = None, *,
                    saying_yes: bool = False) -> Text | None:
        """Why the SMS consent cannot stand with the phone in effect (the one typed, else the
        account's): the domain's rule, while the form is being filled in. `saying_yes`: were
        the customer to agree (said beside a choice that is not yes: no "choose no" then).
        None while the phone typed is not a valid number yet, whose own message says what is
        wrong."""
        sms = self.business.sms
        if sms is None:
            return None
        given: dict[str, object] = {}
        typed = values.get(sms.phone)
        if isinstance(typed, str) and typed.strip():
            try:
                given[sms.phone] = validate_phone(typed).number
            except InvalidInput:
                return None
        consent = True if saying_yes else values.get(sms.consent)
        if isinstance(consent, bool):
            given[sms.consent] = consent
        chosen_yes = values.get(sms.consent) is True
        return sms_consent_refusal(
            self.kind, account, given,
            advice=SMS_YES_LATER if saying_yes and not chosen_yes else SMS_CHOOSE_NO)

    def payload(self, values: Mapping[str, object], account: Account | None = None, *,
                today: date | None = None) -> dict[str, object]:
        """The cleaned payload; raises PayloadInvalid naming every field that is wrong (an ID
        document expired by `today`, the hall's day, too)."""
        given = {k: v for k, v in values.items() if k in self._names and not _blank(v)}
        unanswered = {name: ASK_THE_CUSTOMER for name in self.must_answer if name not in given}
        try:
            clean = validate_payload(self.kind, given)
        except PayloadInvalid as exc:
            raise PayloadInvalid({**exc.errors, **unanswered}) from None
        if unanswered:
            raise PayloadInvalid(unanswered)
        expired = _expired(clean, _hall_today(today))
        if expired:
            raise PayloadInvalid(expired)
        sms = self.business.sms
        refusal = None if sms is None else sms_consent_refusal(self.kind, account, clean)
        if sms is not None and refusal is not None:
            raise PayloadInvalid({sms.consent: refusal})
        return clean

    @property
    def _names(self) -> set[str]:
        return {f.name for f in self.fields}


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _hall_today(today: date | None) -> date:
    return today if today is not None else datetime.now(HALL_TZ).date()


def _expired(clean: Mapping[str, object], today: date) -> dict[str, Text]:
    """The ID documents' end dates among the fields (well-formed dates) that have passed, each
    with the domain's refusal (the rule check refuses them too)."""
    refused: dict[str, Text] = {}
    for name, value in clean.items():
        if name.endswith(ID_VALID_UNTIL_SUFFIX) and isinstance(value, str) and value.strip():
            reason = expired_id_document(date.fromisoformat(value.strip()), today)
            if reason is not None:
                refused[name] = reason
    return refused


# The values a choice field offers, with their labels (`FormSpec.choices` adds leaving an
# optional one out). A yes/no is a choice too: three plain words say more than a check box's
# third state.
CHOICES: dict[FieldKind, tuple[tuple[object, Text], ...]] = {
    FieldKind.ID_TYPE: tuple((doc.value, DOC_TYPE_LABELS[doc]) for doc in IdDocType),
    FieldKind.LANGUAGE: tuple(SMS_LANGUAGES.items()),
    FieldKind.BOOL: ((True, Text("是", "yes")), (False, Text("否", "no"))),
}

HINTS: dict[FieldKind, Text] = {
    FieldKind.ID_NUMBER: Text("刷卡或输入证件号码", "swipe the card or type the number"),
    FieldKind.PHONE: Text("手机、区号-座机，或 +852 等境外号码",
                          "mobile, area code-landline, or +852… outside the mainland"),
    FieldKind.PERSON_NAME: Text("与证件一致", "as on the ID document"),
    FieldKind.ADDRESS: Text("市、区、街道、门牌、房号", "city, district, street, number, flat"),
}


def form(kind: BusinessKind, shortcut: str, *,
         current_from_account: Mapping[str, str] | None = None,
         must_answer: frozenset[str] = frozenset(),
         first_day: Mapping[str, int] | None = None, **hints: Text) -> FormSpec:
    """A form of the business type's fields in their declared order, with default hints; a
    date field offers today on unless `first_day` says otherwise."""
    btype = BUSINESS_TYPES[kind]
    fields = tuple(FormField(f, hints.get(f.name, HINTS.get(f.kind, NO_HINT)),
                             (first_day or {}).get(f.name, _default_first_day(f)))
                   for f in btype.fields)
    # The holder shows the ID on record: its type is known, only the number is typed.
    prefill = {"applicant_id_type": "id_type"} if btype.holder_must_present_id else {}
    return FormSpec(kind, fields, shortcut, prefill, current_from_account or {}, must_answer)


# How far back an ID document's end date may be typed: any card in circulation ended since.
ID_END_DAYS_BACK = 366 * 30


def _default_first_day(f: Field) -> int:
    return -ID_END_DAYS_BACK if f.name.endswith(ID_VALID_UNTIL_SUFFIX) else 0


# One-stop (一站妥): why a request was not settled at this first contact, for the clerk to say.
NOT_SETTLED_LABELS: dict[NotSettledReason, Text] = {
    NotSettledReason.SITE_VISIT: Text("需上门现场作业", "a site visit is needed"),
    NotSettledReason.DOCUMENTS_MISSING: Text("资料不齐，需再次办理", "documents missing"),
    NotSettledReason.SYSTEM_OFFLINE: Text("系统离线，待确认", "the system was offline"),
    NotSettledReason.OTHER: Text("其他原因", "another reason"),
}
