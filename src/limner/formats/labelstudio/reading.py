"""A Label Studio task list -> items: each task's image found from its data url (local files,
uploads, cloud storage, http) under the image root or the export's folder, its annotations (the
ground-truth or last one unless ``all_annotations``; cancelled ones skipped) and predictions read
as shapes, its id, data, meta and classifications kept in the item's metadata."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from limner.core.dataset import Dataset, Item
from limner.formats.base import FormatError, Report
from limner.formats.labelstudio.results import _results


# ---------------------------------------------------------------------------------------- reading


def _image_name(url: str) -> str:
    u = urlparse(url)
    q = parse_qs(u.query)
    if "d" in q:  # /data/local-files/?d=folder/img.jpg
        return q["d"][0]
    if u.scheme in ("s3", "gs", "azure-blob"):
        return unquote(u.path.lstrip("/"))
    if u.scheme in ("http", "https"):
        return unquote(u.path.lstrip("/"))
    path = unquote(u.path)
    if path.startswith("/data/upload/"):
        return path.rsplit("/", 1)[-1]
    return path.lstrip("/")


def labelstudio_to_dataset(tasks: list, ds: Dataset, report: Report, *, file: Path, all_annotations: bool = False,
                           image_root: Path | None = None) -> None:  # fmt: skip
    """A Label Studio task list -> items appended to ``ds``."""
    if not isinstance(tasks, list):
        raise FormatError(file, "a Label Studio export is a JSON list of tasks", key="(root)")
    info = ds.info.setdefault("labelstudio", {})
    state = {"from": info.setdefault("from_names", {}), "next_group": 1}
    roots = [r for r in (image_root, file.parent) if r is not None]
    for i, task in enumerate(tasks):
        key = f"[{i}]"
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise FormatError(file, "a task needs a 'data' object", key=f"{key}.data")
        try:
            _task(task, key, ds, report, file, info, state, roots, all_annotations)
        except (TypeError, AttributeError, KeyError, IndexError, ValueError) as e:
            raise FormatError(file, f"unexpected content ({type(e).__name__}: {e})", key=key) from None
    if state.get("to_name"):
        info.setdefault("to_name", state["to_name"])


def _task(task: dict, key: str, ds: Dataset, report: Report, file: Path, info: dict, state: dict, roots: list,
          all_annotations: bool) -> None:  # fmt: skip
    """One task -> one Item with its annotations' and predictions' shapes."""
    data = task["data"]
    dkey = info.get("data_key") or next((k for k in ("image", "img", "url") if isinstance(data.get(k), str)), None)
    dkey = dkey or next((k for k, v in data.items() if isinstance(v, str)), None)
    if dkey is None or not isinstance(data.get(dkey), str):
        raise FormatError(file, "the task's data has no image url", key=f"{key}.data")
    info.setdefault("data_key", dkey)
    name = _image_name(data[dkey])
    image = next((r / name for r in roots if (r / name).is_file()), None)
    if image is None:
        report.missing_images.append(name)
    anns = [a for a in task.get("annotations") or [] if isinstance(a, dict)]
    live = [a for a in anns if not a.get("was_cancelled")]
    if len(live) < len(anns):
        report.drop("cancelled annotations skipped", len(anns) - len(live))
    if not all_annotations and len(live) > 1:
        best = next((a for a in live if a.get("ground_truth")), live[-1])
        report.drop("other annotations of a task skipped (all_annotations=True keeps them)", len(live) - 1)
        live = [best]
    shapes, classes, size = [], {}, None
    state["next_group"] = 1
    for j, a in enumerate(live):
        sh, cl, sz = _results(a.get("result", []), "manual", None, ds, report, file, f"{key}.annotations[{j}]", state)
        shapes += sh
        classes.update(cl)
        size = size or sz
    for j, p in enumerate(task.get("predictions") or []):
        if not isinstance(p, dict):
            continue
        src = f"model:{p.get('model_version') or 'unknown'}"
        score = p.get("score") if isinstance(p.get("score"), (int, float)) else None
        sh, _, sz = _results(p.get("result", []), src, score, ds, report, file, f"{key}.predictions[{j}]", state)
        shapes += sh
        size = size or sz
    if size is None and image is not None:
        from PIL import Image

        with Image.open(image) as im:
            size = im.size
    meta = {"labelstudio": {"id": task.get("id"), "data": data}}
    if classes:
        meta["labelstudio"]["classifications"] = classes
    if task.get("meta"):
        meta["labelstudio"]["meta"] = task["meta"]
    w, h = size or (None, None)
    ds.items.append(Item(name, w, h, shapes, None, meta, image))
