from fastapi import APIRouter, Depends, Response

from limner.server.deps import Ctx, get_ctx
from limner.server.schemas import CommentIn, CommentPatch
from limner.store import assets, comments

router = APIRouter(tags=["comments"])


@router.get("/assets/{asset_id}/comments")
def list_comments(asset_id: int, ctx: Ctx = Depends(get_ctx)) -> dict:
    with ctx.read() as s:
        a = assets.get_asset(s, asset_id)
        ctx.authorize(s, a.project_id, "comments.view")
        return {"items": comments.list_comments(s, asset_id)}


@router.post("/assets/{asset_id}/comments", status_code=201)
def create_comment(asset_id: int, body: CommentIn, ctx: Ctx = Depends(get_ctx)) -> dict:
    """A comment, optionally pinned to a region {kind: points|box|polygon|ellipse, geometry} and
    optionally a reply (parent_id)."""
    with ctx.write() as s:
        a = assets.get_asset(s, asset_id)
        ctx.authorize(s, a.project_id, "comments.write")
        return comments.create_comment(s, a, ctx.user, body.body, region=body.region, parent_id=body.parent_id)


@router.patch("/comments/{comment_id}")
def update_comment(comment_id: int, body: CommentPatch, ctx: Ctx = Depends(get_ctx)) -> dict:
    """The author edits the text; the author or a reviewer resolves or reopens."""
    with ctx.write() as s:
        c = comments.get_comment(s, comment_id)
        a = assets.get_asset(s, c.asset_id)
        ctx.authorize(s, a.project_id, "comments.write")
        if body.resolved is not None and c.author_id != ctx.user.id:
            ctx.authorize(s, a.project_id, "comments.moderate")
        return comments.update_comment(s, c, ctx.user, a.project_id, body=body.body, resolved=body.resolved)


@router.delete("/comments/{comment_id}", status_code=204)
def delete_comment(comment_id: int, ctx: Ctx = Depends(get_ctx)) -> Response:
    ctx.login_required()
    with ctx.write() as s:
        c = comments.get_comment(s, comment_id)
        a = assets.get_asset(s, c.asset_id)
        ctx.authorize(s, a.project_id, "comments.write" if c.author_id == ctx.user.id else "comments.moderate")
        comments.delete_comment(s, c, ctx.user, a.project_id)
    return Response(status_code=204)
