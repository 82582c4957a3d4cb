"""Moving datasets between projects and formats: a project read out as a core Dataset (set-based,
three queries whatever its size), and a Dataset written into a project in one transaction, so a
failed import leaves the project exactly as it was.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, update

from limner.core.collector import no_gc
from limner.core.dataset import Dataset, Item
from limner.core.points import hold_points
from limner.core.schema import LabelSchema
from limner.core.shapes import Shape, validate_shape
from limner.errors import LimnerError, ValidationError
from limner.store import audit
from limner.store.db import Database
from limner.store.models import Annotation, Asset, ShapeRow
from limner.store.annotations import replace_annotations
from limner.store.projects import create_label, load_schema

__all__ = ["ImportSummary", "project_dataset", "import_dataset"]

_MODEL_PREFIX = "model:"


def project_dataset(
    db: Database,
    project_id: int,
    storage=None,
    *,
    statuses: list[str] | None = None,
    labels: list[str] | None = None,
    task_id: int | None = None,
    owner: str | None = None,
    include_models: bool = False,
) -> Dataset:
    """The project as a Dataset: its schema, and per asset one annotation's shapes.

    With `owner`, that owner's annotation; otherwise the most recently saved one by a person
    (or by a model too with `include_models`). With `labels`, only assets having one of them and
    only shapes of them. `Item.image` is set when the media store is a local folder.
    """
    with no_gc(), db.read() as s:
        schema, ids = load_schema(s, project_id)
        names = {v: k for k, v in ids.items()}
        q = select(Asset.id, Asset.name, Asset.width, Asset.height, Asset.storage_key).where(Asset.project_id == project_id)
        if statuses:
            q = q.where(Asset.status.in_(statuses))
        if task_id is not None:
            q = q.where(Asset.task_id == task_id)
        label_ids = None
        if labels:
            unknown = [lb for lb in labels if lb not in ids]
            if unknown:
                raise ValidationError(f"labels not in this project: {', '.join(unknown)}", field="labels")
            label_ids = [ids[lb] for lb in labels]
            q = q.where(
                select(ShapeRow.id).where(ShapeRow.asset_id == Asset.id, ShapeRow.label_id.in_(label_ids)).exists()
            )
        rows = s.execute(q.order_by(Asset.id)).all()
        root = Path(storage.root) if getattr(storage, "is_local", False) else None
        items: dict[int, Item] = {}
        for aid, name, w, h, key in rows:
            # the image's place, without touching the disk: a missing file is reported by the
            # writer that needs it (include_images), not a reason to fail an export of labels
            items[aid] = Item(name=name, width=w, height=h, image=root.joinpath(*key.split("/")) if root else None)
        # the chosen annotation per asset, in one query
        ann = select(Annotation.id, Annotation.asset_id, Annotation.owner, Annotation.updated_at).join(
            Asset, Asset.id == Annotation.asset_id
        ).where(Asset.project_id == project_id)
        if owner is not None:
            ann = ann.where(Annotation.owner == owner)
        elif not include_models:
            ann = ann.where(~Annotation.owner.startswith(_MODEL_PREFIX))
        chosen: dict[int, tuple] = {}
        for aid_, asset_id, _owner, at in s.execute(ann):
            if asset_id in items and (asset_id not in chosen or at > chosen[asset_id][1]):
                chosen[asset_id] = (aid_, at)
        by_annotation = {v[0]: k for k, v in chosen.items()}
        if by_annotation:
            sq = select(
                ShapeRow.annotation_id, ShapeRow.kind, ShapeRow.label_id, ShapeRow.geometry, ShapeRow.attributes,
                ShapeRow.z_order, ShapeRow.group_id, ShapeRow.track_id, ShapeRow.source, ShapeRow.confidence,
            ).join(Asset, Asset.id == ShapeRow.asset_id).where(Asset.project_id == project_id)
            if label_ids is not None:
                sq = sq.where(ShapeRow.label_id.in_(label_ids))
            rows = s.execute(sq.order_by(ShapeRow.annotation_id, ShapeRow.position)).yield_per(10_000)
            for part in rows.partitions():
                hold_points([r[3] for r in part if r[1] in _VERTICES])
                for a_id, kind, lid, geom, attrs, z, g, t, src, conf in part:
                    asset_id = by_annotation.get(a_id)
                    if asset_id is not None:
                        items[asset_id].shapes.append(Shape(kind, names[lid], geom, attrs or {}, z, g, t, src, conf))
    if labels:
        schema = LabelSchema([lb for lb in schema if lb.name in labels or any(lb.name == x.parent for x in schema)])
    return Dataset(schema=schema, items=list(items.values()))


_VERTICES = frozenset(("polygon", "polyline", "points"))


@dataclass
class ImportSummary:
    assets_added: int = 0
    assets_matched: int = 0
    annotations: int = 0
    shapes: int = 0
    labels_created: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    missing_required: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "assets_added": self.assets_added,
            "assets_matched": self.assets_matched,
            "annotations": self.annotations,
            "shapes": self.shapes,
            "labels_created": self.labels_created,
            "unmatched": self.unmatched[:1000],
            "unmatched_count": len(self.unmatched),
            "duplicates": self.duplicates[:1000],
            "rejected": self.rejected[:1000],
            "missing_required": self.missing_required,
        }


def _match_assets(s, project_id: int, names: list[str]) -> dict[str, int]:
    """Item name -> asset id: by the full name, else by the file name when that is unique."""
    rows = s.execute(select(Asset.id, Asset.name).where(Asset.project_id == project_id)).all()
    full = {n: i for i, n in rows}
    base: dict[str, list[int]] = defaultdict(list)
    for i, n in rows:
        base[n.rsplit("/", 1)[-1]].append(i)
    out = {}
    for n in names:
        if n in full:
            out[n] = full[n]
        else:
            cand = base.get(n.rsplit("/", 1)[-1], [])
            if len(cand) == 1:
                out[n] = cand[0]
    return out


def import_dataset(
    db: Database,
    storage,
    project_id: int,
    dataset: Dataset,
    *,
    owner: str,
    actor_id: int | None,
    with_images: bool = True,
    create_labels: bool = True,
    thumb_size: int = 256,
    workers: int = 2,
    progress: Callable[[float, str], None] | None = None,
) -> ImportSummary:
    """Put a dataset's shapes into the project as `owner`'s annotations, all or nothing.

    Items are matched to assets by name (or file name); with `with_images`, items whose image
    file exists and match no asset are added as new assets first. Unknown labels are created
    (or, without `create_labels`, refused before anything is written).
    """
    summary = ImportSummary()
    say = progress or (lambda f, m: None)
    with db.read() as s:
        schema, ids = load_schema(s, project_id)
        matched = _match_assets(s, project_id, [it.name for it in dataset.items])
    missing_labels = [lb for lb in dataset.schema if lb.name not in ids]
    used = {sh.label for it in dataset.items for sh in it.shapes}
    unknown = sorted(used - set(ids) - {lb.name for lb in dataset.schema})
    if unknown:
        raise ValidationError(f"shapes use labels the dataset does not declare: {', '.join(unknown[:10])}", field="labels")
    if missing_labels and not create_labels:
        names = ", ".join(lb.name for lb in missing_labels[:10])
        raise ValidationError(f"labels not in the project: {names}; create them or allow creating labels", field="labels")
    # new images first: content-addressed files, harmless if the transaction below fails
    new_rows: list[dict] = []
    if with_images:
        todo = [it for it in dataset.items if it.name not in matched and it.image is not None and Path(it.image).exists()]
        if todo:
            say(0.05, f"reading {len(todo)} images")
            report = _probe_only(todo, storage, thumb_size, workers)
            summary.rejected = report["rejected"]
            new_rows = report["rows"]
    new_names = {r["name"] for r in new_rows}
    summary.unmatched = [it.name for it in dataset.items if it.name not in matched and it.name not in new_names]
    say(0.5, "writing annotations")
    with no_gc(), db.write() as s:
        for lb in missing_labels:
            create_label(s, project_id, lb.to_dict(), actor_id)
            summary.labels_created.append(lb.name)
        schema, ids = load_schema(s, project_id)
        if new_rows:
            from limner.store.assets import existing_checksums, insert_assets

            known = existing_checksums(s, project_id, [r["checksum"] for r in new_rows])
            fresh, seen = [], set()
            for r in new_rows:
                if r["checksum"] in known or r["checksum"] in seen:
                    summary.duplicates.append(r["name"])
                    if r["checksum"] in known:
                        matched[r["name"]] = known[r["checksum"]]
                    continue
                seen.add(r["checksum"])
                fresh.append(r)
            new_ids = insert_assets(s, project_id, fresh, actor_id)
            matched.update({r["name"]: i for r, i in zip(fresh, new_ids)})
            summary.assets_added = len(new_ids)
        sizes = dict(
            ((i, (h, w)) for i, h, w in s.execute(
                select(Asset.id, Asset.height, Asset.width).where(Asset.project_id == project_id)
            ))
        )
        required = {lb.name: [a.name for a in lb.attributes if a.required] for lb in schema}
        targets = [(it, matched[it.name]) for it in dataset.items if it.name in matched]
        batch: list[tuple[int, list[Shape]]] = []
        queued = 0
        for n, (it, asset_id) in enumerate(targets):
            h, w = sizes[asset_id]
            checked = []
            for i, sh in enumerate(it.shapes):
                try:
                    c = validate_shape(sh.to_dict(), index=i, schema=schema, height=h, width=w, require_attributes=False)
                    for a in required.get(c.label, ()):
                        if a not in c.attributes:
                            key = f"{c.label}.{a}"
                            summary.missing_required[key] = summary.missing_required.get(key, 0) + 1
                except LimnerError as e:
                    raise ValidationError(f"{it.name}: {e.detail}", field=e.field) from None
                checked.append(c)
            batch.append((asset_id, checked))
            queued += len(checked)
            if queued >= 20_000 or n == len(targets) - 1:  # written in parts: the rows of one part in memory at once
                summary.shapes += replace_annotations(s, project_id, owner, batch, actor_id)
                batch, queued = [], 0
                say(0.5 + 0.45 * (n + 1) / len(targets), f"{n + 1} of {len(targets)} images")
        if targets:
            s.execute(
                update(Asset)
                .where(Asset.id.in_([a for it, a in targets if it.shapes]), Asset.status == "new")
                .values(status="in_progress")
            )
        summary.annotations = len(targets)
        summary.assets_matched = len(targets) - summary.assets_added
        audit.record(
            s, actor_id, "import", "dataset", owner, project_id=project_id, annotations=len(targets),
            shapes=summary.shapes, assets_added=summary.assets_added,
        )
    say(1.0, "done")
    return summary


def _probe_only(items: list[Item], storage, thumb_size: int, workers: int) -> dict:
    """Decode, hash, thumbnail and store the images of new items; returns asset rows to insert."""
    from concurrent.futures import ThreadPoolExecutor

    from limner.ingest import _prepare, storage_keys
    from limner.media.sources import Source

    def one(it: Item):
        name, info, reason = _prepare(Source(it.name, Path(it.image)), storage, thumb_size, 200 << 20)
        if info is None:
            return None, {"name": name, "reason": reason}
        key, thumb = storage_keys(info.sha256, info.mime)
        return {
            "name": it.name, "storage_key": key, "thumb_key": thumb, "width": info.width, "height": info.height,
            "checksum": info.sha256, "size_bytes": info.size_bytes, "mime": info.mime,
            "orientation": info.orientation, "meta": {}, "status": "new", "shape_count": 0,
        }, None

    rows, rejected = [], []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for row, bad in pool.map(one, items):
            if row is not None:
                rows.append(row)
            else:
                rejected.append(bad)
    return {"rows": rows, "rejected": rejected}
