"""Dataset <-> YOLO records: ``yolo_to_dataset`` builds a Dataset from images with their label
texts (skeletons from kpt_shape and point names), ``dataset_to_yolo`` yields each item's place in
the layout and its label text."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from limner.core.columns import ShapeColumns
from limner.core.dataset import Dataset, Item
from limner.core.schema import Skeleton
from limner.errors import ValidationError
from limner.formats.base import Report
from limner.formats.yolo.data_yaml import _kpt_config
from limner.formats.yolo.columns import DetectLines
from limner.formats.yolo.formatting import format_labels
from limner.formats.yolo.parsing import parse_labels

# -- dataset-level converters ----------------------------------------------------------------------


def yolo_to_dataset(
    records: Iterable[dict],
    *,
    names: list[str],
    task: str,
    kpt_shape: tuple[int, int] | None = None,
    kpt_names: dict[int, list[str]] | None = None,
    kpt_edges: dict[int, list] | None = None,
    info: dict | None = None,
    report: Report | None = None,
) -> tuple[Dataset, Report]:
    """Records ``{"name", "subset", "width", "height", "image", "labels" (text), "file"}`` -> Dataset.
    ``width``/``height`` may be None for a record whose label text is empty."""
    report = report or Report(format=f"YOLO {task}")
    ds = Dataset(info={"yolo": dict(info or {}, task=task)})
    for name in names:
        ds.ensure_label(name)
    if task == "pose" and kpt_shape:
        for cid, name in enumerate(names):
            pn = (kpt_names or {}).get(cid)
            pn = [str(p) for p in pn] if pn and len(pn) == kpt_shape[0] else [str(i) for i in range(kpt_shape[0])]
            edges = [tuple(e) for e in (kpt_edges or {}).get(cid) or []]
            try:
                ds.schema.get(name).skeleton = Skeleton(points=pn, edges=edges)
            except ValidationError:
                ds.schema.get(name).skeleton = Skeleton(points=[str(i) for i in range(kpt_shape[0])])
    unknown: set[str] = set()
    known = set(names)
    sizeless: list[str] = []
    for r in records:
        item = Item(r["name"], r.get("width"), r.get("height"), subset=r.get("subset"), image=r.get("image"))
        text = r.get("labels") or ""
        if text.strip():
            if item.width is None or item.height is None:
                sizeless.append(str(r.get("file", item.name)))
            else:
                item.shapes = parse_labels(
                    text, task=task, width=item.width, height=item.height, names=names,
                    kpt_shape=kpt_shape, file=r.get("file", item.name), report=report,
                )  # fmt: skip
                for s in item.shapes:
                    if s.label not in known and s.label not in unknown:
                        unknown.add(s.label)
                        ds.ensure_label(s.label)
                        report.problem(f"{r.get('file')}: class id {s.label[6:]} is beyond the {len(names)} names")
        report.shapes += len(item.shapes)
        ds.items.append(item)
    if sizeless:
        report.problem(
            f"{len(sizeless)} label files not read: their image was not found, so their coordinates cannot be "
            f"denormalised (e.g. {sizeless[0]})"
        )
    report.items = len(ds.items)
    return ds, report


def _layout_name(item: Item, subset: str) -> str:
    """``<subset>/<name>``; folders named images or labels (a Roboflow ``train/images/x.jpg``) and
    ``..`` are left out, or Ultralytics' image-to-label rule would point elsewhere."""
    name = item.name
    if "/" not in name and "\\" not in name and name not in ("", ".", "..", "images", "labels"):
        return f"{subset}/{name}"
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".", "..", "images", "labels")]
    if len(parts) > 1 and parts[0] == subset:
        parts = parts[1:]
    return "/".join([subset, *parts])


class YoloLabels:
    """The label files of a dataset for a task: ``places`` (each item's ``<subset>/<name>`` path
    in the layout and its image size, or None when unknown: ``size_of(item)`` is asked for items
    without a width and height), made in order as names must be unique, then
    ``texts(start, stop, report)``, the label text of each item of a range, which parts of the
    work may make apart (each with its own report, merged in order after).
    ``dataset`` may be :class:`~limner.core.columns.ShapeColumns` (detect without confidences:
    its plain polygons' boxes are made together, see :mod:`limner.formats.yolo.columns`)."""

    def __init__(
        self,
        dataset: Dataset | ShapeColumns,
        *,
        task: str = "detect",
        report: Report,
        size_of: Callable[[Item], tuple[int, int] | None] | None = None,
        with_confidence: bool = False,
        decimals: int = 6,
    ):
        if isinstance(dataset, ShapeColumns) and (task != "detect" or with_confidence):
            dataset = dataset.to_dataset()
        self.dataset, self.task, self.with_confidence, self.decimals = dataset, task, with_confidence, decimals
        self.names = dataset.label_names()
        self.ids = {n: i for i, n in enumerate(self.names)}
        self.kpt = _kpt_config(dataset) if task == "pose" else None
        items = dataset.items
        rels = [_layout_name(item, item.subset or "train") for item in items]
        stems = [os.path.splitext(rel)[0].lower() for rel in rels]
        if len(set(stems)) < len(stems):  # names that would share a label file: renamed in order
            used: set[str] = set()
            for k, rel in enumerate(rels):
                stem, ext = os.path.splitext(rel)
                n = 1
                while stem.lower() in used:
                    stem = f"{os.path.splitext(rel)[0]}_{n}"
                    n += 1
                if n > 1:
                    report.drop("images renamed so that each has its own label file")
                used.add(stem.lower())
                rels[k] = stem + ext
        if size_of is None:
            sizes = [(item.width, item.height) if item.width and item.height else None for item in items]
        else:
            sizes = [(item.width, item.height) if item.width and item.height else size_of(item) for item in items]
        self.places = list(zip(rels, sizes, items))
        self.lines = DetectLines(dataset, sizes, self.ids, report, decimals) if isinstance(dataset, ShapeColumns) else None

    def texts(self, start: int, stop: int, report: Report):
        """Yield ``(relative image path, label text, item)`` for the items ``start:stop``."""
        lines = self.lines
        for k in range(start, stop):
            rel, size, item = self.places[k]
            if size is None:
                count = lines.count(k) if lines is not None else len(item.shapes)
                if count:
                    report.drop("shapes of images of unknown size dropped", count)
                    report.problem(f"{item.name}: image size unknown (no width/height, image not found)")
                yield rel, "", item
                continue
            if lines is not None:
                yield rel, lines.text(k, report), item
                continue
            text = format_labels(
                item.shapes, task=self.task, width=size[0], height=size[1], class_ids=self.ids, report=report,
                kpt_shape=self.kpt, with_confidence=self.with_confidence, decimals=self.decimals,
            )  # fmt: skip
            yield rel, text, item


def dataset_to_yolo(dataset: Dataset | ShapeColumns, *, report: Report, **options):
    """Yield ``(relative image path, label text, item)`` per item, in the layout
    ``<subset>/<name>`` under images/ and labels/; ``options`` are :class:`YoloLabels`'s (task,
    size_of, with_confidence, decimals)."""
    labels = YoloLabels(dataset, report=report, **options)
    yield from labels.texts(0, len(labels.places), report)
