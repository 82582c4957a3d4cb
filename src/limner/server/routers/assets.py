import re
import tempfile
from dataclasses import replace
from pathlib import Path

from fastapi import APIRouter, Depends, File, Request, Response, UploadFile
from fastapi.responses import FileResponse, StreamingResponse

from limner.errors import PermissionDenied, ValidationError
from limner.ingest import ingest, source_paths_allowed
from limner.server.deps import Ctx, get_ctx
from limner.server.schemas import AssetPatch, ImportIn
from limner.server.routers.review import private_viewer
from limner.store import assets, comments, projects, review, tasks
from limner.store.jobs import get_job, job_dict

router = APIRouter(tags=["assets"])
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


@router.get("/projects/{project_id}/assets")
def list_assets(
    project_id: int,
    status: str | None = None,
    assignee: str | None = None,
    label: str | None = None,
    task_id: int | None = None,
    name: str | None = None,
    offset: int = 0,
    after: int | None = None,
    before: int | None = None,
    limit: int = 100,
    ctx: Ctx = Depends(get_ctx),
) -> dict:
    """A page of assets with status, shape counts and each annotation's owner and revision.

    Page with `offset` (and the `total`), or with `after` = the last id of the previous page, or
    `before` = the first id of the next page (walking backwards).
    """
    with ctx.read() as s:
        projects.get_project(s, project_id)
        viewer = private_viewer(ctx, ctx.authorize(s, project_id, "assets.view"))
        page = assets.list_assets(
            s, project_id, status=status, assignee=assignee, label=label, task_id=task_id, name=name,
            offset=offset, after=after, before=before, limit=limit,
        )
        if viewer is not None:
            review.annotator_view(s, page["items"], viewer)
        return page


@router.post("/projects/{project_id}/assets", status_code=201)
def upload_assets(project_id: int, files: list[UploadFile] = File(...), ctx: Ctx = Depends(get_ctx)) -> dict:
    """Upload images (several at once, zips included); answers what was added, skipped or rejected.

    When no file at all could be added, the answer is 422 naming the first rejected file, with the
    same report in the body."""
    from limner.media.sources import expand_sources

    svc = ctx.services
    with ctx.read() as s:
        projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "assets.add")
    limit = svc.settings.max_upload_mb * 1024 * 1024
    with tempfile.TemporaryDirectory(prefix="limner-upload-") as tmp:
        sources = []
        for i, f in enumerate(files):
            name = f.filename or f"file{i}"
            safe = _UNSAFE.sub("_", Path(name).name) or f"file{i}"
            dest = Path(tmp) / f"{i:05d}-{safe}"
            size = 0
            with dest.open("wb") as out:
                while chunk := f.file.read(1 << 20):
                    size += len(chunk)
                    if size > limit and not safe.lower().endswith(".zip"):
                        raise ValidationError(
                            f"{name}: larger than the {svc.settings.max_upload_mb} MB limit", field="files", status=413
                        )
                    out.write(chunk)
            for src in expand_sources([dest], Path(tmp) / "work"):
                # a plain file keeps the name it was uploaded with; zip members keep their inner path
                sources.append(replace(src, name=name) if src.name == dest.name else src)
        report = ingest(
            svc.db, svc.storage, project_id, sources, actor_id=ctx.user.id, thumb_size=svc.settings.thumbnail_size,
            max_bytes=limit, workers=svc.settings.workers,
        )
    body = report.to_dict()
    if not report.added and not report.duplicates and report.rejected:
        first = report.rejected[0]
        more = f" (and {len(report.rejected) - 1} more files)" if len(report.rejected) > 1 else ""
        detail = first["reason"] if first["reason"].startswith(first["name"]) else f"{first['name']}: {first['reason']}"
        raise ValidationError(f"nothing was added: {detail}{more}", field="files", **body)
    return body


@router.post("/projects/{project_id}/assets/import", status_code=202)
def import_assets(project_id: int, body: ImportIn, ctx: Ctx = Depends(get_ctx)) -> dict:
    """Add server folders, files, zips or http(s) URLs as a job; poll /jobs/{id} for progress."""
    svc = ctx.services
    with ctx.read() as s:
        projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "assets.add")
    problem = source_paths_allowed(body.paths, ctx.user.is_admin, svc.settings.import_root_paths)
    if problem:
        raise PermissionDenied(problem, field="paths")
    job_id, _ = svc.runner.submit("assets.import", project_id=project_id, user_id=ctx.user.id, params={"paths": body.paths})
    with ctx.read() as s:
        return job_dict(get_job(s, job_id))


@router.get("/assets/{asset_id}")
def get_asset(asset_id: int, ctx: Ctx = Depends(get_ctx)) -> dict:
    with ctx.read() as s:
        a = assets.get_asset(s, asset_id)
        viewer = private_viewer(ctx, ctx.authorize(s, a.project_id, "assets.view"))
        out = assets.asset_dict(a)
        out["project_id"] = a.project_id
        out["open_comments"] = comments.open_counts(s, [a.id]).get(a.id, 0)
        if viewer is not None:
            review.annotator_view(s, [out], viewer)
        return out


@router.patch("/assets/{asset_id}")
def update_asset(asset_id: int, body: AssetPatch, ctx: Ctx = Depends(get_ctx)) -> dict:
    """Set the status (annotators up to review; done and reopening need a reviewer) or move to a task."""
    with ctx.write() as s:
        a = assets.get_asset(s, asset_id)
        if body.status is not None:
            approving = body.status == "done" or a.status == "done"
            ctx.authorize(s, a.project_id, "assets.approve" if approving else "assets.status")
            assets.set_status(s, a, body.status, ctx.user.id)
        if body.task_id is not None:
            ctx.authorize(s, a.project_id, "tasks.edit")
            t = tasks.get_task(s, body.task_id)
            if t.project_id != a.project_id:
                raise ValidationError(f"task {t.id} belongs to another project", field="task_id")
            tasks.update_task(s, t, ctx.user.id, add_asset_ids=[a.id])
        viewer = private_viewer(ctx, ctx.authorize(s, a.project_id, "assets.view"))
        out = assets.asset_dict(a)
        out["project_id"] = a.project_id
        if viewer is not None:
            review.annotator_view(s, [out], viewer)
        return out


@router.delete("/assets/{asset_id}", status_code=204)
def delete_asset(asset_id: int, ctx: Ctx = Depends(get_ctx)) -> Response:
    with ctx.write() as s:
        a = assets.get_asset(s, asset_id)
        ctx.authorize(s, a.project_id, "assets.delete")
        assets.delete_asset(s, a, ctx.user.id)
    return Response(status_code=204)


def _send(ctx: Ctx, request: Request, key: str, etag: str, mime: str) -> Response:
    etag = f'"{etag}"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=31536000, immutable"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    storage = ctx.services.storage
    if getattr(storage, "is_local", False):
        return FileResponse(storage.path(key), media_type=mime, headers=headers)
    return StreamingResponse(storage.open(key), media_type=mime, headers=headers)


@router.get("/assets/{asset_id}/image")
def asset_image(asset_id: int, request: Request, ctx: Ctx = Depends(get_ctx)) -> Response:
    """The original image bytes, with an ETag (its SHA-256) and long-lived private caching."""
    with ctx.read() as s:
        a = assets.get_asset(s, asset_id)
        ctx.authorize(s, a.project_id, "assets.view")
    return _send(ctx, request, a.storage_key, a.checksum, a.mime)


@router.get("/assets/{asset_id}/thumbnail")
def asset_thumbnail(asset_id: int, request: Request, ctx: Ctx = Depends(get_ctx)) -> Response:
    with ctx.read() as s:
        a = assets.get_asset(s, asset_id)
        ctx.authorize(s, a.project_id, "assets.view")
    return _send(ctx, request, a.thumb_key, "t" + a.checksum, "image/jpeg")
