from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from limner.quality import project_consensus  # noqa: F401  (registers the job kind)
from limner.quality.checks import CheckOptions
from limner.quality.report import asset_consensus, project_checks
from limner.server.deps import Ctx, get_ctx
from limner.quality.dashboard import project_quality
from limner.store import assets, jobs, projects, review

router = APIRouter(tags=["quality"])


class ConsensusIn(BaseModel):
    owners: list[str] | None = Field(None, description="whose annotations to merge, earliest first on a tie; default: every person's")
    quorum: float = Field(0.5, gt=0, le=1, description="share of the owners a cluster needs")
    iou: float = Field(0.5, gt=0, le=1, description="similarity every two shapes of a cluster must reach")


@router.get("/projects/{project_id}/checks")
def project_checks_route(
    project_id: int,
    rule: list[str] | None = Query(None, description="rules to run (repeatable); default: all"),
    limit: int = Query(1000, ge=0, le=100_000, description="findings to list (all are counted)"),
    owner: str | None = Query(None, description="whose annotations; default: the latest by a person"),
    min_area: float = Query(16.0, ge=0),
    duplicate_iou: float = Query(0.95, gt=0, le=1),
    outlier_z: float = Query(3.5, gt=0),
    ctx: Ctx = Depends(get_ctx),
) -> dict:
    """Run the automatic checks on the project: counts per rule, the first `limit` findings (each
    with its asset id) and the class balance."""
    with ctx.read() as s:
        projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "quality.view")
    options = CheckOptions(min_area=min_area, duplicate_iou=duplicate_iou, outlier_z=outlier_z)
    report = project_checks(ctx.db, project_id, rules=rule, limit=limit, owner=owner, options=options)
    return report.to_dict()


@router.post("/assets/{asset_id}/consensus")
def consensus_route(asset_id: int, body: ConsensusIn, ctx: Ctx = Depends(get_ctx)) -> dict:
    """Merge several owners' annotations of the asset into the `consensus` annotation (written on
    top of its current revision); answers the annotation and the report (clusters, kept, dropped
    below the quorum, label ties)."""
    with ctx.write() as s:
        a = assets.get_asset(s, asset_id)
        ctx.authorize(s, a.project_id, "quality.consensus")
        return asset_consensus(s, a, body.owners, quorum=body.quorum, iou=body.iou, actor_id=ctx.user.id)


@router.post("/assets/{asset_id}/consensus/preview")
def consensus_preview(asset_id: int, body: ConsensusIn, ctx: Ctx = Depends(get_ctx)) -> dict:
    """The consensus of the owners' annotations without writing it: the merged shapes and the
    report, for a reviewer to look at before taking it."""
    with ctx.read() as s:
        a = assets.get_asset(s, asset_id)
        ctx.authorize(s, a.project_id, "quality.consensus")
        return asset_consensus(s, a, body.owners, quorum=body.quorum, iou=body.iou, write=False)


class ProjectConsensusIn(BaseModel):
    quorum: float = Field(0.5, gt=0, le=1, description="share of the owners a cluster needs")
    iou: float = Field(0.5, gt=0, le=1, description="similarity every two shapes of a cluster must reach")
    asset_ids: list[int] | None = Field(None, description="the assets to merge; default: all of the project")


@router.post("/projects/{project_id}/consensus", status_code=202)
def project_consensus_route(project_id: int, body: ProjectConsensusIn, ctx: Ctx = Depends(get_ctx)) -> dict:
    """Merge, as a job, every asset (or the given ones) that two or more people annotated into its
    `consensus` annotation, with the defaults of the per-asset merge; assets with fewer are
    skipped and counted. Poll /jobs/{id}; its result counts assets, shapes and clusters."""
    with ctx.read() as s:
        projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "quality.consensus")
        if body.asset_ids is not None:
            assets.check_in_project(s, project_id, body.asset_ids)
    params = {"quorum": body.quorum, "iou": body.iou, "asset_ids": body.asset_ids}
    job_id, _ = ctx.services.runner.submit("project.consensus", project_id=project_id, user_id=ctx.user.id, params=params)
    with ctx.read() as s:
        return jobs.job_dict(jobs.get_job(s, job_id))


class QualitySettingsIn(BaseModel):
    overlap: int | None = Field(None, description="annotators per asset (1 to 50)")
    ground_truth_rate: float | None = Field(None, description="share of ground-truth assets in each queue (0 to 1)")
    retrain_threshold: float | None = Field(None, description="ground-truth accuracy below which an annotator is flagged")


@router.get("/projects/{project_id}/quality/settings")
def get_quality_settings(project_id: int, ctx: Ctx = Depends(get_ctx)) -> dict:
    with ctx.read() as s:
        p = projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "quality.view")
        return review.quality_settings(p)


@router.patch("/projects/{project_id}/quality/settings")
def update_quality_settings(project_id: int, body: QualitySettingsIn, ctx: Ctx = Depends(get_ctx)) -> dict:
    """Set the overlap, ground-truth rate and retraining threshold (managers)."""
    with ctx.write() as s:
        p = projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "project.edit")
        return review.update_quality_settings(s, p, ctx.user.id, **body.model_dump())


@router.get("/projects/{project_id}/quality")
def quality_dashboard(project_id: int, ctx: Ctx = Depends(get_ctx)) -> dict:
    """The project's quality in one answer (reviewers): agreement per annotator pair and per label,
    ground-truth scores per annotator with the retraining flag, throughput, review, open comments
    and progress per day."""
    with ctx.read() as s:
        p = projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "quality.consensus")
        return project_quality(s, p)
