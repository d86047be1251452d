"""The counter's business types and the one rule check that client and server both run.

Each business type declares its fields, the account states it may be done in, the state it
leaves the account in, its committed time limit, whether it needs a site visit and which
customer notices (SMS) it triggers. `validate_payload` turns what the clerk typed into a clean,
JSON-ready payload; `check` says whether the change is allowed on an account; `apply_change`
computes the account after the change. The server runs the same three functions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from hallcore.domain.accounts import (
    SMS_LANGUAGES,
    STATUS_LABELS,
    Account,
    AccountStatus,
    format_yuan,
)
from hallcore.domain.contact import (
    sms_capable,
    validate_address,
    validate_person_name,
    validate_phone,
)
from hallcore.domain.deadlines import TimeLimit
from hallcore.domain.ids import DOC_TYPE_LABELS, IdDocType, validate_id
from hallcore.domain.text import InvalidInput, Text


class BusinessKind(StrEnum):
    TRANSFER = "transfer"  # 过户
    RENAME = "rename"  # 更名
    SUSPEND = "suspend"  # 暂停
    RESUME = "resume"  # 恢复
    CLOSE = "close"  # 销户
    CONTACT_CHANGE = "contact_change"  # 联系信息变更
    NEW_CONNECTION = "new_connection"  # 新装（通电易）


class FieldKind(StrEnum):
    ID_TYPE = "id_type"
    ID_NUMBER = "id_number"
    PERSON_NAME = "person_name"
    PHONE = "phone"
    ADDRESS = "address"
    DATE = "date"
    BOOL = "bool"
    LANGUAGE = "language"  # the language of the customer's SMS: "zh" or "en"


class Notice(StrEnum):
    """Moments at which the customer is told by SMS (with their consent)."""

    ACCEPTED = "accepted"
    COMPLETED = "completed"
    CONFLICT = "conflict"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    kind: FieldKind
    label: Text
    required: bool = True
    # An ID_NUMBER is validated against the document type named by this field.
    id_type_field: str | None = None


@dataclass(frozen=True, slots=True)
class SmsFields:
    """The fields of a request that say where the customer's SMS go and whether they want
    them."""

    phone: str
    consent: str
    # Left out, the account's phone and consent stay (a change of contact details); otherwise
    # a consent left out is none.
    keeps_account: bool = False


@dataclass(frozen=True, slots=True)
class WorkStep:
    """A later step done away from the counter (a site survey, energising), with its limit."""

    code: str
    label: Text
    limit: TimeLimit


@dataclass(frozen=True, slots=True)
class BusinessType:
    kind: BusinessKind
    label: Text
    fields: tuple[Field, ...]
    # States the account must be in; empty for a type that opens a new account.
    allowed_from: frozenset[AccountStatus]
    # State the account is left in; None leaves it as it was.
    result_status: AccountStatus | None
    time_limit: TimeLimit
    site_visit: bool
    notices: tuple[Notice, ...]
    needs_supervisor: bool = False
    # The customer signs the receipt: where the holder changes, the account ends or begins.
    customer_signs: bool = False
    # The presented ID document must be the holder's own.
    holder_must_present_id: bool = True
    steps: tuple[WorkStep, ...] = ()
    sms: SmsFields | None = None

    @property
    def opens_account(self) -> bool:
        return not self.allowed_from

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer of the rule check. `warnings` are allowed only with a supervisor's override."""

    allowed: bool
    reason: Text | None = None
    warnings: tuple[Text, ...] = ()


class PayloadInvalid(ValueError):
    """One or more fields cannot be accepted; `errors` maps each field name to its reason."""

    def __init__(self, errors: Mapping[str, Text]) -> None:
        super().__init__("; ".join(f"{name}: {reason}" for name, reason in errors.items()))
        self.errors = dict(errors)


# --- field declarations ----------------------------------------------------------------------


def _id_fields(prefix: str, who: Text) -> tuple[Field, Field]:
    type_field = f"{prefix}_id_type"
    return (
        Field(type_field, FieldKind.ID_TYPE,
              Text("{who}证件类型", "{who} ID type").format(who=who)),
        Field(f"{prefix}_id_number", FieldKind.ID_NUMBER,
              Text("{who}证件号码", "{who} ID number").format(who=who),
              id_type_field=type_field),
    )


def _id_valid_until_field(prefix: str, who: Text) -> Field:
    return Field(f"{prefix}{ID_VALID_UNTIL_SUFFIX}", FieldKind.DATE,
                 Text("{who}证件有效期至", "{who} ID valid until").format(who=who),
                 required=False)


# A payload field naming the last day an ID document presented is valid; the account takes it
# from the new holder or applicant.
ID_VALID_UNTIL_SUFFIX = "_id_valid_until"
_HOLDER = Text("户主", "holder's")
_APPLICANT_ID = _id_fields("applicant", _HOLDER)
_SMS_CONSENT = Text("同意短信通知", "agrees to SMS notices")
_SMS_LANGUAGE = Text("短信语言", "language of the SMS")
_ONE_DAY = TimeLimit(1)
_THREE_DAYS = TimeLimit(3)

BUSINESS_TYPES: dict[BusinessKind, BusinessType] = {
    bt.kind: bt
    for bt in (
        BusinessType(
            kind=BusinessKind.TRANSFER,
            label=Text("过户", "Transfer of account"),
            fields=(
                Field("new_holder_name", FieldKind.PERSON_NAME, Text("新户主姓名", "new holder")),
                *_id_fields("new_holder", Text("新户主", "new holder's")),
                Field("new_holder_phone", FieldKind.PHONE,
                      Text("新户主联系电话", "new holder's phone")),
                Field("new_holder_sms_consent", FieldKind.BOOL, _SMS_CONSENT, required=False),
                Field("new_holder_sms_language", FieldKind.LANGUAGE, _SMS_LANGUAGE,
                      required=False),
                # Optional, after the required fields: Enter after a card reader's ID number
                # goes on to the phone.
                _id_valid_until_field("new_holder", Text("新户主", "new holder's")),
                Field("carry_arrears", FieldKind.BOOL,
                      Text("新户主承接欠费", "new holder takes on arrears"), required=False),
            ),
            allowed_from=frozenset({AccountStatus.ACTIVE, AccountStatus.SUSPENDED}),
            result_status=None,
            time_limit=_THREE_DAYS,
            site_visit=False,
            notices=(Notice.ACCEPTED, Notice.COMPLETED),
            customer_signs=True,
            # The new holder presents their own ID; the old holder need not come.
            holder_must_present_id=False,
            sms=SmsFields("new_holder_phone", "new_holder_sms_consent"),
        ),
        BusinessType(
            kind=BusinessKind.RENAME,
            label=Text("更名", "Change of name"),
            fields=(*_APPLICANT_ID,
                    Field("new_name", FieldKind.PERSON_NAME, Text("新姓名", "new name"))),
            allowed_from=frozenset({AccountStatus.ACTIVE, AccountStatus.SUSPENDED}),
            result_status=None,
            time_limit=_THREE_DAYS,
            site_visit=False,
            notices=(Notice.ACCEPTED, Notice.COMPLETED),
        ),
        BusinessType(
            kind=BusinessKind.SUSPEND,
            label=Text("暂停用电", "Suspension of supply"),
            fields=(*_APPLICANT_ID,
                    Field("resume_on", FieldKind.DATE,
                          Text("计划恢复日期", "planned resumption date"), required=False)),
            allowed_from=frozenset({AccountStatus.ACTIVE}),
            result_status=AccountStatus.SUSPENDED,
            time_limit=_ONE_DAY,
            site_visit=False,
            notices=(Notice.ACCEPTED, Notice.COMPLETED),
        ),
        BusinessType(
            kind=BusinessKind.RESUME,
            label=Text("恢复用电", "Resumption of supply"),
            fields=_APPLICANT_ID,
            allowed_from=frozenset({AccountStatus.SUSPENDED}),
            result_status=AccountStatus.ACTIVE,
            time_limit=_ONE_DAY,
            site_visit=False,
            notices=(Notice.ACCEPTED, Notice.COMPLETED),
        ),
        BusinessType(
            kind=BusinessKind.CLOSE,
            label=Text("销户", "Closing the account"),
            fields=_APPLICANT_ID,
            allowed_from=frozenset({AccountStatus.ACTIVE, AccountStatus.SUSPENDED}),
            result_status=AccountStatus.CLOSED,
            time_limit=TimeLimit(5),
            site_visit=True,  # final meter reading and removal of the meter
            notices=(Notice.ACCEPTED, Notice.COMPLETED),
            customer_signs=True,
            needs_supervisor=True,
        ),
        BusinessType(
            kind=BusinessKind.CONTACT_CHANGE,
            label=Text("联系信息变更", "Change of contact details"),
            fields=(
                *_APPLICANT_ID,
                Field("phone", FieldKind.PHONE, Text("联系电话", "phone"), required=False),
                Field("mailing_address", FieldKind.ADDRESS, Text("通讯地址", "mailing address"),
                      required=False),
                Field("sms_consent", FieldKind.BOOL, _SMS_CONSENT, required=False),
                Field("sms_language", FieldKind.LANGUAGE, _SMS_LANGUAGE, required=False),
            ),
            allowed_from=frozenset(
                {AccountStatus.PENDING_CONNECTION, AccountStatus.ACTIVE, AccountStatus.SUSPENDED}
            ),
            result_status=None,
            time_limit=TimeLimit(0),
            site_visit=False,
            notices=(Notice.COMPLETED,),
            sms=SmsFields("phone", "sms_consent", keeps_account=True),
        ),
        BusinessType(
            kind=BusinessKind.NEW_CONNECTION,
            label=Text("低压居民新装", "New residential connection"),
            fields=(
                Field("applicant_name", FieldKind.PERSON_NAME, Text("申请人姓名", "applicant")),
                *_id_fields("applicant", Text("申请人", "applicant's")),
                Field("phone", FieldKind.PHONE, Text("联系电话", "phone")),
                Field("supply_address", FieldKind.ADDRESS, Text("用电地址", "supply address")),
                Field("mailing_address", FieldKind.ADDRESS, Text("通讯地址", "mailing address"),
                      required=False),
                Field("sms_consent", FieldKind.BOOL, _SMS_CONSENT, required=False),
                Field("sms_language", FieldKind.LANGUAGE, _SMS_LANGUAGE, required=False),
                _id_valid_until_field("applicant", Text("申请人", "applicant's")),
            ),
            allowed_from=frozenset(),
            result_status=AccountStatus.PENDING_CONNECTION,
            time_limit=_THREE_DAYS,
            site_visit=True,
            notices=(Notice.ACCEPTED, Notice.COMPLETED),
            customer_signs=True,
            holder_must_present_id=False,
            steps=(
                WorkStep("site_survey", Text("现场勘查", "site survey"), _ONE_DAY),
                WorkStep("energise", Text("装表接电", "meter fitted and energised"), _THREE_DAYS),
            ),
            sms=SmsFields("phone", "sms_consent"),
        ),
    )
}

NOTICE_TEMPLATES: dict[Notice, Text] = {
    Notice.ACCEPTED: Text(
        "【供电营业厅】您的{business}申请已受理，受理号{receipt_no}，我们将于{due}前办结。",
        "[Power Supply Hall] Your request ({business}) is accepted, receipt {receipt_no}; "
        "we will complete it by {due}.",
    ),
    Notice.COMPLETED: Text(
        "【供电营业厅】您的{business}业务已办结，受理号{receipt_no}。感谢您的支持。",
        "[Power Supply Hall] Your request ({business}) is completed, receipt {receipt_no}. "
        "Thank you.",
    ),
    Notice.CONFLICT: Text(
        "【供电营业厅】您的{business}申请（受理号{receipt_no}）需要重新核对，工作人员将与您联系。",
        "[Power Supply Hall] Your request ({business}, receipt {receipt_no}) needs to be "
        "checked again; our staff will contact you.",
    ),
    Notice.REJECTED: Text(
        "【供电营业厅】您的{business}申请（受理号{receipt_no}）未能办理：{reason}",
        "[Power Supply Hall] Your request ({business}, receipt {receipt_no}) could not be "
        "done: {reason}",
    ),
}

# A suspension longer than this is not taken at the counter (it is a closing, in effect).
MAX_SUSPENSION = timedelta(days=180)


# --- payload validation ----------------------------------------------------------------------


# Longer than anything a clerk types into one field, however it is spaced: refused before it is
# normalised, so a request of megabytes costs no more than one of a line.
MAX_TYPED_LENGTH = 1000


def _typed_text(raw: object) -> str:
    """What was typed into a text field: a string (an enum's value included) of a sane length;
    a number or a yes/no is not a name, a phone or an ID."""
    if not isinstance(raw, str):
        raise InvalidInput(Text("应填写文字", "must be text"))
    if len(raw) > MAX_TYPED_LENGTH:
        raise InvalidInput(Text("输入过长（{n} 个字符），请检查", "far too long: {n} characters")
                           .format(n=len(raw)))
    return raw


def _clean_id_type(raw: object) -> str:
    text = _typed_text(raw)
    try:
        return IdDocType(text).value
    except ValueError:
        known = "、".join(label.zh for label in DOC_TYPE_LABELS.values())
        raise InvalidInput(
            Text("未知的证件类型“{v}”，可选：{known}", "unknown ID type “{v}”").format(
                v=text, known=known)
        ) from None


def _clean_date(raw: object) -> str:
    # A datetime is a date too, but its isoformat() is no date: only a plain date is taken.
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw.isoformat()
    text = _typed_text(raw)
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise InvalidInput(
            Text("“{v}”不是日期，请按 2026-01-31 的格式输入", "“{v}” is not a date; use 2026-01-31")
            .format(v=text)
        ) from None


def _clean_bool(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    raise InvalidInput(Text("应为“是”或“否”", "must be yes or no"))


def _clean_language(raw: object) -> str:
    text = _typed_text(raw).strip()
    if text not in SMS_LANGUAGES:
        raise InvalidInput(Text("短信语言只能是中文或英文",
                                "the SMS language is Chinese or English"))
    return text


_CLEANERS: dict[FieldKind, Callable[[object], object]] = {
    FieldKind.ID_TYPE: _clean_id_type,
    FieldKind.PERSON_NAME: lambda raw: validate_person_name(_typed_text(raw)),
    FieldKind.PHONE: lambda raw: validate_phone(_typed_text(raw)).number,
    FieldKind.ADDRESS: lambda raw: validate_address(_typed_text(raw)),
    FieldKind.DATE: _clean_date,
    FieldKind.BOOL: _clean_bool,
    FieldKind.LANGUAGE: _clean_language,
}


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def validate_payload(kind: BusinessKind, raw: Mapping[str, object]) -> dict[str, Any]:
    """Clean every field of a request; raise PayloadInvalid naming each bad field.

    The result holds only declared fields, normalised and JSON-ready; optional fields left
    blank are absent. Unknown fields are refused rather than silently dropped.
    """
    btype = BUSINESS_TYPES[kind]
    errors: dict[str, Text] = {}
    clean: dict[str, Any] = {}
    declared = {f.name for f in btype.fields}
    for name in raw:
        if name not in declared:
            errors[name] = Text(f"{btype.label.zh}没有“{name}”一项",
                                f"{btype.label.en} has no field “{name}”")
    for f in btype.fields:
        value = raw.get(f.name)
        if _is_blank(value):
            if f.required:
                errors[f.name] = Text(f"请填写{f.label.zh}",
                                      f"{_capitalised(f.label.en)} is required")
            continue
        if f.kind is FieldKind.ID_NUMBER and f.id_type_field in errors:
            continue  # the type is already reported; the number cannot be judged without it
        try:
            clean[f.name] = _clean_value(f, value, raw)
        except InvalidInput as exc:
            errors[f.name] = exc.reason
    sms = btype.sms
    if sms is not None and not errors.keys() & {sms.phone, sms.consent}:
        # The request's own phone and consent, judged without the account.
        refusal = sms_consent_refusal(kind, None, clean)
        if refusal is not None:
            errors[sms.consent] = refusal
    if errors:
        raise PayloadInvalid(errors)
    return clean


def _clean_value(f: Field, value: object, raw: Mapping[str, object]) -> object:
    if f.kind is FieldKind.ID_NUMBER:
        assert f.id_type_field is not None
        doc_type = IdDocType(_clean_id_type(raw.get(f.id_type_field)))
        return validate_id(doc_type, _typed_text(value)).number
    return _CLEANERS[f.kind](value)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- the rule check --------------------------------------------------------------------------


def _refused(reason: Text) -> Decision:
    return Decision(False, reason)


def check(
    kind: BusinessKind, account: Account | None, payload: Mapping[str, Any], *, today: date
) -> Decision:
    """May this (validated) request be done on this account today? Client and server both ask."""
    btype = BUSINESS_TYPES[kind]
    expired = _expired_id_document(payload, today)
    if expired is not None:
        return expired
    start = may_start(kind, account)
    if btype.opens_account or not start.allowed:
        return start
    assert account is not None
    warnings: list[Text] = []
    if btype.holder_must_present_id:
        presented = (payload["applicant_id_type"], payload["applicant_id_number"])
        if account.id_number is None:
            warnings.append(Text(
                "账户未登记户主证件，无法核对身份；请核验产权或户籍证明并补录证件",
                "the holder's ID is not on record, so the presented ID cannot be matched; "
                "check proof of ownership and record the ID",
            ))
        elif presented != (account.id_type, account.id_number):
            return _refused(Text(
                "出示的证件与户主登记证件不符，须由户主本人办理（或办理过户）",
                "the ID presented is not the holder's on record; the holder must apply in "
                "person (or the account be transferred)",
            ))
    sms_refusal = sms_consent_refusal(kind, account, payload)
    if sms_refusal is not None:
        return _refused(sms_refusal)
    rule = _SPECIFIC_RULES.get(kind)
    if rule is not None:
        decision = rule(account, payload, today)
        if not decision.allowed:
            return decision
        warnings.extend(decision.warnings)
    return Decision(True, warnings=tuple(warnings))


_SMS_NOT_TO = Text(
    "短信只能发到大陆手机号码，{whose}不是大陆手机号码：{advice}",
    "SMS can only be sent to a mainland mobile number, and the {whose} is not one: {advice}",
)
_SMS_NO_PHONE = Text(
    "短信只能发到大陆手机号码，账户没有登记联系电话：{advice}",
    "SMS can only be sent to a mainland mobile number, and the account has no phone on "
    "record: {advice}",
)
# What the clerk can do: to a request that says yes, and beside a choice that is not yes yet.
SMS_CHOOSE_NO = Text("请填写手机号码，或选择不同意短信通知",
                     "enter a mobile number, or set SMS consent to no")
SMS_YES_LATER = Text("填写手机号码后才能选择同意短信通知",
                     "consent can be given once a mobile number is entered")
_PHONE_ON_RECORD = Text("登记的联系电话", "phone on record")


def sms_consent_refusal(
    kind: BusinessKind, account: Account | None, payload: Mapping[str, Any], *,
    advice: Text = SMS_CHOOSE_NO,
) -> Text | None:
    """Why the SMS consent a request leaves in force cannot be: the hall's SMS gateway is a
    mainland carrier's platform and texts mainland mobile numbers only (`sms_capable`).

    Judged only when the request gives a phone or a consent. `account` None: the request is
    judged alone, as a form still being filled in or `validate_payload` sees it; a consent or
    a phone that would come from the account is then not known, and nothing is said of it.
    """
    sms = BUSINESS_TYPES[kind].sms
    if sms is None or not payload.keys() & {sms.phone, sms.consent}:
        return None
    kept = account if sms.keeps_account else None
    if sms.consent in payload:
        consent = payload[sms.consent] is True
    elif sms.keeps_account:
        consent = kept is not None and kept.sms_consent
    else:
        consent = False
    if not consent:
        return None
    if sms.phone in payload:
        phone, whose = payload[sms.phone], BUSINESS_TYPES[kind].field(sms.phone).label
    elif kept is not None:
        phone, whose = kept.phone, _PHONE_ON_RECORD
    else:
        return None  # the phone is not known yet
    if sms_capable(phone):
        return None
    if phone is None:
        return _SMS_NO_PHONE.format(advice=advice)
    return _SMS_NOT_TO.format(whose=whose, advice=advice)


def may_start(kind: BusinessKind, account: Account | None) -> Decision:
    """What can be said before the form is filled in: whether the business can be done on
    this account (None: none selected) at all, and what it will need (`warnings`: a
    supervisor's sign-off). The counter shows it on the business's button; `check` starts
    with it."""
    btype = BUSINESS_TYPES[kind]
    if btype.opens_account:
        return Decision(True)
    if account is None:
        return _refused(Text("请先查找并选定账户", "find and select the account first"))
    if account.status not in btype.allowed_from:
        return _refused(_wrong_state(btype, account.status))
    if account.arrears_fen > 0 and kind in _ARREARS_RULES:
        return _ARREARS_RULES[kind](format_yuan(account.arrears_fen))
    return Decision(True)


def needs_approval(kind: BusinessKind, decision: Decision) -> bool:
    """A supervisor must sign off at the counter: the business type says so (closing an
    account), or the rules allowed the request with a warning. Client and server both ask."""
    return BUSINESS_TYPES[kind].needs_supervisor or bool(decision.warnings)


def _wrong_state(btype: BusinessType, status: AccountStatus) -> Text:
    allowed_zh = "、".join(STATUS_LABELS[s].zh for s in sorted(btype.allowed_from))
    allowed_en = ", ".join(STATUS_LABELS[s].en for s in sorted(btype.allowed_from))
    return Text(
        f"账户当前为“{STATUS_LABELS[status].zh}”，不能办理{btype.label.zh}"
        f"（须为：{allowed_zh}）",
        f"{btype.label.en} cannot be done while the account is {STATUS_LABELS[status].en} "
        f"(it must be: {allowed_en})",
    )


def expired_id_document(valid_until: date, today: date) -> Text | None:
    """Why an ID document valid until `valid_until` cannot be taken today (it has expired),
    or None: the one rule for a date typed into a form and a card read by a reader."""
    if valid_until >= today:
        return None
    return Text("出示的证件已于 {d} 过期，请出示有效证件",
                "the ID document presented expired on {d}; a valid one is needed").format(
                    d=valid_until.isoformat())


def _expired_id_document(payload: Mapping[str, Any], today: date) -> Decision | None:
    for name, value in payload.items():
        if name.endswith(ID_VALID_UNTIL_SUFFIX) and value:
            reason = expired_id_document(date.fromisoformat(value), today)
            if reason is not None:
                return _refused(reason)
    return None


def _valid_until(payload: Mapping[str, Any], prefix: str) -> date | None:
    value = payload.get(f"{prefix}{ID_VALID_UNTIL_SUFFIX}")
    return date.fromisoformat(value) if value else None


def _transfer_rule(account: Account, payload: Mapping[str, Any], today: date) -> Decision:
    if (payload["new_holder_id_type"], payload["new_holder_id_number"]) == (
        account.id_type, account.id_number
    ):
        return _refused(Text("新户主与现户主为同一人，无需过户；改名请办理更名",
                             "the new holder is the current holder; for a new name use "
                             "Change of name"))
    if account.arrears_fen > 0:
        owed = format_yuan(account.arrears_fen)
        if not payload.get("carry_arrears", False):
            return _refused(Text(
                f"账户欠费 {owed}，请先结清，或由新户主书面同意承接",
                f"the account owes {owed}: settle it first, or the new holder agrees in "
                "writing to take it on",
            ))
        return Decision(True, warnings=(
            Text(f"新户主将承接欠费 {owed}", f"the new holder takes on arrears of {owed}"),))
    return Decision(True)


def _rename_rule(account: Account, payload: Mapping[str, Any], today: date) -> Decision:
    if payload["new_name"] == account.holder_name:
        return _refused(Text("新姓名与登记姓名相同，无需更名",
                             "the new name is the name on record; nothing to change"))
    return Decision(True)


def _suspend_rule(account: Account, payload: Mapping[str, Any], today: date) -> Decision:
    resume_on = payload.get("resume_on")
    if resume_on is None:
        return Decision(True)
    resume = date.fromisoformat(resume_on)
    if resume <= today:
        return _refused(Text(f"计划恢复日期 {resume_on} 应晚于今天",
                             f"the planned resumption date {resume_on} must be after today"))
    if resume - today > MAX_SUSPENSION:
        return _refused(Text(
            f"暂停期限最长 {MAX_SUSPENSION.days} 天；更长时间不用电请办理销户",
            f"a suspension lasts at most {MAX_SUSPENSION.days} days; for longer, close "
            "the account",
        ))
    return Decision(True)


# What arrears mean for a business, known from the account alone (`may_start`): a close
# waits for them to be paid; a transfer needs them settled or taken on by the new holder.
_ARREARS_RULES: dict[BusinessKind, Callable[[str], Decision]] = {
    BusinessKind.CLOSE: lambda owed: _refused(Text(
        f"账户欠费 {owed}，结清后方可销户",
        f"the account owes {owed}; it can be closed once that is paid")),
    BusinessKind.TRANSFER: lambda owed: Decision(True, warnings=(Text(
        f"账户欠费 {owed}：须先结清，或由新户主书面同意承接",
        f"the account owes {owed}: settle it first, or the new holder agrees in writing to "
        "take it on"),)),
}


# What a change of contact details may change.
_CONTACT_DETAILS = ("phone", "mailing_address", "sms_consent", "sms_language")


def _contact_rule(account: Account, payload: Mapping[str, Any], today: date) -> Decision:
    changes = {
        name: value
        for name, value in payload.items()
        if name in _CONTACT_DETAILS
    }
    if not changes:
        return _refused(Text("请填写要变更的联系电话、通讯地址、短信授权或短信语言",
                             "enter the new phone, mailing address, SMS consent or SMS language"))
    if all(getattr(account, name) == value for name, value in changes.items()):
        return _refused(Text("填写的联系信息与登记信息相同，没有变更",
                             "the details entered are those on record; nothing changes"))
    return Decision(True)


_SPECIFIC_RULES: dict[
    BusinessKind, Callable[[Account, Mapping[str, Any], date], Decision]
] = {
    BusinessKind.TRANSFER: _transfer_rule,
    BusinessKind.RENAME: _rename_rule,
    BusinessKind.SUSPEND: _suspend_rule,
    BusinessKind.CONTACT_CHANGE: _contact_rule,
}


# --- the change itself -----------------------------------------------------------------------


def apply_change(kind: BusinessKind, account: Account, payload: Mapping[str, Any]) -> Account:
    """The account after an allowed change; its version is one more than before."""
    btype = BUSINESS_TYPES[kind]
    if btype.opens_account:
        raise ValueError(f"{kind} opens a new account; use open_account")
    changes: dict[str, Any] = {"version": account.version + 1}
    if btype.result_status is not None:
        changes["status"] = btype.result_status
    if kind is BusinessKind.TRANSFER:
        changes.update(
            holder_name=payload["new_holder_name"],
            id_type=IdDocType(payload["new_holder_id_type"]),
            id_number=payload["new_holder_id_number"],
            phone=payload["new_holder_phone"],
            sms_consent=payload.get("new_holder_sms_consent", False),
            sms_language=payload.get("new_holder_sms_language", "zh"),
            # The old holder's document is no longer the account's.
            id_valid_until=_valid_until(payload, "new_holder"),
        )
    elif kind is BusinessKind.RENAME:
        changes["holder_name"] = payload["new_name"]
    elif kind is BusinessKind.CONTACT_CHANGE:
        changes.update(
            {k: payload[k] for k in _CONTACT_DETAILS if k in payload}
        )
    return dataclasses.replace(account, **changes)


def open_account(payload: Mapping[str, Any], *, number: str, district: str) -> Account:
    """The account a new-connection request creates, at version 1."""
    return Account(
        number=number,
        holder_name=payload["applicant_name"],
        id_type=IdDocType(payload["applicant_id_type"]),
        id_number=payload["applicant_id_number"],
        phone=payload["phone"],
        supply_address=payload["supply_address"],
        mailing_address=payload.get("mailing_address"),
        status=AccountStatus.PENDING_CONNECTION,
        version=1,
        district=district,
        sms_consent=payload.get("sms_consent", False),
        sms_language=payload.get("sms_language", "zh"),
        id_valid_until=_valid_until(payload, "applicant"),
    )
