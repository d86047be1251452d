"""A terminal reads the answers of a server newer than itself: the fields it does not know
are left out, nested ones too, so the server can be upgraded before the terminals. What the
server is sent is held to its schema as before."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from hallclient.sync.api import ServerApi
from hallcore.wire import ACCOUNT_FIELD_NAMES, AccountWire, PushOperation
from tests.support.factories import account


def account_json() -> dict[str, object]:
    held = account()
    return AccountWire(**{name: getattr(held, name) for name in ACCOUNT_FIELD_NAMES},
                       community=None, seq=1).model_dump(mode="json")


def test_an_answer_with_fields_this_terminal_does_not_know_is_read():
    page = {"accounts": [{**account_json(), "a_later_field": [1, 2]}],
            "next_cursor": 7, "more": False, "a_later_page_field": {"x": 1},
            "terminal": {"server_identity": "db-1", "server_time": "2026-12-06T02:00:00+00:00",
                         "last_receipt_no": None, "offline_window_hours": 72,
                         "calendar_stamp": "abc", "a_later_fact": True}}
    api = ServerApi("http://hall.invalid",
                    transport=httpx.MockTransport(lambda _: httpx.Response(200, json=page)))
    read = api.changes(0, 100)
    assert read.next_cursor == 7 and read.terminal.calendar_stamp == "abc"
    assert read.accounts[0].number == account().number


def test_the_server_still_refuses_a_field_it_does_not_know():
    with pytest.raises(ValidationError, match="extra"):
        PushOperation.model_validate({"operation_id": "x", "a_field_from_nowhere": 1})
