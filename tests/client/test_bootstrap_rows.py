"""A compact bootstrap page read for the insert: as strictly as the wire model reads it, its
rows' enum fields as their values, a bad row refused saying what and where (never its values),
and nothing of a refused page stored."""

import gc
import json
import re
from datetime import date
from enum import Enum

import httpx
import msgspec
import pytest
from sqlalchemy import func, select

from hallclient.store.models import AccountRow, SyncStateRow
from hallclient.sync.api import ServerApi, ServerUnreachable
from hallclient.sync.bootstrap_rows import ISO_DATE, _Page, read_bootstrap_rows
from hallcore.domain.accounts import AccountStatus
from hallcore.domain.ids import IdDocType
from hallcore.wire import ACCOUNT_ROW_FIELDS, BootstrapRows

ROW = {"number": "1000000001", "holder_name": "陈伟", "id_type": "resident_id",
       "id_number": "440106198601088637", "phone": "13800138000",
       "supply_address": "广州市天河区天河路1号", "mailing_address": None, "status": "active",
       "version": 3, "district": "GZ-TH", "arrears_fen": 0, "sms_consent": True,
       "sms_language": "zh", "id_valid_until": "2042-11-09", "community_code": "GZ-TH-C0001",
       "seq": 7}
COMMUNITY = ["GZ-TH-C0001", "华景新村", 120, "李明", "13900139000"]


def page(*changes: dict[str, object], **fields: object) -> bytes:
    """A page of one row per `changes` (ROW with them), as the server writes it."""
    rows = [[{**ROW, **change}[name] for name in ACCOUNT_ROW_FIELDS] for change in changes]
    return json.dumps({"rows": rows, "communities": [COMMUNITY], "next_after": None,
                       "cursor": 7, "total": len(rows), **fields}).encode()


def answering(body: bytes) -> ServerApi:
    return ServerApi("http://hall.invalid", transport=httpx.MockTransport(
        lambda _request: httpx.Response(200, content=body)))


def test_the_page_has_the_fields_of_the_wire_model():
    assert _Page.__struct_fields__ == tuple(BootstrapRows.model_fields)


def test_a_page_reads_as_the_wire_model_reads_it_with_enums_as_their_values():
    content = page({}, {"number": "1000000002", "id_type": None, "id_valid_until": None,
                        "status": "suspended", "community_code": None})
    read, wire = read_bootstrap_rows(content), BootstrapRows.model_validate_json(content)
    assert read.rows == [tuple(v.value if isinstance(v, Enum) else
                               v.isoformat() if isinstance(v, date) else v for v in row)
                         for row in wire.rows]
    assert (read.communities, read.next_after, read.cursor, read.total) == (
        wire.communities, wire.next_after, wire.cursor, wire.total)
    first = read.rows[0]
    # What sqlite3 binds without looking for an adapter (an enum member it would).
    assert type(first[ACCOUNT_ROW_FIELDS.index("id_type")]) is str
    assert type(first[ACCOUNT_ROW_FIELDS.index("status")]) is str
    assert first[ACCOUNT_ROW_FIELDS.index("id_valid_until")] == "2042-11-09"
    account = read.account(first)  # for an account with operations pending
    assert account.status is AccountStatus.ACTIVE and account.id_type is IdDocType.RESIDENT_ID
    assert account.id_valid_until == date(2042, 11, 9)
    assert read.account(read.rows[1]).id_valid_until is None
    assert account.community is not None and account.community.households == 120


def test_a_row_of_a_page_without_communities_takes_its_community_from_earlier_pages():
    read = read_bootstrap_rows(page({}, communities=[]))
    assert read.account(read.rows[0]).community is None
    other = ("GZ-TH-C0002", "东圃小区", 40, None, None)
    earlier = {"GZ-TH-C0001": tuple(COMMUNITY), "GZ-TH-C0002": other}
    community = read.account(read.rows[0], earlier).community
    assert community is not None and (community.code, community.name) == ("GZ-TH-C0001",
                                                                           "华景新村")
    # The page's own comes first: a page that brings a community brings it as it is now.
    renamed = read_bootstrap_rows(page({}))
    community = renamed.account(renamed.rows[0], {"GZ-TH-C0001": ("GZ-TH-C0001", "旧名", 1,
                                                                   None, None)}).community
    assert community is not None and community.name == "华景新村"


def test_a_field_a_newer_server_added_to_the_page_is_left_out():
    assert read_bootstrap_rows(page({}, a_later_field=[1])).cursor == 7


@pytest.mark.parametrize(("change", "said"), [
    ({"version": "3"}, "Expected `int`, got `str` - at `$.rows[1][8]`"),
    ({"sms_consent": 1}, "Expected `bool`, got `int` - at `$.rows[1][11]`"),
    ({"arrears_fen": 1.0}, "Expected `int`, got `float` - at `$.rows[1][10]`"),
    ({"holder_name": 5}, "Expected `str`, got `int` - at `$.rows[1][1]`"),
    ({"seq": "7"}, "Expected `int`, got `str` - at `$.rows[1][15]`"),
    ({"status": "李四 440106198601088637"}, "Invalid enum value - at `$.rows[1][7]`"),
    ({"id_valid_until": "2042-02-30"}, "Invalid RFC3339 encoded date - at `$.rows[1][13]`"),
], ids=["version-as-text", "consent-as-number", "fen-as-float", "name-as-number",
        "seq-as-text", "status-unknown", "date-not-on-the-calendar"])
def test_a_bad_row_is_refused_saying_what_and_where_and_none_of_its_values(change, said):
    with pytest.raises(ServerUnreachable) as refused:
        answering(page({}, {"number": "1000000002", **change})).bootstrap(None, 100)
    assert str(refused.value) == f"unreadable answer: {said}"
    assert "440106198601088637" not in str(refused.value)


@pytest.mark.parametrize("body", [
    page({})[:-20],
    json.dumps({"rows": [list(ROW.values())[:-1]], "communities": [], "next_after": None,
                "cursor": 7}).encode(),
    page({}, total=-1),
], ids=["cut", "short-row", "negative-total"])
def test_a_cut_or_misshapen_page_is_unreadable(body):
    with pytest.raises(ServerUnreachable, match="unreadable answer"):
        answering(body).bootstrap(None, 100)


def test_a_page_with_a_bad_row_leaves_nothing_of_it_and_the_bootstrap_resumes_before_it(
        counters):
    counter = counters()
    real = counter.api._body
    pages: list[str | None] = []

    def second_page_garbled(method, path, **options):
        answer = real(method, path, **options)
        pages.append(options["params"].get("after"))
        if len(pages) != 2:
            return answer
        body = json.loads(answer)
        body["rows"][-1][ACCOUNT_ROW_FIELDS.index("version")] = "garbled"
        return json.dumps(body).encode()

    counter.api._body = second_page_garbled
    with pytest.raises(ServerUnreachable, match=r"at `\$\.rows\[99\]\[8\]`"):
        counter.engine.bootstrap()
    with counter.cache.read() as s:
        assert s.scalar(select(func.count()).select_from(AccountRow)) == 100
        assert s.get(SyncStateRow, 1).bootstrap_after == pages[1]
    counter.api._body = real
    assert counter.engine.bootstrap() == 150


def test_a_page_s_body_is_freed_once_read_not_left_to_the_cycle_collector() -> None:
    """httpx keeps an answer's body on the response, which is in a reference cycle with its
    stream: a body kept there waits for the cycle collector, which a bootstrap runs rarely.
    Pages of 2.5 MB piled up so until the client held over a gigabyte at 4.34 million
    accounts."""
    body = page(ROW)
    # Sent in pieces, as a server sends it: a body given whole is read at once by httpx.
    api = ServerApi("http://hall.invalid", transport=httpx.MockTransport(
        lambda _request: httpx.Response(200, content=iter([body[:100], body[100:]]))))
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            api.bootstrap(None, 5000)
        bodies_kept = [answer for answer in gc.get_objects()
                       if isinstance(answer, httpx.Response) and "_content" in vars(answer)]
    finally:
        gc.enable()
    assert bodies_kept == []


DAYS = [f"{day:02d}" for day in range(33)]
MONTHS = [f"{month:02d}" for month in range(14)]


@pytest.mark.parametrize("year", ["0000", "0001", "0004", "0100", "0400", "1900", "1999",
                                  "2000", "2023", "2024", "2100", "2400", "9999"])
def test_a_date_is_read_as_its_text_exactly_where_msgspec_reads_a_date(year):
    """The date's text is checked against ISO_DATE instead of read into a date object: the
    same texts pass, every day of every month of years leap and not, century or not."""
    texts = [f"{year}-{month}-{day}" for month in MONTHS for day in DAYS]
    texts += [f"{year}-1-01", f"{year}-01-1", f"{year}-01-01T00:00", f" {year}-01-01",
              f"{year}-01-01\n", f"+{year}-01-01", f"{year}/01/01", f"{year}-０１-01",
              f"{year}0101", f"1{year}-01-01"]
    for text in texts:
        try:
            as_date = msgspec.json.decode(json.dumps(text).encode(), type=date)
        except msgspec.ValidationError:
            as_date = None
        as_text = re.search(ISO_DATE, text) is not None
        assert as_text == (as_date is not None), text
        if as_date is not None:
            assert as_date.isoformat() == text
