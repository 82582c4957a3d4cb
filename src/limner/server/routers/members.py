from fastapi import APIRouter, Depends, Response

from limner.server.deps import Ctx, get_ctx
from limner.server.schemas import MemberIn, MemberPatch
from limner.store import projects, users

router = APIRouter(tags=["members"])


def _owner_change(ctx: Ctx, s, project_id: int, *roles: str) -> None:
    """Granting or taking away the owner role needs an owner."""
    if "owner" in roles:
        ctx.authorize(s, project_id, "members.grant_owner")


@router.get("/projects/{project_id}/members")
def list_members(project_id: int, ctx: Ctx = Depends(get_ctx)) -> dict:
    with ctx.read() as s:
        projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "members.view")
        return {"items": projects.list_members(s, project_id)}


@router.post("/projects/{project_id}/members", status_code=201)
def add_member(project_id: int, body: MemberIn, ctx: Ctx = Depends(get_ctx)) -> dict:
    with ctx.write() as s:
        projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "members.edit")
        _owner_change(ctx, s, project_id, body.role)
        return projects.add_member(s, project_id, users.get_user_by_name(s, body.username), body.role, ctx.user.id)


@router.patch("/projects/{project_id}/members/{user_id}")
def set_role(project_id: int, user_id: int, body: MemberPatch, ctx: Ctx = Depends(get_ctx)) -> dict:
    with ctx.write() as s:
        projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "members.edit")
        current = projects.role_of(s, users.get_user(s, user_id), project_id)
        _owner_change(ctx, s, project_id, body.role, current or "")
        return projects.set_member_role(s, project_id, user_id, body.role, ctx.user.id)


@router.delete("/projects/{project_id}/members/{user_id}", status_code=204)
def remove_member(project_id: int, user_id: int, ctx: Ctx = Depends(get_ctx)) -> Response:
    with ctx.write() as s:
        projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "members.edit")
        _owner_change(ctx, s, project_id, projects.role_of(s, users.get_user(s, user_id), project_id) or "")
        projects.remove_member(s, project_id, user_id, ctx.user.id)
    return Response(status_code=204)
