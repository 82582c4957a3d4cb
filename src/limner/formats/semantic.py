"""Semantic-segmentation masks: one class map (a PNG) per image, in four layouts.

"semantic_indexed" and "semantic_rgb" (datumaro's ``common_semantic_segmentation``)::

    dataset_meta.json     {"label_map": {"0": "background", "1": "cat", ...},
                           "segmentation_colors": [[0, 0, 0], [r, g, b], ...], "background_label": "0"}
    images/<name>         the images (copied with include_images=True)
    masks/<name>.png      "semantic_indexed": a palette PNG whose pixel values are the label_map
                          keys; "semantic_rgb": an RGB PNG painted with segmentation_colors

  With subsets, each one is a folder ``<subset>/`` holding the three. The reader takes either kind
  of PNG (palette or grey: values; RGB: colours); value 255 is void when the label map has no 255.

"cityscapes"::

    gtFine/<split>/<city>/<stem>_gtFine_labelIds.png      class ids (uint8)
    gtFine/<split>/<city>/<stem>_gtFine_instanceIds.png   classId * 1000 + n for instances, else the
                                                          class id (uint16)
    gtFine/<split>/<city>/<stem>_gtFine_color.png         the class colours (RGB)
    gtFine/<split>/<city>/<stem>_gtFine_labelTrainIds.png trainIds, 255 ignored (official table only)
    leftImg8bit/<split>/<city>/<stem>_leftImg8bit.png     the images
    label_colors.txt                                      "r g b name" per id, for a non-Cityscapes
                                                          label set (datumaro's extension)

  The standard table of cityscapesScripts' ``labels.py`` is embedded: 34 classes with ids 0-33,
  trainIds and colours ("license plate", id -1, is left out). Reading takes the first of
  instanceIds, labelIds, labelTrainIds, color that exists for an image.

"camvid" (SegNet's CamVid layout)::

    label_colors.txt      "R G B name" per class, line order = index (CamVid's 32 classes when absent)
    <split>.txt           "/<split>/<image> /<split>annot/<mask>" per image
    <split>/<image>       the images
    <split>annot/<mask>   RGB masks in the label colours (grey or palette masks: the index)

Reading. Every class present in an image becomes one mask shape (pixels of the background, index
0, void and unknown values make none; unknown values are reported). Cityscapes' instance ids add one
mask per instance, its pixels taken from its class's mask, with group ids 1, 2, ... per image.
Item names are image paths relative to the images folder (``train/aachen/aachen_..._leftImg8bit.png``
for Cityscapes, ``train/0001TP_006690.png`` for CamVid); a split folder named ``default`` means no
subset.

Writing. Boxes, rotated boxes, polygons, ellipses and masks are rasterised
(``core.geometry.rasterize``) in z-order, later shapes over earlier ones, into one class map per
image; "shapes partly hidden by overlapping shapes" counts shapes painted over pixels of another
label (or Cityscapes instance). Polylines, points,
skeletons and tags cannot be painted and are counted as dropped, as are attributes, track ids,
sources and confidences. Index 0 is the background (a label named "background", CamVid's "Void" or
Cityscapes' "unlabeled" takes it; its shapes are painted as background and so not read back,
counted). Labels get indices in schema order from 1 (254 at most; more are counted and left
unpainted; the background names are matched whatever their case). Colours are the labels' own
when they are distinct and not black (else VOC's palette, reported);
CamVid's and Cityscapes' own labels keep their standard colours and ids. Cityscapes instances: every
shape with a group_id (one instance per group and label) and every shape of Cityscapes' instance
classes (person, rider, car, truck, bus, caravan, trailer, train, motorcycle, bicycle). Images of
unknown size (no width/height, no readable image, no mask) get no PNG, reported.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

import numpy as np

from limner.core import rle as _rle
from limner.core.dataset import Dataset, Item
from limner.core.geometry import rasterize
from limner.core.schema import Label
from limner.formats.base import FormatError, Report, atomic_copy, atomic_write, load_json
from limner.formats.registry import Format, register
from limner.formats.voc import voc_palette

__all__ = [
    "CAMVID_LABELS",
    "CITYSCAPES_LABELS",
    "dataset_to_masks",
    "detect_camvid",
    "detect_cityscapes",
    "detect_semantic",
    "masks_to_dataset",
    "paint",
    "read_camvid",
    "read_cityscapes",
    "read_semantic",
    "write_camvid",
    "write_cityscapes",
    "write_semantic",
]

# (name, id, trainId, hasInstances, colour): cityscapesScripts' helpers/labels.py
CITYSCAPES_LABELS = (
    ("unlabeled", 0, 255, False, (0, 0, 0)),
    ("ego vehicle", 1, 255, False, (0, 0, 0)),
    ("rectification border", 2, 255, False, (0, 0, 0)),
    ("out of roi", 3, 255, False, (0, 0, 0)),
    ("static", 4, 255, False, (0, 0, 0)),
    ("dynamic", 5, 255, False, (111, 74, 0)),
    ("ground", 6, 255, False, (81, 0, 81)),
    ("road", 7, 0, False, (128, 64, 128)),
    ("sidewalk", 8, 1, False, (244, 35, 232)),
    ("parking", 9, 255, False, (250, 170, 160)),
    ("rail track", 10, 255, False, (230, 150, 140)),
    ("building", 11, 2, False, (70, 70, 70)),
    ("wall", 12, 3, False, (102, 102, 156)),
    ("fence", 13, 4, False, (190, 153, 153)),
    ("guard rail", 14, 255, False, (180, 165, 180)),
    ("bridge", 15, 255, False, (150, 100, 100)),
    ("tunnel", 16, 255, False, (150, 120, 90)),
    ("pole", 17, 5, False, (153, 153, 153)),
    ("polegroup", 18, 255, False, (153, 153, 153)),
    ("traffic light", 19, 6, False, (250, 170, 30)),
    ("traffic sign", 20, 7, False, (220, 220, 0)),
    ("vegetation", 21, 8, False, (107, 142, 35)),
    ("terrain", 22, 9, False, (152, 251, 152)),
    ("sky", 23, 10, False, (70, 130, 180)),
    ("person", 24, 11, True, (220, 20, 60)),
    ("rider", 25, 12, True, (255, 0, 0)),
    ("car", 26, 13, True, (0, 0, 142)),
    ("truck", 27, 14, True, (0, 0, 70)),
    ("bus", 28, 15, True, (0, 60, 100)),
    ("caravan", 29, 255, True, (0, 0, 90)),
    ("trailer", 30, 255, True, (0, 0, 110)),
    ("train", 31, 16, True, (0, 80, 100)),
    ("motorcycle", 32, 17, True, (0, 0, 230)),
    ("bicycle", 33, 18, True, (119, 11, 32)),
)

CAMVID_LABELS = (
    ("Void", (0, 0, 0)), ("Animal", (64, 128, 64)), ("Archway", (192, 0, 128)), ("Bicyclist", (0, 128, 192)),
    ("Bridge", (0, 128, 64)), ("Building", (128, 0, 0)), ("Car", (64, 0, 128)), ("CartLuggagePram", (64, 0, 192)),
    ("Child", (192, 128, 64)), ("Column_Pole", (192, 192, 128)), ("Fence", (64, 64, 128)),
    ("LaneMkgsDriv", (128, 0, 192)), ("LaneMkgsNonDriv", (192, 0, 64)), ("Misc_Text", (128, 128, 64)),
    ("MotorcycleScooter", (192, 0, 192)), ("OtherMoving", (128, 64, 64)), ("ParkingBlock", (64, 192, 128)),
    ("Pedestrian", (64, 64, 0)), ("Road", (128, 64, 128)), ("RoadShoulder", (128, 128, 192)),
    ("Sidewalk", (0, 0, 192)), ("SignSymbol", (192, 128, 128)), ("Sky", (128, 128, 128)),
    ("SUVPickupTruck", (64, 128, 192)), ("TrafficCone", (0, 0, 64)), ("TrafficLight", (0, 64, 64)),
    ("Train", (192, 64, 128)), ("Tree", (128, 128, 0)), ("Truck_Bus", (192, 128, 192)), ("Tunnel", (64, 0, 64)),
    ("VegetationMisc", (192, 192, 0)), ("Wall", (64, 192, 0)),
)  # fmt: skip

_PALETTE = voc_palette()
_AREA_KINDS = ("box", "rotated_box", "polygon", "ellipse", "mask")
_PLURAL = {"box": "boxes", "rotated_box": "rotated boxes", "polygon": "polygons", "ellipse": "ellipses",
           "mask": "masks", "polyline": "polylines", "points": "points", "skeleton": "skeletons", "tag": "tags"}  # fmt: skip
_IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
_BACKGROUND_NAMES = ("background", "_background_", "unlabeled", "void")
META = "dataset_meta.json"


def _hex(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _norm(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


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


def _labels_of(dataset: Dataset) -> list[str]:
    names = [lb.name for lb in dataset.schema]
    seen = set(names)
    for it in dataset.items:
        for s in it.shapes:
            if s.label not in seen:
                seen.add(s.label)
                names.append(s.label)
    return names


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


# -- semantic_indexed / semantic_rgb ---------------------------------------------------------------


def _read_meta(path: Path) -> tuple[list[tuple[str | None, tuple | None]], int]:
    doc = load_json(path)
    lm = doc.get("label_map") if isinstance(doc, dict) else None
    if not isinstance(lm, dict) or not lm:
        raise FormatError(path, "expected a label_map object {\"0\": \"background\", ...}", key="label_map")
    try:
        pairs = sorted((int(k), str(v)) for k, v in lm.items())
    except ValueError:
        raise FormatError(path, "label_map keys must be integers", key="label_map") from None
    colors = doc.get("segmentation_colors") or []
    n = pairs[-1][0] + 1
    if pairs[0][0] < 0 or n > 65536:
        raise FormatError(path, "label_map keys must be from 0 to 65535", key="label_map")
    out: list[tuple[str | None, tuple | None]] = [(None, None)] * n
    for k, name in pairs:
        c = colors[k] if k < len(colors) else None
        if c is not None and (not isinstance(c, list) or len(c) != 3 or not all(isinstance(v, int) for v in c)):
            raise FormatError(path, f"colour {k} must be [r, g, b], got {c!r}", key=f"segmentation_colors[{k}]")
        out[k] = (name, tuple(c) if c else None)
    bg = doc.get("background_label", "0")
    return out, int(bg) if str(bg).lstrip("-").isdigit() else 0


def _semantic_roots(root: Path) -> list[tuple[Path, str | None]]:
    if (root / META).is_file() and (root / "masks").is_dir():
        return [(root, None)]
    return [
        (d, _subset_name(d.name))
        for d in sorted(p for p in root.iterdir() if p.is_dir())
        if (d / META).is_file() and (d / "masks").is_dir()
    ]


def read_semantic(path: Path, **options) -> tuple[Dataset, Report]:
    """Read a folder with dataset_meta.json, images/ and masks/ (or one such folder per subset)."""
    root = Path(path).resolve()
    report = Report(format="Semantic masks")
    parts = _semantic_roots(root)
    if not parts:
        raise FormatError(root, f"no {META} with a masks/ folder here")
    labels, background = _read_meta(parts[0][0] / META)
    records = []
    for folder, subset in parts:
        if folder != parts[0][0]:
            other, _ = _read_meta(folder / META)
            if other != labels:
                raise FormatError(folder / META, f"the label map differs from {parts[0][0] / META}'s")
        colors = {c: i for i, (n, c) in enumerate(labels) if c is not None and n is not None}
        images = _images(folder / "images")
        masks = _images(folder / "masks")
        for key in sorted(masks):
            img = images.get(key)
            if img is None:
                report.missing_images.append(f"{key}.png")
            arr = _load_png(masks[key], colors, -1)
            records.append({
                "name": img.relative_to(folder / "images").as_posix() if img else f"{key}.png",
                "subset": subset, "image": img, "file": masks[key], "classes": arr,
            })  # fmt: skip
        for key in sorted(set(images) - set(masks)):
            records.append({"name": images[key].relative_to(folder / "images").as_posix(), "subset": subset,
                            "image": images[key], "classes": None})  # fmt: skip
    void = frozenset({255}) if len(labels) <= 255 or labels[255][0] is None else frozenset()
    ds = masks_to_dataset(records, labels=labels, report=report, background=background, ignore=void)
    return ds, report


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


def write_semantic(
    dataset: Dataset, path: Path, *, mode: str = "indexed", include_images: bool = False, **options
) -> Report:
    """Write dataset_meta.json, masks/ (and images/ with include_images) per subset folder.
    ``mode``: "indexed" (palette PNGs) or "rgb" (colour PNGs)."""
    out = Path(path)
    report = Report(format="Semantic masks (RGB)" if mode == "rgb" else "Semantic masks (indexed)")
    names = _labels_of(dataset)
    index_of = _indices(names, report)
    colors = _colors(dataset, index_of, report)
    by_index = {i: n for n, i in index_of.items()}
    by_index.setdefault(0, "background")
    meta = {
        "label_map": {str(i): by_index[i] for i in sorted(by_index)},
        "segmentation_colors": [list(colors[i]) if i < len(colors) else list(_PALETTE[i]) for i in range(max(by_index) + 1)],
        "background_label": "0",
    }
    split = any(it.subset for it in dataset.items)
    folders = set()
    palette = [colors[i] if i < len(colors) else _PALETTE[i] for i in range(256)]
    for item, cls, _ in dataset_to_masks(dataset, report=report, index_of=index_of):
        folder = out / (item.subset or "default") if split else out
        folders.add(folder)
        rel = _rel_name(item)
        if cls is not None:
            data = _png(_colorize(cls, palette), "RGB") if mode == "rgb" else _png(cls, "P", palette)
            atomic_write(folder / "masks" / PurePosixPath(rel).with_suffix(".png"), data)
        if include_images:
            if item.image is not None and Path(item.image).is_file():
                atomic_copy(Path(item.image), folder / "images" / rel)
            else:
                report.missing_images.append(item.name)
    import json

    for folder in folders or {out}:
        atomic_write(folder / META, json.dumps(meta, indent=2))
    return report


def _first_png(folder: Path) -> Path | None:
    try:
        for dirpath, dirs, files in os.walk(folder):
            dirs.sort()
            for f in sorted(files):
                if f.lower().endswith(".png"):
                    return Path(dirpath, f)
    except OSError:
        pass
    return None


def _png_mode(path: Path | None) -> str | None:
    if path is None:
        return None
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.mode
    except OSError:
        return None


def detect_semantic(path: Path, mode: str | None = None) -> int:
    """80 for dataset_meta.json with masks/ (or subset folders of them), 81 for the variant whose
    PNG kind (palette/grey or RGB) the first mask shows."""
    root = Path(path)
    if not root.is_dir():
        return 0
    try:
        parts = _semantic_roots(root)
    except OSError:
        return 0
    if not parts:
        return 0
    m = _png_mode(_first_png(parts[0][0] / "masks"))
    if mode is None or m is None:
        return 80
    is_rgb = m in ("RGB", "RGBA")
    return 81 if is_rgb == (mode == "rgb") else 80


# -- cityscapes ------------------------------------------------------------------------------------

_CS_KINDS = ("instanceIds", "labelIds", "labelTrainIds", "color")


def _read_label_colors(path: Path) -> list[tuple[str, tuple | None]]:
    """``r g b name`` lines (name may hold spaces), or ``name`` alone; comments with #."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        parts = s.split(None, 3)
        if len(parts) >= 2 and all(p.lstrip("-").isdigit() for p in parts[:2]):
            if len(parts) < 4 or not parts[2].lstrip("-").isdigit():
                raise FormatError(path, f"expected 'r g b name', got {s!r}", line=n)
            rgb = tuple(int(p) for p in parts[:3])
            if not all(0 <= c <= 255 for c in rgb):
                raise FormatError(path, f"colour values must be 0-255, got {parts[:3]}", line=n)
            out.append((parts[3].strip(), rgb))
        else:
            out.append((s, None))
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise FormatError(path, f"label {dup!r} is listed twice")
    return out


def _cs_table(root: Path) -> tuple[list, dict[int, int] | None, bool]:
    """(labels by id, trainId -> id or None, official?)."""
    lc = root / "label_colors.txt"
    if lc.is_file():
        return _read_label_colors(lc), None, False
    labels = [(n, c) for n, _, _, _, c in CITYSCAPES_LABELS]
    train = {t: i for _, i, t, _, _ in CITYSCAPES_LABELS if t != 255}
    return labels, train, True


def read_cityscapes(path: Path, **options) -> tuple[Dataset, Report]:
    """Read a Cityscapes folder holding gtFine/ (and leftImg8bit/)."""
    root = Path(path).resolve()
    report = Report(format="Cityscapes")
    gt = root / "gtFine"
    if not gt.is_dir():
        raise FormatError(root, "no gtFine/ folder here")
    labels, train, official = _cs_table(root)
    colors: dict[tuple, int] = {}
    for i, (_, c) in enumerate(labels):
        if c is not None:
            colors.setdefault(tuple(c), i)
    img_root = root / "leftImg8bit"
    records = []
    splits = sorted({p.name for d in (gt, img_root) if d.is_dir() for p in d.iterdir() if p.is_dir()})
    for split in splits:
        anns: dict[str, dict[str, Path]] = {}
        for dirpath, dirs, files in os.walk(gt / split):
            dirs.sort()
            for f in sorted(files):
                stem, sep, kind = f.rpartition("_gtFine_")
                kind = kind[:-4] if kind.endswith(".png") else None
                if sep and kind in _CS_KINDS:
                    rel = Path(dirpath, stem).relative_to(gt / split).as_posix()
                    anns.setdefault(rel, {})[kind] = Path(dirpath, f)
        images = {}
        for key, p in _images(img_root / split).items():
            images[key[: -len("_leftImg8bit")] if key.endswith("_leftImg8bit") else key] = p
        for key in sorted(set(anns) | set(images)):
            img = images.get(key)
            name = f"{split}/{img.relative_to(img_root / split).as_posix()}" if img else f"{split}/{key}_leftImg8bit.png"
            if img is None:
                report.missing_images.append(name)
            rec = {"name": name, "subset": _subset_name(split), "image": img,
                   "classes": None, "instances": None}  # fmt: skip
            files = anns.get(key, {})
            if "instanceIds" in files:
                rec["file"] = files["instanceIds"]
                rec["instances"] = _load_png(files["instanceIds"], colors, 0)
            elif "labelIds" in files:
                rec["file"] = files["labelIds"]
                rec["classes"] = _load_png(files["labelIds"], colors, 0)
            elif "labelTrainIds" in files and train is not None:
                rec["file"] = files["labelTrainIds"]
                arr = _load_png(files["labelTrainIds"], None)
                lut = np.zeros(max(256, int(arr.max()) + 1), np.int32)
                for t, i in train.items():
                    lut[t] = i
                rec["classes"] = lut[arr]
            elif "color" in files:
                rec["file"] = files["color"]
                rec["classes"] = _load_png(files["color"], colors, 0)
            records.append(rec)
    ds = masks_to_dataset(records, labels=labels, report=report, keep_all_labels=not official)
    ds.info["cityscapes"] = {"table": "cityscapes" if official else "label_colors.txt"}
    return ds, report


def _cs_ids(names: list[str], report: Report) -> tuple[dict[str, int], list[tuple[str, tuple]], bool]:
    table = {_norm(n): (i, c) for n, i, _, _, c in CITYSCAPES_LABELS}
    if names and all(_norm(n) in table for n in names):
        ids = {n: table[_norm(n)][0] for n in names}
        return ids, [(n, c) for n, _, _, _, c in CITYSCAPES_LABELS], True
    ids = _indices(names, report)
    return ids, [], False


def write_cityscapes(dataset: Dataset, path: Path, *, include_images: bool = False, **options) -> Report:
    """Write gtFine/<split>/<city>/ PNGs (labelIds, instanceIds, color; labelTrainIds with the
    official table) and, with ``include_images``, leftImg8bit/. Items without a folder in their
    name go to the city "default"; items without a subset to the split "default"."""
    out = Path(path)
    report = Report(format="Cityscapes")
    names = _labels_of(dataset)
    ids, _, official = _cs_ids(names, report)
    if official:
        colors = [c for *_, c in CITYSCAPES_LABELS]
        has_inst = {i for _, i, _, h, _ in CITYSCAPES_LABELS if h}
        train_lut = np.full(256, 255, np.uint8)
        for _, i, t, _, _ in CITYSCAPES_LABELS:
            train_lut[i] = t
    else:
        colors = _colors(dataset, ids, report)
        has_inst = set()
        train_lut = None
        if max(ids.values(), default=0) > 65:
            report.problem("class ids above 65 cannot hold instance ids in a 16-bit instanceIds PNG; written as class ids")
    for item in dataset.items:
        counter: dict[int, int] = {}
        number: dict[tuple, int] = {}

        def instance_of(s, counter=counter, number=number):
            k = ids[s.label]
            if not (s.group_id is not None or k in has_inst) or k > 65:
                return None
            key = (s.label, s.group_id) if s.group_id is not None else ("shape", id(s))
            if key not in number:
                counter[k] = counter.get(k, 0) + 1
                if counter[k] > 999:
                    report.drop("instances beyond 999 per class written as class pixels")
                    return None
                number[key] = k * 1000 + counter[k]
            return number[key]

        one = Dataset(dataset.schema, [item])
        for _, cls, inst in dataset_to_masks(one, report=report, index_of=ids, instance_of=instance_of):
            split = item.subset or "default"
            rel = PurePosixPath(_rel_name(item))
            city = rel.parent.as_posix() if rel.parent.as_posix() != "." else "default"
            stem = rel.stem[: -len("_leftImg8bit")] if rel.stem.endswith("_leftImg8bit") else rel.stem
            base = out / "gtFine" / split / city / f"{stem}_gtFine_"
            if cls is not None:
                atomic_write(Path(f"{base}labelIds.png"), _png(cls, "L"))
                atomic_write(Path(f"{base}instanceIds.png"), _png(inst, "I;16"))
                atomic_write(Path(f"{base}color.png"), _png(_colorize(cls, colors), "RGB"))
                if train_lut is not None:
                    atomic_write(Path(f"{base}labelTrainIds.png"), _png(train_lut[cls], "L"))
            if include_images:
                if item.image is not None and Path(item.image).is_file():
                    ext = Path(item.image).suffix.lower() or ".png"
                    atomic_copy(Path(item.image), out / "leftImg8bit" / split / city / f"{stem}_leftImg8bit{ext}")
                else:
                    report.missing_images.append(item.name)
    if not official:
        by_id = {i: n for n, i in ids.items()}
        by_id.setdefault(0, "background")
        lines = [f"{' '.join(map(str, colors[i] if i < len(colors) else _PALETTE[i]))} {by_id[i]}\n" for i in sorted(by_id)]
        atomic_write(out / "label_colors.txt", "".join(lines))
    return report


def detect_cityscapes(path: Path) -> int:
    """90 for gtFine/<split>/<city>/*_gtFine_*.png."""
    gt = Path(path) / "gtFine"
    try:
        if not gt.is_dir():
            return 0
        for split in sorted(gt.iterdir())[:10]:
            if split.is_dir():
                for city in sorted(split.iterdir())[:10]:
                    if city.is_dir():
                        with os.scandir(city) as it:
                            for e in it:
                                if "_gtFine_" in e.name and e.name.endswith(".png"):
                                    return 90
    except OSError:
        return 0
    return 0


# -- camvid ----------------------------------------------------------------------------------------


def _camvid_line(line: str, path: Path, n: int) -> tuple[str, str | None]:
    s = line.strip()
    if '"' in s:
        parts = s.split('"')
        if len(parts) != 5:
            raise FormatError(path, "unbalanced quotes in a file name", line=n)
        return parts[1], parts[3] or None
    parts = s.split()
    if len(parts) > 2:
        raise FormatError(path, f"expected '<image> <mask>', got {s!r} (quote names with spaces)", line=n)
    return parts[0], parts[1] if len(parts) > 1 else None


def _camvid_lists(root: Path) -> list[Path]:
    out = []
    for p in sorted(root.glob("*.txt")):
        if p.name == "label_colors.txt":
            continue
        out.append(p)
    return out


def read_camvid(path: Path, **options) -> tuple[Dataset, Report]:
    """Read a CamVid folder: ``<split>.txt`` lists (or, without them, ``<split>annot/`` folders)."""
    root = Path(path).resolve()
    report = Report(format="CamVid")
    lc = root / "label_colors.txt"
    labels = _read_label_colors(lc) if lc.is_file() else list(CAMVID_LABELS)
    background = next((i for i, (_, c) in enumerate(labels) if c == (0, 0, 0)), None)
    if background is None and labels and labels[0][0].lower() in _BACKGROUND_NAMES:
        background = 0
    colors = {tuple(c): i for i, (_, c) in enumerate(labels) if c is not None}
    pairs: list[tuple[str, str | None, str | None]] = []  # image rel, mask rel, subset
    lists = _camvid_lists(root)
    for lst in lists:
        for n, line in enumerate(lst.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip() and not line.strip().startswith("#"):
                img, mask = _camvid_line(line, lst, n)
                pairs.append((img.lstrip("/"), mask.lstrip("/") if mask else None, _subset_name(lst.stem)))
    if not lists:
        for d in sorted(p for p in root.iterdir() if p.is_dir() and p.name.endswith("annot")):
            split = d.name[: -len("annot")]
            imgs = _images(root / split)
            for key, m in _images(d).items():
                img = imgs.get(key)
                rel = img.relative_to(root).as_posix() if img else f"{split}/{m.name}"
                pairs.append((rel, m.relative_to(root).as_posix(), _subset_name(split)))
    records = []
    for img_rel, mask_rel, subset in pairs:
        img = root / img_rel
        if not img.is_file():
            report.missing_images.append(img_rel)
        rec = {"name": img_rel, "subset": subset, "image": img if img.is_file() else None, "classes": None}
        if mask_rel:
            mp = root / mask_rel
            if not mp.is_file():
                report.problem(f"{mask_rel}: mask not found")
            else:
                rec["classes"] = _load_png(mp, colors, -1)
                rec["file"] = mp
        records.append(rec)
    ds = masks_to_dataset(records, labels=labels, report=report, background=background, keep_all_labels=lc.is_file())
    return ds, report


def write_camvid(dataset: Dataset, path: Path, *, include_images: bool = False, **options) -> Report:
    """Write label_colors.txt, ``<split>.txt`` lists, ``<split>annot/`` RGB masks (and, with
    ``include_images``, the images into ``<split>/``). Items without a subset go to "default"."""
    out = Path(path)
    report = Report(format="CamVid")
    names = _labels_of(dataset)
    camvid = {_norm(n): (i, c) for i, (n, c) in enumerate(CAMVID_LABELS)}
    if names and all(_norm(n) in camvid for n in names):
        ids = {n: camvid[_norm(n)][0] for n in names}
        table = [(n, c) for n, c in CAMVID_LABELS]
        colors = [c for _, c in CAMVID_LABELS]
    else:
        ids = _indices(names, report)
        colors = _colors(dataset, ids, report)
        by_id = {i: n for n, i in ids.items()}
        by_id.setdefault(0, "Void")
        table = [(by_id[i], colors[i] if i < len(colors) else _PALETTE[i]) for i in sorted(by_id)]
        colors = [c for _, c in table]
    lists: dict[str, list[str]] = {}
    for item, cls, _ in dataset_to_masks(dataset, report=report, index_of=ids):
        split = item.subset or "default"
        rel = PurePosixPath(_rel_name(item))
        mask_rel = f"{split}annot/{rel.with_suffix('.png').as_posix()}"
        if cls is not None:
            atomic_write(out / mask_rel, _png(_colorize(cls, colors), "RGB"))
        img_rel, m = f"/{split}/{rel.as_posix()}", f"/{mask_rel}" if cls is not None else ""
        if " " in img_rel or " " in m:
            img_rel, m = f'"{img_rel}"', f'"{m}"'
        lists.setdefault(split, []).append(f"{img_rel} {m}".rstrip() + "\n")
        if include_images:
            if item.image is not None and Path(item.image).is_file():
                atomic_copy(Path(item.image), out / split / rel.as_posix())
            else:
                report.missing_images.append(item.name)
    for split, rows in lists.items():
        atomic_write(out / f"{split}.txt", "".join(rows))
    atomic_write(out / "label_colors.txt", "".join(f"{c[0]} {c[1]} {c[2]} {n}\n" for n, c in table))
    return report


def detect_camvid(path: Path) -> int:
    """85 for a ``<split>.txt`` whose first line names an image and a mask in an ``*annot``
    folder that exists; 70 for label_colors.txt beside ``*annot`` folders."""
    root = Path(path)
    if not root.is_dir():
        return 0
    try:
        for lst in _camvid_lists(root)[:5]:
            with open(lst, encoding="utf-8", errors="replace") as f:
                head = f.readline()
            try:
                _, mask = _camvid_line(head, lst, 1) if head.strip() else ("", None)
            except FormatError:
                continue
            if mask:
                folder = PurePosixPath(mask.lstrip("/")).parts[0]
                if folder.endswith("annot") and (root / folder).is_dir():
                    return 85
        if (root / "label_colors.txt").is_file() and any(p.is_dir() and p.name.endswith("annot") for p in root.iterdir()):
            return 70
    except OSError:
        return 0
    return 0


register(Format("semantic_indexed", "Semantic masks: palette PNG per image + dataset_meta.json (images/, masks/)",
                read_semantic, lambda ds, p, **o: write_semantic(ds, p, mode="indexed", **o),
                lambda p: detect_semantic(p, "indexed")))  # fmt: skip
register(Format("semantic_rgb", "Semantic masks: RGB-coded PNG per image + dataset_meta.json (images/, masks/)",
                read_semantic, lambda ds, p, **o: write_semantic(ds, p, mode="rgb", **o),
                lambda p: detect_semantic(p, "rgb")))  # fmt: skip
register(Format("cityscapes", "Cityscapes (gtFine labelIds/instanceIds/color PNGs, leftImg8bit images)",
                read_cityscapes, write_cityscapes, detect_cityscapes))  # fmt: skip
register(Format("camvid", "CamVid (label_colors.txt, <split>.txt, <split>annot/ colour masks)",
                read_camvid, write_camvid, detect_camvid))  # fmt: skip
