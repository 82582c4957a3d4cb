"""Projects, memberships and the label schema."""

from __future__ import annotations

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session

from limner.core.schema import Label, LabelSchema
from limner.errors import Conflict, NotFound, ValidationError
from limner.store import audit
from limner.store.models import ROLES, Asset, LabelRow, Membership, Project, ShapeRow, User, utcnow

__all__ = [
    "project_dict",
    "create_project",
    "get_project",
    "list_projects",
    "update_project",
    "delete_project",
    "role_of",
    "list_members",
    "add_member",
    "set_member_role",
    "remove_member",
    "label_dict",
    "list_labels",
    "create_label",
    "update_label",
    "delete_label",
    "load_schema",
]


def project_dict(p: Project, counts: dict | None = None, role: str | None = None) -> dict:
    out = {
        "id": p.id,
        "name": p.name,
        "description": p.description,
        "created_at": p.created_at.isoformat(),
        "updated_at": p.updated_at.isoformat(),
    }
    if counts is not None:
        out.update(counts)
    if role is not None:
        out["role"] = role
    return out


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationError("a project needs a name of 1 to 200 characters", field="name")
    return name


def create_project(s: Session, owner: User, name: str, description: str = "") -> Project:
    p = Project(name=_check_name(name), description=description or "", created_by=owner.id)
    s.add(p)
    s.flush()
    s.add(Membership(project_id=p.id, user_id=owner.id, role="owner"))
    audit.record(s, owner.id, "create", "project", p.id, project_id=p.id, name=p.name)
    return p


def get_project(s: Session, project_id: int) -> Project:
    p = s.get(Project, project_id)
    if p is None:
        raise NotFound(f"no project with id {project_id}")
    return p


def _counts(s: Session, ids: list[int]) -> dict[int, dict]:
    if not ids:
        return {}
    q = (
        select(
            Asset.project_id,
            func.count(),
            func.sum(case((Asset.status == "done", 1), else_=0)),
            func.sum(Asset.shape_count),
        )
        .where(Asset.project_id.in_(ids))
        .group_by(Asset.project_id)
    )
    out = {i: {"asset_count": 0, "done_count": 0, "shape_count": 0} for i in ids}
    for pid, n, done, shapes in s.execute(q):
        out[pid] = {"asset_count": n, "done_count": int(done or 0), "shape_count": int(shapes or 0)}
    return out


def list_projects(s: Session, user: User) -> list[dict]:
    if user.is_admin:
        q = select(Project, Membership.role).outerjoin(
            Membership, (Membership.project_id == Project.id) & (Membership.user_id == user.id)
        )
    else:
        q = select(Project, Membership.role).join(
            Membership, (Membership.project_id == Project.id) & (Membership.user_id == user.id)
        )
    rows = s.execute(q.order_by(Project.id)).all()
    counts = _counts(s, [p.id for p, _ in rows])
    return [project_dict(p, counts[p.id], role or "owner") for p, role in rows]


def update_project(s: Session, p: Project, actor_id: int, *, name: str | None = None, description: str | None = None) -> Project:
    changed = {}
    if name is not None:
        p.name = changed["name"] = _check_name(name)
    if description is not None:
        p.description = changed["description"] = description
    if changed:
        p.updated_at = utcnow()
        audit.record(s, actor_id, "update", "project", p.id, project_id=p.id, **changed)
    return p


def delete_project(s: Session, p: Project, actor_id: int) -> None:
    audit.record(s, actor_id, "delete", "project", p.id, name=p.name)
    s.delete(p)


# members


def role_of(s: Session, user: User, project_id: int) -> str | None:
    return s.scalar(select(Membership.role).where(Membership.project_id == project_id, Membership.user_id == user.id))


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise ValidationError(f"role must be one of {', '.join(ROLES)}, got {role!r}", field="role")
    return role


def list_members(s: Session, project_id: int) -> list[dict]:
    q = (
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.project_id == project_id)
        .order_by(User.username)
    )
    return [
        {"user_id": u.id, "username": u.username, "display_name": u.display_name, "role": role}
        for u, role in s.execute(q)
    ]


def add_member(s: Session, project_id: int, user: User, role: str, actor_id: int) -> dict:
    _check_role(role)
    if s.get(Membership, (project_id, user.id)) is not None:
        raise Conflict(f"{user.username} is a member already; change the role instead", field="username")
    s.add(Membership(project_id=project_id, user_id=user.id, role=role))
    audit.record(s, actor_id, "create", "membership", user.id, project_id=project_id, username=user.username, role=role)
    return {"user_id": user.id, "username": user.username, "display_name": user.display_name, "role": role}


def _owners(s: Session, project_id: int) -> int:
    return s.scalar(
        select(func.count()).select_from(Membership).where(Membership.project_id == project_id, Membership.role == "owner")
    )


def set_member_role(s: Session, project_id: int, user_id: int, role: str, actor_id: int) -> dict:
    _check_role(role)
    m = s.get(Membership, (project_id, user_id))
    if m is None:
        raise NotFound(f"user {user_id} is not a member of project {project_id}")
    if m.role == "owner" and role != "owner" and _owners(s, project_id) == 1:
        raise Conflict("a project keeps at least one owner: make someone else owner first", field="role")
    m.role = role
    audit.record(s, actor_id, "update", "membership", user_id, project_id=project_id, role=role)
    u = s.get(User, user_id)
    return {"user_id": u.id, "username": u.username, "display_name": u.display_name, "role": role}


def remove_member(s: Session, project_id: int, user_id: int, actor_id: int) -> None:
    m = s.get(Membership, (project_id, user_id))
    if m is None:
        raise NotFound(f"user {user_id} is not a member of project {project_id}")
    if m.role == "owner" and _owners(s, project_id) == 1:
        raise Conflict("a project keeps at least one owner: make someone else owner first")
    s.delete(m)
    audit.record(s, actor_id, "delete", "membership", user_id, project_id=project_id)


# labels


def label_dict(row: LabelRow, names: dict[int, str]) -> dict:
    return {
        "id": row.id,
        "name": row.name,
        "color": row.color,
        "kinds": list(row.kinds or []),
        "attributes": list(row.attributes or []),
        "parent": names.get(row.parent_id) if row.parent_id else None,
        "skeleton": row.skeleton,
    }


def _rows(s: Session, project_id: int) -> list[LabelRow]:
    return list(s.scalars(select(LabelRow).where(LabelRow.project_id == project_id).order_by(LabelRow.position, LabelRow.id)))


def list_labels(s: Session, project_id: int) -> list[dict]:
    rows = _rows(s, project_id)
    names = {r.id: r.name for r in rows}
    return [label_dict(r, names) for r in rows]


def load_schema(s: Session, project_id: int) -> tuple[LabelSchema, dict[str, int]]:
    """The project's schema as a core LabelSchema, and label name -> id."""
    rows = _rows(s, project_id)
    names = {r.id: r.name for r in rows}
    schema = LabelSchema([Label.from_dict(label_dict(r, names)) for r in rows])
    return schema, {r.name: r.id for r in rows}


def _apply(s: Session, row: LabelRow, label: Label, project_id: int) -> None:
    parent_id = None
    if label.parent:
        parent_id = s.scalar(select(LabelRow.id).where(LabelRow.project_id == project_id, LabelRow.name == label.parent))
        if parent_id is None:
            raise ValidationError(f"parent label {label.parent!r} is not in this project", field="parent")
        if row.id is not None and parent_id == row.id:
            raise ValidationError("a label cannot be its own parent", field="parent")
    row.name = label.name
    row.color = label.color
    row.kinds = list(label.kinds)
    row.attributes = [a.to_dict() for a in label.attributes]
    row.skeleton = label.skeleton.to_dict() if label.skeleton else None
    row.parent_id = parent_id


def create_label(s: Session, project_id: int, data: dict, actor_id: int) -> dict:
    label = Label.from_dict(data)
    if s.scalar(select(LabelRow.id).where(LabelRow.project_id == project_id, LabelRow.name == label.name)):
        raise Conflict(f"label {label.name!r} exists already in this project", field="name")
    pos = s.scalar(select(func.coalesce(func.max(LabelRow.position), -1)).where(LabelRow.project_id == project_id)) + 1
    row = LabelRow(project_id=project_id, position=pos)
    _apply(s, row, label, project_id)
    s.add(row)
    s.flush()
    audit.record(s, actor_id, "create", "label", row.id, project_id=project_id, name=label.name)
    return label_dict(row, {r.id: r.name for r in _rows(s, project_id)})


def get_label(s: Session, project_id: int, label_id: int) -> LabelRow:
    row = s.get(LabelRow, label_id)
    if row is None or row.project_id != project_id:
        raise NotFound(f"no label with id {label_id} in project {project_id}")
    return row


def update_label(s: Session, project_id: int, label_id: int, data: dict, actor_id: int) -> dict:
    row = get_label(s, project_id, label_id)
    names = {r.id: r.name for r in _rows(s, project_id)}
    merged = label_dict(row, names) | {k: v for k, v in data.items() if k != "id"}
    label = Label.from_dict(merged)
    if label.name != row.name and s.scalar(
        select(LabelRow.id).where(LabelRow.project_id == project_id, LabelRow.name == label.name)
    ):
        raise Conflict(f"label {label.name!r} exists already in this project", field="name")
    if label.skeleton and row.skeleton and len(label.skeleton.points) != len(row.skeleton["points"]):
        used = s.scalar(select(func.count()).select_from(ShapeRow).where(ShapeRow.label_id == row.id, ShapeRow.kind == "skeleton"))
        if used:
            raise Conflict(
                f"label {row.name!r}: {used} skeleton shapes use the current {len(row.skeleton['points'])} points; "
                "the number of points cannot change while they exist",
                field="skeleton",
            )
    _apply(s, row, label, project_id)
    audit.record(s, actor_id, "update", "label", row.id, project_id=project_id, **{k: v for k, v in data.items() if k != "id"})
    names[row.id] = row.name
    return label_dict(row, names)


def delete_label(s: Session, project_id: int, label_id: int, actor_id: int) -> None:
    row = get_label(s, project_id, label_id)
    used = s.scalar(select(func.count()).select_from(ShapeRow).where(ShapeRow.label_id == row.id))
    if used:
        raise Conflict(f"label {row.name!r} is used by {used} shapes; delete or relabel them first", field="label")
    s.execute(delete(LabelRow).where(LabelRow.id == row.id))
    audit.record(s, actor_id, "delete", "label", label_id, project_id=project_id, name=row.name)
