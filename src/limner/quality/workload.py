"""The work queue: which assets a person should open next, with ground truth mixed in.

Overlap, states and privacy are :mod:`limner.store.review`'s; this module only picks and orders.
"""

from __future__ import annotations

from sqlalchemy import and_, case, exists, func, not_, or_, select
from sqlalchemy.orm import Session

from limner.errors import ValidationError
from limner.store.assets import asset_dict
from limner.store.models import Annotation, Asset, Project, Task, TaskAssignee, User
from limner.store.review import COMPLETED, annotator_view, is_person

__all__ = ["mix", "queue"]



def mix(regular: list[int], honeypots: list[int], done: int, gt_done: int, rate: float, limit: int) -> list[int]:
    """Interleave ground-truth assets so that they stay ``rate`` of the person's completed work:
    one comes next whenever the share, counting it, would still be at most the rate."""
    out: list[int] = []
    r = h = 0
    while len(out) < limit and (r < len(regular) or h < len(honeypots)):
        if h < len(honeypots) and (r >= len(regular) or gt_done + 1 <= rate * (done + 1) + 1e-9):
            out.append(honeypots[h])
            h += 1
            gt_done += 1
        else:
            out.append(regular[r])
            r += 1
        done += 1
    return out


def queue(s: Session, project: Project, user: User, limit: int = 10) -> dict:
    """The assets ``user`` should open next, best first: their own rejected work (rework), then
    assets of tasks assigned to them, then their drafts, then the assets fewest people have
    started; never assets they completed, assets that already have ``k`` completed annotations,
    assets of tasks in review or done, nor assets of tasks assigned to others. Ground-truth
    assets are mixed in at the project's rate and look like any other."""
    if isinstance(limit, bool) or not 1 <= limit <= 100:
        raise ValidationError("limit must be between 1 and 100", field="limit")
    person = is_person(Annotation.owner)
    agg = (
        select(
            Annotation.asset_id.label("asset_id"),
            func.sum(case((Annotation.state.in_(COMPLETED), 1), else_=0)).label("completed"),
            func.count().label("started"),
        )
        .join(Asset, Asset.id == Annotation.asset_id)
        .where(Asset.project_id == project.id, person)
        .group_by(Annotation.asset_id)
        .subquery()
    )
    mine = (
        select(Annotation.asset_id.label("asset_id"), Annotation.state.label("state"))
        .join(Asset, Asset.id == Annotation.asset_id)
        .where(Asset.project_id == project.id, Annotation.owner == user.username)
        .subquery()
    )
    assigned_to_me = exists().where(TaskAssignee.task_id == Asset.task_id, TaskAssignee.user_id == user.id)
    assigned_to_anyone = exists().where(TaskAssignee.task_id == Asset.task_id)
    open_to_me = or_(mine.c.state.is_(None), mine.c.state.in_(("draft", "rejected")))
    task_ok = or_(Asset.task_id.is_(None), and_(Task.stage == "annotate", or_(assigned_to_me, not_(assigned_to_anyone))))
    base = (
        select(Asset.id)
        .select_from(Asset)
        .outerjoin(Task, Task.id == Asset.task_id)
        .outerjoin(agg, agg.c.asset_id == Asset.id)
        .outerjoin(mine, mine.c.asset_id == Asset.id)
        .where(Asset.project_id == project.id, open_to_me, task_ok)
    )
    k = func.coalesce(Task.overlap, project.overlap)
    regular_q = base.where(
        Asset.ground_truth_owner.is_(None),
        Asset.status != "done",
        or_(mine.c.state == "rejected", func.coalesce(agg.c.completed, 0) < k),
    )
    rank = case((mine.c.state == "rejected", 0), (assigned_to_me, 1), (mine.c.state == "draft", 2), else_=3)
    total = s.scalar(select(func.count()).select_from(regular_q.subquery()))
    regular = list(s.scalars(regular_q.order_by(rank, func.coalesce(agg.c.started, 0), Asset.id).limit(limit)))
    honeypots: list[int] = []
    if project.ground_truth_rate > 0:
        gt = list(s.scalars(base.where(
            Asset.ground_truth_owner.is_not(None), Asset.ground_truth_owner != user.username
        )))
        # each person meets the ground truth in an order of their own
        honeypots = sorted(gt, key=lambda i: ((i * 2654435761) ^ (user.id * 40503)) & 0xFFFFFFFF)
        total += len(honeypots)
    counts = s.execute(
        select(
            func.count(),
            func.sum(case((Asset.ground_truth_owner.is_not(None), 1), else_=0)),
        )
        .select_from(Annotation)
        .join(Asset, Asset.id == Annotation.asset_id)
        .where(Asset.project_id == project.id, Annotation.owner == user.username, Annotation.state.in_(COMPLETED))
    ).one()
    ids = mix(regular, honeypots, int(counts[0] or 0), int(counts[1] or 0), project.ground_truth_rate, limit)
    rows = {a.id: a for a in s.scalars(select(Asset).where(Asset.id.in_(ids)))} if ids else {}
    items = annotator_view(s, [asset_dict(rows[i]) for i in ids], user.username)
    return {"total": total, "items": items}
