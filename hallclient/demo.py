"""`hallclient --demo`: a seeded demo cache and a walk through the counter's rules.

It shows, on the terminal, what a clerk's screen will show: an account found in the cache with
personal data masked, what is missing from the record, and for each business type whether it
may be done and when it must be finished.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from hallclient.config import data_dir
from hallclient.demodata import DISTRICTS, accounts, communities
from hallclient.domain.accounts import (
    STATUS_LABELS,
    Account,
    AccountStatus,
    completeness_rate,
    missing_information,
)
from hallclient.domain.business import (
    BUSINESS_TYPES,
    BusinessKind,
    PayloadInvalid,
    check,
    validate_payload,
)
from hallclient.domain.deadlines import due_at
from hallclient.domain.ids import IdDocType, validate_id
from hallclient.domain.masking import mask_id_number, mask_phone
from hallclient.domain.text import InvalidInput, Lang, Text
from hallclient.store.accounts import account_from_row, count_accounts, save_account, save_community
from hallclient.store.cache import Cache, head_revision, open_cache
from hallclient.store.models import AccountRow

DEMO_ACCOUNTS = 500
_NEW_HOLDER = {"new_holder_name": "林晓燕", "new_holder_id_type": "resident_id",
               "new_holder_id_number": "440106199203154429", "new_holder_phone": "139 2233 4455"}


def _seed(cache: Cache) -> None:
    district = DISTRICTS[0]
    district_communities = list(communities(district, 12))
    with cache.write() as session:
        for community in district_communities:
            save_community(session, community)
        session.flush()
        for account in accounts(district, DEMO_ACCOUNTS, district_communities):
            save_account(session, account)


def _sample_payload(kind: BusinessKind, account: Account) -> dict[str, Any]:
    holder = {"applicant_id_type": account.id_type, "applicant_id_number": account.id_number}
    samples: dict[BusinessKind, dict[str, Any]] = {
        BusinessKind.TRANSFER: _NEW_HOLDER,
        BusinessKind.RENAME: {**holder, "new_name": "林晓燕"},
        BusinessKind.SUSPEND: {**holder, "resume_on": "2027-03-01"},
        BusinessKind.RESUME: holder,
        BusinessKind.CLOSE: holder,
        BusinessKind.CONTACT_CHANGE: {**holder, "phone": "020-8765 4321"},
        BusinessKind.NEW_CONNECTION: {
            "applicant_name": "陈志明", "applicant_id_type": "resident_id",
            "applicant_id_number": "440106198506123019", "phone": "13800138000",
            "supply_address": "广州市天河区天河路385号太古汇公寓12栋1803房"},
    }
    return samples[kind]


def _walk_business_types(account: Account, lang: Lang, out: list[str]) -> None:
    now = datetime.now().astimezone()
    for kind, btype in BUSINESS_TYPES.items():
        target = None if btype.opens_account else account
        try:
            payload = validate_payload(kind, _sample_payload(kind, account))
        except PayloadInvalid as exc:
            reasons = "; ".join(r[lang] for r in exc.errors.values())
            out.append(f"  {btype.label[lang]} ✗ {reasons}")
            continue
        decision = check(kind, target, payload, today=now.date())
        due = due_at(now, btype.time_limit)
        limit = (Text("当场办结", "done at the counter") if btype.time_limit.at_counter
                 else Text(f"{due:%Y-%m-%d}前办结", f"due {due:%Y-%m-%d}"))
        if decision.allowed:
            notes = [*decision.warnings]
            if btype.needs_supervisor:
                notes.append(Text("须主管确认", "a supervisor confirms"))
            extra = "; ".join(w[lang] for w in notes)
            out.append(f"  {btype.label[lang]} ✓ {limit[lang]}" + (f" ({extra})" if extra
                                                                     else ""))
        else:
            assert decision.reason is not None
            out.append(f"  {btype.label[lang]} ✗ {decision.reason[lang]}")


def _walk_id_checks(lang: Lang, out: list[str]) -> None:
    # As clerks and card readers type them: spaces, full-width digits, slips of the hand.
    typed = ("440106 19920315 4429", "440106198506123011", "440106199913320012",
             "４４０１０６１９８５０６１２３０１９")
    for raw in typed:
        try:
            doc = validate_id(IdDocType.RESIDENT_ID, raw, today=date.today())
            out.append(f"  {raw} ✓ {mask_id_number(doc.number)}")
        except InvalidInput as exc:
            out.append(f"  {raw} ✗ {exc.reason[lang]}")


def run_demo(*, lang: Lang = "zh") -> int:
    base = data_dir() / "demo"
    cache = open_cache(base / "cache.sqlite3")
    try:
        with cache.read() as session:
            empty = count_accounts(session) == 0
        if empty:
            _seed(cache)
        with cache.read() as session:
            cached = [account_from_row(r) for r in session.scalars(select(AccountRow))]
    finally:
        cache.close()
    sample = next(a for a in cached if a.status is AccountStatus.ACTIVE and a.id_number
                  and a.arrears_fen == 0 and a.community and a.community.manager_name)
    community = sample.community
    missing = ", ".join(m[lang] for m in missing_information(sample))
    lines = [
        Text("HallClient 演示", "HallClient demo"),
        Text("本地缓存：{path}（schema {rev}），{n} 户，信息完整率 {rate:.1%}",
             "Local cache: {path} (schema {rev}), {n} accounts, record completeness {rate:.1%}")
        .format(path=cache.path, rev=head_revision(), n=len(cached),
                rate=completeness_rate(cached)),
        Text("", ""),
        Text("户号 {no}  {name}  {id}  {phone}  {status}",
             "Account {no}  {name}  {id}  {phone}  {status}").format(
            no=sample.number, name=sample.holder_name, id=mask_id_number(sample.id_number or ""),
            phone=mask_phone(sample.phone or ""), status=STATUS_LABELS[sample.status][lang]),
        Text("  {a}", "  {a}").format(a=sample.supply_address),
    ]
    if community:
        lines.append(Text("  {c}，客户经理 {m}", "  {c}, customer manager {m}").format(
            c=community.name, m=community.manager_name))
    lines += [
        Text("  待补充：{m}", "  missing: {m}").format(m=missing or "—"),
        Text("", ""),
        Text("可办理的业务", "Business on this account"),
    ]
    out = [line[lang] for line in lines]
    _walk_business_types(sample, lang, out)
    out += ["", Text("证件号码校验", "ID number checks")[lang]]
    _walk_id_checks(lang, out)
    print("\n".join(out))
    return 0
