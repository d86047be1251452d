"""Small builders of domain objects for tests."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from hallcore.domain.accounts import Account, AccountStatus, Community
from hallcore.domain.deadlines import HallCalendar, WorkCalendar
from hallcore.domain.ids import IdDocType, make_resident_id
from hallcore.signing import SigningKey

HOLDER_ID = make_resident_id("440106", date(1980, 5, 17), 123)
OTHER_ID = make_resident_id("430102", date(1992, 3, 15), 442)

# A fixed terminal key for tests that sign receipts without a server.
TERMINAL_KEY = SigningKey.from_hex("11" * 32)

# Monday to Friday with no holidays, for years a test's dates fall in: deadlines without the
# note an estimate prints (tests/core/test_deadlines.py has the notices' rules).
WEEKDAYS = HallCalendar(WorkCalendar(frozenset(range(2020, 2031))))

COMMUNITY = Community("GZ-TH-C0001", "天河雅苑", 240, "黄经理", "13800138000")


def account(**changes: Any) -> Account:
    base = Account(
        number="1000000001",
        holder_name="陈伟",
        id_type=IdDocType.RESIDENT_ID,
        id_number=HOLDER_ID,
        phone="13912345678",
        supply_address="广州市天河区天河路1号天河雅苑3栋1201房",
        mailing_address="广州市天河区天河路1号天河雅苑3栋1201房",
        status=AccountStatus.ACTIVE,
        version=4,
        district="GZ-TH",
        arrears_fen=0,
        sms_consent=True,
        community=COMMUNITY,
    )
    return dataclasses.replace(base, **changes)


def holder_presents(account_: Account | None = None) -> dict[str, Any]:
    a = account_ or account()
    return {"applicant_id_type": a.id_type, "applicant_id_number": a.id_number}


TODAY = date(2026, 11, 25)  # a Wednesday


# A new low-voltage residential connection as a clerk sends it.
NEW_CONNECTION = {
    "applicant_name": "陈志明", "applicant_id_type": "resident_id",
    "applicant_id_number": OTHER_ID, "phone": "13800138000",
    "supply_address": "广州市天河区天河路385号12栋1803房", "sms_consent": True,
}
