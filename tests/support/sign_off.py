"""A supervisor's sign-off at a test counter, as the counter window gets it: the request is
tried, OverrideNeeded names its operation, the supervisor approves that operation (online, or
offline with their approval key), and the request is recorded again with the sign-off."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from hallclient.auth.approval import approve
from hallclient.store.operations import OverrideNeeded, RecordedOperation, SignOff
from hallserver.seed import DEMO_SUPERVISOR_PASSWORD
from tests.support.counter import Counter

SUPERVISOR = "gz-th-01-s1"


def needed(counter: Counter, kind: str, number: str | None, payload: dict[str, Any]
           ) -> OverrideNeeded:
    """What the first try of a request that needs a sign-off raises (nothing is recorded)."""
    with pytest.raises(OverrideNeeded) as raised:
        counter.record(kind, number, payload)
    return raised.value


def sign_off(counter: Counter, need: OverrideNeeded, supervisor: str = SUPERVISOR,
             password: str = DEMO_SUPERVISOR_PASSWORD) -> SignOff:
    return approve(counter.engine.credentials, counter.secrets, supervisor, password,
                   datetime.now(UTC), operation_id=need.operation_id, kind=need.kind,
                   account_number=need.account_number)


def record_signed(counter: Counter, kind: str, number: str | None, payload: dict[str, Any],
                  **approval: Any) -> RecordedOperation:
    """The request, signed off by the supervisor (gz-th-01-s1 by default) and recorded."""
    signed = sign_off(counter, needed(counter, kind, number, payload), **approval)
    return counter.record(kind, number, payload, sign_off=signed)
