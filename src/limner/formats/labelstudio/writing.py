"""A Dataset -> Label Studio tasks: shapes as results in percent of the image size (manual ones in
``annotations``, ``model:*`` ones in ``predictions``, one per model version), group ids as
``parentID``, shape attributes as per-region choices, numbers and text, tags as one choices
result, the task's id, data, meta and classifications from the item's metadata."""

from __future__ import annotations

import math
from pathlib import Path

from limner.core import rle as _rle
from limner.core.dataset import Dataset
from limner.core.shapes import Shape
from limner.formats.base import Report
from limner.formats.labelstudio.brush import brush_encode


# ---------------------------------------------------------------------------------------- writing


_FROM = {"rectanglelabels": "label", "polygonlabels": "polygon", "keypointlabels": "keypoint", "ellipselabels": "ellipse",
         "brushlabels": "brush", "choices": "choice"}  # fmt: skip


def _attr_result(name: str, v, rid: str, to: str) -> dict | None:
    if isinstance(v, bool):
        t, val = "choices", {"choices": ["true" if v else "false"]}
    elif isinstance(v, (int, float)):
        t, val = "number", {"number": v}
    elif isinstance(v, str):
        t, val = "textarea", {"text": [v]}
    else:
        return None
    return {"id": rid, "type": t, "from_name": name, "to_name": to, "value": val}


def _shape_results(s: Shape, rid: str, W: int, H: int, names: dict, to: str, report: Report) -> list[dict]:
    g, k = s.geometry, s.kind
    px, py = 100.0 / W, 100.0 / H
    if k == "box":
        t, v = "rectanglelabels", {"x": g["x"] * px, "y": g["y"] * py, "width": g["w"] * px, "height": g["h"] * py, "rotation": 0}
    elif k == "rotated_box":
        c, sn = math.cos(math.radians(g["angle"])), math.sin(math.radians(g["angle"]))
        x = g["cx"] - g["w"] / 2 * c + g["h"] / 2 * sn
        y = g["cy"] - g["w"] / 2 * sn - g["h"] / 2 * c
        t, v = "rectanglelabels", {"x": x * px, "y": y * py, "width": g["w"] * px, "height": g["h"] * py,
                                   "rotation": g["angle"] % 360}  # fmt: skip
    elif k == "polygon":
        if g.get("holes"):
            report.drop("polygon holes dropped")
        t, v = "polygonlabels", {"points": [[p[0] * px, p[1] * py] for p in g["points"]], "closed": True}
    elif k == "ellipse":
        t, v = "ellipselabels", {"x": g["cx"] * px, "y": g["cy"] * py, "radiusX": g["rx"] * px, "radiusY": g["ry"] * py,
                                 "rotation": g["angle"]}  # fmt: skip
    elif k == "mask":
        t, v = "brushlabels", {"format": "rle", "rle": brush_encode(_rle.decode(g["rle"]))}
    elif k in ("points", "skeleton"):
        pts = g["points"] if k == "points" else [p for p in g["points"] if p[2] > 0]
        if k == "skeleton":
            report.drop("skeletons written as keypoints")
        elif len(pts) > 1:
            report.drop("multi-point shapes written as one keypoint per point")
        out = []
        for n, p in enumerate(pts):
            r = {"id": rid if n == 0 else f"{rid}.{n}", "type": "keypointlabels",
                 "from_name": names.get("keypointlabels", "keypoint"), "to_name": to, "original_width": W,
                 "original_height": H, "image_rotation": 0,
                 "value": {"x": p[0] * px, "y": p[1] * py, "width": 0.5, "keypointlabels": [s.label]}}  # fmt: skip
            if n and k == "skeleton":
                r["parentID"] = rid
            out.append(r)
        return out
    else:
        report.drop(f"{k}s not representable in Label Studio")
        return []
    v[t] = [s.label]
    return [{"id": rid, "type": t, "from_name": names.get(t, _FROM[t]), "to_name": to, "original_width": W,
             "original_height": H, "image_rotation": 0, "value": v}]  # fmt: skip


def dataset_to_labelstudio(ds: Dataset, report: Report, *, url_prefix: str = "") -> list[dict]:
    """Items -> Label Studio tasks; manual shapes in ``annotations``, ``model:*`` ones in ``predictions``."""
    info = ds.info.get("labelstudio", {})
    names, to, dkey = info.get("from_names") or {}, info.get("to_name") or "image", info.get("data_key") or "image"
    tasks = []
    for i, item in enumerate(ds.items):
        W, H = item.width, item.height
        if (not W or not H) and item.image is not None and Path(item.image).is_file():
            from PIL import Image

            with Image.open(item.image) as im:
                W, H = im.size
        lsm = item.metadata.get("labelstudio") or {}
        data = dict(lsm.get("data") or {dkey: url_prefix + item.name})
        buckets: dict[str, list[Shape]] = {}
        for s in item.shapes:
            src = s.source if s.source and s.source.startswith("model:") else "manual"
            if src == "manual" and s.source not in ("manual", "", None):
                report.drop("sources other than manual and model:* written as manual")
            buckets.setdefault(src, []).append(s)
        task = {"id": lsm.get("id") if lsm.get("id") is not None else i + 1, "data": data, "annotations": [], "predictions": []}
        if lsm.get("meta"):
            task["meta"] = lsm["meta"]
        for src, shapes in buckets.items():
            result, first_of_group, tags = [], {}, []
            for j, s in enumerate(shapes):
                if s.kind == "tag":
                    tags.append(s)
                    continue
                if not W or not H:
                    report.problem(f"{item.name}: image size unknown; shapes not written")
                    break
                rid = f"{i}-{j}"
                rs = _shape_results(s, rid, W, H, names, to, report)
                if not rs:
                    continue
                if s.group_id is not None:
                    parent = first_of_group.setdefault(s.group_id, rid)
                    if parent != rid:
                        rs[0]["parentID"] = parent
                if s.confidence is not None:
                    for r in rs:
                        r["score"] = s.confidence
                if s.z_order or s.track_id is not None:
                    report.drop("z-orders and track ids not representable")
                result += rs
                result += [x for a, v in s.attributes.items() if (x := _attr_result(a, v, rid, to))]
            if tags:
                result.append({"id": f"{i}-tags", "type": "choices", "from_name": names.get("choices", "choice"), "to_name": to,
                               "value": {"choices": [t.label for t in tags]}})  # fmt: skip
                if any(t.attributes for t in tags):
                    report.drop("tag attributes not representable")
            if src == "manual":
                for name, v in (lsm.get("classifications") or {}).items():
                    if (x := _attr_result(name, v, f"{i}-{name}", to)) is not None:
                        result.append(x)
                task["annotations"].append({"id": i + 1, "result": result, "was_cancelled": False, "ground_truth": False})
            else:
                pred = {"model_version": src[len("model:") :], "result": result}
                confs = [s.confidence for s in shapes]
                if confs and all(c is not None for c in confs):
                    pred["score"] = sum(confs) / len(confs)
                task["predictions"].append(pred)
        tasks.append(task)
    return tasks
