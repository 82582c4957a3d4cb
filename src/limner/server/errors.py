"""One JSON error shape for every failure: {"detail": sentence, "field": name-or-null}."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from limner.errors import LimnerError

__all__ = ["install_error_handlers"]

log = logging.getLogger("limner.server")


def _field(loc) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LimnerError)
    async def _limner(_req: Request, exc: LimnerError):
        return JSONResponse(exc.to_dict(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, exc: RequestValidationError):
        errs = exc.errors()
        first = errs[0] if errs else {"loc": (), "msg": "invalid request"}
        if first.get("type") == "json_invalid":
            reason = (first.get("ctx") or {}).get("error", "")
            detail = "the request body is not valid JSON" + (f": {reason}" if reason else "")
            return JSONResponse({"detail": detail, "field": None}, status_code=422)
        loc = tuple(first.get("loc", ()))
        field = _field(loc)
        msg = first.get("msg", "invalid value")
        if loc == ("body",) and first.get("type") == "missing":
            detail = "the request needs a JSON body"
        else:
            detail = f"{field}: {msg}" if field else msg
        if len(errs) > 1:
            n = len(errs) - 1
            detail += f" (and {n} more problem{'s' if n > 1 else ''})"
        return JSONResponse({"detail": detail, "field": field}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and detail == "Not Found":
            detail = "no such page or API route"
        if exc.status_code == 405:
            detail = "this method is not allowed on this route"
        return JSONResponse({"detail": detail, "field": None}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _crash(req: Request, exc: Exception):
        log.exception("unexpected error on %s %s", req.method, req.url.path)
        return JSONResponse({"detail": "internal error; the server log has the details", "field": None}, status_code=500)
