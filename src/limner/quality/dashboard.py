"""The quality dashboard of a project in one answer: agreement, ground-truth scores, throughput,
review, open comments and progress over time.

Everything is read with a handful of set-based queries (no query per asset or per person) and
computed in bulk:

- **agreement** between people, on the assets at least two of them annotated (their annotations
  that are not drafts): shapes by :func:`limner.quality.matching.match_assets` (one-to-one IoU
  matching per label), summed per annotator pair and per label into F1, precision, recall and mean
  IoU; tags per label by Krippendorff's alpha (:mod:`limner.quality.agreement`);
- **ground truth**: every person's non-draft annotation of a ground-truth asset against the
  reference (:func:`limner.quality.groundtruth.compare_to_ground_truth`), summed per person;
  accuracy below the project's ``retrain_threshold`` flags them for retraining;
- **throughput** from the audit log: an hour in which a person saved or submitted anything is one
  active hour; assets per hour = submissions / active hours, shapes per hour = shapes submitted /
  active hours. Reviewers alike, from their verdicts;
- **progress** per UTC day: submissions, acceptances, rejections and comments.

The agreement and ground-truth figures (the costly part: every shape is read and matched) are kept
per project in this process and computed again only when an annotation or the ground truth changed
(:func:`_work_key`); the rest is counted on every call.

Ratios that have nothing to count are None (JSON null), never 0.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict

from sqlalchemy import case, func, select

from limner.core.shapes import Shape
from limner.quality.agreement import krippendorff_alpha
from limner.quality.groundtruth import ComparisonCounts, compare_to_ground_truth
from limner.quality.matching import MatchCounts, match_assets
from limner.quality.people import people_shapes
from limner.store.models import Annotation, Asset, AuditEvent, Comment, LabelRow, Project, Review, ShapeRow, User
from limner.store.review import is_person, quality_settings

__all__ = ["project_quality"]

_TOP_COMMENTED = 10


def _num(v: float | None, digits: int = 4) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), digits)


def _counts_dict(c: MatchCounts) -> dict:
    return {
        "matched": c.matched,
        "unmatched_a": c.unmatched_a,
        "unmatched_b": c.unmatched_b,
        "f1": _num(c.f1) if c.total_a + c.total_b else None,
        "precision": _num(c.precision) if c.total_b else None,
        "recall": _num(c.recall) if c.total_a else None,
        "mean_iou": _num(c.mean_iou),
    }


def _hour(at) -> int:
    return int(at.timestamp() // 3600)


def _day(at) -> str:
    return at.date().isoformat()


def _rate(n: int, hours: int) -> float | None:
    return round(n / hours, 3) if hours else None


def _agreement(by_asset: dict, sizes: dict) -> tuple[dict, dict[str, MatchCounts]]:
    shared = [(aid, owners) for aid, owners in by_asset.items() if len(owners) >= 2]
    pairs: dict[tuple[str, str], MatchCounts] = defaultdict(MatchCounts)
    pair_assets: Counter = Counter()
    labels: dict[str, MatchCounts] = defaultdict(MatchCounts)
    person: dict[str, MatchCounts] = defaultdict(MatchCounts)
    ordered = [{o: owners[o] for o in sorted(owners)} for _, owners in shared]
    results = match_assets(ordered, sizes=[sizes.get(aid) for aid, _ in shared]) if shared else []
    for res in results:
        for (a, b), r in res.items():
            for label, c in r.per_label.items():
                pairs[(a, b)] += c
                labels[label] += c
                person[a] += c
                person[b] += c
            pair_assets[(a, b)] += 1
    tag_labels = sorted({sh.label for _, owners in shared for shapes in owners.values() for sh in shapes if sh.kind == "tag"})
    tags = []
    for label in tag_labels:
        ratings = [{o: any(sh.kind == "tag" and sh.label == label for sh in shapes) for o, shapes in owners.items()}
                   for _, owners in shared]
        tags.append({"label": label, "alpha": _num(krippendorff_alpha(ratings)), "assets": len(ratings)})
    out = {
        "assets": len(shared),
        "pairs": [
            {"a": a, "b": b, "assets": pair_assets[(a, b)], **_counts_dict(c)} for (a, b), c in sorted(pairs.items())
        ],
        "labels": [{"label": lb, **_counts_dict(c)} for lb, c in sorted(labels.items())],
        "tags": tags,
    }
    return out, person


def _ground_truth(s, project_id: int, sizes: dict) -> dict[str, tuple[int, ComparisonCounts]]:
    """Per person: (ground-truth assets they completed, their comparison counts added up). The
    reference may be anyone's annotation in any state; the people's are their non-draft ones."""
    gt = dict(s.execute(
        select(Asset.id, Asset.ground_truth_owner).where(Asset.project_id == project_id, Asset.ground_truth_owner.is_not(None))
    ).all())
    if not gt:
        return {}
    names = dict(s.execute(select(LabelRow.id, LabelRow.name).where(LabelRow.project_id == project_id)).all())
    shapes: dict[int, dict[str, list[Shape]]] = defaultdict(dict)
    anns = s.execute(
        select(Annotation.id, Annotation.asset_id, Annotation.owner, Annotation.state).where(Annotation.asset_id.in_(list(gt)))
    ).all()
    of = {}
    for aid, asset_id, owner, state in anns:
        if owner == gt[asset_id] or (state != "draft" and not owner.startswith("model:") and owner != "consensus"):
            of[aid] = shapes[asset_id][owner] = []
    q = (
        select(ShapeRow.annotation_id, ShapeRow.kind, ShapeRow.label_id, ShapeRow.geometry, ShapeRow.attributes)
        .where(ShapeRow.asset_id.in_(list(gt)))
        .order_by(ShapeRow.annotation_id, ShapeRow.position)
    )
    for aid, kind, lid, geom, attrs in s.execute(q):
        if aid in of:
            of[aid].append(Shape(kind, names[lid], geom, attrs or {}))
    out: dict[str, tuple[int, ComparisonCounts]] = {}
    for asset_id, ref_owner in gt.items():
        h, w = sizes.get(asset_id, (None, None))
        ref = shapes[asset_id].get(ref_owner, [])
        for owner, work in shapes[asset_id].items():
            if owner == ref_owner:
                continue
            c = compare_to_ground_truth(ref, work, height=h, width=w).counts
            n, total = out.get(owner, (0, ComparisonCounts()))
            out[owner] = (n + 1, total + c)
    return out


_CACHE: dict[int, tuple] = {}
_CACHE_PROJECTS = 8


def _work_key(s, project_id: int) -> tuple:
    """What the agreement and ground-truth figures depend on, in one aggregate query: any saved,
    submitted or deleted annotation, any change of ground truth and any label renamed changes it."""
    row = s.execute(
        select(
            func.count(), func.max(Annotation.updated_at), func.sum(Annotation.revision), func.max(Annotation.id),
            func.sum(case((Annotation.state == "draft", 1), else_=0)), func.max(Annotation.submitted_at),
        )
        .join(Asset, Asset.id == Annotation.asset_id)
        .where(Asset.project_id == project_id)
    ).one()
    gt = s.execute(
        select(func.count(), func.max(Asset.id), func.max(Asset.ground_truth_owner), func.min(Asset.ground_truth_owner))
        .where(Asset.project_id == project_id, Asset.ground_truth_owner.is_not(None))
    ).one()
    labels = tuple(s.execute(select(LabelRow.id, LabelRow.name).where(LabelRow.project_id == project_id).order_by(LabelRow.id)))
    return tuple(row) + tuple(gt) + labels


def _gt_dict(assets: int, c: ComparisonCounts) -> dict:
    out = {"assets": assets, **c.to_dict()}
    for k in ("accuracy", "precision", "recall"):
        out[k] = _num(out[k])
    return out


def project_quality(s, project: Project) -> dict:
    """The dashboard answer of ``GET /projects/{id}/quality`` (see the module docstring)."""
    t0 = time.perf_counter()
    pid = project.id
    settings = quality_settings(project)
    by_status = dict(s.execute(select(Asset.status, func.count()).where(Asset.project_id == pid).group_by(Asset.status)).all())
    gt_count = s.scalar(
        select(func.count()).select_from(Asset).where(Asset.project_id == pid, Asset.ground_truth_owner.is_not(None))
    )

    key = _work_key(s, pid)
    cached = _CACHE.get(pid)
    if cached is not None and cached[0] == key:
        agreement, person_agreement, gt_scores = cached[1]
    else:
        people, sizes = people_shapes(s, pid, drafts=False, attributes=False)
        by_asset = {a: dict(owners) for a, owners in people.items()}
        del people
        agreement, person_agreement = _agreement(by_asset, sizes)
        gt_scores = _ground_truth(s, pid, sizes)
        del by_asset
        _CACHE.pop(pid, None)
        _CACHE[pid] = (key, (agreement, person_agreement, gt_scores))
        while len(_CACHE) > _CACHE_PROJECTS:
            _CACHE.pop(next(iter(_CACHE)))

    # states of each person's annotations
    states: dict[str, Counter] = defaultdict(Counter)
    for owner, state, n in s.execute(
        select(Annotation.owner, Annotation.state, func.count())
        .join(Asset, Asset.id == Annotation.asset_id)
        .where(Asset.project_id == pid, is_person(Annotation.owner))
        .group_by(Annotation.owner, Annotation.state)
    ):
        states[owner][state] += n

    # the audit log: active hours, submissions and shapes submitted, per person and per day
    hours: dict[str, set] = defaultdict(set)
    submits: Counter = Counter()
    shapes_in: Counter = Counter()
    days: dict[str, Counter] = defaultdict(Counter)
    q = (
        select(User.username, AuditEvent.action, AuditEvent.at, AuditEvent.details)
        .join(User, User.id == AuditEvent.user_id)
        .where(AuditEvent.project_id == pid, AuditEvent.object_type == "annotation", AuditEvent.action.in_(("update", "submit")))
    )
    for name, action, at, details in s.execute(q).yield_per(20_000):
        hours[name].add(_hour(at))
        if action == "submit":
            submits[name] += 1
            shapes_in[name] += int((details or {}).get("shapes") or 0)
            days[_day(at)]["submitted"] += 1

    # review throughput, from the verdicts
    reviewers: dict[str, Counter] = defaultdict(Counter)
    review_hours: dict[str, set] = defaultdict(set)
    q = (
        select(User.username, Review.verdict, Review.shape, Review.created_at)
        .join(Annotation, Annotation.id == Review.annotation_id)
        .join(Asset, Asset.id == Annotation.asset_id)
        .outerjoin(User, User.id == Review.reviewer_id)
        .where(Asset.project_id == pid)
    )
    for name, verdict, shape, at in s.execute(q):
        name = name or "(removed user)"
        review_hours[name].add(_hour(at))
        if shape is None:
            reviewers[name][verdict] += 1
            days[_day(at)]["accepted" if verdict == "accept" else "rejected"] += 1
        else:
            reviewers[name]["shape_verdicts"] += 1

    # comments
    open_total, resolved_total = s.execute(
        select(
            func.sum(case((Comment.resolved.is_(False), 1), else_=0)),
            func.sum(case((Comment.resolved.is_(True), 1), else_=0)),
        )
        .join(Asset, Asset.id == Comment.asset_id)
        .where(Asset.project_id == pid, Comment.parent_id.is_(None))
    ).one()
    top = s.execute(
        select(Asset.id, Asset.name, func.count().label("n"))
        .join(Comment, Comment.asset_id == Asset.id)
        .where(Asset.project_id == pid, Comment.parent_id.is_(None), Comment.resolved.is_(False))
        .group_by(Asset.id, Asset.name)
        .order_by(func.count().desc(), Asset.id)
        .limit(_TOP_COMMENTED)
    ).all()
    for (at,) in s.execute(select(Comment.created_at).join(Asset, Asset.id == Comment.asset_id).where(Asset.project_id == pid)):
        days[_day(at)]["comments"] += 1

    people = sorted(set(states) | set(submits) | set(gt_scores))
    annotators = []
    for name in people:
        st = states.get(name, Counter())
        n_hours = len(hours.get(name, ()))
        gt = gt_scores.get(name)
        accuracy = gt[1].accuracy if gt else None
        annotators.append({
            "user": name,
            "states": {k: st.get(k, 0) for k in ("draft", "submitted", "accepted", "rejected")},
            "submissions": submits.get(name, 0),
            "shapes_submitted": shapes_in.get(name, 0),
            "active_hours": n_hours,
            "assets_per_hour": _rate(submits.get(name, 0), n_hours),
            "shapes_per_hour": _rate(shapes_in.get(name, 0), n_hours),
            "agreement_f1": _counts_dict(person_agreement[name])["f1"] if name in person_agreement else None,
            "ground_truth": None if gt is None else _gt_dict(*gt),
            "needs_retraining": accuracy is not None and accuracy < project.retrain_threshold,
        })
    review_rows = []
    for name in sorted(reviewers):
        c = reviewers[name]
        n_hours = len(review_hours[name])
        done = c.get("accept", 0) + c.get("reject", 0)
        review_rows.append({
            "user": name, "reviews": done, "accepted": c.get("accept", 0), "rejected": c.get("reject", 0),
            "shape_verdicts": c.get("shape_verdicts", 0), "active_hours": n_hours, "reviews_per_hour": _rate(done, n_hours),
        })
    return {
        "project_id": pid,
        "settings": settings,
        "assets": {"total": sum(by_status.values()), "by_status": by_status, "ground_truth": gt_count},
        "agreement": agreement,
        "annotators": annotators,
        "reviewers": review_rows,
        "comments": {
            "open": int(open_total or 0),
            "resolved": int(resolved_total or 0),
            "assets": [{"asset_id": i, "name": n, "open": c} for i, n, c in top],
        },
        "progress": [
            {"day": d, **{k: days[d].get(k, 0) for k in ("submitted", "accepted", "rejected", "comments")}} for d in sorted(days)
        ],
        "seconds": round(time.perf_counter() - t0, 3),
    }
