"""Supervisor sign-off: closing an account, or a request a rule allows only with a warning,
is recorded with the supervisor who signed off at the counter, and the server checks that
the supervisor is an active supervisor of the hall before applying it."""

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hallclient.store.operations import OverrideNeeded
from hallclient.sync.api import ServerRefused
from hallcore.wire import ApprovalRequest
from hallserver.models import AccountRow as ServerAccount
from hallserver.models import AuditEntryRow as ServerAudit
from hallserver.models import ClerkRow, OperationRow
from hallserver.seed import DEMO_SUPERVISOR_PASSWORD
from tests.support.counter import active_accounts, holder


def test_closing_needs_a_sign_off_at_the_counter(counters, server):
    counter = counters()
    counter.engine.sync_once()
    [a] = active_accounts(counter, 1)
    with pytest.raises(OverrideNeeded) as needed:
        counter.record("close", a.number, holder(a))
    assert "supervisor" in needed.value.warnings[0].en
    done = counter.record("close", a.number, holder(a), approved_by="gz-th-01-s1")
    summary = counter.engine.sync_once()
    assert summary.applied == 1
    with Session(server.engine) as s:
        row = s.get(OperationRow, done.operation_id)
        assert row.approved_by == "gz-th-01-s1" and row.outcome == "applied"
        audit = s.scalars(select(ServerAudit).where(ServerAudit.subject == done.operation_id)).one()
        assert audit.detail["approved_by"] == "gz-th-01-s1"


@pytest.mark.parametrize("approver, why", [
    (None, "needs a supervisor's sign-off"),
    ("gz-th-01-c2", "is not an active supervisor"),  # a clerk
    ("gz-yx-01-s1", "is not an active supervisor"),  # another hall's supervisor
    ("nobody", "is not an active supervisor"),
])
def test_the_server_refuses_a_close_without_a_valid_sign_off(counters, server, approver, why):
    """A terminal that skips the dialog (or forges a name) is caught at the server."""
    from hallclient.store.models import OutboxRow

    counter = counters()
    counter.engine.sync_once()
    [a] = active_accounts(counter, 1)
    counter.record("close", a.number, holder(a), approved_by="gz-th-01-s1")
    with counter.cache.write() as s:  # what a tampered terminal would send
        s.scalars(select(OutboxRow)).one().approved_by = approver
    summary = counter.engine.sync_once()
    assert summary.rejected == 1
    with counter.cache.read() as s:
        assert why in s.scalars(select(OutboxRow)).one().result["reason"]["en"]
    with Session(server.engine) as s:
        assert s.get(ServerAccount, a.number).status == "active"


def test_a_deactivated_supervisor_no_longer_signs_off(counters, server):
    counter = counters()
    counter.engine.sync_once()
    [a] = active_accounts(counter, 1)
    counter.record("close", a.number, holder(a), approved_by="gz-th-01-s1")
    with Session(server.engine) as s, s.begin():
        s.get(ClerkRow, "gz-th-01-s1").active = False
    assert counter.engine.sync_once().rejected == 1


def test_approve_checks_the_supervisor_of_the_callers_hall_and_audits_it(counters, server):
    counter = counters()
    counter.engine.sync_once()
    approval = counter.engine.credentials.call(lambda: counter.api.approve(ApprovalRequest(
        supervisor="gz-th-01-s1", password=DEMO_SUPERVISOR_PASSWORD)))
    assert approval.supervisor == "gz-th-01-s1" and approval.supervisor_name
    for supervisor, password, status in (("gz-th-01-s1", "guess", 403),
                                         ("gz-th-01-c2", "demo-clerk", 403),
                                         ("gz-yx-01-s1", DEMO_SUPERVISOR_PASSWORD, 403)):
        with pytest.raises(ServerRefused) as refused:
            counter.engine.credentials.call(lambda s=supervisor, p=password: counter.api.approve(
                ApprovalRequest(supervisor=s, password=p)))
        assert refused.value.status == status
    with Session(server.engine) as s:
        actions = s.scalars(select(ServerAudit.action).where(
            ServerAudit.action.in_(["approval", "approval_refused"]))).all()
    assert sorted(actions) == ["approval", "approval_refused", "approval_refused",
                               "approval_refused"]


def test_approve_online_then_offline_from_the_verifier_it_left(counters, server):
    from datetime import UTC, datetime

    from hallclient.auth.approval import ApprovalRefused, approve

    counter = counters()
    credentials = counter.engine.credentials
    now = datetime.now(UTC)
    assert approve(credentials, counter.secrets, "gz-th-01-s1", DEMO_SUPERVISOR_PASSWORD,
                   now) == "gz-th-01-s1"
    with pytest.raises(ApprovalRefused, match="wrong"):
        approve(credentials, counter.secrets, "gz-th-01-s1", "guess", now)
    server.stop()  # the network is cut: the verifier the online sign-off left answers
    try:
        assert approve(credentials, counter.secrets, "gz-th-01-s1", DEMO_SUPERVISOR_PASSWORD,
                       now) == "gz-th-01-s1"
        with pytest.raises(ApprovalRefused, match="wrong"):
            approve(credentials, counter.secrets, "gz-th-01-s1", "guess", now)
        # The clerk's own verifier (left by the clerk's login) is no supervisor's.
        from hallclient.auth import offline
        offline.remember(counter.secrets, "gz-th-01-c1", "陈伟", "clerk", "demo-clerk", now)
        with pytest.raises(ApprovalRefused, match="not a supervisor"):
            approve(credentials, counter.secrets, "gz-th-01-c1", "demo-clerk", now)
    finally:
        server.start()


def test_the_counter_window_asks_the_supervisor_and_records_the_sign_off(qtbot, tmp_path,
                                                                         english):
    from PySide6.QtWidgets import QApplication

    from hallclient.auth.login import LoginRefused
    from hallclient.receipts.content import HallInfo
    from hallclient.store.accounts import load_account, save_account, save_community
    from hallclient.store.cache import open_cache
    from hallclient.store.models import OutboxRow
    from hallclient.store.operations import TerminalIdentity
    from hallclient.ui.counter_window import CounterServices, CounterWindow
    from hallclient.ui.supervisor_dialog import SupervisorDialog
    from hallcore.domain.business import BusinessKind
    from hallcore.domain.text import Text
    from tests.support.factories import COMMUNITY, account

    def approve(supervisor: str, password: str) -> str:
        if password != "demo-super":
            raise LoginRefused("the supervisor's id or password is wrong")
        return supervisor

    cache = open_cache(tmp_path / "cache.sqlite3")
    with cache.write() as s:
        save_community(s, COMMUNITY)
        s.flush()
        save_account(s, account())
    window = CounterWindow(CounterServices(
        cache, TerminalIdentity("GZ-TH-01", "T01", "k" * 64), "gz-th-01-c1",
        HallInfo("GZ-TH-01", Text("天河营业厅", "Tianhe Service Hall")), approve=approve,
        show_preview=lambda preview: None, ask_rating=lambda window: None), lang="en")
    qtbot.addWidget(window)
    window.show()
    with cache.read() as s:
        window.account = load_account(s, account().number)
    window.open_form(BusinessKind.CLOSE)
    view = window.form_views[BusinessKind.CLOSE]
    view.fill({"applicant_id_number": window.account.id_number})
    with qtbot.waitSignal(window.request_finished):
        view.submit()
    dialog = next(w for w in QApplication.topLevelWidgets()
                  if isinstance(w, SupervisorDialog) and w.isVisible())
    assert "needs a supervisor's sign-off" in dialog.reason.text()
    with cache.read() as s:
        assert s.scalars(select(OutboxRow)).all() == []  # nothing until signed off
    dialog.supervisor.setText("gz-th-01-s1")
    dialog.password.setText("guess")
    dialog.sign_off()
    qtbot.waitUntil(lambda: "wrong" in dialog.message.text())
    assert dialog.isVisible()
    dialog.password.setText("demo-super")
    dialog.sign_off()
    qtbot.waitUntil(lambda: "Accepted" in window.message.text())
    with cache.read() as s:
        assert s.scalars(select(OutboxRow.approved_by)).one() == "gz-th-01-s1"
    cache.close()
