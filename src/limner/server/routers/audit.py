from fastapi import APIRouter, Depends

from limner.server.deps import Ctx, get_ctx
from limner.store import audit, projects

router = APIRouter(tags=["audit"])


@router.get("/projects/{project_id}/audit")
def project_audit(project_id: int, limit: int = 100, before: int | None = None, ctx: Ctx = Depends(get_ctx)) -> dict:
    """The project's audit log, newest first; page with `before` = the last id seen."""
    with ctx.read() as s:
        projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "audit.view")
        return {"items": audit.list_events(s, project_id=project_id, limit=min(max(limit, 1), 1000), before=before)}


@router.get("/audit")
def site_audit(limit: int = 100, before: int | None = None, ctx: Ctx = Depends(get_ctx)) -> dict:
    ctx.admin_required()
    with ctx.read() as s:
        return {"items": audit.list_events(s, limit=min(max(limit, 1), 1000), before=before)}
