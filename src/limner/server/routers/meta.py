from fastapi import APIRouter, Depends

from limner import __version__
from limner.server.deps import Ctx, get_ctx
from limner.settings import SETTINGS

router = APIRouter(tags=["meta"])


@router.get("/health")
def health() -> dict:
    """Liveness: answers without touching the database."""
    return {"status": "ok", "version": __version__}


@router.get("/settings")
def settings(ctx: Ctx = Depends(get_ctx)) -> dict:
    """Every setting with its value, default and help (administrators only)."""
    ctx.admin_required()
    cur = ctx.services.settings
    return {
        "settings": [
            {"name": s.name, "env": f"LIMNER_{s.name.upper()}", "value": getattr(cur, s.name), "default": s.default, "help": s.help}
            for s in SETTINGS
        ]
    }
