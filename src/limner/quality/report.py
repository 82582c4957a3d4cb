"""Checks and consensus on a project in the store, as `limner check` and the quality routes run them.

:mod:`limner.quality.checks` and :mod:`limner.quality.consensus` work on core objects only; this
module reads them out of the database (and writes the consensus annotation back), so the CLI and
the API stay thin and do the same thing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from limner.core.collector import no_gc
from limner.core.shapes import Shape
from limner.errors import NotFound, ValidationError
from limner.exchange import project_dataset
from limner.quality.checks import CheckOptions, CheckReport, _check_rules, run_checks
from limner.quality.consensus import consensus
from limner.store.models import Asset

__all__ = ["CONSENSUS_OWNER", "asset_consensus", "project_checks"]

CONSENSUS_OWNER = "consensus"
"""The owner of the annotation a consensus writes."""



def project_checks(
    db,
    project_id: int,
    *,
    rules: Sequence[str] | None = None,
    limit: int = 1000,
    owner: str | None = None,
    options: CheckOptions | None = None,
    on_read: Callable[[int, int], None] | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> CheckReport:
    """Read the project (``exchange.project_dataset``: per asset the latest annotation by a person,
    or ``owner``'s) and run the checks; findings carry asset ids. ``on_read(items, shapes)`` is
    called once the project is read, ``progress(fraction, rule)`` after each rule."""
    _check_rules(rules)  # refuse an unknown rule before reading a large project
    with no_gc():
        ds = project_dataset(db, project_id, owner=owner)
        with db.read() as s:
            q = select(Asset.id, Asset.name).where(Asset.project_id == project_id).order_by(Asset.id)
            rows = s.execute(q).all()
        # project_dataset lists the assets in id order: ids by position, unless an asset came or
        # went in between (then by name)
        if len(rows) == len(ds.items) and all(r.name == it.name for r, it in zip(rows, ds.items)):
            ids: list[int] | dict[str, int] = [r.id for r in rows]
        else:
            ids = {}
            for r in rows:
                ids.setdefault(r.name, r.id)
        if on_read is not None:
            on_read(len(ds.items), ds.shape_count)
        return run_checks(ds, rules=rules, limit=limit, asset_ids=ids, options=options, progress=progress)


def _shape(d: dict) -> Shape:
    return Shape(
        d["kind"], d["label"], d["geometry"], d.get("attributes") or {}, d.get("z_order") or 0,
        d.get("group_id"), d.get("track_id"), d.get("source") or "manual", d.get("confidence"),
    )


def asset_consensus(
    s: Session,
    asset,
    owners: Sequence[str] | None = None,
    *,
    quorum: float = 0.5,
    iou: float = 0.5,
    actor_id: int | None = None,
    write: bool = True,
) -> dict:
    """Merge the owners' annotations of the asset (default: every person's, not models' nor an
    earlier consensus) and write the result as the ``consensus`` annotation, on top of its current
    revision. Returns the written annotation with its shapes and the consensus report. With
    ``write=False`` (a preview) nothing is written and the annotation has revision None."""
    from limner.store.annotations import get_annotation, list_annotations, put_annotation

    present = [a["owner"] for a in list_annotations(s, asset.id)]
    if owners is None:
        owners = [o for o in present if o != CONSENSUS_OWNER and not o.startswith("model:")]
    else:
        owners = list(owners)
        dup = sorted({o for o in owners if owners.count(o) > 1})
        if dup:
            raise ValidationError(f"owners are listed once each; repeated: {', '.join(dup)}", field="owners")
        missing = [o for o in owners if o not in present]
        if missing:
            raise NotFound(f"asset {asset.id} has no annotation by {', '.join(repr(o) for o in missing)}", field="owners")
        if CONSENSUS_OWNER in owners:
            raise ValidationError("the consensus annotation cannot be one of its own inputs", field="owners")
    if len(owners) < 2:
        raise ValidationError(
            f"a consensus needs the annotations of at least 2 owners; asset {asset.id} has "
            f"{len(owners)}{': ' + ', '.join(owners) if owners else ''}",
            field="owners",
        )
    if not 0 < quorum <= 1:
        raise ValidationError(f"quorum is a share of the owners in (0, 1], got {quorum}", field="quorum")
    if not 0 < iou <= 1:
        raise ValidationError(f"iou is a threshold in (0, 1], got {iou}", field="iou")
    annotations = [(o, [_shape(d) for d in get_annotation(s, asset, o)["shapes"]]) for o in owners]
    try:
        merged, report = consensus(annotations, quorum=quorum, iou=iou, height=asset.height, width=asset.width)
    except ValueError as e:  # shapes the rules of the merge cannot take (a mask of another size)
        raise ValidationError(f"asset {asset.id}: {e}", field="owners") from None
    if not write:
        preview = {"asset_id": asset.id, "owner": CONSENSUS_OWNER, "revision": None, "shape_count": len(merged),
                   "updated_at": None, "shapes": [sh.to_dict() for sh in merged]}
        return {"annotation": preview, "report": report.to_dict()}
    current = get_annotation(s, asset, CONSENSUS_OWNER)["revision"]
    put_annotation(s, asset, CONSENSUS_OWNER, current, [sh.to_dict() for sh in merged], actor_id)
    return {"annotation": get_annotation(s, asset, CONSENSUS_OWNER), "report": report.to_dict()}
