"""People's annotations of a project read in one pass: what agreement, the dashboard and the
project's consensus compare (models' pre-labels and the consensus itself are not people's work)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select

from limner.core.shapes import Shape
from limner.store.models import Annotation, Asset, LabelRow, ShapeRow
from limner.store.review import is_person

__all__ = ["people_shapes"]


def people_shapes(
    s, project_id: int, asset_ids: Sequence[int] | None = None, *, drafts: bool = True, attributes: bool = True
) -> tuple[dict[int, list[tuple[str, list[Shape]]]], dict[int, tuple[int, int]]]:
    """``{asset id: [(owner, shapes)]}`` of the project's (or ``asset_ids``') people's annotations,
    owners in the order their annotations were made (which breaks consensus ties), and every
    asset's image size ``(height, width)``; in one pass over the shapes.

    ``drafts=False`` leaves out annotations not yet submitted; ``attributes=False`` reads the kind,
    label and geometry alone (what agreement compares: decoding the rest would double the JSON work).
    """
    names = dict(s.execute(select(LabelRow.id, LabelRow.name).where(LabelRow.project_id == project_id)).all())
    q = (
        select(Annotation.id, Annotation.asset_id, Annotation.owner)
        .join(Asset, Asset.id == Annotation.asset_id)
        .where(Asset.project_id == project_id, is_person(Annotation.owner))
        .order_by(Annotation.asset_id, Annotation.id)
    )
    if not drafts:
        q = q.where(Annotation.state != "draft")
    wanted = None if asset_ids is None else set(asset_ids)
    by_asset: dict[int, list[tuple[str, list[Shape]]]] = defaultdict(list)
    of: dict[int, list[Shape]] = {}
    for aid, asset_id, owner in s.execute(q):
        if wanted is None or asset_id in wanted:
            of[aid] = []
            by_asset[asset_id].append((owner, of[aid]))
    if of:
        cols = (ShapeRow.annotation_id, ShapeRow.kind, ShapeRow.label_id, ShapeRow.geometry)
        if attributes:
            cols += (ShapeRow.attributes, ShapeRow.z_order, ShapeRow.group_id, ShapeRow.track_id, ShapeRow.source,
                     ShapeRow.confidence)  # fmt: skip
        rows = (
            select(*cols)
            .join(Asset, Asset.id == ShapeRow.asset_id)
            .where(Asset.project_id == project_id)
            .order_by(ShapeRow.annotation_id, ShapeRow.position)
        )
        for aid, kind, lid, geom, *rest in s.execute(rows).yield_per(20_000):
            bucket = of.get(aid)
            if bucket is None:
                continue
            if rest:
                attrs, z, gid, tid, source, conf = rest
                bucket.append(Shape(kind, names[lid], geom, attrs or {}, z or 0, gid, tid, source or "manual", conf))
            else:
                bucket.append(Shape(kind, names[lid], geom))
    sizes = {i: (h, w) for i, h, w in s.execute(select(Asset.id, Asset.height, Asset.width).where(Asset.project_id == project_id))}
    return dict(by_asset), sizes
