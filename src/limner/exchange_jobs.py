"""Export and import as jobs with progress."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from limner.convert import export_to_folder, zip_folder
from limner.errors import LimnerError
from limner.exchange import import_dataset, project_dataset
from limner.formats import read as read_dataset
from limner.jobs.runner import register

__all__ = ["export_job", "import_job"]


def exports_dir(settings) -> Path:
    return settings.data_path / "exports"


@register("project.export")
def export_job(ctx) -> dict:
    """Job: the project (filtered) in a format, zipped for download."""
    svc = ctx.services
    p = ctx.params
    ctx.progress(0.02, "reading the project", force=True)
    ds = project_dataset(
        svc.db, ctx.project_id, svc.storage, statuses=p.get("statuses"), labels=p.get("labels"),
        task_id=p.get("task_id"), owner=p.get("owner"), include_models=bool(p.get("include_models")),
    )
    ctx.progress(0.3, f"writing {len(ds.items)} images as {p['format']}", force=True)
    base = exports_dir(svc.settings)
    with tempfile.TemporaryDirectory(prefix="export-", dir=_ensure(base)) as tmp:
        result = export_to_folder(
            ds, p["format"], Path(tmp) / "dataset", include_images=bool(p.get("include_images")),
            remap=p.get("remap"), split=p.get("split"), seed=int(p.get("seed") or 0),
            stratify=p.get("stratify", True) is not False,
        )
        ctx.progress(0.8, "zipping", force=True)
        target = base / f"job-{ctx.job_id}.zip"
        result["size_bytes"] = zip_folder(Path(tmp) / "dataset", target)
    result["file"] = target.name
    return result


def _ensure(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


@register("project.import")
def import_job(ctx) -> dict:
    """Job: a dataset (uploaded zip or server folder) into the project, all or nothing."""
    from limner.media.archives import extract_all

    svc = ctx.services
    p = ctx.params
    src = Path(p["_source"])
    shown = p.get("name") or src.name
    try:
        with tempfile.TemporaryDirectory(prefix="import-", dir=_ensure(svc.settings.data_path / "imports")) as tmp:
            root = src
            if src.is_file() and src.suffix.lower() == ".zip":
                ctx.progress(0.02, "unpacking", force=True)
                extract_all(src, Path(tmp), name=shown)
                root = Path(tmp)
                kids = [c for c in root.iterdir()]
                if len(kids) == 1 and kids[0].is_dir():
                    root = kids[0]
            ctx.progress(0.1, "reading the dataset", force=True)
            try:
                ds, report, fmt = read_dataset(root, p.get("format"))
            except LimnerError as err:  # name the upload, not the server's temporary folder
                raise LimnerError(err.detail.replace(str(root), shown).replace(str(tmp), shown), field=err.field) from None
            summary = import_dataset(
                svc.db, svc.storage, ctx.project_id, ds, owner=p["owner"], actor_id=ctx.user_id,
                with_images=p.get("with_images", True) is not False, create_labels=p.get("create_labels", True) is not False,
                thumb_size=svc.settings.thumbnail_size, workers=svc.settings.workers,
                progress=lambda f, m: ctx.progress(0.1 + 0.9 * f, m),
            )
    finally:
        if p.get("_cleanup"):
            if src.is_dir():
                shutil.rmtree(src, ignore_errors=True)
            else:
                src.unlink(missing_ok=True)
    return {"format": fmt, "read": report.to_dict(), **summary.to_dict()}
