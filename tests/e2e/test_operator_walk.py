"""An operator's first day, as docs/DEPLOY.md tells it: from an empty PostgreSQL database, the
`hallserver` commands create a district, a hall, a supervisor and two clerks, import the
accounts from the customer system's CSV file and approve a terminal; then a clerk serves a
customer through nginx and PgBouncer, as deploy/ ships them."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from hallclient.auth.login import PasswordChangeRequired, online_login
from hallclient.sync.api import ServerRefused
from hallcore.demodata import DISTRICTS
from hallcore.demodata import accounts as demo_accounts
from hallcore.domain.accounts import STATUS_LABELS
from hallcore.domain.ids import DOC_TYPE_LABELS
from hallserver.models import AccountRow, AuditEntryRow, OperationRow
from tests.support.counter import Counter, active_accounts, holder
from tests.support.proxies import running_deployment
from tests.support.server import PG_URL

pytestmark = pytest.mark.postgres

HALL = "GZ-TH-01"
ACCOUNTS = 40


def hallserver(*argv: str) -> str:
    """One operator's command, as typed, on the database itself (not through PgBouncer);
    its output, after checking it succeeded."""
    done = subprocess.run([sys.executable, "-m", "hallserver", *argv, "--db", PG_URL],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"hallserver {' '.join(argv)}:\n{done.stdout}{done.stderr}"
    return done.stdout


def one_time_password(out: str) -> str:
    [line] = [x for x in out.splitlines() if x.startswith("one-time password")]
    return line.rsplit(" ", 1)[1]


def customer_system_export(path: Path) -> None:
    """The utility's accounts of district GZ-TH, as its customer system writes them."""
    district = next(d for d in DISTRICTS if d.code == "GZ-TH")
    with path.open("w", encoding="gb18030", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["number", "holder_name", "id_type", "id_number", "phone",
                         "supply_address", "status", "arrears_yuan", "sms_consent"])
        for a in demo_accounts(district, ACCOUNTS, [], first_serial=1):
            writer.writerow([a.number, a.holder_name,
                             DOC_TYPE_LABELS[a.id_type].zh if a.id_type else "",
                             a.id_number or "", a.phone or "", a.supply_address,
                             STATUS_LABELS[a.status].zh,
                             f"{a.arrears_fen // 100}.{a.arrears_fen % 100:02d}",
                             "是" if a.sms_consent else "否"])


def test_from_an_empty_database_to_a_customer_served_through_nginx_and_pgbouncer(
        _postgres, tmp_path):
    with _postgres.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    hallserver("migrate")
    hallserver("admin", "district", "add", "GZ-TH", "--name", "天河区", "--account-prefix", "10")
    hallserver("admin", "hall", "add", HALL, "--name", "天河营业厅", "--district", "GZ-TH",
               "--opens", "08:30", "--closes", "17:30")
    supervisor = one_time_password(hallserver(
        "admin", "staff", "add", "th-s1", "--name", "黄敏", "--hall", HALL, "--role",
        "supervisor"))
    clerk = one_time_password(hallserver(
        "admin", "staff", "add", "th-c1", "--name", "陈伟", "--hall", HALL, "--role", "clerk"))
    hallserver("admin", "staff", "add", "th-c2", "--name", "李娟", "--hall", HALL,
               "--role", "clerk")
    export = tmp_path / "accounts.csv"
    customer_system_export(export)
    said = hallserver("accounts", "import", str(export), "--exported-at", "2026-12-01T06:00")
    assert f"{ACCOUNTS}" in said
    # The same file again: nothing changes.
    hallserver("accounts", "import", str(export), "--exported-at", "2026-12-01T06:00")
    with Session(_postgres) as s:
        assert len(s.scalars(select(AccountRow.number)).all()) == ACCOUNTS
        assert max(s.scalars(select(AccountRow.version))) == 1

    with running_deployment(_postgres, tmp_path / "deployed") as deployed:
        counter = Counter(tmp_path / "T01", deployed.nginx.url, HALL, "T01", "th-c1",
                          transport=deployed.nginx.transport())
        try:
            # A new terminal waits for approval...
            with pytest.raises(ServerRefused) as waiting:
                online_login(counter.api, counter.secrets, counter.settings, "th-c1", clerk)
            assert waiting.value.error and waiting.value.error.code == "terminal_not_approved"
            listed = hallserver("admin", "terminals", "list", "--hall", HALL)
            assert "T01" in listed and "pending" in listed
            hallserver("admin", "terminals", "approve", HALL, "T01")
            # ...then the clerk's one-time password asks for their own.
            with pytest.raises(PasswordChangeRequired):
                online_login(counter.api, counter.secrets, counter.settings, "th-c1", clerk)
            online_login(counter.api, counter.secrets, counter.settings, "th-c1", clerk,
                         "counter-2027")
            # The supervisor sets their own password too (at the same, approved terminal).
            online_login(counter.api, counter.secrets, counter.settings, "th-s1", supervisor,
                         "super-2027")
            online_login(counter.api, counter.secrets, counter.settings, "th-c1",
                         "counter-2027")

            assert counter.engine.sync_once().bootstrapped == ACCOUNTS
            [account] = active_accounts(counter, 1)
            served = counter.record("contact_change", account.number,
                                    {**holder(account), "phone": "13911112222"})
            sent = counter.engine.sync_once()
            assert (sent.pushed, sent.applied, sent.pending) == (1, 1, 0)
        finally:
            counter.close()
    with Session(_postgres) as s:
        assert s.scalar(select(AccountRow.phone).where(
            AccountRow.number == account.number)) == "13911112222"
        assert s.scalars(select(OperationRow.clerk).where(
            OperationRow.receipt_no == served.receipt_no)).all() == ["th-c1"]
        actions = set(s.scalars(select(AuditEntryRow.action)))
    assert {"district_added", "hall_added", "staff_added", "terminal_approved",
            "password_changed"} <= actions, actions
    hallserver("audit", "verify")
