"""Job rows: long work with a status and a percentage."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from limner.errors import NotFound
from limner.store.models import Job, utcnow

__all__ = ["job_dict", "create_job", "get_job", "list_jobs", "mark_interrupted"]


def job_dict(j: Job) -> dict:
    return {
        "id": j.id,
        "project_id": j.project_id,
        "kind": j.kind,
        "status": j.status,
        "progress": round(j.progress, 4),
        "percent": round(100 * j.progress, 1),
        "message": j.message,
        "params": {k: v for k, v in (j.params or {}).items() if not k.startswith("_")},
        "result": j.result,
        "error": j.error,
        "created_at": j.created_at.isoformat(),
        "started_at": j.started_at.isoformat() if j.started_at else None,
        "finished_at": j.finished_at.isoformat() if j.finished_at else None,
    }


def create_job(s: Session, kind: str, *, project_id: int | None, user_id: int | None, params: dict) -> Job:
    j = Job(kind=kind, project_id=project_id, created_by=user_id, params=params, status="queued")
    s.add(j)
    s.flush()
    return j


def get_job(s: Session, job_id: int) -> Job:
    j = s.get(Job, job_id)
    if j is None:
        raise NotFound(f"no job with id {job_id}")
    return j


def list_jobs(s: Session, project_id: int, limit: int = 50) -> list[dict]:
    q = select(Job).where(Job.project_id == project_id).order_by(Job.id.desc()).limit(limit)
    return [job_dict(j) for j in s.scalars(q)]


def mark_interrupted(s: Session) -> int:
    """Jobs a stopped server left queued or running are failed with a reason, not left hanging."""
    res = s.execute(
        update(Job)
        .where(Job.status.in_(("queued", "running")))
        .values(status="failed", error="the server stopped before this job finished; run it again", finished_at=utcnow())
    )
    return res.rowcount or 0
