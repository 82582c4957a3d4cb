import orjson
from fastapi import APIRouter, Depends, Response

from limner.server.deps import Ctx, get_ctx
from limner.server.schemas import AnnotationIn
from limner.server.routers.review import private_viewer
from limner.store import annotations, assets, review

router = APIRouter(tags=["annotations"])


def _write_action(ctx: Ctx, owner: str) -> str:
    return "annotations.write_own" if ctx.user is not None and owner == ctx.user.username else "annotations.write_any"


@router.get("/projects/{project_id}/owners")
def list_owners(project_id: int, ctx: Ctx = Depends(get_ctx)) -> dict:
    """Who has annotated the project, people and models (`model:NAME`), with annotation and shape counts."""
    from limner.store import projects

    with ctx.read() as s:
        projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "annotations.view")
        return {"items": annotations.list_owners(s, project_id)}


@router.get("/assets/{asset_id}/annotations")
def list_annotations(asset_id: int, ctx: Ctx = Depends(get_ctx)) -> dict:
    with ctx.read() as s:
        a = assets.get_asset(s, asset_id)
        viewer = private_viewer(ctx, ctx.authorize(s, a.project_id, "annotations.view"))
        items = annotations.list_annotations(s, asset_id)
        if viewer is not None:  # others' work stays hidden on private assets until review
            private = review.private_assets(s, [asset_id])
            if private:
                items = [it for it in items if review.can_see(it["owner"], viewer, private[asset_id])]
        return {"items": items}


@router.get("/assets/{asset_id}/annotations/{owner}")
def get_annotation(asset_id: int, owner: str, ctx: Ctx = Depends(get_ctx)) -> Response:
    """One owner's annotation with all its shapes (revision 0 and no shapes if none yet)."""
    with ctx.read() as s:
        a = assets.get_asset(s, asset_id)
        viewer = private_viewer(ctx, ctx.authorize(s, a.project_id, "annotations.view"))
        private = review.private_assets(s, [asset_id]) if viewer is not None else {}
        if asset_id in private and not review.can_see(owner, viewer, private[asset_id]):
            # answered as if there were none: a private asset looks like any other
            body = orjson.dumps(review.unseen_annotation(a, owner))
        else:
            body = annotations.get_annotation_json(s, a, owner)
    return Response(body, media_type="application/json")


@router.put("/assets/{asset_id}/annotations/{owner}")
def put_annotation(asset_id: int, owner: str, body: AnnotationIn, ctx: Ctx = Depends(get_ctx)) -> dict:
    """Replace the owner's shapes. `base_revision` must be the current revision, else 409 with
    `current_revision` and nothing is written. Annotators write their own; reviewers anyone's."""
    with ctx.write() as s:
        a = assets.get_asset(s, asset_id)
        ctx.authorize(s, a.project_id, _write_action(ctx, owner))
        return annotations.put_annotation(s, a, owner, body.base_revision, body.shapes, ctx.user.id)


@router.delete("/assets/{asset_id}/annotations/{owner}", status_code=204)
def delete_annotation(asset_id: int, owner: str, ctx: Ctx = Depends(get_ctx)) -> Response:
    with ctx.write() as s:
        a = assets.get_asset(s, asset_id)
        ctx.authorize(s, a.project_id, _write_action(ctx, owner))
        annotations.delete_annotation(s, a, owner, ctx.user.id)
    return Response(status_code=204)
