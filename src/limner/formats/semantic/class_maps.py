"""Class maps and shapes, shared by the four formats: mask PNGs read into arrays of label indices
and written back (palette, grey, 16-bit or RGB), ``masks_to_dataset`` making one mask shape per
class (and per Cityscapes instance) of each image, ``paint`` and ``dataset_to_masks`` rasterising an
item's shapes into a class map (and an instance map), label indices and colours on writing, image
sizes, and the images under a folder."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

import numpy as np

from limner.core import rle as _rle
from limner.core.dataset import Dataset, Item
from limner.core.geometry import rasterize
from limner.core.schema import Label
from limner.formats.base import FormatError, Report
from limner.formats.semantic.labels import _BACKGROUND_NAMES, _PALETTE, _hex, _rgb

_AREA_KINDS = ("box", "rotated_box", "polygon", "ellipse", "mask")
_PLURAL = {"box": "boxes", "rotated_box": "rotated boxes", "polygon": "polygons", "ellipse": "ellipses",
           "mask": "masks", "polyline": "polylines", "points": "points", "skeleton": "skeletons", "tag": "tags"}  # fmt: skip
_IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


# -- shared: PNGs, class maps, shapes --------------------------------------------------------------


def _load_png(path: Path, colors: dict[tuple, int] | None, void: int = 255) -> np.ndarray:
    """A mask PNG as an (h, w) int32 array: palette and grey PNGs give their values, RGB PNGs the
    index of each colour in ``colors`` (unknown colours: ``void``)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            if im.mode in ("P", "L", "I", "I;16", "I;16B", "1"):
                return np.asarray(im).astype(np.int32)
            rgb = np.asarray(im.convert("RGB"), dtype=np.int32)
    except OSError as e:
        raise FormatError(path, f"not a readable image: {e}") from None
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    uniq, inv = np.unique(packed, return_inverse=True)
    lut = np.array([(colors or {}).get(((u >> 16) & 255, (u >> 8) & 255, u & 255), void) for u in uniq.tolist()], np.int32)
    return lut[inv].reshape(packed.shape)


def _png(arr: np.ndarray, mode: str, palette: list[tuple[int, int, int]] | None = None) -> bytes:
    import io

    from PIL import Image

    if mode == "I;16":
        im = Image.fromarray(arr.astype(np.uint16))
    elif mode == "RGB":
        im = Image.fromarray(arr.astype(np.uint8), mode="RGB")
    else:
        im = Image.fromarray(arr.astype(np.uint8), mode="L")
        if mode == "P":
            im.putpalette([c for rgb in (palette or _PALETTE)[:256] for c in rgb])
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def _colorize(index_map: np.ndarray, colors: list[tuple[int, int, int]]) -> np.ndarray:
    lut = np.zeros((max(len(colors), int(index_map.max()) + 1), 3), np.uint8)
    lut[: len(colors)] = colors
    return lut[index_map]


def masks_to_dataset(
    records: Iterable[dict],
    *,
    labels: list[tuple[str, tuple | None]],
    report: Report,
    background: int | None = 0,
    keep_all_labels: bool = True,
    ignore: frozenset = frozenset(),
) -> Dataset:
    """Records -> Dataset. A record: ``{"name", "subset", "image", "width", "height", "file",
    "classes" ((h, w) array of label indices or None), "instances" (a Cityscapes instanceIds-style
    array: classId * 1000 + n, or None)}``; ``labels`` lists (name, colour) by index."""
    ds = Dataset()
    used: dict[str, None] = {}
    n_labels = len(labels)
    for r in records:
        item = Item(r["name"], r.get("width"), r.get("height"), subset=r.get("subset"), image=r.get("image"))
        cm, im = r.get("classes"), r.get("instances")
        if im is not None:
            inst_vals = np.unique(im[im >= 1000]).tolist()
            cm = np.where(im >= 1000, im // 1000, im)
        else:
            inst_vals = []
        if cm is not None:
            if item.width is None:
                item.height, item.width = cm.shape
            unknown = []
            for v in np.unique(cm).tolist():
                if v == background or v in ignore:
                    continue
                if not 0 <= v < n_labels or labels[v][0] is None:
                    unknown.append(v)
                    continue
                m = cm == v
                if inst_vals:
                    m &= im < 1000
                    if not m.any():
                        continue
                name = labels[v][0]
                used.setdefault(name, None)
                item.shapes.append(_mask_shape(name, m))
            group = 0
            for v in inst_vals:
                c = v // 1000
                if c == background:
                    continue
                if not 0 <= c < n_labels or labels[c][0] is None:
                    unknown.append(c)
                    continue
                group += 1
                name = labels[c][0]
                used.setdefault(name, None)
                item.shapes.append(_mask_shape(name, im == v, group))
            if unknown:
                where = r.get("file") or r["name"]
                if any(v < 0 for v in unknown):
                    report.problem(f"{where}: pixels of colours not in the label map; left out")
                vals = sorted({v for v in unknown if v >= 0})
                if vals:
                    report.problem(f"{where}: pixel values {vals} have no label; left out")
        report.shapes += len(item.shapes)
        ds.items.append(item)
    for i, (name, color) in enumerate(labels):
        if name is None or i == background or (not keep_all_labels and name not in used):
            continue
        if name not in ds.schema:
            ds.schema.add(Label(name, _hex(color) if color else _hex(_PALETTE[i % 256]), kinds=["mask"]))
    report.items = len(ds.items)
    return ds


def _mask_shape(label: str, m: np.ndarray, group: int | None = None):
    from limner.core.shapes import Shape

    return Shape("mask", label, {"rle": _rle.encode(m)}, group_id=group)


def paint(
    item: Item,
    height: int,
    width: int,
    index_of: dict[str, int],
    report: Report,
    *,
    instance_of: Callable | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Rasterise the item's area shapes in z-order into a class map (label indices, 0 elsewhere)
    and, with ``instance_of(shape) -> int | None``, an instance map (Cityscapes instance values,
    the class index where ``instance_of`` gives None). Counts what cannot be painted."""
    cls = np.zeros((height, width), np.int32)
    inst = np.zeros((height, width), np.int32) if instance_of else None
    painted = np.zeros((height, width), bool)
    area = []
    for s in item.shapes:
        if s.kind not in _AREA_KINDS:
            report.drop(f"{_PLURAL[s.kind]} not representable")
            continue
        report.unrepresentable(s, "attributes", "track_id", "source", "confidence")
        area.append(s)
    area.sort(key=lambda s: s.z_order)
    for s in area:
        if s.label not in index_of:
            report.drop("shapes of labels beyond the 254 a mask holds left out")
            continue
        if s.kind == "mask" and list(s.geometry["rle"]["size"]) != [height, width]:
            size = s.geometry["rle"]["size"]
            report.problem(f"{item.name}: a mask of {size} on an image of {height}x{width} was left out")
            continue
        m = rasterize(s.kind, s.geometry, height, width).astype(bool)
        if not m.any():
            continue
        k = index_of[s.label]
        if k == 0:
            report.drop("shapes of the background label painted as background")
        v = None
        if inst is not None:
            v = instance_of(s)
            v = k if v is None else v
        under = painted[m]
        if under.any():  # hidden: painted before with another class (or instance)
            other = cls[m][under] != k
            if inst is not None:
                other |= inst[m][under] != v
            if other.any():
                report.drop("shapes partly hidden by overlapping shapes")
        painted |= m
        cls[m] = k
        if inst is not None:
            inst[m] = v
    return cls, inst


def _indices(names: list[str], report: Report, limit: int = 254) -> dict[str, int]:
    """Background names take 0 (the first one met), the other labels 1, 2, ... in order."""
    out, i = {}, 1
    for n in names:
        if n.lower() in _BACKGROUND_NAMES and 0 not in out.values():
            out[n] = 0
            continue
        if i > limit:
            report.drop(f"labels beyond the {limit} a mask holds left out")
            continue
        out[n] = i
        i += 1
    return out


def _colors(dataset: Dataset, index_of: dict[str, int], report: Report) -> list[tuple[int, int, int]]:
    """Colour per index: the labels' own (VOC's palette for labels not in the schema), or VOC's
    palette for all when two labels would share a colour or a label is black."""
    n = max(index_of.values(), default=0) + 1
    out = list(_PALETTE[:n])
    for name, i in index_of.items():
        lb = dataset.schema.get(name)
        if i and lb is not None:
            out[i] = _rgb(lb.color)
    real = [out[i] for i in set(index_of.values()) if i]
    if len(set(real)) == len(real) and (0, 0, 0) not in real:
        return out
    report.problem("label colours are not distinct; masks use VOC's palette")
    return list(_PALETTE[:n])


def _size(item: Item) -> tuple[int, int] | None:
    """(height, width) from the item, its image header or one of its masks."""
    if item.width and item.height:
        return item.height, item.width
    if item.image is not None and Path(item.image).is_file():
        from PIL import Image

        try:
            with Image.open(item.image) as im:
                return im.size[1], im.size[0]
        except OSError:
            pass
    for s in item.shapes:
        if s.kind == "mask":
            h, w = s.geometry["rle"]["size"]
            return h, w
    return None


def _images(folder: Path) -> dict[str, Path]:
    """Images under ``folder`` by relative path without suffix."""
    out: dict[str, Path] = {}
    if folder.is_dir():
        for dirpath, dirs, files in os.walk(folder):
            dirs.sort()
            for f in sorted(files):
                if f.lower().endswith(_IMAGE_EXTS):
                    p = Path(dirpath, f)
                    out.setdefault(p.relative_to(folder).with_suffix("").as_posix(), p)
    return out


def _subset_name(folder: str) -> str | None:
    return None if folder == "default" else folder


def _rel_name(item: Item) -> str:
    """The item's name without a leading folder named like its subset ("default" for none)."""
    p = PurePosixPath(item.name.replace("\\", "/").lstrip("/"))
    if len(p.parts) > 1 and p.parts[0] == (item.subset or "default"):
        p = PurePosixPath(*p.parts[1:])
    return p.as_posix()


def _item_checks(item: Item, report: Report) -> tuple[int, int] | None:
    size = _size(item)
    if size is None:
        n = sum(1 for s in item.shapes if s.kind in _AREA_KINDS)
        if n:
            report.drop("shapes of images of unknown size dropped", n)
    return size


def dataset_to_masks(
    dataset: Dataset, *, report: Report, index_of: dict[str, int], instance_of: Callable | None = None
) -> Iterable[tuple[Item, np.ndarray | None, np.ndarray | None]]:
    """Yield ``(item, class map, instance map)`` per item (None maps for items of unknown size)."""
    for item in dataset.items:
        size = _item_checks(item, report)
        report.items += 1
        report.shapes += len(item.shapes)
        if size is None:
            report.problem(f"{item.name}: size unknown (no width/height, no image, no mask); no mask written")
            yield item, None, None
            continue
        cls, inst = paint(item, size[0], size[1], index_of, report, instance_of=instance_of)
        yield item, cls, inst
