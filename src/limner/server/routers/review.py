from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from limner.quality import workload
from limner.server.deps import Ctx, get_ctx
from limner.server.permissions import at_least
from limner.store import assets, projects, review

router = APIRouter(tags=["review"])


def private_viewer(ctx: Ctx, role: str | None) -> str | None:
    """The username whose view of private assets applies (someone below the reviewer role), or
    None for those who see everyone's work."""
    if ctx.user is None or ctx.user.is_admin or at_least(role, "reviewer"):
        return None
    return ctx.user.username


def _write_action(ctx: Ctx, owner: str) -> str:
    return "annotations.write_own" if ctx.user is not None and owner == ctx.user.username else "annotations.write_any"


class ShapeVerdictIn(BaseModel):
    index: int = Field(..., description="the shape's position in the annotation")
    verdict: str = Field(..., description="accept or reject")
    reason: str = ""


class VerdictIn(BaseModel):
    verdict: str = Field(..., description="accept or reject")
    reason: str = Field("", description="why; required to reject (the annotator reads it)")


class AnnotationVerdictIn(VerdictIn):
    shapes: list[ShapeVerdictIn] = Field([], description="per-shape verdicts on the same revision")


class GroundTruthIn(BaseModel):
    owner: str = Field(..., description="whose annotation of the asset is the reference")


@router.get("/projects/{project_id}/queue")
def work_queue(
    project_id: int, limit: int = Query(10, description="assets to list, 1 to 100"), ctx: Ctx = Depends(get_ctx)
) -> dict:
    """The assets you should open next, best first (rework, your tasks, your drafts, the least
    started), with ground truth mixed in at the project's rate; `total` counts all that are open
    to you."""
    with ctx.read() as s:
        p = projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "annotations.write_own")
        return workload.queue(s, p, ctx.user, limit)


@router.post("/assets/{asset_id}/annotations/{owner}/submit")
def submit(asset_id: int, owner: str, ctx: Ctx = Depends(get_ctx)) -> dict:
    """Mark the owner's annotation done (annotators their own; reviewers anyone's). Once the
    asset's overlap is reached it goes to review."""
    with ctx.write() as s:
        a = assets.get_asset(s, asset_id)
        ctx.authorize(s, a.project_id, _write_action(ctx, owner))
        return review.submit_annotation(s, a, owner, ctx.user.id)


@router.post("/assets/{asset_id}/annotations/{owner}/review")
def review_annotation(asset_id: int, owner: str, body: AnnotationVerdictIn, ctx: Ctx = Depends(get_ctx)) -> dict:
    """Accept or reject one person's submitted annotation, optionally shape by shape; a rejection
    (with its reason) sends it back to its owner for rework."""
    with ctx.write() as s:
        a = assets.get_asset(s, asset_id)
        ctx.authorize(s, a.project_id, "assets.approve")
        shapes = [v.model_dump() for v in body.shapes]
        return review.review_annotation(s, a, owner, body.verdict, body.reason, ctx.user.id, shapes)


@router.put("/assets/{asset_id}/annotations/{owner}/shapes/{index}/review")
def review_shape(asset_id: int, owner: str, index: int, body: VerdictIn, ctx: Ctx = Depends(get_ctx)) -> dict:
    """A verdict on one shape (by position) of the current revision of an annotation; the latest
    verdict per shape holds."""
    with ctx.write() as s:
        a = assets.get_asset(s, asset_id)
        ctx.authorize(s, a.project_id, "assets.approve")
        return review.set_shape_verdict(s, a, owner, index, body.verdict, body.reason, ctx.user.id)


@router.get("/assets/{asset_id}/review")
def review_state(asset_id: int, ctx: Ctx = Depends(get_ctx)) -> dict:
    """Every version of the asset (one annotation per owner) with its state, latest verdict and
    reason, per-shape verdicts and history; annotators see only their own on private assets."""
    with ctx.read() as s:
        a = assets.get_asset(s, asset_id)
        viewer = private_viewer(ctx, ctx.authorize(s, a.project_id, "annotations.view"))
        return review.review_state(s, a, viewer)


@router.post("/assets/{asset_id}/review")
def review_asset(asset_id: int, body: VerdictIn, ctx: Ctx = Depends(get_ctx)) -> dict:
    """Accept (the asset is done) or reject (back to its annotators, with the reason) every
    submitted annotation of the asset."""
    with ctx.write() as s:
        a = assets.get_asset(s, asset_id)
        ctx.authorize(s, a.project_id, "assets.approve")
        return review.review_asset(s, a, body.verdict, body.reason, ctx.user.id)


@router.get("/projects/{project_id}/ground-truth")
def list_ground_truth(project_id: int, ctx: Ctx = Depends(get_ctx)) -> dict:
    """The project's ground-truth assets and the owners of their reference annotations (managers)."""
    with ctx.read() as s:
        projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "project.edit")
        return {"items": review.list_ground_truth(s, project_id)}


@router.put("/assets/{asset_id}/ground-truth")
def mark_ground_truth(asset_id: int, body: GroundTruthIn, ctx: Ctx = Depends(get_ctx)) -> dict:
    """Make the asset ground truth, `owner`'s annotation its reference (managers)."""
    with ctx.write() as s:
        a = assets.get_asset(s, asset_id)
        ctx.authorize(s, a.project_id, "project.edit")
        return review.set_ground_truth(s, a, body.owner, ctx.user.id)


@router.delete("/assets/{asset_id}/ground-truth", status_code=204)
def unmark_ground_truth(asset_id: int, ctx: Ctx = Depends(get_ctx)) -> Response:
    with ctx.write() as s:
        a = assets.get_asset(s, asset_id)
        ctx.authorize(s, a.project_id, "project.edit")
        review.set_ground_truth(s, a, None, ctx.user.id)
    return Response(status_code=204)
