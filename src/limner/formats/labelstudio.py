"""Label Studio JSON export: a list of tasks with annotations and predictions (pre-labels).

A task is ``{"id", "data": {"image": url}, "annotations": [{"result": [...]}], "predictions":
[{"model_version", "score", "result": [...]}]}``. A result is one region (or one classification):
``{"id", "type", "from_name", "to_name", "original_width", "original_height", "value", "score"?,
"parentID"?}`` with ``value`` in percent of the original image size:

- ``rectanglelabels`` {x, y, width, height, rotation}: (x, y) is the top-left corner and the box
  turns ``rotation`` degrees clockwise about that corner (Label Studio's converter computes the
  corners as (x + w cos, y + w sin), ...); a turned box becomes a centre-based ``rotated_box``.
- ``polygonlabels`` {points: [[x, y], ...]}, ``keypointlabels`` {x, y, width}, ``ellipselabels``
  {x, y (centre), radiusX, radiusY, rotation}, ``brushlabels`` {format: "rle", rle: [bytes]} -- Label
  Studio's brush RLE (thi-ng rle-pack over RGBA pixels, the mask is the alpha channel), decoded and
  encoded here as label-studio-converter's ``brush.py`` does.
- ``choices`` without a region -> tags; ``choices`` / ``textarea`` / ``number`` / ``rating`` sharing a
  region's ``id`` -> that shape's attributes (keyed by ``from_name``).
- Annotations are ``source="manual"``; predictions ``source="model:<model_version>"`` with the result's
  (else the prediction's) ``score`` as confidence. ``parentID`` (and ``relation`` results) -> group ids.
"""

from __future__ import annotations

import math
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import numpy as np

from limner.core import rle as _rle
from limner.core.dataset import Dataset, Item
from limner.core.schema import Attribute
from limner.core.shapes import Shape
from limner.formats.base import FormatError, Report, atomic_write, copy_images, load_json, no_gc
from limner.formats.registry import Format, register

__all__ = ["brush_decode", "brush_encode", "dataset_to_labelstudio", "detect", "label_config", "labelstudio_to_dataset",
           "read", "write"]  # fmt: skip

_GEOM = {"rectanglelabels": "rectangle", "rectangle": "rectangle", "polygonlabels": "polygon", "polygon": "polygon",
         "keypointlabels": "keypoint", "keypoint": "keypoint", "ellipselabels": "ellipse", "ellipse": "ellipse",
         "brushlabels": "brush", "brush": "brush"}  # fmt: skip
_FROM = {"rectanglelabels": "label", "polygonlabels": "polygon", "keypointlabels": "keypoint", "ellipselabels": "ellipse",
         "brushlabels": "brush", "choices": "choice"}  # fmt: skip


# ---------------------------------------------------------------------------------------- brush RLE


def brush_decode(rle: list[int], height: int, width: int) -> np.ndarray:
    """Label Studio brush RLE -> (height, width) uint8 mask of 0/1 (alpha channel > 0).

    The stream (thi-ng rle-pack): 32 bits value count, 5 bits word size - 1, four 4-bit run-size
    widths - 1; then blocks of [1 bit repeat?][2 bits width index][count - 1][word(s)]."""
    data = bytes(rle) + b"\0" * 9
    frm = int.from_bytes
    head = frm(data[:8], "big")
    num, word = head >> 32, ((head >> 27) & 31) + 1
    sizes = [((head >> s) & 15) + 1 for s in (23, 19, 15, 11)]
    if num != height * width * 4:
        raise ValueError(f"brush rle holds {num} values, a {width}x{height} RGBA image has {height * width * 4}")
    end, wmask = 8 * len(rle), (1 << word) - 1
    pos, i = 53, 0
    values, lengths = [], []
    add_v, add_l = values.append, lengths.append
    while i < num:
        if pos >= end:
            raise ValueError("brush rle is truncated")
        b, off = pos >> 3, pos & 7
        win = frm(data[b : b + 8], "big")  # flag, width index, count and the first word fit in 64 bits
        n = sizes[(win >> (61 - off)) & 3]
        shift = 61 - off - n
        count = ((win >> shift) & ((1 << n) - 1)) + 1
        add_v((win >> (shift - word)) & wmask)
        pos += 3 + n + word
        if count > num - i:
            count = num - i
        if (win >> (63 - off)) & 1:
            add_l(count)
        else:
            add_l(1)
            for _ in range(count - 1):
                b, off = pos >> 3, pos & 7
                add_v((frm(data[b : b + 5], "big") >> (40 - off - word)) & wmask)
                add_l(1)
                pos += word
        i += count
    out = np.repeat(np.asarray(values, np.uint8 if word <= 8 else np.uint32), lengths)
    return (out[3::4] > 0).astype(np.uint8).reshape(height, width)


def brush_encode(mask: np.ndarray) -> list[int]:
    """(height, width) mask -> Label Studio brush RLE (RGBA 255 inside, 0 outside, as brush.mask2rle)."""
    flat = (np.asarray(mask).ravel() != 0).astype(np.uint8)
    n = flat.size * 4
    out, acc, nacc = bytearray(), 0, 0

    def put(v: int, bits: int) -> None:
        nonlocal acc, nacc
        acc = (acc << bits) | v
        nacc += bits
        while nacc >= 8:
            nacc -= 8
            out.append((acc >> nacc) & 0xFF)
        acc &= (1 << nacc) - 1

    put(n, 32)
    put(7, 5)
    for s in (3, 4, 8, 16):
        put(s - 1, 4)
    if n:  # every channel of a pixel holds the same value, so runs of pixels x 4 are runs of values
        starts = np.concatenate(([0], np.flatnonzero(flat[1:] != flat[:-1]) + 1))
        lengths = np.diff(np.concatenate((starts, [flat.size]))) * 4
        for start, length in zip(starts.tolist(), lengths.tolist()):
            v = 255 if flat[start] else 0
            while length > 0:
                take = min(length, 1 << 16)
                idx, bits = (0, 3) if take <= 8 else (1, 4) if take <= 16 else (2, 8) if take <= 256 else (3, 16)
                put(1, 1), put(idx, 2), put(take - 1, bits), put(v, 8)
                length -= take
    if nacc:
        put(0, 8 - nacc)
    return list(out)


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


def _value_of(r: dict):
    v = r.get("value") or {}
    t = r.get("type")
    if t == "choices" or t == "taxonomy":
        c = v.get(t) or []
        c = ["/".join(map(str, x)) if isinstance(x, list) else x for x in c]
        if len(c) == 1:
            return {"true": True, "false": False}.get(c[0], c[0])
        return ",".join(map(str, c))
    if t == "textarea":
        text = v.get("text") or []
        return text if isinstance(text, str) else "\n".join(map(str, text))
    if t in ("number", "rating"):
        return v.get(t)
    return v.get(t) if t in v else None


class _Groups:
    def __init__(self):
        self.parent: dict[str, str] = {}

    def find(self, a: str) -> str:
        while self.parent.get(a, a) != a:
            a = self.parent[a]
        return a

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


def _results(results: list, source: str, score, ds: Dataset, report: Report, file: Path, key: str, state: dict):
    """The results of one annotation or prediction -> (shapes, image-level classifications)."""
    if not isinstance(results, list):
        raise FormatError(file, "result must be a list", key=f"{key}.result")
    by_id: dict[str, list[tuple[int, dict]]] = {}
    groups, size = _Groups(), None
    for n, r in enumerate(results):
        if not isinstance(r, dict):
            raise FormatError(file, "a result must be an object", key=f"{key}.result[{n}]")
        if r.get("type") == "relation":
            if r.get("from_id") and r.get("to_id"):
                groups.union(str(r["from_id"]), str(r["to_id"]))
            continue
        rid = str(r.get("id") or f"_{n}")
        by_id.setdefault(rid, []).append((n, r))
        if r.get("parentID"):
            groups.union(str(r["parentID"]), rid)
        if r.get("original_width") and r.get("original_height") and size is None:
            try:
                size = (int(r["original_width"]), int(r["original_height"]))
            except (TypeError, ValueError):
                raise FormatError(file, "original_width and original_height must be integers", key=f"{key}.result[{n}]") from None
    shapes, classes, gid = [], {}, {}
    sizes: dict[str, int] = {}
    for rid in by_id:
        sizes[groups.find(rid)] = sizes.get(groups.find(rid), 0) + 1
    for rid, rs in by_id.items():
        geo = [(n, r) for n, r in rs if r.get("type") in _GEOM]
        labels = [x for _, r in rs for t in (r.get("type"),) if t and (t.endswith("labels") or t == "labels")
                  for x in ((r.get("value") or {}).get(t) or [])]  # fmt: skip
        others = [(n, r) for n, r in rs if r.get("type") not in _GEOM and r.get("type") != "labels"]
        if not geo:
            for _, r in others:
                state["from"].setdefault(r.get("type"), r.get("from_name"))
                if r.get("type") in ("choices", "taxonomy"):
                    v = (r.get("value") or {}).get(r["type"]) or []
                    for c in v:
                        t = "/".join(map(str, c)) if isinstance(c, list) else str(c)
                        ds.ensure_label(t)
                        shapes.append(Shape("tag", t, {}, {}, 0, None, None, source, score))
                else:
                    classes[r.get("from_name") or r.get("type")] = _value_of(r)
            continue
        n, r = geo[0]
        where = f"{key}.result[{n}]"
        t = r["type"]
        state["from"].setdefault(t if t.endswith("labels") else t + "labels", r.get("from_name"))
        state.setdefault("to_name", r.get("to_name"))
        if not labels:
            report.drop("regions without a label skipped")
            continue
        if len(set(labels)) > 1:
            report.drop("extra labels on a region dropped")
        kind, geom = _geometry(r, where, file, report)
        if kind is None:
            continue
        label = str(labels[0])
        lab = ds.schema.get(label)
        if lab is None:
            ds.ensure_label(label)
            lab = ds.schema.get(label)
        attrs = {}
        for _, o in others:
            name = o.get("from_name") or o.get("type")
            attrs[name] = _value_of(o)
            if not any(a.name == name for a in lab.attributes):
                v = attrs[name]
                kind_a = "checkbox" if isinstance(v, bool) else "number" if isinstance(v, (int, float)) else "text"
                lab.attributes.append(Attribute(name, kind_a))
        conf = r.get("score", score)
        if conf is not None and not (isinstance(conf, (int, float)) and 0 <= conf <= 1):
            report.drop("scores outside [0, 1] not kept as confidence")
            conf = None
        root = groups.find(rid)
        g = None
        if sizes.get(root, 0) > 1:
            g = gid.setdefault(root, state["next_group"])
            if g == state["next_group"]:
                state["next_group"] += 1
        shapes.append(Shape(kind, label, geom, attrs, 0, g, None, source, float(conf) if conf is not None else None))
    return shapes, classes, size


def _geometry(r: dict, where: str, file: Path, report: Report):
    v = r.get("value")
    try:
        W, H = float(r["original_width"]), float(r["original_height"])
        if not isinstance(v, dict) or W <= 0 or H <= 0:
            raise KeyError("value")
        t = _GEOM[r["type"]]
        if t == "rectangle":
            x, y = v["x"] * W / 100, v["y"] * H / 100
            w, h = v["width"] * W / 100, v["height"] * H / 100
            if w <= 0 or h <= 0:
                report.drop("rectangles with no area skipped")
                return None, None
            rot = float(v.get("rotation") or 0)
            if rot % 360 == 0:
                return "box", {"x": x, "y": y, "w": w, "h": h}
            c, s = math.cos(math.radians(rot)), math.sin(math.radians(rot))
            return "rotated_box", {"cx": x + w / 2 * c - h / 2 * s, "cy": y + w / 2 * s + h / 2 * c, "w": w, "h": h,
                                   "angle": rot}  # fmt: skip
        if t == "polygon":
            pts = [[p[0] * W / 100, p[1] * H / 100] for p in v["points"]]
            if len(pts) < 3:
                report.drop("polygons with fewer than 3 points skipped")
                return None, None
            return "polygon", {"points": pts, "holes": []}
        if t == "keypoint":
            return "points", {"points": [[v["x"] * W / 100, v["y"] * H / 100]]}
        if t == "ellipse":
            rx, ry = v["radiusX"] * W / 100, v["radiusY"] * H / 100
            if rx <= 0 or ry <= 0:
                report.drop("ellipses with no area skipped")
                return None, None
            return "ellipse", {"cx": v["x"] * W / 100, "cy": v["y"] * H / 100, "rx": rx, "ry": ry,
                               "angle": float(v.get("rotation") or 0)}  # fmt: skip
        if v.get("format", "rle") != "rle" or not isinstance(v.get("rle"), list):
            report.drop("brush regions not in rle format skipped")
            return None, None
        return "mask", {"rle": _rle.encode(brush_decode(v["rle"], int(H), int(W)))}
    except KeyError as e:
        raise FormatError(file, f"{r.get('type')} result is missing {e.args[0]}", key=where) from None
    except (TypeError, ValueError, IndexError) as e:
        raise FormatError(file, f"{r.get('type')} result has an invalid value: {e}", key=where) from None


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


def read(path: Path, *, all_annotations: bool = False, image_root: Path | None = None, **options) -> tuple[Dataset, Report]:
    """Read a Label Studio JSON export (a file, or every Label Studio JSON file in a folder)."""
    path = Path(path).absolute()
    files = [path] if path.is_file() else [p for p in sorted(path.glob("*.json")) if _looks_ls(p)]
    if not files:
        raise FormatError(path, "no Label Studio JSON export (a list of tasks with data) here")
    ds, report = Dataset(), Report(format="Label Studio")
    for f in files:
        tasks = load_json(f)
        with no_gc():
            labelstudio_to_dataset(tasks, ds, report, file=f, all_annotations=all_annotations,
                                   image_root=Path(image_root).absolute() if image_root else None)  # fmt: skip
    report.items = len(ds.items)
    report.shapes = sum(len(i.shapes) for i in ds.items)
    return ds, report


# ---------------------------------------------------------------------------------------- writing


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


def label_config(ds: Dataset) -> str:
    """A Label Studio labeling config (XML) with one control per kind the dataset uses."""
    from xml.sax.saxutils import quoteattr

    info = ds.info.get("labelstudio", {})
    names, to = info.get("from_names") or {}, info.get("to_name") or "image"
    kinds, region_labels, tag_labels, attrs = set(), {}, {}, {}
    for item in ds.items:
        for s in item.shapes:
            kinds.add(s.kind)
            (tag_labels if s.kind == "tag" else region_labels)[s.label] = True
            for a, v in s.attributes.items():
                if s.kind != "tag":
                    attrs.setdefault(a, v)
    color = {lb.name: lb.color for lb in ds.schema}
    tags = {"box": "RectangleLabels", "rotated_box": "RectangleLabels", "polygon": "PolygonLabels", "points": "KeyPointLabels",
            "skeleton": "KeyPointLabels", "ellipse": "EllipseLabels", "mask": "BrushLabels"}  # fmt: skip
    labels = "".join(f"<Label value={quoteattr(n)} background={quoteattr(color.get(n, '#1f77b4'))}/>" for n in region_labels)
    out = [f'<View>\n  <Image name={quoteattr(to)} value="${info.get("data_key") or "image"}"/>']
    for tag in dict.fromkeys(tags[k] for k in sorted(kinds) if k in tags):
        t = tag.lower()
        extra = ' canRotate="true"' if tag == "RectangleLabels" else ""
        out.append(f"  <{tag} name={quoteattr(names.get(t, _FROM[t]))} toName={quoteattr(to)}{extra}>{labels}</{tag}>")
    if tag_labels:
        choices = "".join(f"<Choice value={quoteattr(n)}/>" for n in tag_labels)
        name = quoteattr(names.get("choices", "choice"))
        out.append(f'  <Choices name={name} toName={quoteattr(to)} choice="multiple">{choices}</Choices>')
    for a, v in attrs.items():
        common = f"name={quoteattr(a)} toName={quoteattr(to)} perRegion=\"true\""
        if isinstance(v, bool):
            out.append(f'  <Choices {common}><Choice value="true"/><Choice value="false"/></Choices>')
        elif isinstance(v, (int, float)):
            out.append(f"  <Number {common}/>")
        else:
            out.append(f"  <TextArea {common}/>")
    return "\n".join(out) + "\n</View>\n"


def write(dataset: Dataset, path: Path, *, include_images: bool = False, url_prefix: str = "", **options) -> Report:
    """Write ``tasks.json`` (and ``label_config.xml``) in ``path``, or the file ``path`` if it ends in .json."""
    import orjson

    path = Path(path)
    report = Report(format="Label Studio")
    target = path if path.suffix.lower() == ".json" else path / "tasks.json"
    atomic_write(target, orjson.dumps(dataset_to_labelstudio(dataset, report, url_prefix=url_prefix), option=orjson.OPT_INDENT_2))
    if path.suffix.lower() != ".json":
        atomic_write(path / "label_config.xml", label_config(dataset))
    if include_images:
        copy_images(dataset.items, lambda item: target.parent / item.name, report)
    report.items = len(dataset.items)
    report.shapes = sum(len(i.shapes) for i in dataset.items)
    return report


# ---------------------------------------------------------------------------------------- detection


def _looks_ls(p: Path) -> int:
    try:
        with open(p, "rb") as f:
            head = f.read(4096)
    except OSError:
        return 0
    if not head.lstrip().startswith(b"["):
        return 0
    if b'"data"' in head and (b'"annotations"' in head or b'"predictions"' in head or b'"result"' in head):
        return 90
    if b'"result"' in head and (b'"from_name"' in head or b'"annotations"' in head):
        return 90
    return 60 if b'"data"' in head else 0


def detect(path: Path) -> int:
    path = Path(path)
    if path.is_file():
        return _looks_ls(path) if path.suffix.lower() == ".json" else 0
    if path.is_dir():
        return max((_looks_ls(p) - 5 for p in sorted(path.glob("*.json"))[:20] if _looks_ls(p)), default=0)
    return 0


register(Format("labelstudio", "Label Studio JSON export (tasks with annotations and predictions)", read, write, detect))
