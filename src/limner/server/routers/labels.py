from fastapi import APIRouter, Depends, Response

from limner.server.deps import Ctx, get_ctx
from limner.server.schemas import LabelIn, LabelPatch
from limner.store import projects

router = APIRouter(tags=["labels"])


@router.get("/projects/{project_id}/labels")
def list_labels(project_id: int, ctx: Ctx = Depends(get_ctx)) -> dict:
    with ctx.read() as s:
        projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "labels.view")
        return {"items": projects.list_labels(s, project_id)}


@router.post("/projects/{project_id}/labels", status_code=201)
def create_label(project_id: int, body: LabelIn, ctx: Ctx = Depends(get_ctx)) -> dict:
    with ctx.write() as s:
        projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "labels.edit")
        return projects.create_label(s, project_id, body.model_dump(), ctx.user.id)


@router.patch("/projects/{project_id}/labels/{label_id}")
def update_label(project_id: int, label_id: int, body: LabelPatch, ctx: Ctx = Depends(get_ctx)) -> dict:
    with ctx.write() as s:
        projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "labels.edit")
        return projects.update_label(s, project_id, label_id, body.model_dump(exclude_unset=True), ctx.user.id)


@router.delete("/projects/{project_id}/labels/{label_id}", status_code=204)
def delete_label(project_id: int, label_id: int, ctx: Ctx = Depends(get_ctx)) -> Response:
    with ctx.write() as s:
        projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "labels.edit")
        projects.delete_label(s, project_id, label_id, ctx.user.id)
    return Response(status_code=204)
