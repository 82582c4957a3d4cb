"""The review workflow: overlap, per-annotator completion, verdicts, ground truth, the work queue.

- **Overlap.** Each asset is annotated by ``k`` people independently (the task's ``overlap``, else the
  project's). Each person's work is their own annotation; its ``state`` is ``draft`` while they
  work, ``submitted`` once they mark it done, then ``accepted`` or ``rejected`` by a reviewer.
- **Privacy until review.** On a *private* asset (overlap above 1, a project mixing in ground truth,
  or a ground-truth asset) people below the reviewer role see only their own annotation and models'
  pre-labels (never the reference of a ground-truth asset); the asset's status and shape count are
  those of their own work (:func:`annotator_view`).
- **Verdicts.** A reviewer accepts or rejects a person's annotation (with a reason; required to
  reject), optionally shape by shape. Each verdict is a :class:`~limner.store.models.Review` row tied
  to the revision it judged, so the history stays and the annotator reads the reasons of the
  revision they are reworking. The asset's status follows the states (:func:`_sync_asset`), a task
  moves back to ``annotate`` when one of its assets is rejected and on to ``done`` when all are.
- **Ground truth.** A manager marks an asset's annotation by one owner as its reference; such
  assets are mixed into each annotator's queue at the project's ``ground_truth_rate``.
- The work queue is :func:`limner.quality.workload.queue`.

Every change is audit-logged.
"""

from __future__ import annotations

import math

from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy.orm import Session

from limner.errors import Conflict, NotFound, ValidationError
from limner.store import audit
from limner.store.annotations import missing_required
from limner.store.models import (
    VERDICTS,
    Annotation,
    Asset,
    Project,
    Review,
    Task,
    User,
    utcnow,
)

__all__ = [
    "COMPLETED",
    "CONSENSUS_OWNER",
    "annotator_view",
    "can_see",
    "effective_overlap",
    "is_person",
    "list_ground_truth",
    "private_assets",
    "quality_settings",
    "review_annotation",
    "review_asset",
    "review_state",
    "set_ground_truth",
    "set_shape_verdict",
    "submit_annotation",
    "unseen_annotation",
    "update_quality_settings",
]

COMPLETED = ("submitted", "accepted")
CONSENSUS_OWNER = "consensus"
MODEL_PREFIX = "model:"
MAX_REASON = 2000
MAX_OVERLAP = 50


def is_person(owner) -> object:
    """SQL: the annotation is a person's (not a model's pre-labels nor the consensus)."""
    return and_(not_(Annotation.owner.startswith(MODEL_PREFIX)), Annotation.owner != CONSENSUS_OWNER)


def _person(owner: str) -> bool:
    return not owner.startswith(MODEL_PREFIX) and owner != CONSENSUS_OWNER


# -- project settings ---------------------------------------------------------------------------


def quality_settings(p: Project) -> dict:
    return {"overlap": p.overlap, "ground_truth_rate": p.ground_truth_rate, "retrain_threshold": p.retrain_threshold}


def _number(v, field: str, lo: float, hi: float, *, integer: bool = False):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (integer and v != int(v)) or not math.isfinite(v):
        raise ValidationError(f"{field} must be {'a whole number' if integer else 'a number'}, got {v!r}", field=field)
    if not lo <= v <= hi:
        raise ValidationError(f"{field} must be between {lo:g} and {hi:g}, got {v!r}", field=field)
    return int(v) if integer else float(v)


def update_quality_settings(s: Session, p: Project, actor_id: int, **values) -> dict:
    """Set ``overlap`` (1..50), ``ground_truth_rate`` (0..1) and ``retrain_threshold`` (0..1); None
    keeps a value."""
    changed = {}
    if values.get("overlap") is not None:
        p.overlap = changed["overlap"] = _number(values["overlap"], "overlap", 1, MAX_OVERLAP, integer=True)
    for name in ("ground_truth_rate", "retrain_threshold"):
        if values.get(name) is not None:
            v = _number(values[name], name, 0.0, 1.0)
            setattr(p, name, v)
            changed[name] = v
    if changed:
        p.updated_at = utcnow()
        audit.record(s, actor_id, "update", "quality_settings", p.id, project_id=p.id, **changed)
    return quality_settings(p)


def check_overlap(v) -> int | None:
    return None if v is None else _number(v, "overlap", 1, MAX_OVERLAP, integer=True)


def _overlap_column():
    return func.coalesce(Task.overlap, Project.overlap)


def effective_overlap(s: Session, asset: Asset) -> int:
    q = (
        select(_overlap_column())
        .select_from(Asset)
        .join(Project, Project.id == Asset.project_id)
        .outerjoin(Task, Task.id == Asset.task_id)
        .where(Asset.id == asset.id)
    )
    return int(s.scalar(q) or 1)


# -- who sees what ------------------------------------------------------------------------------


def private_assets(s: Session, asset_ids: list[int]) -> dict[int, str | None]:
    """Of these assets, the private ones (see the module docstring): ``{asset id: ground-truth
    owner or None}``."""
    if not asset_ids:
        return {}
    q = (
        select(Asset.id, Asset.ground_truth_owner)
        .join(Project, Project.id == Asset.project_id)
        .outerjoin(Task, Task.id == Asset.task_id)
        .where(
            Asset.id.in_(asset_ids),
            or_(_overlap_column() > 1, Project.ground_truth_rate > 0, Asset.ground_truth_owner.is_not(None)),
        )
    )
    return dict(s.execute(q).all())


def can_see(owner: str, username: str, gt_owner: str | None) -> bool:
    """On a private asset: one's own annotation, and models' pre-labels unless they are the
    reference of a ground-truth asset."""
    return owner == username or (owner.startswith(MODEL_PREFIX) and owner != gt_owner)


_OWN_STATUS = {None: "new", "draft": "in_progress", "rejected": "in_progress", "submitted": "review", "accepted": "done"}


def annotator_view(s: Session, items: list[dict], username: str) -> list[dict]:
    """Asset dicts (``id``, ``status``, ``shape_count``, optionally ``annotations``) as a person
    below the reviewer role sees them: on private assets, others' annotations are left out, and
    the status and shape count are those of their own work. Changes the dicts in place."""
    private = private_assets(s, [it["id"] for it in items])
    if not private:
        return items
    rows = s.execute(
        select(Annotation.asset_id, Annotation.owner, Annotation.state, Annotation.shape_count).where(
            Annotation.asset_id.in_(list(private))
        )
    ).all()
    seen: dict[int, list] = {}
    for aid, owner, state, n in rows:
        if can_see(owner, username, private[aid]):
            seen.setdefault(aid, []).append((owner, state, n))
    for it in items:
        if it["id"] not in private:
            continue
        mine = seen.get(it["id"], [])
        own = next((st for o, st, _ in mine if o == username), None)
        it["status"] = _OWN_STATUS[own]
        it["shape_count"] = sum(n for _, _, n in mine)
        if "annotations" in it:
            it["annotations"] = [a for a in it["annotations"] if can_see(a["owner"], username, private[it["id"]])]
    return items


def unseen_annotation(asset: Asset, owner: str) -> dict:
    """What someone who may not see ``owner``'s annotation gets: the answer for no annotation."""
    return {
        "asset_id": asset.id, "owner": owner, "revision": 0, "shape_count": 0, "updated_at": None, "state": None, "shapes": [],
    }


# -- completion and verdicts --------------------------------------------------------------------


def _annotation(s: Session, asset: Asset, owner: str) -> Annotation:
    a = s.scalar(select(Annotation).where(Annotation.asset_id == asset.id, Annotation.owner == owner))
    if a is None:
        raise NotFound(f"asset {asset.id} has no annotation by {owner!r}: save it first", field="owner")
    return a


def _state_counts(s: Session, asset_id: int) -> dict[str, int]:
    q = select(Annotation.state, func.count()).where(Annotation.asset_id == asset_id, is_person(Annotation.owner))
    return dict(s.execute(q.group_by(Annotation.state)).all())


def _set_status(s: Session, asset: Asset, status: str, actor_id: int | None) -> None:
    if status != asset.status:
        audit.record(s, actor_id, "update", "asset", asset.id, project_id=asset.project_id, status=status, was=asset.status)
        asset.status = status


def _sync_asset(s: Session, asset: Asset, actor_id: int | None) -> None:
    """The asset's status from its people's annotation states: rework pending -> in_progress;
    ``k`` accepted and none waiting -> done; ``k`` submitted or accepted -> review. A ground-truth
    asset's status is its manager's, not its annotators'."""
    if asset.ground_truth_owner is not None:
        return
    n = _state_counts(s, asset.id)
    k = effective_overlap(s, asset)
    if n.get("rejected"):
        status = "in_progress"
    elif n.get("accepted", 0) >= k and not n.get("submitted"):
        status = "done"
    elif n.get("accepted", 0) + n.get("submitted", 0) >= k:
        status = "review"
    elif sum(n.values()):
        status = "in_progress"
    else:
        return
    _set_status(s, asset, status, actor_id)
    _sync_task(s, asset.task_id, actor_id)


def _sync_task(s: Session, task_id: int | None, actor_id: int | None) -> None:
    """A task follows its assets: any asset back in work -> annotate (rework), all in review or
    done -> review, all done -> done."""
    if task_id is None:
        return
    t = s.get(Task, task_id)
    counts = dict(s.execute(select(Asset.status, func.count()).where(Asset.task_id == task_id).group_by(Asset.status)).all())
    total = sum(counts.values())
    if not total:
        return
    if counts.get("done", 0) == total:
        stage = "done"
    elif counts.get("done", 0) + counts.get("review", 0) == total:
        stage = "review"
    elif t.stage != "annotate" and counts.get("in_progress", 0):
        stage = "annotate"
    else:
        return
    if stage != t.stage:
        audit.record(s, actor_id, "update", "task", t.id, project_id=t.project_id, stage=stage, was=t.stage, automatic=True)
        t.stage = stage
        t.updated_at = utcnow()


def submit_annotation(s: Session, asset: Asset, owner: str, actor_id: int) -> dict:
    """The owner marks their annotation done (a draft, or a rejected one after rework)."""
    a = _annotation(s, asset, owner)
    if a.state in COMPLETED:
        raise Conflict(f"asset {asset.id}: the annotation by {owner!r} is already {a.state}", field="state")
    missing = missing_required(s, asset, owner)
    if missing:
        more = f" (and {len(missing) - 3} more)" if len(missing) > 3 else ""
        raise ValidationError(f"{asset.name} cannot be submitted: {'; '.join(missing[:3])}{more}", field="state")
    a.state = "submitted"
    a.submitted_at = utcnow()
    audit.record(
        s, actor_id, "submit", "annotation", a.id, project_id=asset.project_id, asset_id=asset.id, owner=owner,
        revision=a.revision, shapes=a.shape_count,
    )
    s.flush()
    _sync_asset(s, asset, actor_id)
    return _annotation_state(s, a)


def _verdict(verdict: str, reason: str | None, field: str) -> tuple[str, str]:
    if verdict not in VERDICTS:
        raise ValidationError(f"verdict must be one of {', '.join(VERDICTS)}, got {verdict!r}", field=f"{field}.verdict")
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise ValidationError(f"a reason has at most {MAX_REASON} characters", field=f"{field}.reason")
    if verdict == "reject" and not reason:
        raise ValidationError("a rejection needs a reason the annotator can act on", field=f"{field}.reason")
    return verdict, reason


def _judge(s: Session, asset: Asset, a: Annotation, verdict: str, reason: str, reviewer_id: int, shapes: list[dict]) -> None:
    checked = []
    for i, sv in enumerate(shapes or []):
        if not isinstance(sv, dict):
            raise ValidationError("each shape verdict is {index, verdict, reason}", field=f"shapes[{i}]")
        index = _shape_index(a, sv.get("index"), f"shapes[{i}].index")
        checked.append((index, *_verdict(sv.get("verdict"), sv.get("reason"), f"shapes[{i}]")))
    for index, v, r in checked:
        s.add(Review(annotation_id=a.id, revision=a.revision, shape=index, verdict=v, reason=r, reviewer_id=reviewer_id))
    s.add(Review(annotation_id=a.id, revision=a.revision, shape=None, verdict=verdict, reason=reason, reviewer_id=reviewer_id))
    a.state = "accepted" if verdict == "accept" else "rejected"
    audit.record(
        s, reviewer_id, verdict, "annotation", a.id, project_id=asset.project_id, asset_id=asset.id, owner=a.owner,
        revision=a.revision, reason=reason, shapes={str(i): v for i, v, _ in checked},
    )


def review_annotation(
    s: Session, asset: Asset, owner: str, verdict: str, reason: str | None, reviewer_id: int, shapes: list[dict] | None = None
) -> dict:
    """Accept or reject one person's annotation of the asset (with per-shape verdicts
    ``[{index, verdict, reason}]`` if given). A rejection sends it back to its owner."""
    verdict, reason = _verdict(verdict, reason, "body")
    a = _annotation(s, asset, owner)
    if a.state == "draft":
        raise Conflict(
            f"asset {asset.id}: the annotation by {owner!r} is a draft; it can be reviewed once submitted", field="owner"
        )
    _judge(s, asset, a, verdict, reason, reviewer_id, shapes or [])
    s.flush()
    _sync_asset(s, asset, reviewer_id)
    return _annotation_state(s, a)


def review_asset(s: Session, asset: Asset, verdict: str, reason: str | None, reviewer_id: int) -> dict:
    """Accept or reject the asset as a whole: the verdict goes to every submitted annotation by a
    person; accepting makes the asset done, rejecting sends it back for rework."""
    verdict, reason = _verdict(verdict, reason, "body")
    pending = list(s.scalars(select(Annotation).where(
        Annotation.asset_id == asset.id, is_person(Annotation.owner), Annotation.state == "submitted"
    ).order_by(Annotation.owner)))
    if not pending:
        raise Conflict(f"asset {asset.id} has no submitted annotation to review", field="asset_id")
    for a in pending:
        _judge(s, asset, a, verdict, reason, reviewer_id, [])
    s.flush()
    if asset.ground_truth_owner is None:
        _set_status(s, asset, "done" if verdict == "accept" else "in_progress", reviewer_id)
        _sync_task(s, asset.task_id, reviewer_id)
    return review_state(s, asset, None)


def _shape_index(a: Annotation, index, field: str) -> int:
    if isinstance(index, bool) or not isinstance(index, int):
        raise ValidationError(f"a shape index is a whole number, got {index!r}", field=field)
    if not 0 <= index < a.shape_count:
        raise ValidationError(
            f"shape {index} does not exist: the annotation by {a.owner!r} has {a.shape_count} shapes at revision {a.revision}",
            field=field,
        )
    return index


def set_shape_verdict(
    s: Session, asset: Asset, owner: str, index: int, verdict: str, reason: str | None, reviewer_id: int
) -> dict:
    """A verdict on one shape (by position) of the current revision of a person's annotation."""
    verdict, reason = _verdict(verdict, reason, "body")
    a = _annotation(s, asset, owner)
    index = _shape_index(a, index, "index")
    s.add(Review(annotation_id=a.id, revision=a.revision, shape=index, verdict=verdict, reason=reason, reviewer_id=reviewer_id))
    audit.record(
        s, reviewer_id, verdict, "shape", f"{a.id}:{index}", project_id=asset.project_id, asset_id=asset.id, owner=owner,
        revision=a.revision, shape=index, reason=reason,
    )
    s.flush()
    return _annotation_state(s, a)


def _annotation_state(s: Session, a: Annotation) -> dict:
    return _states(s, [a])[0]


def _states(s: Session, anns: list[Annotation]) -> list[dict]:
    ids = [a.id for a in anns]
    by: dict[int, list] = {i: [] for i in ids}
    if ids:
        q = (
            select(Review, User.username)
            .outerjoin(User, User.id == Review.reviewer_id)
            .where(Review.annotation_id.in_(ids))
            .order_by(Review.id)
        )
        for r, name in s.execute(q):
            by[r.annotation_id].append((r, name))
    out = []
    for a in anns:
        rows = by[a.id]
        whole = [(r, n) for r, n in rows if r.shape is None]
        last = whole[-1] if whole else None
        # per-shape verdicts of the latest revision that has any: what the annotator reworks
        revs = [r.revision for r, _ in rows if r.shape is not None]
        shown = max(revs) if revs else None
        shapes: dict[int, dict] = {}
        for r, n in rows:
            if r.shape is not None and r.revision == shown:
                shapes[r.shape] = {"index": r.shape, "verdict": r.verdict, "reason": r.reason, "reviewer": n,
                                   "at": r.created_at.isoformat()}
        out.append({
            "owner": a.owner,
            "state": a.state,
            "revision": a.revision,
            "shape_count": a.shape_count,
            "updated_at": a.updated_at.isoformat(),
            "submitted_at": a.submitted_at.isoformat() if a.submitted_at else None,
            "verdict": None if last is None else {
                "verdict": last[0].verdict, "reason": last[0].reason, "reviewer": last[1], "revision": last[0].revision,
                "at": last[0].created_at.isoformat(),
            },
            "shape_verdicts_revision": shown,
            "shape_verdicts": [shapes[k] for k in sorted(shapes)],
            "history": [
                {"verdict": r.verdict, "reason": r.reason, "reviewer": n, "revision": r.revision, "at": r.created_at.isoformat()}
                for r, n in reversed(whole)
            ],
        })
    return out


def review_state(s: Session, asset: Asset, username: str | None) -> dict:
    """Every annotation of the asset with its state, the latest verdict, the per-shape verdicts and
    the history of verdicts; ``username`` given (someone below the reviewer role): only what
    :func:`can_see` lets them see on a private asset."""
    anns = list(s.scalars(select(Annotation).where(Annotation.asset_id == asset.id).order_by(Annotation.owner)))
    private = private_assets(s, [asset.id]) if username is not None else {}
    if asset.id in private:
        anns = [a for a in anns if can_see(a.owner, username, private[asset.id])]
    return {"asset_id": asset.id, "status": asset.status, "overlap": effective_overlap(s, asset), "annotations": _states(s, anns)}


# -- ground truth -------------------------------------------------------------------------------


def set_ground_truth(s: Session, asset: Asset, owner: str | None, actor_id: int) -> dict:
    """Mark the asset as ground truth with ``owner``'s annotation as the reference (None: unmark)."""
    if owner is not None:
        a = s.scalar(select(Annotation).where(Annotation.asset_id == asset.id, Annotation.owner == owner))
        if a is None:
            raise ValidationError(f"asset {asset.id} has no annotation by {owner!r} to serve as ground truth", field="owner")
    was = asset.ground_truth_owner
    if owner != was:
        asset.ground_truth_owner = owner
        audit.record(s, actor_id, "update", "ground_truth", asset.id, project_id=asset.project_id, owner=owner, was=was)
    return {"asset_id": asset.id, "ground_truth_owner": owner}


def list_ground_truth(s: Session, project_id: int) -> list[dict]:
    q = (
        select(Asset.id, Asset.name, Asset.ground_truth_owner)
        .where(Asset.project_id == project_id, Asset.ground_truth_owner.is_not(None))
        .order_by(Asset.id)
    )
    return [{"asset_id": i, "name": n, "owner": o} for i, n, o in s.execute(q)]
