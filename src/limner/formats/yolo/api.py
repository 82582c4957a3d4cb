"""The YOLO formats' entry points: ``read`` (a YOLO folder or its data.yaml, the task found or
forced), ``write`` (images/ and labels/ with data.yaml, or classify folders), ``detect`` and the
per-task detectors, and the registration of the five formats with :mod:`limner.formats.registry`."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from limner.core.dataset import Dataset
from limner.formats.base import FormatError, NewFolder, Report, atomic_copy, atomic_write, image_size, item_size
from limner.formats.registry import Format, register
from limner.formats.yolo.classify import _classify_score, _read_classify, _write_classify
from limner.formats.helper import in_two
from limner.formats.yolo.convert import YoloLabels, yolo_to_dataset
from limner.formats.yolo.data_yaml import _OWN_KEYS, _names, _yaml_in, yolo_config
from limner.formats.yolo.layout import _names_file, _splits
from limner.formats.yolo.parsing import _sniff_task

TASKS = {"yolo": "detect", "yolo_segment": "segment", "yolo_pose": "pose", "yolo_obb": "obb", "yolo_classify": "classify"}


# -- I/O -------------------------------------------------------------------------------------------


def read(path: Path, *, task: str | None = None, **options) -> tuple[Dataset, Report]:
    """Read a YOLO dataset folder (or its data.yaml). ``task`` (detect, segment, pose, obb,
    classify) forces the task; by default it is found from data.yaml and the label lines."""
    path = Path(path)
    if task == "classify" or (task is None and path.is_dir() and _yaml_in(path) is None and _classify_score(path)):
        report = Report(format="YOLO classify")
        return _read_classify(path, report), report
    layout, root, doc, splits, label_of = _splits(path)
    if layout == "ultralytics":
        names = _names(doc, path if path.is_file() else _yaml_in(path))
    else:
        nf = _names_file(root)
        names = [s.strip() for s in nf.read_text(encoding="utf-8").splitlines() if s.strip()] if nf else []
    kpt_shape = None
    if doc.get("kpt_shape") is not None:
        ks = doc["kpt_shape"]
        if not (isinstance(ks, list) and len(ks) == 2 and isinstance(ks[0], int) and ks[1] in (2, 3)):
            raise FormatError(_yaml_in(root) or path, f"kpt_shape must be [K, 2] or [K, 3], got {ks!r}", key="kpt_shape")
        kpt_shape = (ks[0], ks[1])
    # gather images, their label texts, subsets
    seen: set[str] = set()
    rows = []
    label_dirs: set[str] = set()
    for subset, images in splits:
        for img in images:
            img = os.path.abspath(img)
            if img in seen:
                continue
            seen.add(img)
            lp = label_of(img)
            label_dirs.add(os.path.dirname(lp))
            try:
                with open(lp, encoding="utf-8") as f:
                    text = f.read()
            except FileNotFoundError:
                text = ""
            except UnicodeDecodeError as e:
                raise FormatError(lp, f"not UTF-8 text: {e.reason} at byte {e.start}") from None
            rows.append((subset, img, lp, text))
    if task is None and doc.get("task") in ("detect", "segment", "pose", "obb"):
        task = doc["task"]
    if task is None:
        task = "pose" if kpt_shape else _sniff_task(t for _, _, _, t in rows[:500])
    if task == "pose" and kpt_shape is None:
        raise FormatError(path, "a pose dataset needs kpt_shape [K, 2|3] in its data.yaml", key="kpt_shape")
    report = Report(format=f"YOLO {task}")
    imgs_root = root / "Images" if layout == "loose" and (root / "Images").is_dir() else root / "images"
    prefix = os.path.join(os.path.abspath(imgs_root), "")

    def records():
        for subset, img, lp, text in rows:
            exists = os.path.isfile(img)
            if not exists:
                report.missing_images.append(img)
            w = h = None
            if exists and text.strip():
                w, h = image_size(img)
            name = img[len(prefix) :] if img.startswith(prefix) else os.path.relpath(img, root)
            yield {"name": name.replace(os.sep, "/"), "subset": subset, "width": w, "height": h,
                   "image": Path(img) if exists else None, "labels": text, "file": lp}  # fmt: skip

    extra = {k: v for k, v in doc.items() if k not in _OWN_KEYS} if layout == "ultralytics" else {}
    kn = doc.get("kpt_names")
    if isinstance(kn, list):
        kn = dict(enumerate(kn)) if kn and isinstance(kn[0], list) else {0: kn}
    ds, report = yolo_to_dataset(
        records(), names=names, task=task, kpt_shape=kpt_shape,
        kpt_names=kn if isinstance(kn, dict) else None,
        kpt_edges=doc.get("kpt_edges") if isinstance(doc.get("kpt_edges"), dict) else None,
        info=extra, report=report,
    )  # fmt: skip
    # label files without an image
    wanted = {os.path.normpath(r[2]) for r in rows}
    orphans = []
    for d in sorted(label_dirs):
        if os.path.isdir(d) and d != str(root):
            orphans += [f for f in (os.path.join(d, n) for n in os.listdir(d) if n.endswith(".txt"))
                        if os.path.normpath(f) not in wanted]  # fmt: skip
    if orphans:
        report.problem(f"{len(orphans)} label files have no image (e.g. {orphans[0]})")
    return ds, report


def write(
    dataset: Dataset,
    path: Path,
    *,
    task: str = "detect",
    include_images: bool | None = None,
    with_confidence: bool = False,
    decimals: int = 6,
    progress=None,
    **options,
) -> Report:
    """Write ``dataset`` as a YOLO folder for ``task``. Images are copied with ``include_images``
    (default False; True for classify, whose labels are the image folders). ``progress(fraction)``
    hears how far the writing is."""
    out = Path(path)
    report = Report(format=f"YOLO {task}")
    if task == "classify":
        return _write_classify(dataset, out, report, True if include_images is None else include_images)
    if task not in ("detect", "segment", "pose", "obb"):
        raise ValueError(f"unknown YOLO task {task!r}; tasks are detect, segment, pose, obb, classify")
    labels = YoloLabels(dataset, task=task, report=report, size_of=item_size, with_confidence=with_confidence, decimals=decimals)
    names = labels.names
    subsets: dict[str, str] = {}
    for rel, _, _ in labels.places:
        subset = rel.split("/", 1)[0]
        if subset not in subsets:
            subsets[subset] = f"images/{subset}"
            (out / "images" / subset).mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    def make_part(start: int, stop: int) -> tuple[Report, list]:
        part = Report(format=report.format)
        tell = progress if start == 0 and progress is not None else None  # this process's half
        texts = []
        for k, (rel, text, item) in enumerate(labels.texts(start, stop, part)):
            if tell is not None and not k % 500:
                tell(0.8 * k / max(stop, 1))
            texts.append(text)
            part.items += 1
            part.shapes += text.count(b"\n" if isinstance(text, bytes) else "\n")
        return part, texts

    # thousands of items: a helper process makes the second half's texts meanwhile; the files
    # are then created by this process alone (two creating files in one folder only contend)
    halves = in_two(len(labels.places), make_part)
    with NewFolder(out / "labels") as folder:
        places = iter(labels.places)
        for part, texts in halves:
            for text in texts:
                rel, _, item = next(places)
                folder.write(os.path.splitext(rel)[0] + ".txt", text)
                if include_images:
                    if item.image is not None and Path(item.image).is_file():
                        atomic_copy(Path(item.image), out / "images" / rel)
                    else:
                        part.missing_images.append(item.name)
            report.merge(part)
        if progress is not None:
            progress(0.9)
    if "train" not in subsets:
        subsets["train"] = "images/train"
        (out / "images" / "train").mkdir(parents=True, exist_ok=True)
    if "val" not in subsets:
        subsets["val"] = subsets["train"]
        report.problem("no val subset: data.yaml's val is the train folder (Ultralytics requires a val entry)")
    import yaml

    doc = yolo_config(dataset, task=task, splits=subsets, names=names)
    atomic_write(out / "data.yaml", yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    return report


# -- detection -------------------------------------------------------------------------------------


def _first_label_text(path: Path) -> str:
    for d in (path / "labels", path):
        if d.is_dir():
            for dirpath, dirs, files in os.walk(d):
                dirs.sort()
                for f in sorted(files):
                    if f.endswith(".txt") and f not in ("train.txt", "val.txt", "test.txt", "classes.txt"):
                        try:
                            with open(os.path.join(dirpath, f), encoding="utf-8", errors="replace") as fh:
                                text = fh.read(4096)
                        except OSError:
                            continue
                        if text.strip():
                            return text
    return ""


def detect(path: Path) -> int:
    """90 for a folder with an Ultralytics data.yaml (or that file), 85 for darknet's obj.data,
    70 for obj.names with images/labels or Images/Annotations folders, 20 for classify folders."""
    path = Path(path)
    try:
        if path.is_file():
            if path.suffix.lower() in (".yaml", ".yml"):
                head = path.read_bytes()[:4096].decode("utf-8", "replace")
                return 90 if re.search(r"^names\s*:", head, re.M) else 0
            return 0
        if not path.is_dir():
            return 0
        if _yaml_in(path) is not None:
            return 90
        if (path / "obj.data").is_file() and _names_file(path):
            return 85
        if (path / "obj.names").is_file() and (
            ((path / "images").is_dir() and (path / "labels").is_dir())
            or ((path / "Images").is_dir() and (path / "Annotations").is_dir())
        ):
            return 70
        return 0
    except OSError:
        return 0


def _task_detector(task: str) -> Callable[[Path], int]:
    def detect_task(path: Path) -> int:
        path = Path(path)
        if task == "classify":
            return _classify_score(path) if path.is_dir() else 0
        base = detect(path)
        if not base:
            return 0
        y = path if path.is_file() else _yaml_in(path)
        head = y.read_bytes()[:4096].decode("utf-8", "replace") if y else ""
        hint = re.search(r"^task\s*:\s*(\w+)", head, re.M)
        if hint and hint.group(1) in ("detect", "segment", "pose", "obb"):
            return base + 1 if hint.group(1) == task else 0
        if re.search(r"^kpt_shape\s*:", head, re.M):
            return base + 1 if task == "pose" else 0
        found = _sniff_task([_first_label_text(path.parent if path.is_file() else path)])
        return base + 1 if found == task else 0

    return detect_task


def _reader(task: str | None):
    def read_task(path: Path, **options) -> tuple[Dataset, Report]:
        return read(path, task=task, **options)

    return read_task


def _writer(task: str):
    def write_task(dataset: Dataset, path: Path, **options) -> Report:
        return write(dataset, path, task=task, **options)

    return write_task


_DESCRIPTIONS = {
    "detect": "YOLO detection (Ultralytics data.yaml, images/ + labels/; also darknet obj.data)",
    "segment": "YOLO instance segmentation (normalised polygons)",
    "pose": "YOLO pose (box + keypoints, kpt_shape in data.yaml)",
    "obb": "YOLO oriented boxes (4 normalised corners)",
    "classify": "YOLO classification (<split>/<class>/image folders)",
}
for _name, _task in TASKS.items():
    register(
        Format(
            _name,
            _DESCRIPTIONS[_task],
            read=_reader(None if _task == "detect" else _task),
            write=_writer(_task),
            detect=detect if _task == "detect" else _task_detector(_task),
        )
    )
