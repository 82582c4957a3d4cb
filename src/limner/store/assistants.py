"""Registered models (assistants): a project's own, and site-wide ones (``project_id`` NULL).

A name is unique within a project and among site-wide models; a project's model of the same name
as a site-wide one takes its place in that project. The model's annotations are owned by
``model:NAME``.
"""

from __future__ import annotations

import re

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from limner.errors import Conflict, NotFound, PermissionDenied, ValidationError
from limner.store import audit
from limner.store.models import ModelRow, User

__all__ = ["KINDS", "assets_with_owner", "check_name", "create_model", "delete_model", "find_model", "get_model", "keep_model",
           "kept_files", "list_models", "model_dict", "owner_of", "put_model_annotations"]  # fmt: skip

KINDS = ("interactor", "detector")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def owner_of(name: str) -> str:
    """The annotation owner of a model's pre-labels."""
    return f"model:{name}"


def model_dict(m: ModelRow, creator: str | None = None) -> dict:
    return {
        "id": m.id,
        "project_id": m.project_id,
        "name": m.name,
        "kind": m.kind,
        "type": m.type,
        "config": m.config or {},
        "owner": owner_of(m.name),
        "created_at": m.created_at.isoformat(),
        "created_by": creator,
    }


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValidationError(
            f"a model name has 1 to 100 letters, digits, '_', '.' or '-' and starts with a letter or digit, got {name!r}",
            field="name",
        )
    return name


def _check(name: str, kind: str) -> None:
    check_name(name)
    if kind not in KINDS:
        raise ValidationError(f"a model's kind is {' or '.join(KINDS)}, got {kind!r}", field="kind")


def create_model(s: Session, project_id: int | None, name: str, kind: str, type_: str, config: dict,
                 actor_id: int | None) -> ModelRow:  # fmt: skip
    """Store a model whose configuration the caller has checked (loaded once)."""
    _check(name, kind)
    same = select(ModelRow.id).where(ModelRow.name == name)
    same = same.where(ModelRow.project_id.is_(None) if project_id is None else ModelRow.project_id == project_id)
    if s.scalar(same) is not None:
        where = "site-wide" if project_id is None else f"in project {project_id}"
        raise Conflict(f"a model named {name!r} already exists {where}; remove it first or pick another name", field="name")
    m = ModelRow(project_id=project_id, name=name, kind=kind, type=type_, config=config, created_by=actor_id)
    s.add(m)
    s.flush()
    audit.record(s, actor_id, "create", "model", m.id, project_id=project_id, name=name, kind=kind, type=type_)
    return m


def keep_model(s: Session, project_id: int, name: str, type_: str, config: dict, actor_id: int, *, replace: bool = False,
               replace_others: bool = False) -> tuple[ModelRow, dict | None]:  # fmt: skip
    """Store a classifier kept from the editor as the project's interactor ``name``. With
    ``replace`` it takes the place of an earlier one of the same type (another person's only with
    ``replace_others``). Answers the row and the configuration it replaced, if any."""
    check_name(name)
    m = s.scalar(select(ModelRow).where(ModelRow.project_id == project_id, ModelRow.name == name))
    if m is None and s.scalar(select(ModelRow.id).where(ModelRow.project_id.is_(None), ModelRow.name == name)) is not None:
        raise Conflict(f"{name!r} is the name of a site-wide model; pick another name", field="name")
    if m is None:
        return create_model(s, project_id, name, "interactor", type_, config, actor_id), None
    if m.type != type_:
        raise Conflict(f"{name!r} is the project's {m.type} model, not a kept {type_} classifier; pick another name", field="name")
    if not replace:
        raise Conflict(f"a classifier named {name!r} is already kept in this project; replace it or pick another name",
                       field="name")  # fmt: skip
    if m.created_by != actor_id and not replace_others:
        raise PermissionDenied(f"classifier {name!r} was kept by someone else; a manager may replace it", field="name")
    old, m.config = m.config or {}, config
    audit.record(s, actor_id, "update", "model", m.id, project_id=project_id, name=name, type=type_)
    return m, old


def get_model(s: Session, model_id: int) -> ModelRow:
    m = s.get(ModelRow, model_id)
    if m is None:
        raise NotFound(f"no model with id {model_id}")
    return m


def list_models(s: Session, project_id: int | None, *, kind: str | None = None, site: bool = True) -> list[dict]:
    """The project's models and (with ``site``) the site-wide ones it does not shadow, by name;
    ``project_id`` None lists the site-wide ones alone."""
    cond = ModelRow.project_id.is_(None) if project_id is None else (
        or_(ModelRow.project_id == project_id, ModelRow.project_id.is_(None)) if site else ModelRow.project_id == project_id
    )  # fmt: skip
    q = select(ModelRow, User.username).outerjoin(User, User.id == ModelRow.created_by).where(cond)
    if kind is not None:
        q = q.where(ModelRow.kind == kind)
    rows = s.execute(q.order_by(ModelRow.name, ModelRow.project_id)).all()
    own = {m.name for m, _ in rows if m.project_id is not None}
    return [model_dict(m, u) for m, u in rows if m.project_id is not None or m.name not in own]


def find_model(s: Session, project_id: int, name: str, kind: str | None = None) -> ModelRow | None:
    """The project's model of that name, else the site-wide one, else None."""
    q = select(ModelRow).where(ModelRow.name == name, or_(ModelRow.project_id == project_id, ModelRow.project_id.is_(None)))
    if kind is not None:
        q = q.where(ModelRow.kind == kind)
    rows = list(s.scalars(q))
    return next((m for m in rows if m.project_id is not None), rows[0] if rows else None)


def delete_model(s: Session, m: ModelRow, actor_id: int | None) -> None:
    """Remove the model; its pre-labels (``model:NAME`` annotations) stay."""
    audit.record(s, actor_id, "delete", "model", m.id, project_id=m.project_id, name=m.name)
    s.delete(m)


def kept_files(s: Session, project_id: int, type_: str) -> list[tuple[int, str]]:
    """``(model id, storage key)`` of the project's models of ``type_`` that keep a file in the
    media storage (``config.key``), so deleting the project can remove the files too."""
    rows = s.execute(select(ModelRow.id, ModelRow.config).where(ModelRow.project_id == project_id, ModelRow.type == type_))
    return [(mid, cfg["key"]) for mid, cfg in rows if isinstance(cfg, dict) and isinstance(cfg.get("key"), str)]


def assets_with_owner(s: Session, asset_ids: list[int], owner: str) -> set[int]:
    """Which of the assets already have an annotation by ``owner``."""
    from limner.store.models import Annotation

    out: set[int] = set()
    for i in range(0, len(asset_ids), 5000):
        chunk = asset_ids[i : i + 5000]
        out.update(s.scalars(select(Annotation.asset_id).where(Annotation.owner == owner, Annotation.asset_id.in_(chunk))))
    return out


def put_model_annotations(s: Session, project_id: int, owner: str, items: list[tuple[int, list]], actor_id: int | None) -> int:
    """Write a model's checked shapes (core ``Shape`` lists) as ``owner``'s annotation of each asset
    (:func:`~limner.store.annotations.replace_annotations`) and log it. Answers the number of
    shapes written. The assets' status stays: pre-labels are not a person's work."""
    from limner.store.annotations import replace_annotations

    n = replace_annotations(s, project_id, owner, items, actor_id)
    if items:
        audit.record(s, actor_id, "prelabel", "annotation", owner, project_id=project_id, annotations=len(items), shapes=n)
    return n
