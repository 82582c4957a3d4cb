"""Reading one CVAT XML file: the children of ``<annotations>`` one at a time (the whole tree for
files up to ``STREAM_ABOVE`` bytes, defusedxml's iterparse above), ``<image>`` elements as items
with their shapes and images, ``<track>`` elements as tracked shapes attached to their frames (the
frames becoming items ``frame_NNNNNN`` in video mode)."""

from __future__ import annotations

from pathlib import Path

from limner.core.dataset import Item
from limner.core.shapes import Shape
from limner.formats.base import FormatError, parse_xml
from limner.formats.cvat.meta import _read_meta
from limner.formats.cvat.shapes import _Reader

STREAM_ABOVE = 4 << 20  # bytes: bigger files are parsed with iterparse, element by element
_SHAPE_TAGS = ("box", "polygon", "polyline", "points", "ellipse", "mask", "skeleton", "cuboid")


def _top_elements(path: Path):
    """The children of ``<annotations>``, one at a time (iterparse and clearing for big files)."""
    from xml.etree.ElementTree import ParseError

    if path.stat().st_size <= STREAM_ABOVE:
        root = parse_xml(path).getroot()  # an unknown encoding is a FormatError there
        if root.tag != "annotations":
            raise FormatError(path, f"the root element is <{root.tag}>, CVAT XML has <annotations>", key=root.tag)
        yield from root
        return
    import defusedxml.ElementTree as DET
    from defusedxml import DefusedXmlException

    depth, root = 0, None
    try:
        for ev, el in DET.iterparse(str(path), events=("start", "end")):
            if ev == "start":
                if depth == 0:
                    root = el
                    if el.tag != "annotations":
                        raise FormatError(path, f"the root element is <{el.tag}>, CVAT XML has <annotations>", key=el.tag)
                depth += 1
            else:
                depth -= 1
                if depth == 1:
                    yield el
                    root.clear()
    except ParseError as e:
        line = e.position[0] if getattr(e, "position", None) else None
        raise FormatError(path, f"not well-formed XML: {e}", line=line) from None
    except DefusedXmlException as e:
        raise FormatError(path, f"refused XML: {type(e).__name__} (entities and DTDs are not allowed)") from None
    except LookupError as e:
        raise FormatError(path, f"not readable XML: {e}", line=1) from None


def _find_image(root: Path, subset: str | None, name: str) -> tuple[str, Path | None]:
    images = root / "images"
    if subset and (images / subset / name).is_file():
        return f"{subset}/{name}", images / subset / name
    for base in (images, root):
        if (base / name).is_file():
            return name, base / name
    return (f"{subset}/{name}" if subset else name), None


def _read_file(xml: Path, rd: _Reader, info: dict, options: dict) -> None:
    ds, report = rd.ds, rd.report
    root = xml.parent
    file_subset = None if xml.stem == "annotations" else xml.stem
    by_frame: dict[tuple[str | None, int], Item] = {}
    pending: list[tuple[str | None, int, Shape]] = []
    meta_info: dict = {}
    n_img = 0
    for el in _top_elements(xml):
        if el.tag == "meta":
            _read_meta(el, ds, meta_info, report, xml)
        elif el.tag == "image":
            _read_image(el, n_img, xml, rd, file_subset, by_frame)
            n_img += 1
        elif el.tag == "track":
            _read_track(el, xml, rd, meta_info, file_subset, pending)
    for k in ("name", "mode"):
        if k in meta_info:
            info.setdefault(k, meta_info[k])
    if meta_info.get("attributes"):
        info.setdefault("attributes", {}).update(meta_info["attributes"])
    if pending:
        _attach_tracks(pending, by_frame, meta_info, root, rd, info)


def _read_image(el, n: int, xml: Path, rd: _Reader, file_subset, by_frame) -> None:
    name = el.get("name")
    if not name:
        raise FormatError(xml, "an <image> has no name", key=f"image[{n}]")
    try:
        frame = int(el.get("id", n))
        w = int(el.get("width")) if el.get("width") else None
        h = int(el.get("height")) if el.get("height") else None
    except ValueError as e:
        raise FormatError(xml, f"<image> has an invalid id, width or height: {e}", key=f"image {name!r}") from None
    subset = el.get("subset") or file_subset
    rel, image = _find_image(xml.parent, el.get("subset"), name)
    if image is None:
        rd.report.missing_images.append(rel)
    meta = {"frame": frame}
    if el.get("task_id"):
        meta["task_id"] = el.get("task_id")
    item = Item(rel, w, h, [], subset, meta, image)
    shapes = item.shapes
    for j, child in enumerate(el):
        if child.tag in _SHAPE_TAGS or child.tag == "tag":
            s = rd.shape(child, None, h, w, xml, f"image {name!r} > {child.tag}[{j}]")
            if s is not None:
                shapes.append(s)
    rd.ds.items.append(item)
    by_frame[(subset, frame)] = item


def _read_track(el, xml: Path, rd: _Reader, meta_info: dict, file_subset, pending) -> None:
    try:
        tid = int(el.get("id"))
        group = int(el.get("group_id") or 0) or None
    except (TypeError, ValueError):
        raise FormatError(xml, f"a <track> has an invalid id or group_id ({el.get('id')!r})", key="track") from None
    size = meta_info.get("original_size") or [None, None]
    subset = el.get("subset") or file_subset
    for j, child in enumerate(el):
        if child.tag not in _SHAPE_TAGS:
            continue
        where = f"track {tid} > {child.tag}[{j}]"
        if child.get("outside") == "1" or (
            child.tag == "skeleton" and child.findall("points") and all(p.get("outside") == "1" for p in child.findall("points"))
        ):
            continue
        try:
            frame = int(child.get("frame"))
        except (TypeError, ValueError):
            raise FormatError(xml, f"a tracked <{child.tag}> has an invalid frame {child.get('frame')!r}", key=where) from None
        s = rd.shape(child, el.get("label"), size[1], size[0], xml, where)
        if s is not None:
            s.track_id, s.group_id = tid, group or s.group_id
            s.source = el.get("source") or s.source
            pending.append((subset, frame, s))


def _attach_tracks(pending, by_frame, meta_info: dict, root: Path, rd: _Reader, info: dict) -> None:
    """Tracked shapes to their frames; in video mode the frames become items named frame_NNNNNN."""
    if not by_frame:
        frames = sorted({f for _, f, _ in pending})
        try:
            start = int(meta_info.get("start_frame") or 0)
            step = int((meta_info.get("frame_filter") or "step=1").partition("=")[2] or 1)
            size = int(meta_info.get("size") or 0)
        except ValueError:
            start, step, size = 0, 1, 0
        if size:
            frames = sorted(set(frames) | {start + i * step for i in range(size)})
        images = {p.stem: p for p in (root / "images").glob("frame_*")} if (root / "images").is_dir() else {}
        w, h = meta_info.get("original_size") or (None, None)
        info["video"] = {"start_frame": start, "step": step}
        if "original_size" in meta_info:
            info["video"]["original_size"] = meta_info["original_size"]
        for f in frames:
            stem = f"frame_{f:06d}"
            image = images.get(stem)
            name = image.name if image else stem + ".png"
            if image is None:
                rd.report.missing_images.append(name)
            item = Item(name, w or None, h or None, [], None, {"frame": f}, image)
            rd.ds.items.append(item)
            by_frame[(None, f)] = item
    for subset, frame, s in pending:
        item = by_frame.get((subset, frame)) or by_frame.get((None, frame))
        if item is None:
            rd.report.drop("tracked shapes on frames with no image skipped")
            continue
        item.shapes.append(s)
