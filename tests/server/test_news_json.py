"""The news a change brings is written as JSON once for all the terminals it goes to; each
terminal's page is that JSON with its own facts, the same page as the model would write."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hallcore.wire import ChangesPage, Role, TerminalFacts
from hallserver.changes import PullRequest, read_news
from hallserver.context import Caller
from hallserver.seed import seed


def test_a_page_written_from_the_shared_json_is_the_page(server_engine):
    seed(server_engine, accounts=12, halls=1)
    caller = Caller(clerk="gz-th-01-c1", role=Role.CLERK, hall_id="GZ-TH-01", terminal_id="T01",
                    district="GZ-TH")
    news = read_news(server_engine, PullRequest(caller, 0, 0, 5))
    assert len(news.accounts) == 5 and news.more
    for receipt in (None, "GZ-TH-01-T01-20261206-0007"):
        facts = TerminalFacts(server_identity="x" * 32, server_time=datetime.now(UTC),
                              last_receipt_no=receipt, offline_window_hours=72,
                              calendar_stamp="abc-08301730")
        written = news.page_json(facts.model_dump_json().encode())
        assert json.loads(written) == json.loads(news.page(facts).model_dump_json())
        assert ChangesPage.model_validate_json(written) == news.page(facts)
