"""Customers' ratings of their transactions, sent by the terminal that served them."""

from __future__ import annotations

from fastapi import APIRouter

from hallcore.domain.deadlines import TimeLimit
from hallcore.wire import FeedbackRequest, FeedbackResponse
from hallserver.api.deps import CallerDep, EngineDep, SettingsDep
from hallserver.feedback import store_feedback

router = APIRouter(tags=["feedback"])


@router.post("/feedback", response_model=FeedbackResponse)
def feedback(body: FeedbackRequest, caller: CallerDep, engine: EngineDep,
             settings: SettingsDep) -> FeedbackResponse:
    """Each rating kept once; operations of the caller's hall only, the others `unknown`.
    A bad rating (dissatisfied, very dissatisfied) opens a call-back for the hall, once. An
    unknown rating is refused (422) with the five levels it may be."""
    return store_feedback(engine, caller, body.items,
                          TimeLimit(settings.callback_working_days))
