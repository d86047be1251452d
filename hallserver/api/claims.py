"""Claims: a terminal says it has a form open on an account, and when it closed it; the other
terminals of the district learn of it with their pulls (hallserver/claims.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response

from hallcore.domain.text import Text
from hallcore.wire import AccountClaim
from hallserver.api.deps import CallerDep, WriteSessionDep
from hallserver.api.errors import ApiError
from hallserver.claims import UnknownAccount, claim, release

router = APIRouter(tags=["claims"])

AccountNumber = Annotated[str, Path(pattern=r"^\d{10}$")]


def _not_found(number: str) -> ApiError:
    # Another district's account is answered as an unknown one: nothing told about it.
    return ApiError(404, "account_not_found", Text(
        f"本营业厅辖区内没有户号 {number}", f"there is no account {number} in your district"))


@router.put("/accounts/{number}/claim", response_model=AccountClaim)
def claim_account(number: AccountNumber, caller: CallerDep,
                  session: WriteSessionDep) -> AccountClaim:
    """A form is open on the account at this terminal; again to renew it (a claim lasts 15
    minutes)."""
    try:
        claimed = claim(session, caller, number, datetime.now(UTC))
    except UnknownAccount:
        raise _not_found(number) from None
    session.commit()
    return claimed


@router.delete("/accounts/{number}/claim", status_code=204)
def release_account(number: AccountNumber, caller: CallerDep,
                    session: WriteSessionDep) -> Response:
    """The form on the account was closed at this terminal (recorded or abandoned)."""
    try:
        release(session, caller, number)
    except UnknownAccount:
        raise _not_found(number) from None
    session.commit()
    return Response(status_code=204)
