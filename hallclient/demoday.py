"""A simulated day at the counter, for the demo and for checking the service-quality figures:
customers come to a hall's terminals, ask for a business, are served — settled at once or not —
and rate the service; the terminals sync. The same seed gives the same day."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import partial
from typing import Protocol

from hallclient.auth.approval import ApprovalRefused, approve
from hallclient.samples import SAMPLE_ACCOUNT, sample_payload, sample_signature
from hallclient.store.cache import Cache
from hallclient.store.feedback import record_feedback
from hallclient.store.operations import (
    CounterFacts,
    OverrideNeeded,
    RequestRefused,
    TerminalIdentity,
    record_operation,
)
from hallclient.sync.engine import SyncEngine
from hallcore.domain.accounts import Account, AccountStatus
from hallcore.domain.business import BUSINESS_TYPES, BusinessKind, PayloadInvalid
from hallcore.wire import NotSettledReason, Rating

# What customers ask for, roughly as often as a residential hall sees it.
_ASKED = ((BusinessKind.CONTACT_CHANGE, 30), (BusinessKind.TRANSFER, 20),
          (BusinessKind.SUSPEND, 15), (BusinessKind.RESUME, 10), (BusinessKind.RENAME, 10),
          (BusinessKind.NEW_CONNECTION, 10), (BusinessKind.CLOSE, 5))
_RATINGS = ((Rating.SATISFIED, 70), (Rating.BASICALLY_SATISFIED, 18),
            (Rating.DISSATISFIED, 12))
_REASONS = ("等候时间较长", "手续还可以更简单", None, None)


class Counter(Protocol):
    """A logged-in terminal (hallclient.demo.DemoTerminal is one)."""

    cache: Cache
    identity: TerminalIdentity
    clerk: str
    engine: SyncEngine

    def accounts(self) -> list[Account]: ...


def simulate_day(terminals: Sequence[Counter], customers: int, *,
                 supervisor: tuple[str, str], seed: int = 7, today: date | None = None) -> int:
    """Serve `customers` customers on the terminals, round-robin; every terminal is synced
    before and after; `supervisor` (id, password) signs off where a request needs it.
    Returns how many requests were recorded."""
    rng = random.Random(seed)
    for terminal in terminals:
        terminal.engine.sync_once()
    recorded = 0
    for n in range(customers):
        terminal = terminals[n % len(terminals)]
        kind = rng.choices([k for k, _ in _ASKED], [w for _, w in _ASKED])[0]
        now = datetime.now(UTC)
        day = today or now.date()
        account = None
        if not BUSINESS_TYPES[kind].opens_account:
            wanted = AccountStatus.SUSPENDED if kind is BusinessKind.RESUME else (
                AccountStatus.ACTIVE)
            candidates = [a for a in terminal.accounts() if a.status is wanted
                          and a.id_number and a.arrears_fen == 0]
            if not candidates:
                continue
            account = rng.choice(candidates)
        settled = rng.random() < 0.85
        facts = CounterFacts(
            first_contact=settled,
            not_settled_reason=None if settled else rng.choice(list(NotSettledReason)),
            handling_seconds=rng.randint(90, 900))
        record = partial(
            record_operation, terminal.cache, terminal.identity, clerk=terminal.clerk,
            kind=kind, account_number=account.number if account else None,
            raw_payload=sample_payload(kind, account or SAMPLE_ACCOUNT, day), now=now,
            facts=facts, customer_signature=sample_signature(kind))
        try:
            try:
                done = record()
            except OverrideNeeded as needed:  # the hall's supervisor signs off, online
                done = record(sign_off=approve(
                    terminal.engine.credentials, terminal.engine.credentials.secrets,
                    *supervisor, now, operation_id=needed.operation_id,
                    kind=needed.kind, account_number=needed.account_number))
        except (RequestRefused, OverrideNeeded, PayloadInvalid, ApprovalRefused):
            continue  # the clerk explains; nothing is recorded
        recorded += 1
        if rng.random() < 0.8:  # most customers tap a rating
            rating = rng.choices([r for r, _ in _RATINGS], [w for _, w in _RATINGS])[0]
            reason = rng.choice(_REASONS) if rating is not Rating.SATISFIED else None
            record_feedback(terminal.cache, done.operation_id, rating, reason, now)
    for terminal in terminals:
        terminal.engine.sync_once()
    return recorded
