from fastapi import APIRouter, Depends, Response

from limner.server.deps import Ctx, get_ctx
from limner.server.schemas import ProjectIn, ProjectPatch
from limner import assist_calls
from limner.store import assistants, projects

router = APIRouter(tags=["projects"])


@router.get("/projects")
def list_projects(ctx: Ctx = Depends(get_ctx)) -> dict:
    user = ctx.login_required()
    with ctx.read() as s:
        items = projects.list_projects(s, user)
    return {"total": len(items), "items": items}


@router.post("/projects", status_code=201)
def create_project(body: ProjectIn, ctx: Ctx = Depends(get_ctx)) -> dict:
    """Any logged-in user may create a project and becomes its owner."""
    user = ctx.login_required()
    with ctx.write() as s:
        p = projects.create_project(s, user, body.name, body.description)
        return projects.project_dict(p, role="owner")


@router.get("/projects/{project_id}")
def get_project(project_id: int, ctx: Ctx = Depends(get_ctx)) -> dict:
    with ctx.read() as s:
        p = projects.get_project(s, project_id)
        role = ctx.authorize(s, project_id, "project.view")
        return projects.project_dict(p, projects._counts(s, [p.id])[p.id], role)


@router.patch("/projects/{project_id}")
def update_project(project_id: int, body: ProjectPatch, ctx: Ctx = Depends(get_ctx)) -> dict:
    with ctx.write() as s:
        p = projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "project.edit")
        return projects.project_dict(projects.update_project(s, p, ctx.user.id, **body.model_dump()))


@router.delete("/projects/{project_id}", status_code=204)
def delete_project(project_id: int, ctx: Ctx = Depends(get_ctx)) -> Response:
    with ctx.write() as s:
        p = projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "project.delete")
        kept = assistants.kept_files(s, project_id, assist_calls.KEPT)
        projects.delete_project(s, p, ctx.user.id)
    for model_id, key in kept:  # after the commit: a failed delete keeps the files its models name
        assist_calls.drop_classifier(ctx.services.storage, model_id, key)
    return Response(status_code=204)
