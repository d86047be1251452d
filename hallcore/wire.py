"""The wire schema between terminal and server: one definition, imported by both sides.

Versioned by URL (/api/v1). Operation payloads are the cleaned dicts of
`hallcore.domain.business.validate_payload`; the server validates them again with the same
function, so a payload that passed at the counter passes there too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import MISSING
from datetime import UTC, date, datetime
from enum import Enum, StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    create_model,
)
from pydantic_core import PydanticCustomError

from hallcore.domain.accounts import ACCOUNT_FIELDS, Account, AccountField, Community
from hallcore.domain.business import BusinessKind
from hallcore.signing import PUBLIC_KEY_PATTERN, SIGNATURE_PATTERN

API_PREFIX = "/api/v1"
MAX_PUSH_BATCH = 500
MAX_PAGE = 5000
MAX_BOOTSTRAP_ROWS = 10_000  # accounts in a compact bootstrap page

_ID = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")
_OPERATION_ID = Field(min_length=8, max_length=36, pattern=r"^[A-Za-z0-9-]+$")
MAX_INTEGER = 2**31 - 1  # the databases' integer column

# Times from terminals and supervisors: any a clock may show, and far enough from the ends of
# Python's calendar (years 1 and 9999) that moving one to UTC or the halls' time, or counting
# working days from it, cannot run off the calendar.
EARLIEST_TIME = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(9000, 1, 1, tzinfo=UTC)


def _on_the_calendar(moment: datetime) -> datetime:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if not EARLIEST_TIME <= aware < LATEST_TIME:
        raise ValueError(f"a time from the year {EARLIEST_TIME.year} to {LATEST_TIME.year} "
                         "is expected")
    return moment


def _storable_text(text: str) -> str:
    # PostgreSQL keeps no NUL in text or jsonb; a lone surrogate (the JSON escape "\ud800") is
    # no Unicode: it cannot be written as UTF-8, in a database, an audit hash or an answer.
    if "\x00" in text:
        raise ValueError("text must not contain the NUL character (U+0000)")
    try:
        text.encode()
    except UnicodeEncodeError:
        raise ValueError("text must not contain a lone surrogate (U+D800 to U+DFFF)") from None
    return text


def _storable_json(value: dict[str, Any]) -> dict[str, Any]:
    """Every key and string in a JSON value storable; walked without recursion, however deep."""
    pending: list[object] = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            _storable_text(item)
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return value


# A time is ISO-8601 text on the wire: a date, "T" (or a space), then the time; never a number,
# nor a number in text (which pydantic's parser would read as seconds since 1970). Only the
# form is checked here; pydantic's own parser reads the rest.
_DATE_AND_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _written(form: re.Pattern[str], expected: str) -> BeforeValidator:
    def check(value: object) -> object:
        if isinstance(value, datetime) or (isinstance(value, str) and form.match(value)):
            return value
        raise PydanticCustomError("datetime_type", "Input should be {expected}",
                                  {"expected": expected})
    return BeforeValidator(check)


# Strict(False): a strict model takes only a datetime object in Python mode, and FastAPI
# validates a request body after decoding its JSON, so the text is let through to the parser,
# once its form has been checked.
IsoTime = Annotated[datetime, Strict(False),
                    _written(_DATE_AND_TIME, "a date and time as ISO-8601 text")]
WireTime = Annotated[IsoTime, AfterValidator(_on_the_calendar)]
# A period's bound in a query string: a date (its midnight) or a date and time.
QueryTime = Annotated[datetime, _written(_DATE, "a date, or a date and time, as ISO-8601 text"),
                      AfterValidator(_on_the_calendar)]
# JSON carries an enum by its value: taken so in Python mode too, for the same reason.
ByValue = Strict(False)
StorableText = Annotated[str, AfterValidator(_storable_text)]
StorableJson = Annotated[dict[str, Any], AfterValidator(_storable_json)]


class WireModel(BaseModel):
    # Strict: a value is taken only in the JSON type the API's schema gives it (no number for a
    # time or a text, no text for a number or a yes/no). Read answers with model_validate_json;
    # what comes in as a decoded dict (a FastAPI request body) is read in Python mode, where
    # only IsoTime, WireTime and ByValue fields take their JSON text.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class BilingualText(WireModel):
    zh: str
    en: str


class ErrorBody(WireModel):
    """Every 4xx/5xx answer: a code for programs, a sentence in both languages for people."""

    code: str
    message: BilingualText
    fields: dict[str, BilingualText] | None = None


class CommunityWire(WireModel):
    code: str
    name: str
    households: int
    manager_name: str | None = None
    manager_phone: str | None = None

    def to_domain(self) -> Community:
        return Community(self.code, self.name, self.households, self.manager_name,
                         self.manager_phone)


class _AccountWireFields(WireModel):
    """An account on the wire: every declared field of the domain's Account (added by
    `create_model` below), its community whole, and the district's sequence number of this
    state."""

    community: CommunityWire | None
    seq: int  # the district's change sequence number of this state

    def to_domain(self) -> Account:
        return Account(**{name: getattr(self, name) for name in ACCOUNT_FIELD_NAMES},
                       community=self.community.to_domain() if self.community else None)

    if TYPE_CHECKING:
        def __getattr__(self, name: str) -> Any: ...


ACCOUNT_FIELD_NAMES = tuple(declared.name for declared in ACCOUNT_FIELDS)


def _wire_type(declared: AccountField) -> Any:
    """A declared field's type on the wire: an enum taken by its value, as in a request body."""
    is_enum = isinstance(declared.value_type, type) and issubclass(declared.value_type, Enum)
    return Annotated[declared.hint, ByValue] if is_enum else declared.hint

if TYPE_CHECKING:
    AccountWire = _AccountWireFields
else:
    AccountWire = create_model(
        "AccountWire", __base__=_AccountWireFields, __module__=__name__,
        **{declared.name: (_wire_type(declared), ... if declared.default is MISSING
                           else declared.default)
           for declared in ACCOUNT_FIELDS})


class Role(StrEnum):
    CLERK = "clerk"
    SUPERVISOR = "supervisor"


_PUBLIC_KEY = Field(pattern=PUBLIC_KEY_PATTERN)
_PUBLIC_KEY_OPTIONAL = Field(default=None, pattern=PUBLIC_KEY_PATTERN)
_SIGNATURE = Field(pattern=SIGNATURE_PATTERN)


class LoginRequest(WireModel):
    clerk: str = _ID
    password: str = Field(min_length=1, max_length=200)
    hall_id: str = _ID
    terminal_id: str = _ID
    # Made once per installation; with the terminal's key, it names this copy of HallClient.
    installation_id: StorableText = Field(min_length=8, max_length=64)
    # The installation's Ed25519 public key, and its signature of the login
    # (hallcore.signing.login_message) at `signed_at`, the terminal's clock: the key is present
    # here, now. A key the server has not seen waits for a supervisor's approval.
    terminal_public_key: str = _PUBLIC_KEY
    signed_at: WireTime
    terminal_proof: str = _SIGNATURE
    # A supervisor's approval key made on this terminal (its private half sealed with their
    # password): registered with a supervisor's login, for their offline sign-offs here.
    approval_public_key: str | None = _PUBLIC_KEY_OPTIONAL
    # The clerk's own new password: required with a one-time password an administrator set
    # (refused with `password_change_required` without it), allowed with any.
    new_password: str | None = Field(default=None, min_length=1, max_length=200)


class RefreshRequest(WireModel):
    refresh_token: str = Field(min_length=16, max_length=200)


class ApprovalRequest(WireModel):
    """A supervisor at the counter signs off one request the clerk may not do alone: the
    approval is bound to that operation (its id, account and business type)."""

    supervisor: str = _ID
    password: str = Field(min_length=1, max_length=200)
    operation_id: str = _OPERATION_ID
    business_type: Annotated[BusinessKind, ByValue]
    account_number: str | None = Field(default=None, pattern=r"^\d{10}$")
    # The supervisor's approval key for this terminal (see LoginRequest), registered with it.
    approval_public_key: str | None = _PUBLIC_KEY_OPTIONAL


class Approval(WireModel):
    supervisor: str
    supervisor_name: str
    # Single-use, for the operation named in the request, pushed with it (PushOperation).
    token: str
    expires_at: IsoTime


class TerminalFacts(WireModel):
    """What the server knows of the calling terminal, given at login and with each pull."""

    # The central database's identity; a restore from a backup changes it (the terminal then
    # pushes again what the server no longer holds, and downloads the accounts again).
    server_identity: str
    server_time: IsoTime
    # The last receipt number of this terminal the server holds: the terminal never issues one
    # at or below it, also after its cache was lost.
    last_receipt_no: str | None
    # How old an operation made offline may be when it reaches the server, in hours, a
    # supervisor's extension included.
    offline_window_hours: int
    # Names the working-day calendar and the hall's opening hours the server counts deadlines
    # on: a terminal whose copy has another stamp gets it again (GET /calendar).
    calendar_stamp: str | None = Field(default=None, max_length=64)


CLOCK_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d$"


class CalendarWire(WireModel):
    """The working-day calendar as a terminal keeps it (hallcore.domain.deadlines)."""

    stamp: str = Field(max_length=64)
    years: list[int]  # whose notice is loaded; other years count on weekends alone
    holidays: list[date]  # weekdays off
    workdays: list[date]  # weekend days worked (调休)
    # The hall's opening hours, HH:MM in China Standard Time (no offset: it is a wall clock).
    opens: str = Field(pattern=CLOCK_PATTERN)
    closes: str = Field(pattern=CLOCK_PATTERN)


class WindowExtension(WireModel):
    """A supervisor, typing their password at the terminal, lets its offline operations older
    than the hall's window through, by this many hours more, for a day."""

    hours: int = Field(ge=1, le=24 * 30)
    supervisor: str = _ID
    password: str = Field(min_length=1, max_length=200)


class TokenResponse(WireModel):
    access_token: str
    refresh_token: str
    expires_in: int  # seconds
    clerk: str
    clerk_name: str
    role: Role
    hall_id: str
    district: str
    terminal: TerminalFacts


# The longest a pull may wait for a change (GET /changes?wait=S), in seconds.
MAX_CHANGES_WAIT = 30


class AccountClaim(WireModel):
    """An account a hall has a form open on ("being changed at hall X"): what a colleague at
    another hall needs to see, and no clerk's personal data."""

    account_number: str = Field(pattern=r"^\d{10}$")
    hall_id: str
    # The terminal knows its own claims by it; a colleague's counter in the same hall is
    # another claim.
    terminal_id: str
    hall_name: str
    since: IsoTime
    expires_at: IsoTime
    # The form was closed (recorded or abandoned): the claim no longer stands.
    released: bool = False


class ChangesPage(WireModel):
    accounts: list[AccountWire]
    next_cursor: int
    more: bool
    # What the server knows of the calling terminal, with every pull: no request more.
    terminal: TerminalFacts
    # The district's claims changed after `claims_after` (on a first pull, those standing), and
    # the cursor to ask after next; empty and 0 from a server that predates them.
    claims: list[AccountClaim] = []
    claims_cursor: int = Field(default=0, ge=0)
    # The longest this server holds a pull for `wait` (0: it answers at once, as before).
    wait_max: int = Field(default=0, ge=0)


class BootstrapPage(WireModel):
    accounts: list[AccountWire]
    # Resume after this account number; None when the last page has been sent.
    next_after: str | None
    # Pull changes after this cursor once the bootstrap is done (taken at its first page).
    cursor: int
    # How many accounts the caller's district has, for a progress indicator. Sent on the first
    # page only (no `after`), so the later pages cost no COUNT; None on them, and from a server
    # that predates the field.
    total: int | None = Field(default=None, ge=0)


# An account in a compact bootstrap page: AccountWire's values in this order, the community
# named by its code (the page carries each of its communities once).
ACCOUNT_ROW_FIELDS = (*ACCOUNT_FIELD_NAMES, "community_code", "seq")
if TYPE_CHECKING:
    AccountRowWire = tuple[Any, ...]
else:
    AccountRowWire = tuple[(*(declared.hint for declared in ACCOUNT_FIELDS), str | None, int)]
COMMUNITY_ROW_FIELDS = ("code", "name", "households", "manager_name", "manager_phone")
CommunityRowWire = tuple[str, str, int, str | None, str | None]
# Which communities a compact page carries (its `communities` query parameter): those its rows
# name ("page", the default), all of the district's ("district": a bootstrap's first page), or
# none ("none": its later pages; their rows name communities a first page brought). A server
# that predates the parameter answers every page as "page".
BootstrapCommunities = Literal["page", "district", "none"]


class BootstrapRows(WireModel):
    """A bootstrap page in compact form: an array per account instead of an object, and each
    community once instead of inside every account of it. Pages, `next_after`, `cursor` and
    `total` as in BootstrapPage; half its bytes, read in a quarter of the time."""

    rows: list[AccountRowWire]
    communities: list[CommunityRowWire]
    next_after: str | None
    cursor: int
    total: int | None = Field(default=None, ge=0)

    def account(self, row: AccountRowWire,
                earlier: Mapping[str, CommunityRowWire] | None = None) -> AccountWire:
        """One of the page's rows as an AccountWire, its community included: the page's, or
        else one of `earlier` (those earlier pages brought, for a page that carries none). The
        row as this model read it, or as the client's insert reads it
        (hallclient/sync/bootstrap_rows.py: checked already, a date as its text), which is why
        a date's text is taken here."""
        values: dict[str, Any] = dict(zip(ACCOUNT_ROW_FIELDS, row, strict=True))
        code = values.pop("community_code")
        community = next((c for c in self.communities if c[0] == code),
                         None if earlier is None or code is None else earlier.get(code))
        values["community"] = CommunityWire.model_validate(
            dict(zip(COMMUNITY_ROW_FIELDS, community, strict=True))) if community else None
        return AccountWire.model_validate(values, strict=False)


RECEIPT_NO_PATTERN = r"^[A-Za-z0-9-]{1,40}$"


class NotSettledReason(StrEnum):
    """Why a request was not settled at the first contact."""

    SITE_VISIT = "site_visit"  # a site job follows (still one-stop if it is the only one)
    DOCUMENTS_MISSING = "documents_missing"
    SYSTEM_OFFLINE = "system_offline"
    OTHER = "other"


class Rating(StrEnum):
    """The five levels of the national service-rating scheme (好差评), best first. The three
    values of the first terminals keep their meaning: ratings waiting in their outboxes sync."""

    VERY_SATISFIED = "very_satisfied"  # 非常满意
    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意
    VERY_DISSATISFIED = "very_dissatisfied"  # 非常不满意

    @property
    def score(self) -> int:
        """The scheme's score: 5 for very satisfied down to 1 (the rating keypad's keys)."""
        return 5 - list(Rating).index(self)

    @property
    def is_bad(self) -> bool:
        """A bad rating (差评): the customer is called back. The three others are good
        (好评), and so is a transaction left unrated for 7 days (it counts as basically
        satisfied)."""
        return self in (Rating.DISSATISFIED, Rating.VERY_DISSATISFIED)


class Feedback(WireModel):
    """The customer's rating of one transaction, given at the counter after the receipt."""

    operation_id: str = _OPERATION_ID
    rating: Annotated[Rating, ByValue]
    reason: StorableText | None = Field(default=None, max_length=200)
    rated_at: WireTime


class FeedbackRequest(WireModel):
    items: list[Feedback] = Field(max_length=MAX_PUSH_BATCH)


class FeedbackResponse(WireModel):
    # Stored now or before (a rating is kept once: a repeat changes nothing).
    stored: list[str]
    # Operations the server has not received yet: the terminal sends the rating again later.
    unknown: list[str]


MAX_SIGNATURE_BYTES = 32 * 1024  # the customer's handwritten signature, a PNG
# ... of at most these pixels: what a receipt's signature box holds.
MAX_SIGNATURE_WIDTH, MAX_SIGNATURE_HEIGHT = 600, 180
MAX_SCAN_BYTES = 1024 * 1024  # one document scan, a JPEG or PNG
MAX_SCANS = 4  # document scans attached to one operation
SHA256_PATTERN = r"^[0-9a-f]{64}$"
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


class TicketSource(StrEnum):
    """How the customer's queue ticket reached the counter."""

    TYPED = "typed"  # the clerk typed the number from the paper ticket
    SCANNED = "scanned"  # the ticket's barcode, read by a scanner that types it
    QUEUE = "queue"  # called from the hall's queue system (its times are the system's)


class QueueTicket(WireModel):
    """The customer's queue ticket (排队号), as the counter knew it. Its times are the queue
    system's claims: the server keeps them and counts the waiting time only from a pair it can
    believe (issued before called, called before the request, within a day)."""

    number: str = Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9-]+$")
    source: Annotated[TicketSource, ByValue]
    issued_at: WireTime | None = None
    called_at: WireTime | None = None


class ScanKind(StrEnum):
    """What a document scan shows."""

    ID_DOCUMENT = "id_document"  # the customer's (or new holder's) ID document
    OWNERSHIP = "ownership"  # for a transfer: the property's ownership document
    OTHER = "other"


class ScanMediaType(StrEnum):
    JPEG = "image/jpeg"
    PNG = "image/png"


class ScanRef(WireModel):
    """A document scan attached to an operation: announced with the operation, its bytes
    uploaded after it (PUT /scans/{scan_id}), held to this size and hash."""

    scan_id: str = Field(pattern=UUID_PATTERN)
    kind: Annotated[ScanKind, ByValue]
    media_type: Annotated[ScanMediaType, ByValue]
    size: int = Field(ge=1, le=MAX_SCAN_BYTES)
    sha256: str = Field(pattern=SHA256_PATTERN)


class ScanStatus(WireModel):
    """How much of a scan the server holds: the upload resumes at `received`; `complete`
    once every byte is there and matched the announced hash."""

    scan_id: str
    size: int
    received: int
    complete: bool


class ScanInfo(WireModel):
    """A scan as a supervisor's list shows it: what it is, never what it shows."""

    scan_id: str
    kind: Annotated[ScanKind, ByValue]
    media_type: Annotated[ScanMediaType, ByValue]
    size: int
    complete: bool
    # Its content dropped after the retention period: the row stays as the record of it.
    purged: bool
    created_at: WireTime


class ScanList(WireModel):
    operation_id: str
    scans: list[ScanInfo]


class PushOperation(WireModel):
    operation_id: str = _OPERATION_ID
    business_type: Annotated[BusinessKind, ByValue]
    account_number: str | None = Field(default=None, pattern=r"^\d{10}$")
    base_version: int | None = Field(default=None, ge=0, le=MAX_INTEGER)
    payload: StorableJson
    created_at: WireTime
    clerk: str = _ID
    receipt_no: str = Field(pattern=RECEIPT_NO_PATTERN)
    receipt_signature: str = _SIGNATURE
    # The supervisor who signed off at the counter: closing an account, or a rule's warning,
    # and the proof: the token of an online approval (POST /approve), or the supervisor's
    # offline signature (hallcore.signing.approval_message) with their approval key.
    approved_by: str | None = Field(default=None, min_length=1, max_length=32,
                                    pattern=r"^[A-Za-z0-9_.-]+$")
    approval_token: str | None = Field(default=None, min_length=16, max_length=100,
                                       pattern=r"^[A-Za-z0-9_-]+$")
    approval_signature: str | None = Field(default=None, pattern=SIGNATURE_PATTERN)
    # One-stop (一站妥): was the customer's request settled at this first contact, and if not,
    # why. None from terminals that do not say (they count as not recorded, not as settled).
    first_contact: bool | None = None
    not_settled_reason: Annotated[NotSettledReason, ByValue] | None = None
    # Seconds from opening the form to submitting it: the handling time at the counter.
    handling_seconds: int | None = Field(default=None, ge=0, le=86_400)
    # The customer's handwritten signature, a PNG in base64. Its SHA-256 is part of what the
    # receipt signature covers (hallcore.signing.receipt_message): a swapped one fails.
    customer_signature: str | None = Field(
        default=None, max_length=(MAX_SIGNATURE_BYTES + 2) // 3 * 4,
        pattern=r"^[A-Za-z0-9+/]+={0,2}$")
    ticket: QueueTicket | None = None
    scans: list[ScanRef] = Field(default_factory=list, max_length=MAX_SCANS)


class PushRequest(WireModel):
    operations: list[PushOperation] = Field(max_length=MAX_PUSH_BATCH)


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    REJECTED = "rejected"


class RefusalCode(StrEnum):
    """Why the server refused a pushed operation without storing it: nothing the terminal
    claimed could be proven."""

    FOREIGN_RECEIPT = "foreign_receipt"  # the receipt number is not this terminal's
    BAD_SIGNATURE = "bad_signature"  # not signed with this terminal's key
    # The customer's signature is missing where the business type needs one
    # (BusinessType.customer_signs), or is not a PNG within MAX_SIGNATURE_BYTES.
    BAD_CUSTOMER_SIGNATURE = "bad_customer_signature"
    UNKNOWN_CLERK = "unknown_clerk"  # not a clerk who logged in at this terminal
    FROM_THE_FUTURE = "from_the_future"  # made later than the server's clock allows
    TOO_OLD = "too_old"  # older than the hall's offline window
    NO_SIGN_OFF = "no_sign_off"  # no valid supervisor's sign-off
    # A document scan's id twice in the operation or its batch, or another operation's.
    BAD_SCANS = "bad_scans"


class OperationResult(WireModel):
    operation_id: str
    outcome: Outcome
    # For duplicate: what the first push answered (applied, conflict or rejected).
    first_outcome: Outcome | None = None
    # applied: the account after the change; conflict: the account as it is now.
    account: AccountWire | None = None
    reason: BilingualText | None = None
    field_errors: dict[str, BilingualText] | None = None
    # Why, for programs, when the server refused the operation without storing it: the
    # terminal keeps a `too_old` one for a supervisor's extension of the offline window.
    code: Annotated[RefusalCode, ByValue] | None = None


class PushResponse(WireModel):
    results: list[OperationResult]


class ReceiptVerification(WireModel):
    receipt_no: str
    known: bool
    signature_valid: bool
    business_type: BusinessKind | None = None
    outcome: Outcome | None = None
    hall_id: str | None = None
    received_at: IsoTime | None = None


class WorkItemWire(WireModel):
    id: int
    operation_id: str
    account_number: str
    business_type: BusinessKind
    step: str
    step_label: BilingualText
    due_at: IsoTime
    done_at: IsoTime | None
    overdue: bool


class WorkItemList(WireModel):
    hall_id: str
    items: list[WorkItemWire]


class Health(WireModel):
    status: str
    version: str
    schema_revision: str


class NotificationWire(WireModel):
    """An SMS to the customer about an operation: what, when queued and when sent (the phone
    number and the text stay on the server)."""

    operation_id: str
    notice: str
    # pending | sending | submitted | sent | delivered | undelivered | refused | unconfirmed
    # (hallserver/notifications.py); `sent_at` is set once the gateway took it.
    state: str
    queued_at: IsoTime
    sent_at: IsoTime | None


class AccountNotifications(WireModel):
    account_number: str
    items: list[NotificationWire]


class KpiRow(WireModel):
    """Service-quality figures of one group (a hall, a clerk, a business type) over a period.
    Rates are None where nothing was counted. The figures added with the five-level scheme
    come last and default to nothing counted, as a server before them answers."""

    key: str
    operations: int
    rated: int  # ratings the customers gave, at all five levels
    satisfied: int
    basically_satisfied: int  # as rated (`defaulted` counts the unrated ones)
    dissatisfied: int
    # The share of good ratings (好评率): very satisfied, satisfied and basically satisfied,
    # with the transactions left unrated for 7 days counted as basically satisfied, as the
    # national scheme does: (very satisfied + satisfied + basically satisfied + defaulted) /
    # (rated + defaulted).
    satisfaction_rate: float | None
    first_contact_recorded: int
    first_contact: int
    one_stop_ratio: float | None  # settled at first contact / recorded
    avg_handling_seconds: float | None
    # The requests' later steps (call-backs have figures of their own, below).
    work_items: int
    overdue: int  # work items due in the period and done late or still open past due
    accounts: int | None  # completeness: by hall only (accounts belong to a district)
    complete_accounts: int | None
    completeness_rate: float | None
    very_satisfied: int = 0
    very_dissatisfied: int = 0
    # Transactions left unrated for 7 days: counted as basically satisfied, never stored as
    # ratings (a rating that arrives late, from a terminal that was offline, takes its place).
    defaulted: int = 0
    # Call-backs (回访) opened for the bad ratings counted, and their share of those ratings.
    callbacks_opened: int = 0
    callback_rate: float | None = None
    # Call-backs due in the period, those done by their due time, and the share done in time.
    callbacks_due: int = 0
    callbacks_in_time: int = 0
    callbacks_in_time_rate: float | None = None


class KpiHourRow(WireModel):
    """Waiting and handling times of one hall in one hour of the hall day (China Standard Time),
    or over the whole day where `hour` is None. A customer's wait (queue ticket issued → called,
    where the server could believe the two times) counts once however many requests the
    visit made, in the hour the ticket was issued; a request's handling time in the hour it was
    made."""

    hall: str
    hour: int | None = Field(ge=0, le=23)
    waits: int  # visits with a believable wait
    avg_waiting_seconds: float | None
    median_waiting_seconds: float | None
    p90_waiting_seconds: float | None
    handled: int  # requests that recorded their handling time
    avg_handling_seconds: float | None


class KpiReport(WireModel):
    since: IsoTime
    until: IsoTime
    by: str  # hall | clerk | business_type
    rows: list[KpiRow]
    total: KpiRow
    # By hall and hour (and each hall's whole day); empty from a server before them.
    hours: list[KpiHourRow] = Field(default_factory=list)
