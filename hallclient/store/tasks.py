"""Tasks for clerks: the server's conflicts and rejections, kept until a clerk closes them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from hallclient.store.audit import append_audit
from hallclient.store.cache import Cache
from hallclient.store.models import OutboxRow, TaskRow
from hallcore.domain.business import BusinessKind
from hallcore.domain.text import Text


@dataclass(frozen=True, slots=True)
class Task:
    id: int
    kind: str  # conflict | rejected
    created_at: datetime
    account_number: str | None
    customer_name: str | None
    customer_phone: str | None
    business: BusinessKind
    server_said: Text
    asked: dict[str, Any]  # the payload of the request, to redo it


class TaskAlreadyClosed(Exception):
    pass


def open_tasks(cache: Cache) -> list[Task]:
    with cache.read() as session:
        rows = session.execute(
            select(TaskRow, OutboxRow.payload)
            .join(OutboxRow, OutboxRow.operation_id == TaskRow.operation_id)
            .where(TaskRow.state == "open").order_by(TaskRow.created_at)).all()
    return [Task(t.id, t.kind, t.created_at, t.account_number, t.customer_name,
                 t.customer_phone, BusinessKind(t.business_type),
                 Text(t.server_reason_zh, t.server_reason_en), dict(payload))
            for t, payload in rows]


def close_task(cache: Cache, task_id: int, *, clerk: str, resolution: str,
               now: datetime) -> None:
    """Close a task: redone (a new request was taken) or cancelled, with the reason."""
    if not resolution.strip():
        raise ValueError("a task is closed with a reason")
    with cache.write() as session:
        task = session.get(TaskRow, task_id)
        if task is None or task.state != "open":
            raise TaskAlreadyClosed(f"task {task_id} is not open")
        task.state = "closed"
        task.closed_at = now
        task.closed_by = clerk
        task.resolution = resolution.strip()
        append_audit(session, at=now, clerk=clerk, action="close_task", subject=str(task_id),
                     detail={"operation_id": task.operation_id})
