"""A client process for the crash tests: records counter operations, then syncs.

Run as `python -m tests.support.crash_driver OPS` with HALLCLIENT_DATA_DIR set to a terminal that is
set up and logged in; the test kills it with SIGKILL at random moments. It says on stdout how
far it got, so that the test knows where each kill fell and which receipt numbers a clerk was
shown: `started` once its imports are done (the test's kills fall after it), `recorded
RECEIPT_NO OPERATION_ID` after each operation commits, `syncing`, then the sync's summary.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from sqlalchemy import select

from hallclient.auth.login import terminal_identity
from hallclient.auth.secrets import SecretStore
from hallclient.config import cache_path, load_settings
from hallclient.store.accounts import account_from_row
from hallclient.store.cache import open_cache
from hallclient.store.lock import CacheLock
from hallclient.store.models import AccountRow
from hallclient.store.operations import record_operation
from hallclient.sync.api import ServerApi
from hallclient.sync.engine import Credentials, SyncEngine
from hallcore.domain.accounts import AccountStatus
from hallcore.domain.business import BusinessKind

ACCOUNTS = 40


def main(ops: int) -> None:
    print("started", flush=True)
    settings = load_settings()
    store = SecretStore(settings.hall_id, settings.terminal_id)
    terminal = terminal_identity(settings, store)
    with CacheLock(cache_path()):
        cache = open_cache(cache_path())
        for i in range(ops):
            with cache.read() as session:
                rows = session.scalars(select(AccountRow).where(
                    AccountRow.status.in_(("active", "suspended")),
                    AccountRow.id_number.is_not(None), AccountRow.arrears_fen == 0)
                    .order_by(AccountRow.number).limit(ACCOUNTS)).all()
                account = account_from_row(rows[i % len(rows)])
            kind = (BusinessKind.SUSPEND if account.status is AccountStatus.ACTIVE
                    else BusinessKind.RESUME)
            done = record_operation(cache, terminal, clerk="gz-th-01-c1", kind=kind,
                                    account_number=account.number,
                                    raw_payload={"applicant_id_type": account.id_type,
                                                 "applicant_id_number": account.id_number},
                                    now=datetime.now(UTC))
            # Committed: from here on the clerk may hand this receipt number out.
            print(f"recorded {done.receipt_no} {done.operation_id}", flush=True)
        print("syncing", flush=True)
        engine = SyncEngine(cache, Credentials(ServerApi(settings.server_url), store),
                            push_batch=5)
        print(engine.sync_once(), flush=True)
        cache.close()


if __name__ == "__main__":
    main(int(sys.argv[1]))
