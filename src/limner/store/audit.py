"""The audit log: one row for every write, who, when, what."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from limner.store.models import AuditEvent, User

__all__ = ["record", "list_events"]


def record(
    s: Session,
    user_id: int | None,
    action: str,
    object_type: str,
    object_id: object = "",
    *,
    project_id: int | None = None,
    **details,
) -> None:
    s.add(
        AuditEvent(
            user_id=user_id,
            project_id=project_id,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            details=details,
        )
    )


def list_events(
    s: Session, *, project_id: int | None = None, limit: int = 100, before: int | None = None
) -> list[dict]:
    q = select(AuditEvent, User.username).outerjoin(User, User.id == AuditEvent.user_id)
    if project_id is not None:
        q = q.where(AuditEvent.project_id == project_id)
    if before is not None:
        q = q.where(AuditEvent.id < before)
    q = q.order_by(AuditEvent.id.desc()).limit(limit)
    return [
        {
            "id": e.id,
            "at": e.at.isoformat(),
            "user": name,
            "project_id": e.project_id,
            "action": e.action,
            "object_type": e.object_type,
            "object_id": e.object_id,
            "details": e.details,
        }
        for e, name in s.execute(q)
    ]
