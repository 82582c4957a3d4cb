from fastapi import APIRouter, Depends, Response

from limner.errors import Unauthorized
from limner.server.deps import CSRF_COOKIE, SESSION_COOKIE, Ctx, get_ctx
from limner.server.schemas import LoginIn, TokenIn
from limner.store import users

router = APIRouter(tags=["auth"])


def set_session_cookies(response: Response, token: str, csrf: str, settings) -> None:
    age = settings.session_days * 86400
    secure = settings.secure_cookies
    response.set_cookie(SESSION_COOKIE, token, max_age=age, httponly=True, samesite="lax", secure=secure, path="/")
    response.set_cookie(CSRF_COOKIE, csrf, max_age=age, httponly=False, samesite="lax", secure=secure, path="/")


@router.post("/auth/login")
def login(body: LoginIn, response: Response, ctx: Ctx = Depends(get_ctx)) -> dict:
    """Open a browser session: sets an HttpOnly session cookie and a CSRF cookie."""
    with ctx.write() as s:
        u = users.authenticate(s, body.username, body.password)
        if u is None:
            raise Unauthorized("wrong username or password", field="password")
        token, csrf = users.create_session(s, u, ctx.services.settings.session_days)
        out = users.user_dict(u) | {"csrf_token": csrf}
    set_session_cookies(response, token, csrf, ctx.services.settings)
    return out


@router.post("/auth/logout")
def logout(response: Response, ctx: Ctx = Depends(get_ctx)) -> dict:
    cookie = ctx.request.cookies.get(SESSION_COOKIE)
    if cookie:
        with ctx.write() as s:
            users.delete_session(s, cookie)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return {"ok": True}


@router.get("/auth/me")
def me(ctx: Ctx = Depends(get_ctx)) -> dict:
    return users.user_dict(ctx.login_required())


@router.get("/tokens")
def list_tokens(ctx: Ctx = Depends(get_ctx)) -> dict:
    user = ctx.login_required()
    with ctx.read() as s:
        return {"items": users.list_api_tokens(s, user)}


@router.post("/tokens", status_code=201)
def create_token(body: TokenIn, ctx: Ctx = Depends(get_ctx)) -> dict:
    """Create an API token for the SDK; the token itself is shown only in this answer."""
    user = ctx.login_required()
    with ctx.write() as s:
        row, token = users.create_api_token(s, user, body.name)
        return {"id": row.id, "name": row.name, "prefix": row.prefix, "token": token}


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: int, ctx: Ctx = Depends(get_ctx)) -> Response:
    user = ctx.login_required()
    with ctx.write() as s:
        users.revoke_api_token(s, user, token_id)
    return Response(status_code=204)
