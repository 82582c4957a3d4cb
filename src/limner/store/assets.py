"""Assets: images of a project, listed with their annotation status and shape counts."""

from __future__ import annotations

from sqlalchemy import and_, delete, exists, func, insert, select
from sqlalchemy.orm import Session

from limner.errors import NotFound, ValidationError
from limner.store import audit
from limner.store.comments import open_counts
from limner.store.annotations import missing_required
from limner.store.models import ASSET_STATUSES, Annotation, Asset, LabelRow, ShapeRow, TaskAssignee, User

__all__ = [
    "asset_dict",
    "check_in_project",
    "get_asset",
    "list_assets",
    "existing_checksums",
    "insert_assets",
    "delete_asset",
    "set_status",
    "MAX_PAGE",
]

MAX_PAGE = 1000


def check_in_project(s: Session, project_id: int, asset_ids: list[int]) -> None:
    """Refuse ids that are not assets of the project, naming the first ten."""
    wanted = set(asset_ids)
    found = set(s.scalars(select(Asset.id).where(Asset.project_id == project_id, Asset.id.in_(wanted))))
    missing = sorted(wanted - found)
    if missing:
        raise ValidationError(f"assets not in this project: {', '.join(map(str, missing[:10]))}", field="asset_ids")
_COLUMNS = (
    Asset.id,
    Asset.name,
    Asset.width,
    Asset.height,
    Asset.status,
    Asset.shape_count,
    Asset.task_id,
    Asset.checksum,
    Asset.mime,
    Asset.size_bytes,
    Asset.created_at,
)


def asset_dict(a) -> dict:
    return {
        "id": a.id,
        "name": a.name,
        "width": a.width,
        "height": a.height,
        "status": a.status,
        "shape_count": a.shape_count,
        "task_id": a.task_id,
        "checksum": a.checksum,
        "mime": a.mime,
        "size_bytes": a.size_bytes,
        "created_at": a.created_at.isoformat(),
    }


def get_asset(s: Session, asset_id: int) -> Asset:
    a = s.get(Asset, asset_id)
    if a is None:
        raise NotFound(f"no asset with id {asset_id}")
    return a


def list_assets(
    s: Session,
    project_id: int,
    *,
    status: str | None = None,
    assignee: str | None = None,
    label: str | None = None,
    task_id: int | None = None,
    name: str | None = None,
    offset: int = 0,
    after: int | None = None,
    before: int | None = None,
    limit: int = 100,
) -> dict:
    """One page of assets with a total, and each asset's task assignees; set-based: at most four
    queries whatever the page size."""
    if limit < 1 or limit > MAX_PAGE:
        raise ValidationError(f"limit must be between 1 and {MAX_PAGE}", field="limit")
    if offset < 0:
        raise ValidationError("offset must not be negative", field="offset")
    conds = [Asset.project_id == project_id]
    if status:
        if status not in ASSET_STATUSES:
            raise ValidationError(f"status must be one of {', '.join(ASSET_STATUSES)}", field="status")
        conds.append(Asset.status == status)
    if task_id is not None:
        conds.append(Asset.task_id == task_id)
    if name:
        conds.append(Asset.name.contains(name, autoescape=True))
    if assignee:
        conds.append(
            exists().where(
                TaskAssignee.task_id == Asset.task_id,
                TaskAssignee.user_id == select(User.id).where(User.username == assignee).scalar_subquery(),
            )
        )
    if label:
        label_id = s.scalar(select(LabelRow.id).where(LabelRow.project_id == project_id, LabelRow.name == label))
        if label_id is None:
            raise ValidationError(f"label {label!r} is not in this project", field="label")
        conds.append(exists().where(ShapeRow.asset_id == Asset.id, ShapeRow.label_id == label_id))
    where = and_(*conds)
    total = s.scalar(select(func.count()).select_from(Asset).where(where))
    q = select(*_COLUMNS).where(where)
    if before is not None:  # the page just before an id, for walking back from any asset
        rows = s.execute(q.where(Asset.id < before).order_by(Asset.id.desc()).limit(limit)).all()[::-1]
    else:
        if after is not None:
            q = q.where(Asset.id > after)
        else:
            q = q.offset(offset)
        rows = s.execute(q.order_by(Asset.id).limit(limit)).all()
    items = [asset_dict(r) for r in rows]
    if items:
        by_id = {it["id"]: it for it in items}
        open_comments = open_counts(s, list(by_id))
        for it in items:
            it["annotations"] = []
            it["open_comments"] = open_comments.get(it["id"], 0)
        for aid, owner, rev, n, at, state in s.execute(
            select(
                Annotation.asset_id, Annotation.owner, Annotation.revision, Annotation.shape_count, Annotation.updated_at,
                Annotation.state,
            )
            .where(Annotation.asset_id.in_(list(by_id)))
            .order_by(Annotation.asset_id, Annotation.owner)
        ):
            by_id[aid]["annotations"].append(
                {"owner": owner, "revision": rev, "shape_count": n, "updated_at": at.isoformat(), "state": state}
            )
        assignees: dict[int, list[str]] = {}
        task_ids = {it["task_id"] for it in items if it["task_id"] is not None}
        if task_ids:
            for tid, username in s.execute(
                select(TaskAssignee.task_id, User.username)
                .join(User, User.id == TaskAssignee.user_id)
                .where(TaskAssignee.task_id.in_(task_ids))
                .order_by(User.username)
            ):
                assignees.setdefault(tid, []).append(username)
        for it in items:
            it["assignees"] = assignees.get(it["task_id"], [])
    return {"total": total, "offset": offset, "limit": limit, "items": items}


def existing_checksums(s: Session, project_id: int, checksums: list[str]) -> dict[str, int]:
    out = {}
    for i in range(0, len(checksums), 500):
        chunk = checksums[i : i + 500]
        out.update(
            s.execute(select(Asset.checksum, Asset.id).where(Asset.project_id == project_id, Asset.checksum.in_(chunk))).all()
        )
    return out


def insert_assets(s: Session, project_id: int, rows: list[dict], actor_id: int | None) -> list[int]:
    """Insert many assets in one statement; rows hold the Asset columns. Returns their ids."""
    if not rows:
        return []
    for r in rows:
        r["project_id"] = project_id
    ids = list(s.scalars(insert(Asset).returning(Asset.id), rows))
    audit.record(s, actor_id, "create", "asset", f"{ids[0]}..{ids[-1]}", project_id=project_id, count=len(ids))
    return ids


def delete_asset(s: Session, a: Asset, actor_id: int) -> None:
    s.execute(delete(ShapeRow).where(ShapeRow.asset_id == a.id))
    audit.record(s, actor_id, "delete", "asset", a.id, project_id=a.project_id, name=a.name)
    s.delete(a)


def set_status(s: Session, a: Asset, status: str, actor_id: int) -> None:
    if status not in ASSET_STATUSES:
        raise ValidationError(f"status must be one of {', '.join(ASSET_STATUSES)}, got {status!r}", field="status")
    if status in ("review", "done") and status != a.status:
        missing = missing_required(s, a)
        if missing:
            more = f" (and {len(missing) - 3} more)" if len(missing) > 3 else ""
            raise ValidationError(
                f"{a.name} cannot go to {status}: {'; '.join(missing[:3])}{more}", field="status"
            )
    if status != a.status:
        audit.record(s, actor_id, "update", "asset", a.id, project_id=a.project_id, status=status, was=a.status)
        a.status = status
