from fastapi import APIRouter, Depends

from limner.errors import PermissionDenied
from limner.server.deps import Ctx, get_ctx
from limner.server.schemas import UserIn, UserPatch
from limner.store import users

router = APIRouter(tags=["users"])


@router.get("/users")
def list_users(ctx: Ctx = Depends(get_ctx)) -> dict:
    """Every user (any logged-in user may list them, to add members and assignees)."""
    ctx.login_required()
    with ctx.read() as s:
        return {"items": [users.user_dict(u) for u in users.list_users(s)]}


@router.post("/users", status_code=201)
def create_user(body: UserIn, ctx: Ctx = Depends(get_ctx)) -> dict:
    admin = ctx.admin_required()
    with ctx.write() as s:
        u = users.create_user(
            s, body.username, body.password, is_admin=body.is_admin, display_name=body.display_name,
            email=body.email, actor_id=admin.id,
        )
        return users.user_dict(u)


@router.get("/users/{user_id}")
def get_user(user_id: int, ctx: Ctx = Depends(get_ctx)) -> dict:
    ctx.login_required()
    with ctx.read() as s:
        return users.user_dict(users.get_user(s, user_id))


@router.patch("/users/{user_id}")
def update_user(user_id: int, body: UserPatch, ctx: Ctx = Depends(get_ctx)) -> dict:
    """Users change their own name, e-mail and password; administrators change anyone and roles."""
    me = ctx.login_required()
    if not me.is_admin and (me.id != user_id or body.is_admin is not None or body.is_active is not None):
        raise PermissionDenied("only an administrator may change another user, or admin and active flags")
    with ctx.write() as s:
        u = users.update_user(s, users.get_user(s, user_id), me.id, **body.model_dump())
        return users.user_dict(u)
