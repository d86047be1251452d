"""The SMS progress of an account: which notices were queued and sent, for the counter."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from hallcore.domain.text import Text
from hallcore.wire import AccountNotifications
from hallserver.api.deps import CallerDep, SessionDep
from hallserver.api.errors import ApiError
from hallserver.models import AccountRow
from hallserver.notifications import account_notifications

router = APIRouter(tags=["notifications"])


@router.get("/accounts/{number}/notifications", response_model=AccountNotifications)
def notifications(caller: CallerDep, session: SessionDep,
                  number: Annotated[str, Path(pattern=r"^\d{10}$")]) -> AccountNotifications:
    account = session.get(AccountRow, number)
    # An account that does not exist is refused alike: the answer tells nothing about others.
    if account is None or account.district != caller.district:
        raise ApiError(403, "other_district", Text(
            f"户号 {number} 不在本营业厅辖区内，无法查看其短信通知",
            f"account {number} is not in your hall's district: its SMS notices cannot be "
            "shown here"))
    return AccountNotifications(account_number=number,
                                items=account_notifications(session, number))
