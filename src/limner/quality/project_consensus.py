"""Consensus of a whole project: every asset that at least two people annotated gets a
``consensus`` annotation, merged from their annotations by :func:`~limner.quality.consensus.consensus_many`
(all the project's boxes and polygons voted on together) and written in set-based batches.

The same merge as ``POST /assets/{id}/consensus`` gives for one asset, with the same defaults: the
owners are every person who annotated the asset (models' pre-labels and an earlier consensus are
not inputs); an asset with fewer than two is skipped and counted. A
consensus written earlier is replaced (its revision goes up). Runs as the job
``project.consensus`` (``POST /projects/{id}/consensus``) and as ``limner consensus PROJECT``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from limner.core.collector import no_gc
from limner.errors import ValidationError
from limner.jobs.runner import register
from limner.quality.consensus import consensus_many
from limner.quality.people import people_shapes
from limner.store.review import CONSENSUS_OWNER

__all__ = ["project_consensus"]

_BATCH = 500  # assets written per transaction


def project_consensus(
    db,
    project_id: int,
    *,
    quorum: float = 0.5,
    iou: float = 0.5,
    asset_ids: Sequence[int] | None = None,
    actor_id: int | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> dict:
    """Merge and write the consensus of every asset (or of ``asset_ids``) that two or more people
    annotated; returns what was done: assets merged and skipped, shapes written, clusters kept,
    below the quorum and tied."""
    from limner.store import audit
    from limner.store.annotations import replace_annotations
    from limner.store.assets import check_in_project

    if not 0 < quorum <= 1:
        raise ValidationError(f"quorum is a share of the owners in (0, 1], got {quorum}", field="quorum")
    if not 0 < iou <= 1:
        raise ValidationError(f"iou is a threshold in (0, 1], got {iou}", field="iou")
    say = progress or (lambda f, m: None)
    say(0.0, "reading the annotations")
    with db.read() as s:
        if asset_ids is not None:
            check_in_project(s, project_id, list(asset_ids))
        by_asset, sizes = people_shapes(s, project_id, asset_ids)
    total = len(sizes) if asset_ids is None else len(set(asset_ids))
    todo = sorted(a for a, owners in by_asset.items() if len(owners) >= 2)
    summary = {"assets": total, "merged": len(todo), "skipped": total - len(todo), "shapes": 0, "kept": 0,
               "below_quorum": 0, "ties": 0, "quorum": quorum, "iou": iou}  # fmt: skip
    if not todo:
        say(1.0, "no asset has the annotations of two people")
        return summary
    say(0.05, f"merging {len(todo)} assets")
    with no_gc():
        results = consensus_many(
            [by_asset[a] for a in todo], sizes=[sizes.get(a) for a in todo], quorum=quorum, iou=iou,
            progress=lambda done, n: say(0.05 + 0.55 * done / max(n, 1), f"merged {done} of {n} assets"),
        )  # fmt: skip
    for k in range(0, len(todo), _BATCH):
        part = list(zip(todo[k : k + _BATCH], results[k : k + _BATCH]))
        with db.write() as s:
            n = replace_annotations(s, project_id, CONSENSUS_OWNER, [(a, merged) for a, (merged, _) in part], actor_id)
            audit.record(s, actor_id, "consensus", "annotation", CONSENSUS_OWNER, project_id=project_id,
                         annotations=len(part), shapes=n)  # fmt: skip
        summary["shapes"] += n
        for _, (_, report) in part:
            summary["kept"] += report.kept
            summary["below_quorum"] += report.dropped
            summary["ties"] += len(report.ties)
        done = min(k + _BATCH, len(todo))
        say(0.6 + 0.4 * done / len(todo), f"wrote {done} of {len(todo)} consensus annotations")
    return summary


@register("project.consensus")
def consensus_job(ctx) -> dict:
    """Job: ``{"quorum", "iou", "asset_ids": [...] or None}``."""
    p = ctx.params
    return project_consensus(
        ctx.db, ctx.project_id, quorum=float(p.get("quorum", 0.5)), iou=float(p.get("iou", 0.5)),
        asset_ids=p.get("asset_ids"), actor_id=ctx.user_id, progress=lambda f, m: ctx.progress(f, m),
    )  # fmt: skip
