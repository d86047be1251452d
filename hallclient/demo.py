"""`hallclient --demo`: the whole path of a counter request, on this machine.

An embedded HallServer (SQLite, seeded demo data) on a loopback port, a terminal that logs in
and bootstraps its district, an account as the clerk sees it (personal data masked, what is
missing from the record) and what may be done on it; then the network goes down, requests are
taken offline with their receipt numbers, the network comes back and the outbox reaches the
server once; a second terminal's change collides with one of them and becomes a clerk's task;
the server's SMS to the customers. Everything lives in a temporary directory and is removed
at the end; the demo's keyring is in memory.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from hallclient.auth.login import online_login, terminal_identity
from hallclient.auth.secrets import EphemeralKeyring, SecretStore
from hallclient.config import Settings
from hallclient.samples import sample_payload
from hallclient.store.accounts import account_from_row
from hallclient.store.cache import Cache, open_cache
from hallclient.store.models import AccountRow, TaskRow
from hallclient.store.operations import (
    RecordedOperation,
    RequestRefused,
    TerminalIdentity,
    record_operation,
)
from hallclient.sync.api import ServerApi, ServerUnreachable
from hallclient.sync.engine import Credentials, SyncEngine
from hallclient.sync.work_calendar import hall_calendar
from hallcore.domain.accounts import (
    STATUS_LABELS,
    Account,
    AccountStatus,
    completeness_rate,
    missing_information,
)
from hallcore.domain.business import (
    BUSINESS_TYPES,
    BusinessKind,
    PayloadInvalid,
    check,
    validate_payload,
)
from hallcore.domain.deadlines import HallCalendar
from hallcore.domain.ids import IdDocType, validate_id
from hallcore.domain.masking import mask_id_number, mask_phone
from hallcore.domain.text import InvalidInput, Lang, Text
from hallserver.db import SERVER_SCHEMA, make_engine
from hallserver.embedded import EmbeddedServer
from hallserver.notifications import LogFileGateway, deliver_due
from hallserver.seed import DEMO_CLERK_PASSWORD, DEMO_SUPERVISOR_PASSWORD, seed

HALL = "GZ-TH-01"
DEMO_SUPERVISOR = "gz-th-01-s1"
TASK_KINDS = {"conflict": Text("冲突", "conflict"), "rejected": Text("退回", "rejected")}
DEMO_ACCOUNTS = 2000
def _walk_business_types(account: Account, calendar: HallCalendar, lang: Lang,
                         out: list[str]) -> None:
    now = datetime.now().astimezone()
    for kind, btype in BUSINESS_TYPES.items():
        target = None if btype.opens_account else account
        try:
            payload = validate_payload(kind, sample_payload(kind, account, now.date()))
        except PayloadInvalid as exc:
            reasons = "; ".join(r[lang] for r in exc.errors.values())
            out.append(f"  {btype.label[lang]} ✗ {reasons}")
            continue
        decision = check(kind, target, payload, today=now.date())
        due = calendar.deadline(now, btype.time_limit).at
        limit = (Text("当场办结", "done at the counter") if btype.time_limit.at_counter
                 else Text(f"{due:%Y-%m-%d}前办结", f"due {due:%Y-%m-%d}"))
        if decision.allowed:
            notes = [*decision.warnings]
            if btype.needs_supervisor:
                notes.append(Text("须主管确认", "a supervisor confirms"))
            extra = Text("（{n}）", " ({n})").format(
                n="; ".join(w[lang] for w in notes)) if notes else Text("", "")
            out.append(f"  {btype.label[lang]} ✓ {limit[lang]}{extra[lang]}")
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


@dataclass
class DemoWorld:
    directory: Path
    server: EmbeddedServer
    server_engine: Engine
    out: list[str]
    lang: Lang

    def say(self, text: Text) -> None:
        self.out.append(text[self.lang])

    def terminal(self, terminal_id: str, clerk: str,
                 password: str = DEMO_CLERK_PASSWORD) -> DemoTerminal:
        settings = Settings(server_url=self.server.url, hall_id=HALL, terminal_id=terminal_id,
                            installation_id=uuid.uuid4().hex)
        store = SecretStore(HALL, terminal_id, backend=EphemeralKeyring())
        cache = open_cache(self.directory / terminal_id / "cache.sqlite3")
        api = ServerApi(self.server.url, timeout=5)
        # A new terminal works once a supervisor of its hall approved it, by logging in at
        # it: the demo's supervisor does, then the clerk logs in.
        online_login(api, store, settings, DEMO_SUPERVISOR, DEMO_SUPERVISOR_PASSWORD)
        online_login(api, store, settings, clerk, password)
        return DemoTerminal(cache, api, SyncEngine(cache, Credentials(api, store)),
                         terminal_identity(settings, store), clerk, settings)


@dataclass
class DemoTerminal:
    cache: Cache
    api: ServerApi
    engine: SyncEngine
    identity: TerminalIdentity
    clerk: str
    settings: Settings

    def record(self, kind: BusinessKind, account: Account | None, payload: dict[str, Any],
               *, online: bool = True) -> RecordedOperation:
        return record_operation(
            self.cache, self.identity, clerk=self.clerk, kind=kind,
            account_number=account.number if account else None, raw_payload=payload,
            now=datetime.now(UTC), online=online,
            online_only={BusinessKind(k) for k in self.settings.online_only})

    def accounts(self) -> list[Account]:
        with self.cache.read() as session:
            return [account_from_row(r) for r in session.scalars(
                select(AccountRow).order_by(AccountRow.number))]

    def close(self) -> None:
        self.api.close()
        self.cache.close()


def start_demo_server(directory: Path) -> tuple[EmbeddedServer, Engine, float]:
    started = time.perf_counter()
    engine = make_engine(f"sqlite+pysqlite:///{directory / 'hallserver.sqlite3'}")
    SERVER_SCHEMA.upgrade(engine)
    seed(engine, accounts=DEMO_ACCOUNTS, halls=2)
    server = EmbeddedServer(engine)
    server.start()
    return server, engine, time.perf_counter() - started


def _show_account(world: DemoWorld, counter: DemoTerminal, sample: Account) -> None:
    cached = counter.accounts()
    world.say(Text("本地缓存：{n} 户，信息完整率 {rate:.1%}",
                   "Local cache: {n} accounts, record completeness {rate:.1%}").format(
        n=len(cached), rate=completeness_rate(cached)))
    world.say(Text("", ""))
    world.say(Text("户号 {no}  {name}  {id}  {phone}  {status}",
                   "Account {no}  {name}  {id}  {phone}  {status}").format(
        no=sample.number, name=sample.holder_name, id=mask_id_number(sample.id_number or ""),
        phone=mask_phone(sample.phone or ""), status=STATUS_LABELS[sample.status]))
    world.say(Text("  {a}", "  {a}").format(a=sample.supply_address))
    if sample.community:
        world.say(Text("  {c}，客户经理 {m}", "  {c}, customer manager {m}").format(
            c=sample.community.name, m=sample.community.manager_name))
    missing = ", ".join(m[world.lang] for m in missing_information(sample))
    world.say(Text("  待补充：{m}", "  missing: {m}").format(m=missing or "—"))
    world.say(Text("", ""))
    world.say(Text("可办理的业务", "Business on this account"))
    _walk_business_types(sample, hall_calendar(counter.cache), world.lang, world.out)


def _offline_then_sync(world: DemoWorld, t01: DemoTerminal, t02: DemoTerminal,
                       picks: list[Account]) -> None:
    suspend_me, contact_me, close_me = picks
    world.say(Text("", ""))
    world.say(Text("网络中断（服务器停止）。照常办理：", "Network down (server stopped). "
                                                    "The counter keeps working:"))
    world.server.stop()
    done = [
        t01.record(BusinessKind.SUSPEND, suspend_me, {**_holder(suspend_me)}, online=False),
        t01.record(BusinessKind.CONTACT_CHANGE, contact_me,
                   {**_holder(contact_me), "phone": "13922223333"}, online=False),
    ]
    for op in done:
        world.say(Text("  {b}：回执 {no}，已受理，待确认", "  {b}: receipt {no}, accepted, "
                                                       "pending confirmation").format(
            b=BUSINESS_TYPES[op.kind].label, no=op.receipt_no))
    try:
        t01.record(BusinessKind.CLOSE, close_me, _holder(close_me), online=False)
    except RequestRefused as exc:
        world.say(Text("  销户：{r}", "  Closing: {r}").format(r=exc.reason))
    try:
        t01.engine.sync_once()
    except ServerUnreachable:
        world.say(Text("  同步：服务器不可达，{n} 笔在待发队列中",
                       "  sync: server unreachable, {n} waiting in the outbox").format(
            n=len(done)))
    world.server.start()
    # Meanwhile a colleague at T02 changed the account whose phone T01 is changing.
    t02.engine.sync_once()
    t02.record(BusinessKind.CONTACT_CHANGE, contact_me,
               {**_holder(contact_me), "mailing_address": "广州市天河区体育西路103号维多利广场"})
    t02.engine.sync_once()
    summary = t01.engine.sync_once()
    world.say(Text("网络恢复，同步：{s}", "Network back, sync: {s}").format(
        s=summary.describe()))
    with t01.cache.read() as session:
        for task in session.scalars(select(TaskRow)):
            world.say(Text("  待处理任务（{k}）：户号 {no}，{r}",
                           "  task for a clerk ({k}): account {no}, {r}").format(
                k=TASK_KINDS[task.kind], no=task.account_number,
                r=Text(task.server_reason_zh, task.server_reason_en)))


def _show_sms(world: DemoWorld) -> None:
    log = world.directory / "sms.log"
    deliver_due(world.server_engine, LogFileGateway(log))
    world.say(Text("", ""))
    world.say(Text("服务器发出的短信：", "SMS sent by the server:"))
    if log.exists():
        for line in log.read_text(encoding="utf-8").splitlines():
            message = json.loads(line)
            world.out.append(f"  {mask_phone(message['phone'])}  {message['text']}")


def _holder(account: Account) -> dict[str, Any]:
    return {"applicant_id_type": account.id_type, "applicant_id_number": account.id_number}


def run_demo(*, lang: Lang = "zh") -> int:
    with tempfile.TemporaryDirectory(prefix="hallclient-demo-") as tmp:
        directory = Path(tmp)
        server, server_engine, seconds = start_demo_server(directory)
        world = DemoWorld(directory, server, server_engine, [], lang)
        world.say(Text("HallClient 演示", "HallClient demo"))
        world.say(Text("中心服务器：{url}（SQLite，{n} 户演示数据，{s:.1f} 秒）",
                       "Central server: {url} (SQLite, {n} demo accounts, {s:.1f} s)").format(
            url=server.url, n=DEMO_ACCOUNTS, s=seconds))
        t01 = world.terminal("T01", "gz-th-01-c1")
        t02 = world.terminal("T02", "gz-th-01-c2")
        try:
            started = time.perf_counter()
            bootstrapped = t01.engine.sync_once().bootstrapped
            world.say(Text("终端 {h}/T01 登录并下载本辖区 {n} 户（{s:.1f} 秒）",
                           "Terminal {h}/T01 logged in, bootstrapped {n} accounts "
                           "({s:.1f} s)").format(h=HALL, n=bootstrapped,
                                                  s=time.perf_counter() - started))
            candidates = [a for a in t01.accounts() if a.status is AccountStatus.ACTIVE
                          and a.id_number and a.arrears_fen == 0]
            sample = next(a for a in candidates if a.community and a.community.manager_name)
            _show_account(world, t01, sample)
            _offline_then_sync(world, t01, t02, candidates[1:4])
            _show_sms(world)
        finally:
            t01.close()
            t02.close()
            server.stop()
            server_engine.dispose()
        world.say(Text("", ""))
        world.say(Text("证件号码校验", "ID number checks"))
        _walk_id_checks(lang, world.out)
        print("\n".join(world.out))
    return 0
