"""data.yaml: loading it (class names as a list or an ``{id: name}`` mapping, a dataset YAML found in
a folder) and making it on writing (split folders, names, ``nc``, and for pose ``kpt_shape``,
``flip_idx`` paired from left/right point names, ``kpt_names`` and ``kpt_edges``; other keys kept)."""

from __future__ import annotations

import re
from pathlib import Path

from limner.core.dataset import Dataset
from limner.formats.base import FormatError

_OWN_KEYS = {"path", "train", "val", "test", "minival", "names", "nc", "kpt_names", "kpt_edges", "download", "task"}


# -- I/O -------------------------------------------------------------------------------------------


def _load_yaml(path: Path) -> dict:
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark else None
        raise FormatError(path, f"not valid YAML: {e.problem}", line=line) from None
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise FormatError(path, f"not valid YAML: {e}") from None
    if not isinstance(doc, dict):
        raise FormatError(path, "a dataset YAML must be a mapping with train, val and names")
    return doc


def _names(doc: dict, path: Path) -> list[str]:
    names = doc.get("names")
    if isinstance(names, dict):
        try:
            ids = {int(k): str(v) for k, v in names.items()}
        except (TypeError, ValueError):
            raise FormatError(path, "names keys must be class ids (integers)", key="names") from None
        if any(i < 0 for i in ids):
            raise FormatError(path, "class ids must be >= 0", key="names")
        return [ids.get(i, f"class_{i}") for i in range(max(ids, default=-1) + 1)]
    if isinstance(names, list):
        return [str(n) for n in names]
    if names is None and isinstance(doc.get("nc"), int):
        return [f"class_{i}" for i in range(doc["nc"])]
    raise FormatError(path, "expected names as a list or an {id: name} mapping", key="names")


def _yaml_in(folder: Path) -> Path | None:
    p = folder / "data.yaml"
    if p.is_file():
        return p
    for y in sorted(folder.glob("*.y*ml")):
        try:
            head = y.read_bytes()[:4096].decode("utf-8", "replace")
        except OSError:
            continue
        if re.search(r"^names\s*:", head, re.M) and re.search(r"^(train|val)\s*:", head, re.M):
            return y
    return None


# -- dataset-level converters ----------------------------------------------------------------------


def _kpt_config(dataset: Dataset) -> tuple[int, int]:
    info = dataset.info.get("yolo") or {}
    k = next((len(lb.skeleton.points) for lb in dataset.schema if lb.skeleton is not None), None)
    ks = info.get("kpt_shape")
    if isinstance(ks, (list, tuple)) and len(ks) == 2 and ks[1] in (2, 3) and (k is None or ks[0] == k):
        return int(ks[0]), int(ks[1])
    if k is None:
        for it in dataset.items:
            for s in it.shapes:
                if s.kind == "skeleton":
                    return len(s.geometry["points"]), 3
        return 0, 3
    return k, 3


def _flip_idx(point_names: list[str]) -> list[int] | None:
    idx = {n.lower(): i for i, n in enumerate(point_names)}
    out, paired = list(range(len(point_names))), False
    for n, i in idx.items():
        for a, b in (("left", "right"), ("right", "left"), ("l_", "r_"), ("r_", "l_")):
            if a in n and n.replace(a, b) in idx:
                out[i] = idx[n.replace(a, b)]
                paired = True
                break
    return out if paired else None


def yolo_config(dataset: Dataset, *, task: str, splits: dict[str, str], names: list[str]) -> dict:
    """The data.yaml document: split folders, names as {id: name}, nc, pose keys, extra keys kept."""
    info = {k: v for k, v in (dataset.info.get("yolo") or {}).items() if k not in _OWN_KEYS}
    doc: dict = {"task": task}
    for k in ("train", "val", "test"):
        if k in splits:
            doc[k] = splits[k]
    doc.update({k: v for k, v in splits.items() if k not in doc})
    doc["nc"] = len(names)
    doc["names"] = dict(enumerate(names))
    if task == "pose":
        nk, nd = _kpt_config(dataset)
        info["kpt_shape"] = [nk, nd]
        fi = info.get("flip_idx")
        sk_labels = [(i, dataset.schema.get(n)) for i, n in enumerate(names)]
        sk_labels = [(i, lb) for i, lb in sk_labels if lb is not None and lb.skeleton is not None]
        if not (isinstance(fi, list) and len(fi) == nk):
            info.pop("flip_idx", None)
            fi = _flip_idx(sk_labels[0][1].skeleton.points) if sk_labels else None
            if fi is not None and len(fi) == nk:
                info["flip_idx"] = fi
        kn = {i: list(lb.skeleton.points) for i, lb in sk_labels if len(lb.skeleton.points) == nk}
        if kn:
            info["kpt_names"] = kn
        ke = {i: [list(e) for e in lb.skeleton.edges] for i, lb in sk_labels if lb.skeleton.edges}
        if ke:
            info["kpt_edges"] = ke
    else:
        for k in ("kpt_shape", "flip_idx"):
            info.pop(k, None)
    doc.update(info)
    return doc
