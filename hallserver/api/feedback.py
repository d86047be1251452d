"""Customers' ratings of their transactions, sent by the terminal that served them."""

from __future__ import annotations

from fastapi import APIRouter

from hallcore.wire import FeedbackRequest, FeedbackResponse
from hallserver.api.deps import CallerDep, EngineDep
from hallserver.feedback import store_feedback

router = APIRouter(tags=["feedback"])


@router.post("/feedback", response_model=FeedbackResponse)
def feedback(body: FeedbackRequest, caller: CallerDep, engine: EngineDep) -> FeedbackResponse:
    """Each rating kept once; operations of the caller's hall only, the others `unknown`."""
    return store_feedback(engine, caller, body.items)
