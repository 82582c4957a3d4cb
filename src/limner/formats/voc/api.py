"""The Pascal VOC formats' entry points: ``read`` (a VOC folder), ``write`` (task "voc",
"voc_detection" or "voc_segmentation", with the ImageSets lists and labelmap.txt), ``detect``, and
the registration of the three formats with :mod:`limner.formats.registry`."""

from __future__ import annotations

import os
from pathlib import Path

from limner.core.dataset import Dataset
from limner.formats.base import FormatError, NewFolders, Report, atomic_copy, atomic_write, image_size, item_size
from limner.formats.registry import Format, register
from limner.formats.voc.annotations import _parse_annotation
from limner.formats.voc.convert import dataset_to_voc, voc_to_dataset
from limner.formats.voc.layout import _image_lists, _read_labelmap, _scan
from limner.formats.voc.segmentation import _PALETTE, VOC_LABELS, VOID, _label_indices, _png_indices

# -- reading -------------------------------------------------------------------------------------


def read(path: Path, **options) -> tuple[Dataset, Report]:
    """Read a VOC folder (the one holding Annotations/, ImageSets/, JPEGImages/ ...)."""
    root = Path(path)
    report = Report(format="Pascal VOC")
    labelmap = _read_labelmap(root / "labelmap.txt") if (root / "labelmap.txt").is_file() else None
    if labelmap:
        index_labels, color_index = {}, {}
        for i, (name, color, _, _) in enumerate(labelmap):
            color_index.setdefault(tuple(color) if color else _PALETTE[i], i)
            index_labels[i] = name
        color_index.setdefault((0, 0, 0), 0)
    else:
        index_labels = dict(enumerate(VOC_LABELS))
        color_index = {c: i for i, c in enumerate(_PALETTE)}
    color_index[_PALETTE[VOID]] = VOID if _PALETTE[VOID] not in color_index else color_index[_PALETTE[VOID]]
    instance_index = {c: i for i, c in enumerate(_PALETTE)}
    known = set(VOC_LABELS) | {n for n, *_ in labelmap or []}
    subset_of, present, listed = _image_lists(root, known)
    anns = _scan(root / "Annotations", ".xml")
    images = _scan(root / "JPEGImages", "")
    seg_class = _scan(root / "SegmentationClass", ".png")
    seg_object = _scan(root / "SegmentationObject", ".png")
    ids = list(dict.fromkeys(sorted(anns) + sorted(set(listed) | set(seg_class) | set(seg_object))))
    ids = sorted(ids)

    def records():
        for i in ids:
            rec = _parse_annotation(anns[i]) if i in anns else {"objects": None, "metadata": {}}
            img = images.get(i)
            if img is not None:
                name = img.relative_to(root / "JPEGImages").as_posix()
            else:
                fn = rec.get("filename")
                name = (i.rsplit("/", 1)[0] + "/" + fn if "/" in i else fn) if fn else f"{i}.jpg"
                report.missing_images.append(name)
            cm = _png_indices(seg_class[i], color_index, labelmap is not None) if i in seg_class else None
            om = _png_indices(seg_object[i], instance_index, False) if i in seg_object else None
            for m, what in ((cm, "SegmentationClass"), (om, "SegmentationObject")):
                if m is not None and rec.get("width") and m.shape != (rec["height"], rec["width"]):
                    raise FormatError(
                        (seg_class if what == "SegmentationClass" else seg_object)[i],
                        f"mask is {m.shape[1]}x{m.shape[0]}, the annotation says {rec['width']}x{rec['height']}",
                    )
                if m is not None and not rec.get("width"):
                    rec["height"], rec["width"] = m.shape
            if not rec.get("width") and img is not None:
                rec["width"], rec["height"] = image_size(img)
            yield {
                "id": i, "name": name, "subset": subset_of.get(i), "image": img.resolve() if img else None,
                "width": rec.get("width"), "height": rec.get("height"), "objects": rec["objects"],
                "metadata": rec["metadata"], "class_mask": cm, "object_mask": om, "present": sorted(present.get(i, ())),
            }  # fmt: skip

    return voc_to_dataset(records(), labelmap=labelmap, index_labels=index_labels, report=report)


# -- writing -------------------------------------------------------------------------------------


def write(
    dataset: Dataset,
    path: Path,
    *,
    task: str = "voc",
    include_images: bool = False,
    round_coordinates: bool = True,
    class_lists: bool | None = None,
    **options,
) -> Report:
    """Write a VOC folder. ``task``: "voc", "voc_detection" or "voc_segmentation".
    ``class_lists`` writes ImageSets/Main/<label>_<subset>.txt (default: when the dataset has tags,
    which these lists carry)."""
    out = Path(path)
    report = Report(format={"voc": "Pascal VOC", "voc_detection": "VOC detection"}.get(task, "VOC segmentation"))
    if class_lists is None:
        class_lists = task != "voc_segmentation" and any(s.kind == "tag" for it in dataset.items for s in it.shapes)
    main: dict[str, list[str]] = {}
    seg: dict[str, list[str]] = {}
    presence: dict[str, dict[str, int]] = {}
    names = dataset.label_names()
    indices = _label_indices(names, report)
    with NewFolders(out) as written:
        for vid, files, item, objects, tags in dataset_to_voc(
            dataset, task=task, report=report, round_coordinates=round_coordinates, size_of=item_size, indices=indices
        ):
            for rel, data in files.items():
                written.write(rel, data)
            subset = item.subset or "default"
            if task != "voc_segmentation":
                main.setdefault(subset, []).append(vid)
            if any(rel.startswith("SegmentationClass/") for rel in files):
                seg.setdefault(subset, []).append(vid)
            state: dict[str, int] = {}
            for o in objects:
                if not o.get("dropped"):
                    state[o["label"]] = max(state.get(o["label"], 0), 0 if o["attributes"].get("difficult") else 1)
            for t in tags:
                if t.label in state:
                    report.drop("tags dropped (an object of the same label is in the image)")
                elif not class_lists:
                    report.drop("tags dropped")
                else:
                    state[t.label] = 1
                if t.attributes or t.confidence is not None:
                    report.drop("attributes of tags not representable")
            presence[vid] = state
            if include_images:
                if item.image is not None and Path(item.image).is_file():
                    atomic_copy(Path(item.image), out / "JPEGImages" / item.name)
                else:
                    report.missing_images.append(item.name)
            report.items += 1
            report.shapes += len(item.shapes)
    for subset, ids in main.items():
        atomic_write(out / "ImageSets" / "Main" / f"{subset}.txt", "".join(f"{i}\n" for i in ids))
        if class_lists:
            for lb in names:
                rows = "".join(f"{i} {presence[i].get(lb, -1):2d}\n" for i in ids)
                atomic_write(out / "ImageSets" / "Main" / f"{lb}_{subset}.txt", rows)
    for subset, ids in seg.items():
        atomic_write(out / "ImageSets" / "Segmentation" / f"{subset}.txt", "".join(f"{i}\n" for i in ids))
    actions = (dataset.info.get("voc") or {}).get("actions") or {}
    lines = ["# label:color_rgb:parts:actions\n"]
    if "background" not in indices:
        lines.append("background:0,0,0::\n")
    for n in names:
        if ":" in n or "," in n or "\n" in n:
            report.problem(f"label {n!r} holds ':' or ',' and cannot be listed in labelmap.txt")
            continue
        rgb = _PALETTE[indices[n]] if n in indices else None
        parts = [lb.name for lb in dataset.schema if lb.parent == n]
        color = ",".join(map(str, rgb)) if rgb else ""
        lines.append(f"{n}:{color}:{','.join(parts)}:{','.join(actions.get(n, []))}\n")
    atomic_write(out / "labelmap.txt", "".join(lines))
    return report


# -- detection -----------------------------------------------------------------------------------


def _peek_xml(folder: Path) -> str:
    try:
        with os.scandir(folder) as it:
            for e in it:
                if e.name.endswith(".xml") and e.is_file():
                    with open(e.path, "rb") as f:
                        return f.read(2048).decode("utf-8", "replace")
    except OSError:
        pass
    return ""


def detect(path: Path) -> int:
    """90 for Annotations/*.xml of VOC's shape with ImageSets/, 80 with JPEGImages/ only, 75 for
    SegmentationClass/ with ImageSets/ and no Annotations/."""
    root = Path(path)
    if not root.is_dir():
        return 0
    sets = (root / "ImageSets").is_dir()
    if (root / "Annotations").is_dir():
        head = _peek_xml(root / "Annotations")
        if "<annotation" not in head or "<polygon>" in head or "<imagesize>" in head:
            return 0
        if sets:
            return 90
        return 80 if (root / "JPEGImages").is_dir() else 0
    if sets and (root / "SegmentationClass").is_dir():
        return 75
    return 0


def _writer(task: str):
    def write_task(dataset: Dataset, path: Path, **options) -> Report:
        return write(dataset, path, task=task, **options)

    return write_task


register(Format("voc", "Pascal VOC (XML boxes, segmentation PNGs, ImageSets)", read, _writer("voc"), detect))
register(Format("voc_detection", "Pascal VOC, detection part only (Annotations, ImageSets/Main)", None, _writer("voc_detection")))
register(
    Format("voc_segmentation", "Pascal VOC, segmentation part only (SegmentationClass/Object)", None, _writer("voc_segmentation"))
)
