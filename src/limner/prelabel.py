"""Pre-labelling with a registered detector, and how much of what models drew people kept.

The prelabel job runs a detector over a project's assets (or a selection), fits its shapes to the
project's schema and stores them as the annotation of ``model:NAME``, with the detector's
confidences, in batches of set-based writes. Assets that already have that model's annotation are
skipped unless ``overwrite``. Images are decoded on worker threads ahead of the detector.

Acceptance compares, on every asset where both exist, the model's annotation with the latest
annotation by a person (see :func:`acceptance`).
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from sqlalchemy import select

from limner.core.geometry import bbox
from limner.core.schema import LabelSchema
from limner.core.shapes import Shape, validate_shape
from limner.errors import Conflict, LimnerError, ValidationError
from limner.jobs.runner import register
from limner.store import assistants
from limner.store.models import Asset, ModelRow

__all__ = ["ACCEPT_IOU", "MATCH_IOU", "acceptance", "asset_image", "fit_shapes", "load_model", "prelabel_job"]

ACCEPT_IOU = 0.95  # a model shape kept with at least this IoU and its label was accepted unchanged
MATCH_IOU = 0.5  # below this a person's shape is not the model's shape edited but another one
_BATCH = 16  # assets per write transaction
_BATCH_SECONDS = 2.0  # ... or whatever was detected in this long


def asset_image(storage, key: str, name: str) -> np.ndarray:
    """The asset's pixels, upright, as an RGB uint8 array."""
    from limner.media.images import decode_oriented

    try:
        with storage.open(key) as f:
            data = f.read()
    except FileNotFoundError:
        raise LimnerError(f"the image file of {name} is missing from the media store", field="asset", status=404) from None
    return np.asarray(decode_oriented(data, name=name, mode="RGB"))


def load_model(m: ModelRow, schema: LabelSchema | None = None) -> Any:
    """The model's assistant; a model server is told the project's labels (``schema``)."""
    from limner.assist.loader import load

    tool = load(m.kind, m.type, m.config or {}, name=m.name, key=m.id)
    if schema is not None and hasattr(tool, "use_labels"):
        tool.use_labels([(lb.name, lb.color, list(lb.kinds)) for lb in schema])
    return tool


def fit_shapes(detections: list[dict], schema: LabelSchema, height: int, width: int, dropped: Counter) -> list[Shape]:
    """A detector's shapes checked against the schema: a label the project lacks, or a kind its label
    does not allow (a box is used when the label allows boxes), or a bad geometry drops the shape
    and is counted in ``dropped``. Attributes a person must fill in are not required."""
    out = []
    for d in detections:
        label = schema.get(d.get("label") or "")
        if label is None:
            dropped[f"label {d.get('label')!r} is not in the project"] += 1
            continue
        if not label.allows(d.get("kind")):
            box = bbox(d["kind"], d["geometry"]) if label.allows("box") and d.get("kind") != "tag" else None
            if box is None:
                dropped[f"label {label.name!r} does not allow {d.get('kind')}"] += 1
                continue
            x0, y0, x1, y1 = box
            d = {**d, "kind": "box", "geometry": {"x": x0, "y": y0, "w": x1 - x0, "h": y1 - y0}}
        try:
            out.append(validate_shape(d, index=len(out), schema=schema, height=height, width=width, require_attributes=False))
        except LimnerError as e:
            dropped[f"invalid {d.get('kind')}: {e.detail.split(': ', 1)[-1][:80]}"] += 1
    return out


@register("project.prelabel")
def prelabel_job(ctx) -> dict:
    """Job: ``{"model_id", "asset_ids": [...] or None, "overwrite": false}``."""
    from limner.store.projects import load_schema

    svc, p = ctx.services, ctx.params
    ctx.progress(0.0, "loading the model", force=True)
    with ctx.db.read() as s:
        m = assistants.get_model(s, int(p["model_id"]))
        schema, _ = load_schema(s, ctx.project_id)
        q = select(Asset.id, Asset.name, Asset.storage_key, Asset.width, Asset.height).where(Asset.project_id == ctx.project_id)
        rows = s.execute(q.order_by(Asset.id)).all()
        if p.get("asset_ids") is not None:
            wanted = set(p["asset_ids"])
            rows = [r for r in rows if r.id in wanted]
        owner = assistants.owner_of(m.name)
        done = set() if p.get("overwrite") else assistants.assets_with_owner(s, [r.id for r in rows], owner)
    if m.kind != "detector":
        raise ValidationError(f"model {m.name!r} is an {m.kind}; pre-labelling needs a detector", field="model")
    detector = load_model(m, schema)
    todo = [r for r in rows if r.id not in done]
    stats: dict[str, Any] = {"model": m.name, "owner": owner, "assets": len(rows), "skipped": len(rows) - len(todo),
                             "processed": 0, "shapes": 0, "failed": 0}  # fmt: skip
    dropped: Counter = Counter()
    errors: list[dict] = []
    batch: list[tuple[int, list]] = []
    last_write = time.monotonic()
    started = time.perf_counter()

    def flush() -> None:
        nonlocal batch, last_write
        if batch:
            with ctx.db.write() as s:
                stats["shapes"] += assistants.put_model_annotations(s, ctx.project_id, owner, batch, ctx.user_id)
            batch, last_write = [], time.monotonic()

    def read(r):
        try:
            return asset_image(svc.storage, r.storage_key, r.name), None
        except LimnerError as e:
            return None, e.detail

    ctx.progress(0.0, f"pre-labelling {len(todo)} images with {m.name}", force=True)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="limner-prelabel") as pool:
        for n, (r, (image, problem)) in enumerate(zip(todo, _ahead(pool, read, todo, 4))):
            if image is not None:
                try:
                    shapes = fit_shapes(detector.detect(image), schema, r.height, r.width, dropped)
                except LimnerError as e:
                    shapes, problem = None, e.detail
                if shapes is not None:
                    batch.append((r.id, shapes))
                    stats["processed"] += 1
            if problem is not None:
                stats["failed"] += 1
                if len(errors) < 50:
                    errors.append({"asset_id": r.id, "name": r.name, "error": problem})
            if len(batch) >= _BATCH or time.monotonic() - last_write > _BATCH_SECONDS:
                flush()
            ctx.progress((n + 1) / max(len(todo), 1), f"{n + 1} of {len(todo)} images")
    flush()
    seconds = time.perf_counter() - started
    stats.update(dropped=dict(dropped), errors=errors, seconds=round(seconds, 3),
                 images_per_second=round(stats["processed"] / seconds, 2) if seconds > 0 else None)  # fmt: skip
    if todo and stats["processed"] == 0 and stats["failed"]:
        raise LimnerError(f"no image could be pre-labelled; the first error: {errors[0]['name']}: {errors[0]['error']}")
    return stats


def _ahead(pool: ThreadPoolExecutor, fn, items: list, depth: int):
    """``fn`` over ``items`` in order, at most ``depth`` running ahead of the consumer."""
    from collections import deque

    queue: deque = deque()
    it = iter(items)
    for x in it:
        queue.append(pool.submit(fn, x))
        if len(queue) >= depth:
            break
    while queue:
        yield queue.popleft().result()
        nxt = next(it, None)
        if nxt is not None:
            queue.append(pool.submit(fn, nxt))


# -- acceptance -------------------------------------------------------------------------------------


def _compare(model: list[Shape], person: list[Shape], height: int, width: int) -> list[tuple[str, str]]:
    """``(label, outcome)`` per model shape: accepted, edited or rejected; and ``(label, "missed")``
    per person's shape no model shape became."""
    from scipy.optimize import linear_sum_assignment

    from limner.quality.matching import similarity_matrix

    out = []
    m_tags = [s for s in model if s.kind == "tag"]
    p_tags = {s.label for s in person if s.kind == "tag"}
    out += [(s.label, "accepted" if s.label in p_tags else "rejected") for s in m_tags]
    out += [(lb, "missed") for lb in p_tags - {s.label for s in m_tags}]
    a = [s for s in model if s.kind != "tag"]
    b = [s for s in person if s.kind != "tag"]
    if not a or not b:
        return out + [(s.label, "rejected") for s in a] + [(s.label, "missed") for s in b]
    S = similarity_matrix(a, b, same_label=False, threshold=MATCH_IOU, height=height, width=width)
    rows, cols = linear_sum_assignment(S, maximize=True)
    used_a, used_b = set(), set()
    for i, j in zip(rows.tolist(), cols.tolist()):
        if S[i, j] >= MATCH_IOU and S[i, j] > 0:
            used_a.add(i)
            used_b.add(j)
            same = a[i].label == b[j].label and S[i, j] >= ACCEPT_IOU
            out.append((a[i].label, "accepted" if same else "edited"))
    out += [(s.label, "rejected") for i, s in enumerate(a) if i not in used_a]
    out += [(s.label, "missed") for j, s in enumerate(b) if j not in used_b]
    return out


def acceptance(db, project_id: int, models: list[str] | None = None) -> dict:
    """Per model and label: how many of the model's shapes people accepted unchanged, edited or
    rejected, and how many shapes people drew that the model had not (missed).

    On each asset with the model's annotation and an annotation by a person (the latest saved), the
    two are matched one to one (Hungarian assignment on the similarity of
    :func:`limner.quality.matching.similarity_matrix`, across labels): a model shape matched with
    IoU >= 0.95 (:data:`ACCEPT_IOU`) and the same label was **accepted**; matched with a lower IoU
    (at least 0.5, :data:`MATCH_IOU`) or another label, **edited**; not matched, **rejected**.
    Tags are accepted when the person's annotation has the same tag. Assets no person has annotated
    yet are counted as ``pending``; ``rate`` is accepted / (accepted + edited + rejected)."""
    from limner.exchange import project_dataset
    from limner.store.models import Annotation

    with db.read() as s:
        owners = sorted(s.scalars(
            select(Annotation.owner).distinct().join(Asset, Asset.id == Annotation.asset_id)
            .where(Asset.project_id == project_id, Annotation.owner.startswith("model:"))
        ))  # fmt: skip
        ids = list(s.scalars(select(Asset.id).where(Asset.project_id == project_id).order_by(Asset.id)))
        seen = set(s.scalars(
            select(Annotation.asset_id).distinct().join(Asset, Asset.id == Annotation.asset_id)
            .where(Asset.project_id == project_id, ~Annotation.owner.startswith("model:"))
        ))  # fmt: skip
    if models is not None:
        owners = [o for o in owners if o.removeprefix("model:") in models]
    # project_dataset lists every asset of the project in id order, whatever annotation it reads
    people = project_dataset(db, project_id).items
    counted: dict[str, dict[str, Counter]] = {o: {} for o in owners}
    pending = Counter()
    for owner in owners:
        per_label = counted[owner]
        items = project_dataset(db, project_id, owner=owner).items
        if not (len(items) == len(people) == len(ids)) or any(a.name != b.name for a, b in zip(items, people)):
            raise Conflict("the project's assets changed while the report was made; ask again", field="project")
        for asset_id, it, human in zip(ids, items, people):
            if not it.shapes:
                continue
            if asset_id not in seen:
                pending[owner] += 1
                continue
            for label, outcome in _compare(it.shapes, human.shapes, it.height, it.width):
                per_label.setdefault(label, Counter())[outcome] += 1
    out = []
    for owner in owners:
        labels = []
        total: Counter = Counter()
        for label, c in sorted(counted[owner].items()):
            total.update(c)
            labels.append({"label": label, **_figures(c)})
        out.append({"model": owner.removeprefix("model:"), "owner": owner, "pending_assets": pending[owner],
                    **_figures(total), "labels": labels})  # fmt: skip
    return {"accept_iou": ACCEPT_IOU, "match_iou": MATCH_IOU, "models": out}


def _figures(c: Counter) -> dict:
    judged = c["accepted"] + c["edited"] + c["rejected"]
    return {"accepted": c["accepted"], "edited": c["edited"], "rejected": c["rejected"], "missed": c["missed"],
            "rate": round(c["accepted"] / judged, 4) if judged else None}  # fmt: skip
