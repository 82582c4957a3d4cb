"""The one-time login link printed by `limner serve` and `limner demo`."""

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse

from limner.server.deps import Ctx, get_ctx
from limner.server.routers.auth import set_session_cookies
from limner.store import users

router = APIRouter(include_in_schema=False)


@router.get("/login")
def login_link(token: str = "", ctx: Ctx = Depends(get_ctx)):
    if token:
        with ctx.write() as s:
            u = users.consume_login_token(s, token)
            if u is not None:
                session, csrf = users.create_session(s, u, ctx.services.settings.session_days)
        if u is not None:
            resp = RedirectResponse("/", status_code=303)
            set_session_cookies(resp, session, csrf, ctx.services.settings)
            return resp
        return HTMLResponse(
            "<!doctype html><title>Limner</title><p>This login link was used already or has expired. "
            "Restart the server for a new one, or <a href='/'>log in with a password</a>.</p>",
            status_code=401,
        )
    return RedirectResponse("/", status_code=303)
