"""Fuzzing every validator and form spec with arbitrary input: unicode, NUL, lone surrogates,
huge strings and values of the wrong type. A validator either cleans what it is given or
refuses it with its own exception naming what is wrong, never another exception; what it
cleans, it cleans again to the same; and a counter request it refuses writes nothing."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from hallclient.forms import FORMS
from hallclient.store.accounts import load_account, save_account
from hallclient.store.models import AuditRow, OutboxRow, ReceiptRow
from hallclient.store.operations import (
    OverrideNeeded,
    RequestRefused,
    SignOff,
    TerminalIdentity,
    record_operation,
)
from hallcore.domain.accounts import (
    ACCOUNT_NUMBER_LENGTH,
    AccountStatus,
    validate_account_number,
)
from hallcore.domain.business import (
    BUSINESS_TYPES,
    BusinessKind,
    FieldKind,
    PayloadInvalid,
    validate_payload,
)
from hallcore.domain.contact import validate_address, validate_person_name, validate_phone
from hallcore.domain.deadlines import (
    HALL_TZ,
    WEEKENDS_ONLY,
    OpeningHours,
    TimeLimit,
    WorkCalendar,
    deadline,
    time_left,
)
from hallcore.domain.ids import IdDocType, validate_id
from hallcore.domain.text import InvalidInput, Text
from tests.support.factories import HOLDER_ID, OTHER_ID, TERMINAL_KEY, account
from tests.support.fuzzing import examples

FAST = settings(max_examples=examples(60), deadline=None)

# --- what a clerk, a card reader or a broken caller may hand over -----------------------------

_surrogates = st.characters(categories=["Cs"])
_awkward_text = st.one_of(
    st.text(max_size=40),
    st.text(st.characters() | _surrogates | st.sampled_from("\x00\u3000\ufeff\u200b"),
            max_size=40),
    # Huge: a few characters repeated up to 20,000 times.
    st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=3), st.integers(1, 20_000)),
)
_junk: st.SearchStrategy[object] = st.one_of(
    st.none(), st.booleans(), st.integers(), st.just(10**5000), st.floats(), _awkward_text,
    st.binary(max_size=8), st.dates(), st.datetimes(),
    st.datetimes(timezones=st.timedeltas(-timedelta(hours=23), timedelta(hours=23)).map(timezone)),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
    st.sampled_from(list(IdDocType)),
)
_valid: dict[FieldKind, st.SearchStrategy[object]] = {
    FieldKind.PERSON_NAME: st.text("陈林张王李赵欧阳娜买提明伟晓燕", min_size=2, max_size=4)
    | st.sampled_from(["陈伟", "买买提·艾力", "John Smith", "José Müller-Lee"]),
    FieldKind.PHONE: st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
    | st.sampled_from(["139 2233 4455", "020-8765 4321", "+86 138 0013 8000",
                       "010-62345678-123"]),
    FieldKind.ADDRESS: st.sampled_from(["广州市天河区天河路1号3栋1201房", "Flat 5, 1 Main Street",
                                        "  深圳市南山区科技园Ａ栋１２０３室 "]),
    # Within the suspension rule's 180 days of NOON_CST's day, as a date or as typed.
    FieldKind.DATE: st.dates(date(2026, 11, 26), date(2027, 5, 1))
    | st.dates(date(2026, 11, 26), date(2027, 5, 1)).map(lambda d: f" {d.isoformat()} "),
    FieldKind.BOOL: st.booleans(),
    FieldKind.LANGUAGE: st.sampled_from(["zh", "en", " en "]),
}
# An ID document's type and number go together; the holder's (support/factories.py) most often.
_id_documents = st.sampled_from([
    (IdDocType.RESIDENT_ID, HOLDER_ID), ("resident_id", HOLDER_ID),
    ("resident_id", f" {HOLDER_ID[:6]} {HOLDER_ID[6:]} "), ("resident_id", OTHER_ID),
    ("passport", "e12345678"), ("travel_permit_hkmo", "H12345678")])
_ALL_FIELD_NAMES = sorted({f.name for bt in BUSINESS_TYPES.values() for f in bt.fields})


@st.composite
def valid_payloads(draw: st.DrawFn, kind: BusinessKind) -> dict[str, Any]:
    """A request of `kind` that validate_payload accepts: required fields always, optional
    ones now and then."""
    raw: dict[str, Any] = {}
    for f in BUSINESS_TYPES[kind].fields:
        if f.id_type_field is not None:
            continue  # drawn with its type
        if f.kind is FieldKind.ID_TYPE:
            number_field = next(n for n in BUSINESS_TYPES[kind].fields
                                if n.id_type_field == f.name)
            raw[f.name], raw[number_field.name] = draw(_id_documents)
        elif f.required or draw(st.booleans()):
            raw[f.name] = draw(_valid[f.kind])
    return raw


@st.composite
def payloads(draw: st.DrawFn, kind: BusinessKind) -> dict[str, Any]:
    """A valid request of `kind` with up to three faults: a field dropped, blanked or given
    junk, or a field it does not have (another type's, or any text)."""
    raw = draw(valid_payloads(kind))
    names = [f.name for f in BUSINESS_TYPES[kind].fields]
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2, 3]))):
        name = draw(st.sampled_from(names))
        fault = draw(st.sampled_from(["drop", "blank", "junk", "stranger"]))
        if fault == "drop":
            raw.pop(name, None)
        elif fault == "blank":
            raw[name] = draw(st.sampled_from(["", " \u3000\t", None]))
        elif fault == "junk":
            raw[name] = draw(_junk)
        else:
            raw[draw(st.sampled_from(_ALL_FIELD_NAMES) | st.text(max_size=20))] = draw(_junk)
    return raw


def anything(kind: BusinessKind) -> st.SearchStrategy[dict[str, Any]]:
    """Mostly requests of `kind` with faults; now and then any dict at all."""
    return st.one_of(payloads(kind), payloads(kind), payloads(kind),
                     st.dictionaries(st.text(max_size=20), _junk, max_size=6))


def assert_bilingual(reason: object) -> None:
    assert isinstance(reason, Text) and reason.zh.strip() and reason.en.strip(), reason


# --- validate_payload ------------------------------------------------------------------------


def refusal_or_clean(kind: BusinessKind, raw: dict[str, Any]) -> dict[str, Any] | None:
    """The clean payload, or None after checking the refusal names the fields concerned."""
    declared = {f.name for f in BUSINESS_TYPES[kind].fields}
    try:
        clean = validate_payload(kind, raw)
    except PayloadInvalid as refused:
        assert refused.errors and set(refused.errors) <= set(raw) | declared
        for reason in refused.errors.values():
            assert_bilingual(reason)
        return None
    required = {f.name for f in BUSINESS_TYPES[kind].fields if f.required}
    assert required <= set(clean) <= declared
    json.dumps(clean, ensure_ascii=False, allow_nan=False).encode()  # JSON-ready, UTF-8
    return clean


@pytest.mark.parametrize("kind", list(BusinessKind))
@FAST
@given(data=st.data())
def test_validate_payload_cleans_or_names_every_bad_field_and_is_idempotent(kind, data):
    clean = refusal_or_clean(kind, data.draw(anything(kind)))
    if clean is not None:
        assert validate_payload(kind, clean) == clean


def test_a_date_and_time_is_not_taken_as_a_date():
    # Found by fuzzing: a datetime was cleaned to "2027-01-01T05:00:00", which the same
    # function then refused, and the suspension rule could not read.
    holder = {"applicant_id_type": "resident_id", "applicant_id_number": HOLDER_ID}
    with pytest.raises(PayloadInvalid) as refused:
        validate_payload(BusinessKind.SUSPEND, {**holder, "resume_on": datetime(2027, 1, 1, 5)})
    assert set(refused.value.errors) == {"resume_on"}
    assert validate_payload(BusinessKind.SUSPEND, {**holder, "resume_on": date(2027, 1, 1)})[
        "resume_on"] == "2027-01-01"


@pytest.mark.parametrize(("field", "value"), [
    ("new_name", True),  # was accepted as the name "True"
    ("new_name", 10**5000),  # str() of it raised ValueError (Python's digit limit)
    ("new_name", ["陈伟明"]),
    ("applicant_id_type", 10**5000),
    ("applicant_id_number", 440106198005171231),
], ids=["bool-name", "huge-int-name", "list-name", "huge-int-id-type", "int-id-number"])
def test_a_typed_field_holding_no_text_is_refused_by_name(field, value):
    raw = {"applicant_id_type": "resident_id", "applicant_id_number": HOLDER_ID,
           "new_name": "陈伟明", field: value}
    with pytest.raises(PayloadInvalid) as refused:
        validate_payload(BusinessKind.RENAME, raw)
    assert field in refused.value.errors


def test_far_too_long_text_is_refused_before_it_is_read():
    # Normalising a name of megabytes (a push may carry 4 MB) took seconds of the server's time.
    raw = {"applicant_id_type": "resident_id", "applicant_id_number": " " * 4_000_000 + HOLDER_ID,
           "new_name": "陈" * 4_000_000}
    with pytest.raises(PayloadInvalid) as refused:
        validate_payload(BusinessKind.RENAME, raw)
    assert {name: reason.en for name, reason in refused.value.errors.items()} == {
        "applicant_id_number": "far too long: 4000018 characters",
        "new_name": "far too long: 4000000 characters"}


# --- form specs ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(BusinessKind))
@FAST
@given(data=st.data())
def test_form_checks_and_payload_refuse_only_with_payload_invalid(kind, data):
    spec = FORMS[kind]
    values = data.draw(anything(kind))
    names = [f.name for f in spec.fields]
    try:
        payload = spec.payload(values)
    except PayloadInvalid as refused:
        for reason in refused.errors.values():
            assert_bilingual(reason)
        payload = None
    for name in [*names, data.draw(st.text(max_size=10))]:
        reason = spec.check_field(name, values)
        if reason is not None:
            assert_bilingual(reason)
            assert payload is None  # a field flagged while typing is refused at the end too
    if payload is not None:
        assert validate_payload(kind, payload) == payload


# --- the single validators -------------------------------------------------------------------


@pytest.mark.parametrize("doc_type", list(IdDocType))
@FAST
@given(raw=_awkward_text)
def test_validate_id_refuses_with_a_reason_or_is_idempotent(doc_type, raw):
    try:
        doc = validate_id(doc_type, raw)
    except InvalidInput as refused:
        assert_bilingual(refused.reason)
        return
    assert validate_id(doc_type, doc.number) == doc


@pytest.mark.parametrize("validate", [
    lambda raw: validate_phone(raw).number, validate_person_name, validate_address,
    validate_account_number], ids=["phone", "person_name", "address", "account_number"])
@FAST
@given(raw=_awkward_text)
def test_text_validators_refuse_with_a_reason_or_are_idempotent(validate, raw):
    try:
        clean = validate(raw)
    except InvalidInput as refused:
        assert_bilingual(refused.reason)
        return
    assert validate(clean) == clean


@FAST
@given(raw=_awkward_text)
def test_an_account_number_is_ten_digits_or_refused(raw):
    try:
        number = validate_account_number(raw)
    except InvalidInput:
        return
    assert len(number) == ACCOUNT_NUMBER_LENGTH and number.isascii() and number.isdigit()


# --- deadlines -------------------------------------------------------------------------------

_days = st.dates(date(1900, 1, 1), date(8999, 12, 31))


def _calendars(around: date) -> st.SearchStrategy[WorkCalendar]:
    """Notices with holidays and make-up working days near `around`, of some years."""
    near = st.integers(-10, 90).map(lambda n: around + timedelta(days=n))
    return st.builds(lambda years, days: WorkCalendar.of(years, days),
                     st.sets(st.integers(around.year - 1, around.year + 1), max_size=3),
                     st.lists(st.tuples(near, st.booleans()), max_size=30))


@FAST
@given(data=st.data(), start=_days, days=st.integers(0, 60))
def test_working_days_are_counted_exactly(data, start, days):
    calendar = data.draw(_calendars(start))
    end = calendar.add_working_days(start, days)
    counted = sum(calendar.is_working_day(start + timedelta(days=n))
                  for n in range(1, (end - start).days + 1))
    assert counted == days
    assert days == 0 or (end > start and calendar.is_working_day(end))


@FAST
@given(data=st.data(),
       accepted=st.datetimes(datetime(1900, 1, 1), datetime(8999, 12, 31),
                             timezones=st.just(HALL_TZ)),
       limit=st.integers(0, 30), later=st.timedeltas(timedelta(days=-60), timedelta(days=60)),
       closes=st.none() | st.times())
def test_a_due_time_is_the_end_of_a_working_day_and_time_left_agrees(data, accepted, limit,
                                                                     later, closes):
    calendar = data.draw(_calendars(accepted.date()))
    hours = None if closes is None else OpeningHours(time(0), closes)
    due = deadline(accepted, TimeLimit(limit), calendar, hours)
    assert due.at >= accepted
    if limit:
        assert (due.at.hour, due.at.minute, due.at.second) == (23, 59, 59)
        assert calendar.is_working_day(due.at.date())
        # Every year counted without a notice is said, and only those.
        spanned = range(accepted.year, due.at.year + 1)
        assert due.unknown_years == tuple(y for y in spanned if y not in calendar.years)
    else:
        assert not due.estimated
    left = time_left(due.at, accepted + later)
    assert left.overdue == (accepted + later > due.at)
    assert not (left.overdue and left.due_soon)


def test_negative_working_days_are_refused():
    with pytest.raises(ValueError, match="negative"):
        WEEKENDS_ONLY.add_working_days(date(2026, 11, 25), -1)


# --- the local transaction -------------------------------------------------------------------

TERMINAL = TerminalIdentity("GZ-TH-01", "T01", TERMINAL_KEY)
NOON_CST = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
_NUMBERS = ["1000000001", "1000000002", "1000000003", "1000000004", "9999999999"]


_ACCOUNTS = [
    account(),
    account(number="1000000002", status=AccountStatus.SUSPENDED),
    account(number="1000000003", arrears_fen=12_000),
    account(number="1000000004", id_type=None, id_number=None),
]


def _reset_accounts(cache):
    """The test account, one suspended, one owing money and one without an ID on record, as
    they were: each example starts from them, so a failing one fails again when replayed."""
    with cache.write() as s:
        for a in _ACCOUNTS:
            save_account(s, a)


def _written(cache, number):
    with cache.read() as s:
        counts = tuple(s.scalar(select(func.count()).select_from(m))
                       for m in (OutboxRow, ReceiptRow, AuditRow))
        return counts, load_account(s, number)


@settings(max_examples=examples(120), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), kind=st.sampled_from(list(BusinessKind)),
       number=st.sampled_from([*_NUMBERS, None]), signed=st.booleans(), online=st.booleans())
def test_a_fuzzed_request_is_recorded_whole_or_not_at_all(one_account_cache, data, kind, number,
                                                          signed, online):
    cache = one_account_cache
    _reset_accounts(cache)
    raw = data.draw(payloads(kind))
    before, account_before = _written(cache, number or _NUMBERS[0])
    try:
        done = record_operation(
            cache, TERMINAL, clerk="gz-th-01-c1", kind=kind, account_number=number,
            raw_payload=raw, now=NOON_CST, online=online, online_only={BusinessKind.CLOSE},
            sign_off=SignOff("s1", str(uuid.uuid4()), key=TERMINAL_KEY) if signed else None)
    except (PayloadInvalid, RequestRefused, OverrideNeeded) as refused:
        event(type(refused).__name__)
        assert _written(cache, number or _NUMBERS[0]) == (before, account_before)
        return
    event("recorded")
    after, _ = _written(cache, number or _NUMBERS[0])
    assert after == tuple(n + 1 for n in before)
    with cache.read() as s:
        row = s.scalars(select(OutboxRow).where(
            OutboxRow.operation_id == done.operation_id)).one()
        assert row.payload == validate_payload(kind, raw)
        assert s.scalars(select(ReceiptRow.receipt_no).where(
            ReceiptRow.operation_id == done.operation_id)).one() == done.receipt_no
