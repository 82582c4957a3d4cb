"""Export and import as jobs with progress, and the steps the CLI shares with them."""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from limner.core.dataset import Dataset
from limner.errors import LimnerError
from limner.core.splits import assign_splits, parse_ratios, remap_labels
from limner.exchange import import_dataset, project_dataset
from limner.formats import read as read_dataset
from limner.formats import write as write_dataset
from limner.jobs.runner import register
from limner.quality.checks import check_dataset

__all__ = ["prepare", "export_to_folder", "zip_folder", "parse_remap"]


def parse_remap(text: str | dict | None) -> dict[str, str | None]:
    """'cat=animal,dog=animal,junk=' -> {'cat': 'animal', 'dog': 'animal', 'junk': None}."""
    if not text:
        return {}
    if isinstance(text, dict):
        return {k: (v or None) for k, v in text.items()}
    out = {}
    for part in text.split(","):
        old, sep, new = part.partition("=")
        if not sep or not old.strip():
            from limner.errors import ValidationError

            raise ValidationError(f"label remap entries look like old=new (or old= to drop), got {part!r}", field="remap")
        out[old.strip()] = new.strip() or None
    return out


def prepare(
    dataset: Dataset,
    *,
    remap: dict | str | None = None,
    split: str | dict | None = None,
    seed: int = 0,
    stratify: bool = True,
    clip: bool = True,
) -> dict:
    """Remap labels, assign splits and check (and clip) geometry; returns what was done."""
    notes: dict = {}
    mapping = parse_remap(remap)
    if mapping:
        notes["remap"] = dict(remap_labels(dataset, mapping))
    if split:
        ratios = parse_ratios(split) if isinstance(split, str) else {k: float(v) for k, v in split.items()}
        notes["splits"] = dict(assign_splits(dataset, ratios, seed=seed, stratify=stratify))
    findings, counts = check_dataset(dataset, clip=clip)
    notes["checks"] = {"counts": dict(counts), "findings": [f.to_dict() for f in findings[:200]]}
    return notes


def export_to_folder(dataset: Dataset, fmt: str, out: Path, *, include_images: bool = False, **prep) -> dict:
    notes = prepare(dataset, **prep)
    report = write_dataset(dataset, out, fmt, include_images=include_images)
    return {"format": fmt, "items": len(dataset.items), "shapes": sum(len(i.shapes) for i in dataset.items),
            "report": report.to_dict(), **notes}


def zip_folder(folder: Path, zip_path: Path) -> int:
    """Zip a folder (atomically: a temporary file, then rename); returns the zip's size."""
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=".zip", dir=zip_path.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            for p in sorted(folder.rglob("*")):
                if p.is_file():
                    store = p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp")
                    zf.write(p, p.relative_to(folder).as_posix(), compress_type=zipfile.ZIP_STORED if store else None)
        os.replace(tmp, zip_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return zip_path.stat().st_size


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
