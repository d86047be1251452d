"""A business form, declared once: its fields in order, with their labels (from the domain),
hints for the clerk, and a validator per field that runs as the clerk types. The Qt view in
hallclient/ui is generated from this; the payload it gives goes to `record_operation`, which
validates it again with the domain's `validate_payload`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hallcore.domain.accounts import SMS_LANGUAGES
from hallcore.domain.business import (
    BUSINESS_TYPES,
    BusinessKind,
    BusinessType,
    Field,
    FieldKind,
    PayloadInvalid,
    validate_payload,
)
from hallcore.domain.ids import DOC_TYPE_LABELS, IdDocType
from hallcore.domain.text import Text
from hallcore.wire import NotSettledReason

NO_HINT = Text("", "")


@dataclass(frozen=True, slots=True)
class FormField:
    field: Field
    hint: Text = NO_HINT  # placeholder: what to type

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

    @property
    def business(self) -> BusinessType:
        return BUSINESS_TYPES[self.kind]

    @property
    def title(self) -> Text:
        return self.business.label

    def check_field(self, name: str, values: Mapping[str, object]) -> Text | None:
        """The reason the field's current value cannot be taken, or None. A blank required
        field is not an error while the clerk is still typing; `payload` reports it."""
        try:
            validate_payload(self.kind, {k: v for k, v in values.items()
                                         if k in self._names and not _blank(v)})
        except PayloadInvalid as exc:
            reason = exc.errors.get(name)
            if reason is not None and not _blank(values.get(name)):
                return reason
        return None

    def payload(self, values: Mapping[str, object]) -> dict[str, object]:
        """The cleaned payload; raises PayloadInvalid naming every field that is wrong."""
        return validate_payload(self.kind, {k: v for k, v in values.items()
                                            if k in self._names and not _blank(v)})

    @property
    def _names(self) -> set[str]:
        return {f.name for f in self.fields}


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# The values a choice field offers, with their labels; None leaves the field out of the
# request (the SMS language stays as it is, or Chinese for a new customer).
CHOICES: dict[FieldKind, tuple[tuple[str | None, Text], ...]] = {
    FieldKind.ID_TYPE: tuple((doc.value, DOC_TYPE_LABELS[doc]) for doc in IdDocType),
    FieldKind.LANGUAGE: ((None, Text("未选择", "not chosen")), *SMS_LANGUAGES.items()),
}

HINTS: dict[FieldKind, Text] = {
    FieldKind.ID_NUMBER: Text("刷卡或输入证件号码", "swipe the card or type the number"),
    FieldKind.PHONE: Text("手机或区号-座机", "mobile, or area code-landline"),
    FieldKind.PERSON_NAME: Text("与证件一致", "as on the ID document"),
    FieldKind.ADDRESS: Text("市、区、街道、门牌、房号", "city, district, street, number, flat"),
    FieldKind.DATE: Text("如 2027-03-01", "e.g. 2027-03-01"),
}


def form(kind: BusinessKind, shortcut: str, **hints: Text) -> FormSpec:
    """A form of the business type's fields in their declared order, with default hints."""
    btype = BUSINESS_TYPES[kind]
    fields = tuple(FormField(f, hints.get(f.name, HINTS.get(f.kind, NO_HINT)))
                   for f in btype.fields)
    # The holder shows the ID on record: its type is known, only the number is typed.
    prefill = {"applicant_id_type": "id_type"} if btype.holder_must_present_id else {}
    return FormSpec(kind, fields, shortcut, prefill)


# One-stop (一站妥): why a request was not settled at this first contact, for the clerk to say.
NOT_SETTLED_LABELS: dict[NotSettledReason, Text] = {
    NotSettledReason.SITE_VISIT: Text("需上门现场作业", "a site visit is needed"),
    NotSettledReason.DOCUMENTS_MISSING: Text("资料不齐，需再次办理", "documents missing"),
    NotSettledReason.SYSTEM_OFFLINE: Text("系统离线，待确认", "the system was offline"),
    NotSettledReason.OTHER: Text("其他原因", "another reason"),
}
