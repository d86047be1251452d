"""Sample accounts and requests of every business type: for the demo and printer test pages."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hallclient.counter.signature import Stroke, signature_png
from hallcore.domain.accounts import Account, AccountStatus, Community
from hallcore.domain.business import BUSINESS_TYPES, BusinessKind
from hallcore.domain.ids import IdDocType

if TYPE_CHECKING:
    from hallclient.store.cache import Cache

SAMPLE_ACCOUNT = Account(
    number="1000000001", holder_name="陈伟", id_type=IdDocType.RESIDENT_ID,
    id_number="440106198005171231", phone="13912345678",
    supply_address="广州市天河区天河路1号天河雅苑3栋1201房",
    mailing_address="广州市天河区天河路1号天河雅苑3栋1201房", status=AccountStatus.ACTIVE,
    version=4, district="GZ-TH", sms_consent=True,
    community=Community("GZ-TH-C0001", "天河雅苑", 240, "黄经理", "13800138000"))


# A sample customer's signature (a wave and a loop), as their screen's pad records it.
SAMPLE_SIGNATURE: tuple[Stroke, ...] = (
    ((10.0, 50.0), (40.0, 20.0), (70.0, 55.0), (100.0, 20.0), (130.0, 55.0), (160.0, 25.0)),
    ((190.0, 40.0), (215.0, 15.0), (240.0, 40.0), (215.0, 65.0), (190.0, 40.0)),
)


def sample_signature(kind: BusinessKind) -> bytes | None:
    """The sample customer's signature PNG where the business type needs one, else None."""
    return signature_png(SAMPLE_SIGNATURE) if BUSINESS_TYPES[kind].customer_signs else None


def sample_account(kind: BusinessKind) -> Account:
    """The sample account in a state the business type may be done in."""
    if kind is BusinessKind.RESUME:
        return dataclasses.replace(SAMPLE_ACCOUNT, status=AccountStatus.SUSPENDED)
    return SAMPLE_ACCOUNT


def sample_payload(kind: BusinessKind, account: Account, today: date) -> dict[str, Any]:
    holder = {"applicant_id_type": account.id_type, "applicant_id_number": account.id_number}
    samples: dict[BusinessKind, dict[str, Any]] = {
        BusinessKind.TRANSFER: {
            "new_holder_name": "林晓燕", "new_holder_id_type": "resident_id",
            "new_holder_id_number": "440106199203154429", "new_holder_phone": "139 2233 4455",
            "new_holder_sms_consent": True},
        BusinessKind.RENAME: {**holder, "new_name": "陈伟明"},
        BusinessKind.SUSPEND: {**holder, "resume_on": (today + timedelta(days=90)).isoformat()},
        BusinessKind.RESUME: holder,
        BusinessKind.CLOSE: holder,
        # A landline takes no SMS: the customer withdraws the consent with it.
        BusinessKind.CONTACT_CHANGE: {**holder, "phone": "020-8765 4321", "sms_consent": False},
        BusinessKind.NEW_CONNECTION: {
            "applicant_name": "陈志明", "applicant_id_type": "resident_id",
            "applicant_id_number": "440106198506123019", "phone": "13800138000",
            "supply_address": "广州市天河区天河路385号太古汇公寓12栋1803房",
            "sms_consent": True},
    }
    return samples[kind]


def district_cache(path: Path, count: int, today: date) -> Cache:
    """A counter's cache at `path` holding `count` demo accounts of the first district, in 3
    communities, and a working-day calendar of Mondays to Fridays around `today`: what a
    bootstrapped terminal has, without a server (tests, benchmarks)."""
    from hallclient.store.accounts import save_account, save_community
    from hallclient.store.cache import open_cache
    from hallclient.sync.work_calendar import keep_calendar
    from hallcore.demodata import DISTRICTS, accounts, communities
    from hallcore.wire import CalendarWire

    cache = open_cache(path)
    district = DISTRICTS[0]
    made = list(communities(district, 3))
    with cache.write() as session:
        for community in made:
            save_community(session, community)
        session.flush()
        for account in accounts(district, count, made):
            save_account(session, account)
        keep_calendar(session, CalendarWire(
            stamp="sample", years=[today.year - 1, today.year, today.year + 1], holidays=[],
            workdays=[], opens="08:30", closes="17:30"))
    return cache
