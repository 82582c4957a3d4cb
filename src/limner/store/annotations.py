"""Annotations: one per asset and annotator (or model), written whole, guarded by a revision.

A write names the revision it was based on; if another write came first, it gets 409 with the
current revision and nothing is overwritten.
"""

from __future__ import annotations

from sqlalchemy import Text, bindparam, cast, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from limner.core.shapes import validate_shape
from limner.errors import Conflict, NotFound, ValidationError
from limner.store import audit
from limner.store.db import json_text
from limner.store.models import Annotation, Asset, LabelRow, ShapeRow, utcnow
from limner.store.projects import load_schema

__all__ = ["get_annotation", "get_annotation_json", "list_annotations", "list_owners", "put_annotation", "delete_annotation",
           "replace_annotations", "OWNER_MAX"]

OWNER_MAX = 200
_SHAPE_COLUMNS = (
    ShapeRow.kind,
    LabelRow.name,
    ShapeRow.geometry,
    ShapeRow.attributes,
    ShapeRow.z_order,
    ShapeRow.group_id,
    ShapeRow.track_id,
    ShapeRow.source,
    ShapeRow.confidence,
)
_KEYS = ("kind", "label", "geometry", "attributes", "z_order", "group_id", "track_id", "source", "confidence")


def _find(s: Session, asset_id: int, owner: str) -> Annotation | None:
    return s.scalar(select(Annotation).where(Annotation.asset_id == asset_id, Annotation.owner == owner))


def _summary(a: Annotation) -> dict:
    return {
        "asset_id": a.asset_id,
        "owner": a.owner,
        "revision": a.revision,
        "shape_count": a.shape_count,
        "updated_at": a.updated_at.isoformat(),
        "state": a.state,
    }


def _add_shape_count(s: Session, asset: Asset, delta: int) -> None:
    if delta:
        s.execute(
            update(Asset)
            .where(Asset.id == asset.id)
            .values(shape_count=Asset.shape_count + delta)
            .execution_options(synchronize_session=False)
        )
        set_committed_value(asset, "shape_count", asset.shape_count + delta)


def list_owners(s: Session, project_id: int) -> list[dict]:
    """Who has annotated the project (people and models), with counts, most shapes first."""
    from sqlalchemy import func

    q = (
        select(Annotation.owner, func.count(), func.sum(Annotation.shape_count), func.max(Annotation.updated_at))
        .join(Asset, Asset.id == Annotation.asset_id)
        .where(Asset.project_id == project_id)
        .group_by(Annotation.owner)
    )
    rows = [
        {"owner": o, "is_model": o.startswith("model:"), "annotations": n, "shapes": int(sh or 0),
         "last_saved": at.isoformat() if at else None}
        for o, n, sh, at in s.execute(q)
    ]
    return sorted(rows, key=lambda r: (-r["shapes"], r["owner"]))


def list_annotations(s: Session, asset_id: int) -> list[dict]:
    return [_summary(a) for a in s.scalars(select(Annotation).where(Annotation.asset_id == asset_id).order_by(Annotation.owner))]


def get_annotation_json(s: Session, asset: Asset, owner: str) -> bytes:
    """The same as `get_annotation`, as JSON bytes: geometry and attributes are spliced in as the
    database stores them, not decoded and encoded again (most of the cost for big annotations)."""
    import orjson

    a = _find(s, asset.id, owner)
    if a is None:
        return orjson.dumps(get_annotation(s, asset, owner))
    rows = s.execute(
        select(
            ShapeRow.kind, LabelRow.name, cast(ShapeRow.geometry, Text), cast(ShapeRow.attributes, Text),
            ShapeRow.z_order, ShapeRow.group_id, ShapeRow.track_id, ShapeRow.source, ShapeRow.confidence,
        )
        .join(LabelRow, LabelRow.id == ShapeRow.label_id)
        .where(ShapeRow.annotation_id == a.id)
        .order_by(ShapeRow.position)
    )
    frag = orjson.Fragment
    out = _summary(a)
    out["shapes"] = [
        {"kind": k, "label": lb, "geometry": frag(g), "attributes": frag(at or "{}"), "z_order": z, "group_id": gr,
         "track_id": t, "source": src, "confidence": c}
        for k, lb, g, at, z, gr, t, src, c in rows
    ]
    return orjson.dumps(out)


def get_annotation(s: Session, asset: Asset, owner: str) -> dict:
    """The annotation with its shapes; an owner with no annotation yet gets revision 0 and no shapes."""
    a = _find(s, asset.id, owner)
    if a is None:
        return {"asset_id": asset.id, "owner": owner, "revision": 0, "shape_count": 0, "updated_at": None, "state": None, "shapes": []}
    rows = s.execute(
        select(*_SHAPE_COLUMNS)
        .join(LabelRow, LabelRow.id == ShapeRow.label_id)
        .where(ShapeRow.annotation_id == a.id)
        .order_by(ShapeRow.position)
    )
    out = _summary(a)
    out["shapes"] = [dict(zip(_KEYS, r)) for r in rows]
    return out


def put_annotation(
    s: Session, asset: Asset, owner: str, base_revision: int, shapes: list, actor_id: int | None
) -> dict:
    """Replace the owner's shapes on the asset; returns the new summary (revision + 1)."""
    if not owner or len(owner) > OWNER_MAX:
        raise ValidationError(f"an annotation owner has 1 to {OWNER_MAX} characters", field="owner")
    if not isinstance(shapes, list):
        raise ValidationError("shapes must be a list", field="shapes")
    schema, label_ids = load_schema(s, asset.project_id)
    # A save may lack required attributes (work in progress, saved as it is drawn); the image cannot
    # be submitted for review or marked done until they are filled in (missing_required).
    checked = [
        validate_shape(d, index=i, schema=schema, height=asset.height, width=asset.width, require_attributes=False)
        for i, d in enumerate(shapes)
    ]
    a = _find(s, asset.id, owner)
    current = a.revision if a is not None else 0
    if base_revision != current:
        raise Conflict(
            f"the annotation changed since revision {base_revision}: it is at revision {current}; "
            "load it again and reapply your change",
            field="base_revision",
            current_revision=current,
        )
    now = utcnow()
    new_rev = current + 1
    values = {"revision": new_rev, "shape_count": len(checked), "updated_by": actor_id, "updated_at": now}
    if a is None:
        a = Annotation(asset_id=asset.id, owner=owner, **values)
        s.add(a)
        try:
            s.flush()
        except IntegrityError:
            raise Conflict(
                "another write created this annotation at the same moment; load it again",
                field="base_revision",
                current_revision=1,
            ) from None
        old_count = 0
    else:
        old_count = a.shape_count
        # the guard and the bump are one statement: a concurrent writer waits on the row and then
        # finds the revision moved on
        done = s.execute(
            update(Annotation)
            .where(Annotation.id == a.id, Annotation.revision == current)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:
            raise Conflict("the annotation changed during this write; load it again", field="base_revision")
        s.execute(delete(ShapeRow).where(ShapeRow.annotation_id == a.id))
    if checked:
        _insert_shapes(s, [(a.id, asset.id, checked)], label_ids)
    _add_shape_count(s, asset, len(checked) - old_count)
    if asset.status == "new" and checked:
        asset.status = "in_progress"
    audit.record(
        s, actor_id, "update", "annotation", a.id, project_id=asset.project_id, asset_id=asset.id, owner=owner,
        revision=new_rev, shapes=len(checked),
    )
    return {"asset_id": asset.id, "owner": owner, "revision": new_rev, "shape_count": len(checked), "updated_at": now.isoformat()}


def replace_annotations(
    s: Session, project_id: int, owner: str, items: list[tuple[int, list]], actor_id: int | None
) -> int:
    """Make checked shapes (core ``Shape`` lists) ``owner``'s annotation of each asset of ``items``
    (``[(asset id, shapes)]``), replacing what that owner had there (revision + 1) and keeping the
    assets' shape counts, in a few set-based statements whatever the number of assets: an import,
    a model's pre-labels, a consensus. Answers the number of shapes written. Neither the assets'
    status nor the audit log is touched: each caller records what it did."""
    if not items:
        return 0
    _, ids = load_schema(s, project_id)
    asset_ids = [a for a, _ in items]
    existing = dict(s.execute(select(Annotation.asset_id, Annotation.id).where(Annotation.owner == owner,
                                                                             Annotation.asset_id.in_(asset_ids))).all())  # fmt: skip
    old = dict(s.execute(select(Annotation.id, Annotation.shape_count).where(Annotation.id.in_(list(existing.values())))).all()
               ) if existing else {}  # fmt: skip
    if existing:
        s.execute(delete(ShapeRow).where(ShapeRow.annotation_id.in_(list(existing.values()))))
    now = utcnow()
    ann_t, asset_t = Annotation.__table__, Asset.__table__
    fresh = [{"asset_id": a, "owner": owner, "revision": 1, "shape_count": len(shapes), "updated_by": actor_id,
              "updated_at": now} for a, shapes in items if a not in existing]  # fmt: skip
    if fresh:
        s.execute(insert(ann_t), fresh)
        made = [r["asset_id"] for r in fresh]
        existing.update(s.execute(select(Annotation.asset_id, Annotation.id).where(Annotation.owner == owner,
                                                                                 Annotation.asset_id.in_(made))).all())  # fmt: skip
    again = [{"b_id": existing[a], "b_count": len(shapes)} for a, shapes in items if existing[a] in old]
    if again:
        s.execute(update(ann_t).where(ann_t.c.id == bindparam("b_id")).values(
            revision=ann_t.c.revision + 1, shape_count=bindparam("b_count"), updated_by=actor_id, updated_at=now), again)  # fmt: skip
    deltas = []
    for asset_id, shapes in items:
        delta = len(shapes) - old.get(existing[asset_id], 0)
        if delta:
            deltas.append({"b_id": asset_id, "b_delta": delta})
    written = _insert_shapes(s, [(existing[a], a, shapes) for a, shapes in items], ids)
    if deltas:
        s.execute(update(asset_t).where(asset_t.c.id == bindparam("b_id")).values(
            shape_count=asset_t.c.shape_count + bindparam("b_delta")), deltas)  # fmt: skip
    return written


_ROW = ("annotation_id", "asset_id", "label_id", "position", "kind", "geometry", "attributes", "z_order", "group_id",
        "track_id", "source", "confidence")  # fmt: skip


def _insert_shapes(s: Session, annotations: list[tuple[int, int, list]], label_ids: dict[str, int]) -> int:
    """Insert checked shapes as rows: ``annotations`` is ``[(annotation id, asset id, shapes)]``.

    One executemany by the database driver, with the JSON columns encoded here as the engine
    encodes them (orjson; a :class:`~limner.core.points.Points` as its array): SQLAlchemy's
    per-row binding took about as long as the database's insert itself (an import of 200,000 shapes)."""
    dumps = json_text
    rows = [
        (ann_id, asset_id, label_ids[sh.label], i, sh.kind, dumps(sh.geometry),
         dumps(sh.attributes) if sh.attributes else "{}", sh.z_order, sh.group_id, sh.track_id, sh.source, sh.confidence)
        for ann_id, asset_id, shapes in annotations
        for i, sh in enumerate(shapes)
    ]  # fmt: skip
    if rows:
        conn = s.connection()
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        conn.exec_driver_sql(
            f"INSERT INTO {ShapeRow.__tablename__} ({', '.join(_ROW)}) VALUES ({', '.join([mark] * len(_ROW))})", rows
        )
    return len(rows)


def missing_required(s: Session, asset: Asset, owner: str | None = None) -> list[str]:
    """Sentences naming each person's shape on the asset (only ``owner``'s, if given) that lacks a
    required attribute (model annotations are pre-labels and are not held to it)."""
    schema, _ = load_schema(s, asset.project_id)
    required = {lb.name: [a.name for a in lb.attributes if a.required] for lb in schema.labels}
    if not any(required.values()):
        return []
    rows = (
        select(Annotation.owner, ShapeRow.position, LabelRow.name, ShapeRow.attributes)
        .join(ShapeRow, ShapeRow.annotation_id == Annotation.id)
        .join(LabelRow, LabelRow.id == ShapeRow.label_id)
        .where(Annotation.asset_id == asset.id, ~Annotation.owner.startswith("model:"))
        .order_by(Annotation.owner, ShapeRow.position)
    )
    if owner is not None:
        rows = rows.where(Annotation.owner == owner)
    out = []
    for who, pos, label, attrs in s.execute(rows):
        values = attrs or {}
        for name in required.get(label, []):
            if values.get(name) in (None, ""):
                out.append(f"shapes[{pos}] ({label}) of {who} lacks the required attribute {name!r}")
    return out


def delete_annotation(s: Session, asset: Asset, owner: str, actor_id: int) -> None:
    a = _find(s, asset.id, owner)
    if a is None:
        raise NotFound(f"asset {asset.id} has no annotation by {owner!r}")
    _add_shape_count(s, asset, -a.shape_count)
    s.delete(a)
    audit.record(s, actor_id, "delete", "annotation", a.id, project_id=asset.project_id, asset_id=asset.id, owner=owner)

