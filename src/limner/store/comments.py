"""Comments on an asset, pinned to a point or a region, threaded and resolvable."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from limner.core.shapes import validate_geometry
from limner.errors import NotFound, ValidationError
from limner.store import audit
from limner.store.models import Asset, Comment, User, utcnow

__all__ = [
    "comment_dict",
    "create_comment",
    "get_comment",
    "list_comments",
    "update_comment",
    "delete_comment",
    "open_counts",
]

_REGION_KINDS = ("points", "box", "polygon", "ellipse")


def comment_dict(c: Comment, author: str | None) -> dict:
    return {
        "id": c.id,
        "asset_id": c.asset_id,
        "parent_id": c.parent_id,
        "author": author,
        "body": c.body,
        "region": c.region,
        "resolved": c.resolved,
        "created_at": c.created_at.isoformat(),
        "updated_at": c.updated_at.isoformat(),
    }


def _region(region: dict | None, asset: Asset) -> dict | None:
    if region is None:
        return None
    if not isinstance(region, dict) or region.get("kind") not in _REGION_KINDS:
        raise ValidationError(
            f"a comment region is an object with kind one of {', '.join(_REGION_KINDS)} and its geometry", field="region"
        )
    g = validate_geometry(region["kind"], region.get("geometry"), where="region", height=asset.height, width=asset.width)
    return {"kind": region["kind"], "geometry": g}


def create_comment(
    s: Session, asset: Asset, author: User, body: str, *, region: dict | None = None, parent_id: int | None = None
) -> dict:
    if not body or not body.strip():
        raise ValidationError("a comment needs some text", field="body")
    if parent_id is not None:
        parent = s.get(Comment, parent_id)
        if parent is None or parent.asset_id != asset.id:
            raise ValidationError(f"comment {parent_id} is not a comment on this asset", field="parent_id")
    c = Comment(asset_id=asset.id, author_id=author.id, body=body.strip(), region=_region(region, asset), parent_id=parent_id)
    s.add(c)
    s.flush()
    audit.record(s, author.id, "create", "comment", c.id, project_id=asset.project_id, asset_id=asset.id)
    return comment_dict(c, author.username)


def get_comment(s: Session, comment_id: int) -> Comment:
    c = s.get(Comment, comment_id)
    if c is None:
        raise NotFound(f"no comment with id {comment_id}")
    return c


def list_comments(s: Session, asset_id: int) -> list[dict]:
    q = (
        select(Comment, User.username)
        .outerjoin(User, User.id == Comment.author_id)
        .where(Comment.asset_id == asset_id)
        .order_by(Comment.id)
    )
    return [comment_dict(c, name) for c, name in s.execute(q)]


def update_comment(
    s: Session, c: Comment, actor: User, project_id: int, *, body: str | None = None, resolved: bool | None = None
) -> dict:
    changed: dict = {}
    if body is not None:
        if c.author_id != actor.id:
            raise ValidationError("only the author can edit a comment's text", field="body", status=403)
        if not body.strip():
            raise ValidationError("a comment needs some text", field="body")
        c.body = changed["body"] = body.strip()
    if resolved is not None:
        c.resolved = changed["resolved"] = bool(resolved)
    if changed:
        c.updated_at = utcnow()
        audit.record(s, actor.id, "update", "comment", c.id, project_id=project_id, **changed)
    author = s.get(User, c.author_id) if c.author_id else None
    return comment_dict(c, author.username if author else None)


def delete_comment(s: Session, c: Comment, actor: User, project_id: int) -> None:
    audit.record(s, actor.id, "delete", "comment", c.id, project_id=project_id)
    s.delete(c)


def open_counts(s: Session, asset_ids: list[int]) -> dict[int, int]:
    """Open threads per asset (unresolved comments that are not replies), in one grouped query;
    assets without any are left out."""
    if not asset_ids:
        return {}
    q = (
        select(Comment.asset_id, func.count())
        .where(Comment.asset_id.in_(asset_ids), Comment.parent_id.is_(None), Comment.resolved.is_(False))
        .group_by(Comment.asset_id)
    )
    return dict(s.execute(q).all())
