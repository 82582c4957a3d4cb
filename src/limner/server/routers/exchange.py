import re
import uuid
from pathlib import Path

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import FileResponse

from limner import exchange_jobs  # noqa: F401  (registers the export and import job kinds)
from limner.errors import NotFound, PermissionDenied, ValidationError
from limner.formats import FORMATS, get, names
from limner.server.deps import Ctx, get_ctx
from limner.server.schemas import ExportIn
from limner.store import jobs, projects

router = APIRouter(tags=["formats"])


@router.get("/formats")
def list_formats(ctx: Ctx = Depends(get_ctx)) -> dict:
    """The dataset formats this server reads and writes."""
    ctx.login_required()
    names()
    return {
        "items": [
            {"name": f.name, "description": f.description, "read": f.read is not None, "write": f.write is not None}
            for f in sorted(FORMATS.values(), key=lambda f: f.name)
        ]
    }


@router.post("/projects/{project_id}/exports", status_code=202)
def export_project(project_id: int, body: ExportIn, ctx: Ctx = Depends(get_ctx)) -> dict:
    """Export the project (filtered, split, remapped) in a format as a job; download the zip from
    /jobs/{id}/download when it is done."""
    with ctx.read() as s:
        projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "project.export")
    if get(body.format).write is None:
        raise ValidationError(f"format {body.format!r} can only be read", field="format")
    job_id, _ = ctx.services.runner.submit(
        "project.export", project_id=project_id, user_id=ctx.user.id, params=body.model_dump()
    )
    with ctx.read() as s:
        return jobs.job_dict(jobs.get_job(s, job_id))


@router.post("/projects/{project_id}/imports", status_code=202)
def import_project(
    project_id: int,
    file: UploadFile | None = File(None, description="a zip of the dataset"),
    path: str | None = Form(None, description="a folder or zip on the server (administrators)"),
    format: str | None = Form(None, description="the format; found by itself when omitted"),
    owner: str | None = Form(None, description="whose annotations the shapes become; default: you"),
    with_images: bool = Form(True),
    create_labels: bool = Form(True),
    ctx: Ctx = Depends(get_ctx),
) -> dict:
    """Import a dataset (images and annotations, or pre-labels onto assets matched by file name)
    as a job. Nothing is changed if it fails."""
    with ctx.read() as s:
        projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "project.import")
    if format:
        get(format)
    if (file is None) == (path is None):
        raise ValidationError("send either a zip file or a server path", field="file")
    who = owner or ctx.user.username
    if who != ctx.user.username:
        with ctx.read() as s:
            ctx.authorize(s, project_id, "annotations.write_any")
    params = {"format": format, "owner": who, "with_images": with_images, "create_labels": create_labels}
    if path is not None:
        if not ctx.user.is_admin:
            raise PermissionDenied("only administrators may import from server paths", field="path")
        params |= {"_source": path, "_cleanup": False, "name": Path(path).name}
    else:
        folder = ctx.services.settings.data_path / "imports"
        folder.mkdir(parents=True, exist_ok=True)
        dest = folder / f"{uuid.uuid4().hex}.zip"
        with dest.open("wb") as out:
            while chunk := file.file.read(1 << 20):
                out.write(chunk)
        params |= {"_source": str(dest), "_cleanup": True, "name": re.sub(r"[^\w. -]", "_", file.filename or "upload.zip")}
    job_id, _ = ctx.services.runner.submit("project.import", project_id=project_id, user_id=ctx.user.id, params=params)
    with ctx.read() as s:
        return jobs.job_dict(jobs.get_job(s, job_id))


@router.get("/jobs/{job_id}/download")
def download_export(job_id: int, ctx: Ctx = Depends(get_ctx)) -> FileResponse:
    """The zip an export job made."""
    with ctx.read() as s:
        j = jobs.get_job(s, job_id)
        if j.project_id is None:
            raise NotFound(f"job {job_id} has nothing to download")
        ctx.authorize(s, j.project_id, "project.export")
    if j.kind != "project.export" or j.status != "done" or not j.result:
        raise NotFound(f"job {job_id} has no export to download (status {j.status})")
    f = ctx.services.settings.data_path / "exports" / j.result["file"]
    if not f.exists():
        raise NotFound(f"the export of job {job_id} was removed; export again")
    name = f"project-{j.project_id}-{j.params.get('format')}-{job_id}.zip"
    return FileResponse(f, media_type="application/zip", filename=name)
