"""Categories and labels: reading a file's categories into the schema (ids and other keys kept in
``dataset.info["coco"]["categories"]``, keypoint names and skeleton edges made a 0-based Skeleton
once the number of points is known), declaring on labels the attributes their shapes carry, and on
writing the category ids (kept ones reused, new labels after the largest) and records."""

from __future__ import annotations

from typing import Any

from limner.core.dataset import Dataset
from limner.core.schema import Attribute, Skeleton
from limner.formats.base import FormatError, Report

# -- reading: shared by coco and coco_panoptic ----------------------------------------------------


def read_categories(data: dict, src: str, dataset: Dataset, report: Report) -> dict[Any, str]:
    """Category id → label name; adds labels (with skeletons) and keeps ids in dataset.info."""
    known = dataset.info.setdefault("coco", {}).setdefault("categories", {})
    out: dict[Any, str] = {}
    names: set[str] = set()
    for j, c in enumerate(data.get("categories") or ()):
        key = f"categories[{j}]"
        if not isinstance(c, dict) or "id" not in c or "name" not in c:
            raise FormatError(src, "a category must be an object with id and name", key=key)
        cid, name = c["id"], c["name"]
        if not isinstance(name, str) or not name.strip():
            raise FormatError(src, f"category name must be non-empty text, got {name!r}", key=f"{key}.name")
        if isinstance(cid, bool) or not isinstance(cid, int):
            raise FormatError(src, f"category id must be an integer, got {cid!r}", key=f"{key}.id")
        if name in names and out.get(cid) != name:
            report.problem(f"{src}: category {name!r} appears twice (ids {cid} and others); both read as one label")
        names.add(name)
        dataset.ensure_label(name)
        kept = known.get(name)
        if kept is None:
            known[name] = {k: v for k, v in c.items() if k not in ("name", "keypoints", "skeleton")}
        elif kept.get("id") != cid:
            report.problem(f"{src}: category {name!r} has id {cid} here and {kept.get('id')} in another file")
        kps, edges = c.get("keypoints"), c.get("skeleton")
        label = dataset.schema.get(name)
        if (kps or edges) and label.skeleton is None:
            if kps is not None and (not isinstance(kps, list) or not all(isinstance(k, str) for k in kps)):
                raise FormatError(src, "keypoints must be a list of point names", key=f"{key}.keypoints")
            if edges is not None and (
                not isinstance(edges, list)
                or not all(isinstance(e, list) and len(e) == 2 and all(type(v) is int for v in e) for e in edges)
            ):
                raise FormatError(src, "skeleton must be a list of [a, b] point numbers", key=f"{key}.skeleton")
            # the skeleton is made once the number of points is known (names may be missing)
            dataset.info.setdefault("_coco_pending", {})[name] = (list(kps or []), list(edges or []), src)
        out[cid] = name
    return out


def finish_skeletons(dataset: Dataset, counts: dict[str, int], report: Report) -> None:
    """Give labels their Skeleton (0-based edges): from keypoint categories, and numbered points for
    labels whose annotations have keypoints but whose category names none."""
    pending = dataset.info.pop("_coco_pending", {})
    for name, n in counts.items():
        if name not in pending and dataset.schema.get(name).skeleton is None:
            pending[name] = ([], [], "")
    for name, (names, edges, src) in pending.items():
        n = len(names) or max(counts.get(name, 0), max((max(e) for e in edges), default=0))
        if n == 0:
            continue
        if not names:
            names = [str(k + 1) for k in range(n)]
        elif len(set(names)) != len(names):
            report.problem(f"{src}: keypoint names of {name!r} repeat; numbered instead")
            names = [str(k + 1) for k in range(n)]
        base = 1
        if any(v == 0 for e in edges for v in e):
            base = 0
            report.problem(f"{src}: skeleton edges of {name!r} use point 0, so they are read as 0-based (COCO's are 1-based)")
        good = [(a - base, b - base) for a, b in edges if 0 <= a - base < n and 0 <= b - base < n and a != b]
        if len(good) != len(edges):
            report.problem(f"{src}: {len(edges) - len(good)} skeleton edges of {name!r} name points that do not exist")
        dataset.schema.get(name).skeleton = Skeleton(points=names, edges=good)


def declare_attributes(dataset: Dataset, report: Report) -> None:
    """Declare on each label the attributes its shapes carry (checkbox, number or text)."""
    seen: dict[str, dict[str, set]] = {}
    for item in dataset.items:
        for s in item.shapes:
            if type(s) is not int and s.attributes:  # an int: a polygon a RingSink holds
                d = seen.setdefault(s.label, {})
                for k, v in s.attributes.items():
                    d.setdefault(k, set()).add(type(v))
    for name, attrs in seen.items():
        label = dataset.schema.get(name)
        have = {a.name for a in label.attributes}
        for k, types in attrs.items():
            if k in have:
                continue
            if types == {bool}:
                kind = "checkbox"
            elif types <= {int, float}:
                kind = "number"
            elif types == {str}:
                kind = "text"
            else:
                report.problem(f"attribute {k!r} of label {name!r} mixes value types; not declared on the label")
                continue
            label.attributes.append(Attribute(name=k, kind=kind))


# -- writing ---------------------------------------------------------------------------------------


def category_ids(dataset: Dataset) -> tuple[dict[str, int], dict[str, dict]]:
    """Label name → COCO id (kept from dataset.info, new labels after the largest) and the kept
    category records."""
    kept = (dataset.info.get("coco") or {}).get("categories") or {}
    ids: dict[str, int] = {}
    used: set[int] = set()
    for label in dataset.schema:
        cid = (kept.get(label.name) or {}).get("id")
        if type(cid) is int and cid not in used:
            ids[label.name] = cid
            used.add(cid)
    nxt = max(used, default=0) + 1
    for label in dataset.schema:
        if label.name not in ids:
            ids[label.name] = nxt
            used.add(nxt)
            nxt += 1
    for item in dataset.items:
        for s in item.shapes:
            if s.label not in ids:
                ids[s.label] = nxt
                nxt += 1
    return ids, kept


def _categories(dataset: Dataset, ids: dict[str, int], kept: dict, npoints: dict[str, int]) -> list[dict]:
    out = []
    for name, cid in ids.items():
        rec = {"id": cid, "name": name, "supercategory": ""}
        rec.update({k: v for k, v in (kept.get(name) or {}).items() if k not in ("id", "name")})
        label = dataset.schema.get(name)
        sk = label.skeleton if label is not None else None
        if sk is not None:
            rec["keypoints"] = list(sk.points)
            rec["skeleton"] = [[a + 1, b + 1] for a, b in sk.edges]
        elif name in npoints:
            rec["keypoints"] = [str(k + 1) for k in range(npoints[name])]
            rec["skeleton"] = []
        out.append(rec)
    return out
