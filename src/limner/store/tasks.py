"""Tasks: batches of a project's assets with assignees and a stage (annotate, review, done)."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from limner.errors import NotFound, ValidationError
from limner.store import audit
from limner.store.review import check_overlap
from limner.store.models import STAGES, Asset, Membership, Task, TaskAssignee, User, utcnow

UNSET = object()

__all__ = ["task_dict", "create_task", "get_task", "list_tasks", "update_task", "delete_task"]


def _assignees(s: Session, task_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {t: [] for t in task_ids}
    if task_ids:
        q = (
            select(TaskAssignee.task_id, User.username)
            .join(User, User.id == TaskAssignee.user_id)
            .where(TaskAssignee.task_id.in_(task_ids))
            .order_by(User.username)
        )
        for tid, name in s.execute(q):
            out[tid].append(name)
    return out


def _asset_counts(s: Session, task_ids: list[int]) -> dict[int, dict]:
    out = {t: {"asset_count": 0, "done_count": 0} for t in task_ids}
    if task_ids:
        q = (
            select(Asset.task_id, Asset.status, func.count())
            .where(Asset.task_id.in_(task_ids))
            .group_by(Asset.task_id, Asset.status)
        )
        for tid, status, n in s.execute(q):
            out[tid]["asset_count"] += n
            if status == "done":
                out[tid]["done_count"] += n
    return out


def task_dict(t: Task, assignees: list[str], counts: dict) -> dict:
    return {
        "id": t.id,
        "project_id": t.project_id,
        "name": t.name,
        "stage": t.stage,
        "overlap": t.overlap,
        "assignees": assignees,
        "created_at": t.created_at.isoformat(),
        "updated_at": t.updated_at.isoformat(),
        **counts,
    }


def _one(s: Session, t: Task) -> dict:
    return task_dict(t, _assignees(s, [t.id])[t.id], _asset_counts(s, [t.id])[t.id])


def _member_ids(s: Session, project_id: int, usernames: list[str]) -> list[int]:
    ids = []
    for name in usernames:
        uid = s.scalar(
            select(User.id)
            .join(Membership, Membership.user_id == User.id)
            .where(User.username == name, Membership.project_id == project_id)
        )
        if uid is None:
            raise ValidationError(f"{name!r} is not a member of this project", field="assignees")
        ids.append(uid)
    return ids


def _set_assets(s: Session, t: Task, asset_ids: list[int]) -> None:
    if not asset_ids:
        return
    found = s.scalar(
        select(func.count()).select_from(Asset).where(Asset.id.in_(asset_ids), Asset.project_id == t.project_id)
    )
    if found != len(set(asset_ids)):
        raise ValidationError("some asset ids are not assets of this project", field="asset_ids")
    s.execute(
        update(Asset).where(Asset.id.in_(asset_ids)).values(task_id=t.id).execution_options(synchronize_session=False)
    )


def create_task(
    s: Session,
    project_id: int,
    name: str,
    actor_id: int,
    *,
    asset_ids: list[int] | None = None,
    assignees: list[str] | None = None,
    overlap: int | None = None,
) -> dict:
    """A task; ``overlap`` (annotators per asset) None follows the project's."""
    if not name or not name.strip():
        raise ValidationError("a task needs a name", field="name")
    t = Task(project_id=project_id, name=name.strip(), overlap=check_overlap(overlap))
    s.add(t)
    s.flush()
    for uid in _member_ids(s, project_id, assignees or []):
        s.add(TaskAssignee(task_id=t.id, user_id=uid))
    _set_assets(s, t, asset_ids or [])
    s.flush()
    audit.record(s, actor_id, "create", "task", t.id, project_id=project_id, name=t.name, assets=len(asset_ids or []))
    return _one(s, t)


def get_task(s: Session, task_id: int) -> Task:
    t = s.get(Task, task_id)
    if t is None:
        raise NotFound(f"no task with id {task_id}")
    return t


def list_tasks(s: Session, project_id: int) -> list[dict]:
    tasks = list(s.scalars(select(Task).where(Task.project_id == project_id).order_by(Task.id)))
    ids = [t.id for t in tasks]
    names, counts = _assignees(s, ids), _asset_counts(s, ids)
    return [task_dict(t, names[t.id], counts[t.id]) for t in tasks]


def task_detail(s: Session, t: Task) -> dict:
    return _one(s, t)


def update_task(
    s: Session,
    t: Task,
    actor_id: int,
    *,
    name: str | None = None,
    stage: str | None = None,
    assignees: list[str] | None = None,
    add_asset_ids: list[int] | None = None,
    overlap: int | None | object = UNSET,
) -> dict:
    """Change what is given; ``overlap=None`` makes the task follow the project's overlap again."""
    changed: dict = {}
    if overlap is not UNSET:
        t.overlap = changed["overlap"] = check_overlap(overlap)
    if name is not None:
        if not name.strip():
            raise ValidationError("a task needs a name", field="name")
        t.name = changed["name"] = name.strip()
    if stage is not None:
        if stage not in STAGES:
            raise ValidationError(f"stage must be one of {', '.join(STAGES)}, got {stage!r}", field="stage")
        t.stage = changed["stage"] = stage
    if assignees is not None:
        ids = _member_ids(s, t.project_id, assignees)
        s.execute(delete(TaskAssignee).where(TaskAssignee.task_id == t.id))
        for uid in ids:
            s.add(TaskAssignee(task_id=t.id, user_id=uid))
        changed["assignees"] = assignees
    if add_asset_ids:
        _set_assets(s, t, add_asset_ids)
        changed["added_assets"] = len(add_asset_ids)
    if changed:
        t.updated_at = utcnow()
        audit.record(s, actor_id, "update", "task", t.id, project_id=t.project_id, **changed)
    s.flush()
    return _one(s, t)


def delete_task(s: Session, t: Task, actor_id: int) -> None:
    audit.record(s, actor_id, "delete", "task", t.id, project_id=t.project_id, name=t.name)
    s.delete(t)
