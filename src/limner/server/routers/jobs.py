from fastapi import APIRouter, Depends

from limner.server.deps import Ctx, get_ctx
from limner.store import jobs, projects

router = APIRouter(tags=["jobs"])


def _check(ctx: Ctx, s, job, action: str) -> None:
    if job.project_id is None:
        if ctx.login_required().id != job.created_by:
            ctx.admin_required()
    else:
        ctx.authorize(s, job.project_id, action)


@router.get("/projects/{project_id}/jobs")
def list_jobs(project_id: int, ctx: Ctx = Depends(get_ctx)) -> dict:
    with ctx.read() as s:
        projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "jobs.view")
        return {"items": jobs.list_jobs(s, project_id)}


@router.get("/jobs/{job_id}")
def get_job(job_id: int, ctx: Ctx = Depends(get_ctx)) -> dict:
    """A job's status, percentage, message, and its result once done (or error once failed)."""
    with ctx.read() as s:
        j = jobs.get_job(s, job_id)
        _check(ctx, s, j, "jobs.view")
        return jobs.job_dict(j)


@router.post("/jobs/{job_id}/cancel")
def cancel_job(job_id: int, ctx: Ctx = Depends(get_ctx)) -> dict:
    """Ask a running job to stop: its creator, or a manager."""
    with ctx.read() as s:
        j = jobs.get_job(s, job_id)
        own = ctx.user is not None and j.created_by == ctx.user.id
        _check(ctx, s, j, "jobs.view" if own else "jobs.cancel")
    ctx.services.runner.cancel(job_id)
    with ctx.read() as s:
        return jobs.job_dict(jobs.get_job(s, job_id))
