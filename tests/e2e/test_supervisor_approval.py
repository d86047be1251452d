"""Supervisor sign-off: closing an account, or a request a rule allows only with a warning,
is recorded with the supervisor who signed off at the counter and the proof of it: the token
of an online approval bound to that operation, or the operation's signature by the
supervisor's approval key on this terminal (offline). The server applies it only with a proof
it can check, from an active supervisor of the hall; a name alone proves nothing."""

import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hallclient.auth.approval import ApprovalRefused, approve
from hallclient.auth.keys import unlock_approval_key
from hallclient.store.models import AccountRow, OutboxRow
from hallclient.store.operations import OverrideNeeded, SignOff
from hallclient.sync.api import ServerRefused
from hallcore.domain.business import BusinessKind
from hallcore.signing import SigningKey
from hallcore.wire import ApprovalRequest
from hallserver.models import AccountRow as ServerAccount
from hallserver.models import AuditEntryRow as ServerAudit
from hallserver.models import ClerkRow, OperationRow, SupervisorKeyRow
from hallserver.seed import DEMO_SUPERVISOR_PASSWORD
from tests.support.counter import active_accounts, holder
from tests.support.customer_screen import customer_at_screen
from tests.support.sign_off import SUPERVISOR, needed, record_signed, sign_off
from tests.support.signatures import signature


@contextmanager
def network_cut(server):
    server.stop()
    try:
        yield
    finally:
        server.start()


def outbox(counter, operation_id):
    with counter.cache.read() as s:
        return s.scalars(select(OutboxRow).where(OutboxRow.operation_id == operation_id)).one()


def stored(server, operation_id):
    with Session(server.engine) as s:
        return s.get(OperationRow, operation_id)


def assert_refused_unproven(counter, server, operation_id, number):
    """The server refused the operation for want of a sign-off, storing nothing of it."""
    assert outbox(counter, operation_id).result["code"] == "no_sign_off"
    assert stored(server, operation_id) is None
    with Session(server.engine) as s:
        assert s.get(ServerAccount, number).status == "active"


def owing_account(counter):
    """An active account with arrears: a transfer that carries them needs a sign-off (a rule's
    warning, not an online-only business)."""
    with counter.cache.read() as s:
        row = s.scalars(select(AccountRow).where(
            AccountRow.status == "active", AccountRow.arrears_fen > 0)
            .order_by(AccountRow.number).limit(1)).one()
    return row.number


def supervisor_name(server) -> str:
    with Session(server.engine) as s:
        return s.get(ClerkRow, SUPERVISOR).name


TRANSFER = {"new_holder_name": "林晓燕", "new_holder_id_type": "resident_id",
            "new_holder_id_number": "440106199203154429", "new_holder_phone": "13922334455",
            "carry_arrears": True}


def test_closing_needs_a_sign_off_at_the_counter(counters, server):
    counter = counters()
    counter.engine.sync_once()
    [a] = active_accounts(counter, 1)
    need = needed(counter, "close", a.number, holder(a))
    assert "supervisor" in need.warnings[0].en
    assert (need.kind, need.account_number) == (BusinessKind.CLOSE, a.number)
    signed = sign_off(counter, need)
    assert signed.supervisor == SUPERVISOR and signed.token and signed.key is None
    assert signed.supervisor_name == supervisor_name(server)  # the receipt names them
    done = counter.record("close", a.number, holder(a), sign_off=signed)
    assert done.operation_id == need.operation_id  # the operation signed off
    row = outbox(counter, done.operation_id)
    assert (row.approved_by, row.approval_token, row.approval_signature) == (
        SUPERVISOR, signed.token, None)
    summary = counter.engine.sync_once()
    assert summary.applied == 1
    with Session(server.engine) as s:
        row = s.get(OperationRow, done.operation_id)
        assert row.approved_by == SUPERVISOR and row.outcome == "applied"
        audit = {e.action: e for e in s.scalars(select(ServerAudit).where(
            ServerAudit.subject == done.operation_id))}
        assert audit["approval"].actor == SUPERVISOR
        assert audit["approval"].detail["account_number"] == a.number
        assert audit["push"].detail["approved_by"] == SUPERVISOR
        assert audit["push"].detail["sign_off"] == "online"


def test_an_online_approval_is_used_once_for_its_own_operation(counters, server):
    counter = counters()
    counter.engine.sync_once()
    a, b = active_accounts(counter, 2)
    first = record_signed(counter, "close", a.number, holder(a))
    token = outbox(counter, first.operation_id).approval_token
    # The same token on another operation: a terminal that replays an approval it was given.
    need = needed(counter, "close", b.number, holder(b))
    second = counter.record("close", b.number, holder(b),
                            sign_off=SignOff(SUPERVISOR, need.operation_id, token=token))
    summary = counter.engine.sync_once()
    assert (summary.applied, summary.rejected) == (1, 1)
    assert stored(server, first.operation_id).outcome == "applied"
    assert_refused_unproven(counter, server, second.operation_id, b.number)


def test_an_approval_for_one_account_does_not_pass_on_another(counters, server):
    counter = counters()
    counter.engine.sync_once()
    a, b = active_accounts(counter, 2)
    for_a = sign_off(counter, needed(counter, "close", a.number, holder(a)))
    done = counter.record("close", b.number, holder(b), sign_off=for_a)
    assert counter.engine.sync_once().rejected == 1
    assert_refused_unproven(counter, server, done.operation_id, b.number)


def test_an_offline_sign_off_is_signed_by_the_supervisors_key_and_applied_later(
        counters, server):
    counter = counters()
    counter.engine.sync_once()
    [a] = active_accounts(counter, 1)
    record_signed(counter, "close", a.number, holder(a))  # once online here: key registered
    number = owing_account(counter)
    with network_cut(server):
        need = needed(counter, "transfer", number, TRANSFER)
        signed = sign_off(counter, need)
        assert signed.token is None and signed.key is not None
        assert signed.supervisor_name == supervisor_name(server)
        done = counter.record("transfer", number, TRANSFER, sign_off=signed)
    row = outbox(counter, done.operation_id)
    assert (row.approved_by, row.approval_token) == (SUPERVISOR, None) and row.approval_signature
    summary = counter.engine.sync_once()
    assert summary.applied == 2
    operation = stored(server, done.operation_id)
    assert operation.outcome == "applied" and operation.approved_by == SUPERVISOR
    with Session(server.engine) as s:  # the offline sign-off is on the record with the push
        [push] = s.scalars(select(ServerAudit).where(ServerAudit.subject == done.operation_id))
    assert (push.action, push.detail["sign_off"]) == ("push", "offline")


def test_an_offline_sign_off_by_a_key_the_server_never_registered_is_refused(counters, server):
    counter = counters()
    counter.engine.sync_once()
    a, b = active_accounts(counter, 2)
    record_signed(counter, "close", a.number, holder(a))  # the supervisor has a key here
    need = needed(counter, "close", b.number, holder(b))
    forged = SignOff(SUPERVISOR, need.operation_id, key=SigningKey.generate())
    done = counter.record("close", b.number, holder(b), sign_off=forged)
    assert counter.engine.sync_once().rejected == 1
    assert_refused_unproven(counter, server, done.operation_id, b.number)


def test_an_offline_sign_off_covers_the_time_the_operation_was_made(counters, server):
    counter = counters()
    counter.engine.sync_once()
    a, b = active_accounts(counter, 2)
    record_signed(counter, "close", a.number, holder(a))
    with network_cut(server):
        done = record_signed(counter, "close", b.number, holder(b))
    with counter.cache.write() as s:  # a terminal that moves the signed operation in time
        row = s.scalars(select(OutboxRow).where(
            OutboxRow.operation_id == done.operation_id)).one()
        row.created_at -= timedelta(microseconds=1)
    assert counter.engine.sync_once().rejected == 1
    assert_refused_unproven(counter, server, done.operation_id, b.number)


def test_a_supervisors_name_without_a_proof_is_refused(counters, server):
    counter = counters()
    counter.engine.sync_once()
    [a] = active_accounts(counter, 1)
    done = record_signed(counter, "close", a.number, holder(a))
    with counter.cache.write() as s:  # what a tampered terminal would send: the name alone
        row = s.scalars(select(OutboxRow)).one()
        row.approval_token = row.approval_signature = None
    assert outbox(counter, done.operation_id).approved_by == SUPERVISOR
    assert counter.engine.sync_once().rejected == 1
    assert_refused_unproven(counter, server, done.operation_id, a.number)


@pytest.mark.parametrize("approver, why", [
    (None, "needs a supervisor's sign-off"),
    ("gz-th-01-c2", "is not an active supervisor"),  # a clerk
    ("gz-yx-01-s1", "is not an active supervisor"),  # another hall's supervisor
    ("nobody", "is not an active supervisor"),
])
def test_the_server_refuses_a_close_without_a_valid_sign_off(counters, server, approver, why):
    """A terminal that skips the dialog (or names someone else) is caught at the server."""
    counter = counters()
    counter.engine.sync_once()
    [a] = active_accounts(counter, 1)
    done = record_signed(counter, "close", a.number, holder(a))
    with counter.cache.write() as s:  # what a tampered terminal would send
        s.scalars(select(OutboxRow)).one().approved_by = approver
    summary = counter.engine.sync_once()
    assert summary.rejected == 1
    assert why in outbox(counter, done.operation_id).result["reason"]["en"]
    assert_refused_unproven(counter, server, done.operation_id, a.number)


def test_a_deactivated_supervisor_no_longer_signs_off(counters, server):
    counter = counters()
    counter.engine.sync_once()
    [a] = active_accounts(counter, 1)
    record_signed(counter, "close", a.number, holder(a))
    with Session(server.engine) as s, s.begin():
        s.get(ClerkRow, SUPERVISOR).active = False
    assert counter.engine.sync_once().rejected == 1


def _request(supervisor, password):
    return ApprovalRequest(supervisor=supervisor, password=password,
                           operation_id=str(uuid.uuid4()), business_type=BusinessKind.CLOSE,
                           account_number="1000000001")


def test_approve_checks_the_supervisor_of_the_callers_hall_and_audits_it(counters, server):
    counter = counters()
    counter.engine.sync_once()
    approval = counter.engine.credentials.call(lambda: counter.api.approve(
        _request(SUPERVISOR, DEMO_SUPERVISOR_PASSWORD)))
    assert approval.supervisor == SUPERVISOR and approval.supervisor_name and approval.token
    for supervisor, password, status in ((SUPERVISOR, "guess", 403),
                                         ("gz-th-01-c2", "demo-clerk", 403),
                                         ("gz-yx-01-s1", DEMO_SUPERVISOR_PASSWORD, 403)):
        with pytest.raises(ServerRefused) as refused:
            counter.engine.credentials.call(lambda s=supervisor, p=password: counter.api.approve(
                _request(s, p)))
        assert refused.value.status == status
    with Session(server.engine) as s:
        actions = s.scalars(select(ServerAudit.action).where(
            ServerAudit.action.in_(["approval", "approval_refused"]))).all()
    assert sorted(actions) == ["approval", "approval_refused", "approval_refused",
                               "approval_refused"]


def _approve(counter, supervisor, password):
    return approve(counter.engine.credentials, counter.secrets, supervisor, password,
                   datetime.now(UTC), operation_id=str(uuid.uuid4()), kind=BusinessKind.CLOSE,
                   account_number="1000000001")


def registered_key(server, supervisor):
    with Session(server.engine) as s:
        row = s.get(SupervisorKeyRow, (supervisor, "GZ-TH-01", "T01"))
        return row.public_key if row else None


def test_approve_online_then_offline_with_the_key_it_registered(counters, server):
    counter = counters()
    online = _approve(counter, SUPERVISOR, DEMO_SUPERVISOR_PASSWORD)
    assert online.supervisor == SUPERVISOR and online.token and online.key is None
    key = unlock_approval_key(counter.secrets, SUPERVISOR, DEMO_SUPERVISOR_PASSWORD)
    assert registered_key(server, SUPERVISOR) == key.public_hex
    with pytest.raises(ApprovalRefused, match="wrong"):
        _approve(counter, SUPERVISOR, "guess")
    # A wrong password replaces nothing: the key the server registered is still there.
    assert unlock_approval_key(counter.secrets, SUPERVISOR, DEMO_SUPERVISOR_PASSWORD
                               ).public_hex == registered_key(server, SUPERVISOR)
    with network_cut(server):  # the verifier and the key the online sign-off left answer
        signed = _approve(counter, SUPERVISOR, DEMO_SUPERVISOR_PASSWORD)
        assert signed.token is None and signed.key.public_hex == key.public_hex
        with pytest.raises(ApprovalRefused, match="wrong"):
            _approve(counter, SUPERVISOR, "guess")
        # The clerk's own verifier (left by the clerk's login) is no supervisor's.
        from hallclient.auth import offline
        offline.remember(counter.secrets, "gz-th-01-c1", "陈伟", "clerk", "demo-clerk",
                         datetime.now(UTC))
        with pytest.raises(ApprovalRefused, match="not a supervisor"):
            _approve(counter, "gz-th-01-c1", "demo-clerk")


def test_offline_a_supervisor_without_a_key_here_must_sign_off_online_first(counters, server):
    from hallclient.auth import offline
    from hallclient.auth.keys import ApprovalKeyUnavailable

    counter = counters()
    # The supervisor never signed off nor logged in online here: no approval key of theirs on
    # the terminal, none registered (whatever the fixture's first login at it left), only a
    # verifier (as a version without approval keys left it).
    counter.secrets.delete(f"approval-key/{SUPERVISOR}")  # its keyring entry
    with Session(server.engine) as s, s.begin():
        s.execute(delete(SupervisorKeyRow))
    offline.remember(counter.secrets, SUPERVISOR, "主管", "supervisor",
                     DEMO_SUPERVISOR_PASSWORD, datetime.now(UTC))
    with network_cut(server), pytest.raises(ApprovalRefused,
                                            match="sign off online once at this terminal"):
        _approve(counter, SUPERVISOR, DEMO_SUPERVISOR_PASSWORD)
    # Nor did the try leave a key the server never registered.
    with pytest.raises(ApprovalKeyUnavailable):
        unlock_approval_key(counter.secrets, SUPERVISOR, DEMO_SUPERVISOR_PASSWORD)
    assert registered_key(server, SUPERVISOR) is None
    _approve(counter, SUPERVISOR, DEMO_SUPERVISOR_PASSWORD)  # online: now there is one
    with network_cut(server):
        assert _approve(counter, SUPERVISOR, DEMO_SUPERVISOR_PASSWORD).key is not None


def test_the_counter_window_asks_the_supervisor_and_records_the_sign_off(qtbot, tmp_path,
                                                                         english):
    from PySide6.QtWidgets import QApplication

    from hallclient.auth.login import LoginRefused
    from hallclient.receipts.content import HallInfo
    from hallclient.store.accounts import load_account, save_account, save_community
    from hallclient.store.cache import open_cache
    from hallclient.store.operations import TerminalIdentity
    from hallclient.ui.counter_window import CounterServices, CounterWindow
    from hallclient.ui.supervisor_dialog import SupervisorDialog
    from hallcore.domain.business import BusinessKind
    from hallcore.domain.text import Text
    from tests.support.factories import COMMUNITY, TERMINAL_KEY, account

    asked = []

    def approve(supervisor: str, password: str, need: OverrideNeeded) -> SignOff:
        asked.append(need)
        if password != "demo-super":
            raise LoginRefused(Text("主管工号或密码不对",
                                    "the supervisor's id or password is wrong"))
        return SignOff(supervisor, need.operation_id, token="t" * 32)

    cache = open_cache(tmp_path / "cache.sqlite3")
    with cache.write() as s:
        save_community(s, COMMUNITY)
        s.flush()
        save_account(s, account())
    signing = []
    window = CounterWindow(CounterServices(
        cache, TerminalIdentity("GZ-TH-01", "T01", TERMINAL_KEY), "gz-th-01-c1",
        HallInfo("GZ-TH-01", Text("天河营业厅", "Tianhe Service Hall")), approve=approve,
        show_preview=lambda preview: None, ask_rating=lambda window: None,
        ask_signature=customer_at_screen(signing)), lang="en")
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
    need = asked[-1]
    assert (need.kind, need.account_number) == (BusinessKind.CLOSE, account().number)
    with cache.read() as s:
        row = s.scalars(select(OutboxRow)).one()
    assert (row.operation_id, row.approved_by, row.approval_token) == (
        need.operation_id, "gz-th-01-s1", "t" * 32)
    # The customer signed once, before the sign-off; the request kept their signature.
    assert len(signing) == 1 and row.customer_signature == signature()
    cache.close()
