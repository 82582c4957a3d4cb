"""Writing the XML of CVAT for images (an ``<image>`` per item, with a ``<task>`` or, with subsets,
a ``<project>`` in ``<meta>``) and of CVAT for video (a ``<track>`` per track id, keyframes closed by
an ``outside`` one), as chunks streamed to a temporary file, and copying the images."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from limner.core.dataset import Dataset, Item
from limner.core.shapes import Shape
from limner.formats.base import Report
from limner.formats.cvat.shapes import _attr_children, _common, _shape_xml, _skeleton_xml


def _image_shapes(item: Item, ds: Dataset, report: Report) -> list[str]:
    out = []
    for s in item.shapes:
        if s.track_id is not None:
            report.drop("track ids not representable in CVAT for images (write cvat_video)")
        if s.kind == "tag":
            out.append(f"<tag label={quoteattr(s.label)}{_common(s)}>{_attr_children(s)}</tag>")
        elif s.kind == "skeleton":
            lab = ds.schema.get(s.label)
            names = lab.skeleton.points if lab and lab.skeleton else [str(i + 1) for i in range(len(s.geometry["points"]))]
            out.append(_skeleton_xml(s, names, f" label={quoteattr(s.label)}{_common(s)}", ""))
        else:
            x = _shape_xml(s, f" label={quoteattr(s.label)}{_common(s)}", report)
            if x:
                out.append(x)
    return out


def _image_size(item: Item) -> tuple[int | None, int | None]:
    if item.width and item.height:
        return item.width, item.height
    for s in item.shapes:
        if s.kind == "mask":
            h, w = s.geometry["rle"]["size"]
            return w, h
    if item.image is not None and Path(item.image).is_file():
        from PIL import Image

        with Image.open(item.image) as im:
            return im.size
    return None, None


def _stream(target: Path, chunks) -> None:
    """Write an iterable of strings to ``target`` through a temporary file and os.replace."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            buf: list[str] = []
            for c in chunks:
                buf.append(c)
                if len(buf) >= 512:
                    f.write("".join(buf))
                    buf.clear()
            f.write("".join(buf))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _copy_image(item: Item, dest: Path, report: Report) -> None:
    if item.image is not None and Path(item.image).is_file():
        dest.parent.mkdir(parents=True, exist_ok=True)
        if Path(item.image).resolve() != dest.resolve():
            shutil.copyfile(item.image, dest)
    else:
        report.missing_images.append(item.name)


def _image_chunks(ds: Dataset, root: Path, name: str, labels: str, include_images: bool, report: Report):
    subsets = list(dict.fromkeys(i.subset for i in ds.items if i.subset))
    yield '<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n  <version>1.1</version>\n  <meta>\n'
    if subsets:
        yield (f"    <project><name>{name}</name><labels>{labels}</labels>"
               f"<subsets>{escape(chr(10).join(subsets))}</subsets></project>\n")  # fmt: skip
    else:
        yield (f"    <task><name>{name}</name><size>{len(ds.items)}</size><mode>annotation</mode>"
               f"<labels>{labels}</labels></task>\n")  # fmt: skip
    yield "  </meta>\n"
    for idx, item in enumerate(ds.items):
        w, h = _image_size(item)
        rel = item.name
        if item.subset and rel.startswith(item.subset + "/"):
            rel = rel[len(item.subset) + 1 :]
        attrs = f'id="{idx}" name={quoteattr(rel)}'
        if subsets:
            attrs += f" subset={quoteattr(item.subset or 'default')}"
        if w and h:
            attrs += f' width="{w}" height="{h}"'
        else:
            report.problem(f"{item.name}: image size unknown; width and height left out")
        body = "".join("\n    " + x for x in _image_shapes(item, ds, report))
        yield f"  <image {attrs}>{body}\n  </image>\n"
        if include_images:
            sub = f"{item.subset}/" if subsets and item.subset else ""
            _copy_image(item, root / "images" / (sub + rel), report)
    yield "</annotations>\n"


def _video_chunks(ds: Dataset, root: Path, name: str, labels: str, include_images: bool, report: Report):
    frames = [i.metadata.get("frame") for i in ds.items]
    ok = all(isinstance(f, int) for f in frames) and len(set(frames)) == len(frames)
    if ok and len(frames) > 1:
        frames_sorted = sorted(frames)
        steps = {b - a for a, b in zip(frames_sorted, frames_sorted[1:])}
        ok = len(steps) == 1
    if not ok:
        if any(f is not None for f in frames):
            report.problem("frame numbers were not an evenly spaced sequence; renumbered 0..n-1")
        frames = list(range(len(ds.items)))
    order = sorted(range(len(frames)), key=frames.__getitem__)
    fs = [frames[i] for i in order]
    step = fs[1] - fs[0] if len(fs) > 1 else 1
    w = h = None
    for item in ds.items:
        w, h = _image_size(item)
        if w:
            break
    yield '<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n  <version>1.1</version>\n  <meta>\n'
    yield (f"    <task><name>{name}</name><size>{len(fs)}</size><mode>interpolation</mode>"
           f"<start_frame>{fs[0] if fs else 0}</start_frame><stop_frame>{fs[-1] if fs else 0}</stop_frame>"
           f"<frame_filter>{f'step={step}' if step > 1 else ''}</frame_filter><labels>{labels}</labels>")  # fmt: skip
    if w and h:
        yield f"<original_size><width>{w}</width><height>{h}</height></original_size>"
    yield "</task>\n  </meta>\n"
    tracks: dict[tuple, list[tuple[int, Shape]]] = {}
    used = {s.track_id for i in ds.items for s in i.shapes if s.track_id is not None}
    next_id = max(used, default=-1) + 1
    seen_ids: dict[int, tuple] = {}
    for i in order:
        item, frame = ds.items[i], frames[i]
        if include_images and item.image is not None:
            _copy_image(item, root / "images" / f"frame_{frame:06d}{Path(item.name).suffix or '.png'}", report)
        if item.name != f"frame_{frame:06d}{Path(item.name).suffix}":
            report.drop("image names replaced by frame numbers")
        for s in item.shapes:
            if s.kind == "tag":
                report.drop("tags not representable in CVAT for video")
                continue
            if s.track_id is None:
                key = (next_id, s.label, s.kind)
                next_id += 1
                report.drop("untracked shapes written as one-frame tracks")
            else:
                key = seen_ids.setdefault(s.track_id, (s.track_id, s.label, s.kind))
                if key[1:] != (s.label, s.kind):
                    key = seen_ids.setdefault(f"{s.track_id}/{s.label}/{s.kind}", (next_id, s.label, s.kind))
                    if key[0] == next_id:
                        next_id += 1
                        report.problem(f"track {s.track_id} mixes labels or kinds; split into track {key[0]}")
            tracks.setdefault(key, []).append((frame, s))
    pos = {f: n for n, f in enumerate(fs)}
    for (tid, label, _kind), shapes in tracks.items():
        shapes.sort(key=lambda t: t[0])
        first = shapes[0][1]
        lab = ds.schema.get(label)
        names = lab.skeleton.points if lab and lab.skeleton else None
        out = []
        for n, (frame, s) in enumerate(shapes):
            out.append(_tracked(s, frame, False, names, report))
            nxt = fs[pos[frame] + 1] if pos[frame] + 1 < len(fs) else None
            if nxt is not None and (n + 1 == len(shapes) or shapes[n + 1][0] != nxt):
                out.append(_tracked(s, nxt, True, names, report))
        body = "".join("\n    " + x for x in out if x)
        yield f"  <track id=\"{tid}\" label={quoteattr(label)}{_common(first)}>{body}\n  </track>\n"
    yield "</annotations>\n"


def _tracked(s: Shape, frame: int, outside: bool, names, report: Report) -> str | None:
    if s.kind == "skeleton":
        names = names or [str(i + 1) for i in range(len(s.geometry["points"]))]
        pts = s.geometry["points"]
        if outside:
            s = Shape(s.kind, s.label, {"points": [[x, y, 0] for x, y, _ in pts]}, s.attributes, s.z_order)
        return _skeleton_xml(s, names, f' frame="{frame}" keyframe="1"', ' keyframe="1"')
    return _shape_xml(s, f' frame="{frame}" keyframe="1" outside="{int(outside)}"', report)
