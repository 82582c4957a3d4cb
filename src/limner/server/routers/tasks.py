from fastapi import APIRouter, Depends, Response
from pydantic import Field

from limner.server.deps import Ctx, get_ctx
from limner.server.schemas import TaskIn, TaskPatch
from limner.store import projects, tasks

router = APIRouter(tags=["tasks"])


class TaskCreate(TaskIn):
    overlap: int | None = Field(None, description="annotators per asset; default: the project's")


class TaskChange(TaskPatch):
    overlap: int | None = Field(None, description="annotators per asset; null: the project's")


@router.get("/projects/{project_id}/tasks")
def list_tasks(project_id: int, ctx: Ctx = Depends(get_ctx)) -> dict:
    with ctx.read() as s:
        projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "tasks.view")
        return {"items": tasks.list_tasks(s, project_id)}


@router.post("/projects/{project_id}/tasks", status_code=201)
def create_task(project_id: int, body: TaskCreate, ctx: Ctx = Depends(get_ctx)) -> dict:
    with ctx.write() as s:
        projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "tasks.edit")
        return tasks.create_task(
            s, project_id, body.name, ctx.user.id, asset_ids=body.asset_ids, assignees=body.assignees, overlap=body.overlap
        )


@router.get("/tasks/{task_id}")
def get_task(task_id: int, ctx: Ctx = Depends(get_ctx)) -> dict:
    with ctx.read() as s:
        t = tasks.get_task(s, task_id)
        ctx.authorize(s, t.project_id, "tasks.view")
        return tasks.task_detail(s, t)


@router.patch("/tasks/{task_id}")
def update_task(task_id: int, body: TaskChange, ctx: Ctx = Depends(get_ctx)) -> dict:
    """Managers edit a task; an annotator or reviewer may move only its stage (submit for review, accept)."""
    with ctx.write() as s:
        t = tasks.get_task(s, task_id)
        given = body.model_dump(exclude_unset=True)
        only_stage = given.keys() <= {"stage"}
        ctx.authorize(s, t.project_id, "tasks.stage" if only_stage else "tasks.edit")
        if body.stage == "done" or t.stage == "done":
            ctx.authorize(s, t.project_id, "assets.approve")
        return tasks.update_task(
            s, t, ctx.user.id, name=body.name, stage=body.stage, assignees=body.assignees, add_asset_ids=body.add_asset_ids,
            overlap=given["overlap"] if "overlap" in given else tasks.UNSET,
        )


@router.delete("/tasks/{task_id}", status_code=204)
def delete_task(task_id: int, ctx: Ctx = Depends(get_ctx)) -> Response:
    with ctx.write() as s:
        t = tasks.get_task(s, task_id)
        ctx.authorize(s, t.project_id, "tasks.edit")
        tasks.delete_task(s, t, ctx.user.id)
    return Response(status_code=204)
