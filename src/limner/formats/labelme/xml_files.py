"""The "labelme_xml" format: MIT LabelMe annotation XML (LabelMe 3.0), one file per image in MIT's
Annotations/ Images/ Masks/ layout or datumaro's per-subset folders, read (polygons, bounding boxes,
mask PNGs, parts as group ids), written in datumaro's layout (masks as full-size PNGs), and
detection."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np

from limner.core import rle as _rle
from limner.core.dataset import Dataset, Item
from limner.core.raster import ellipse_points, rotated_box_corners
from limner.core.shapes import Shape
from limner.formats.base import FormatError, Report, atomic_write, peek
from limner.formats.labelme.attributes import _declare, _join_attrs, _split_attrs


# ---------------------------------------------------------------------------------------- LabelMe XML
# The original MIT LabelMe annotation files ("LabelMe 3.0" in CVAT and datumaro): one XML per image,
# <annotation><filename/><folder/><imagesize><nrows/><ncols/></imagesize><object><name/><deleted/>
# <occluded>yes|no</occluded><attributes>a, k=v</attributes><parts><hasparts>1,2</hasparts>
# <ispartof/></parts><polygon><username/><pt><x/><y/></pt>...</polygon> | <segm><box/><mask>m.png
# </mask></segm><type>bounding_box</type>?</object>. Two layouts: MIT's Annotations/<folder>/,
# Images/<folder>/, Masks/<folder>/; or datumaro's <subset>/<name>.xml beside the image, masks in
# <subset>/Masks/. Attribute text uses datumaro's escapes (\\, \=, \", \,).


def _xml_files(root: Path) -> tuple[list[Path], bool]:
    mit = (root / "Annotations").is_dir()
    base = root / "Annotations" if mit else root
    return [p for p in sorted(base.rglob("*.xml")) if _looks_labelme_xml(p)], mit


def read_xml(path: Path, **options) -> tuple[Dataset, Report]:
    """Read LabelMe XML (MIT layout with Annotations/ Images/ Masks/, or datumaro's per-subset folders)."""
    from limner.formats.base import parse_xml

    root = Path(path).absolute()
    files, mit = _xml_files(root)
    if not files:
        raise FormatError(root, "no LabelMe XML files (<annotation> with <object><polygon> or <segm>) here")
    ds, report = Dataset(), Report(format="LabelMe XML")
    for xml in files:
        ann = parse_xml(xml).getroot()  # an unknown encoding is a FormatError there
        if ann.tag != "annotation":
            raise FormatError(xml, f"the root element is <{ann.tag}>, LabelMe XML has <annotation>", key=ann.tag)
        fname = (ann.findtext("filename") or "").strip()
        folder = (ann.findtext("folder") or "").strip()
        if not fname:
            raise FormatError(xml, "<filename> is missing", key="annotation/filename")
        if mit:
            image, name, subset = root / "Images" / folder / fname, f"{folder}/{fname}" if folder else fname, None
            masks = root / "Masks" / folder
        else:
            image = xml.parent / fname
            name = image.relative_to(root).as_posix()
            subset = name.split("/")[0] if "/" in name else None
            masks = xml.parent / "Masks"
        try:
            h = int(ann.findtext("imagesize/nrows") or 0) or None
            w = int(ann.findtext("imagesize/ncols") or 0) or None
        except ValueError:
            raise FormatError(xml, "imagesize nrows and ncols must be integers", key="annotation/imagesize") from None
        if not image.is_file():
            report.missing_images.append(name)
            image = None
        elif h is None or w is None:
            from PIL import Image

            with Image.open(image) as im:
                w, h = im.size
        shapes, ids, children, has_parent = [], {}, {}, set()
        for j, obj in enumerate(ann.iter("object")):
            key = f"object[{j}]"
            label = (obj.findtext("name") or "").strip()
            try:
                oid = int(obj.findtext("id") or j)
            except ValueError:
                raise FormatError(xml, f"object id {obj.findtext('id')!r} is not an integer", key=f"{key}/id") from None
            parts = obj.find("parts")
            if parts is not None:
                try:
                    children[oid] = [int(c) for c in (parts.findtext("hasparts") or "").split(",") if c.strip()]
                except ValueError:
                    raise FormatError(xml, "hasparts must list object ids", key=f"{key}/parts/hasparts") from None
                if (parts.findtext("ispartof") or "").strip():
                    has_parent.add(oid)
            if (obj.findtext("deleted") or "0").strip() == "1":
                report.drop("deleted objects skipped")
                continue
            if not label:
                report.drop("objects without a name skipped")
                continue
            attrs = _split_attrs(obj.findtext("attributes") or "")
            if (obj.findtext("occluded") or "").strip() == "yes":
                attrs["occluded"] = True
            poly, segm = obj.find("polygon"), obj.find("segm")
            src = poly if poly is not None else segm
            user = (src.findtext("username") or "").strip() if src is not None else ""
            if user:
                attrs["username"] = user
            try:
                if poly is not None:
                    pts = [[float(p.findtext("x")), float(p.findtext("y"))] for p in poly.iter("pt")]
                    if (obj.findtext("type") or "").strip() == "bounding_box" and len(pts) >= 2:
                        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
                        kind, geom = "box", {"x": min(xs), "y": min(ys), "w": max(xs) - min(xs), "h": max(ys) - min(ys)}
                    elif len(pts) >= 3:
                        kind, geom = "polygon", {"points": pts, "holes": []}
                    else:
                        report.drop("polygons with fewer than 3 points skipped")
                        continue
                elif segm is not None:
                    mpath = masks / (segm.findtext("mask") or "").strip()
                    if not mpath.is_file() or not h or not w:
                        report.problem(f"{xml} ({key}): mask {mpath.name!r} not found; object skipped")
                        continue
                    from PIL import Image

                    with Image.open(mpath) as im:
                        m = np.asarray(im)
                    m = (m.reshape(m.shape[0], m.shape[1], -1) != 0).any(axis=2).astype(np.uint8)
                    kind, geom = "mask", {"rle": _rle.encode(m)}
                else:
                    report.drop("objects with no polygon or mask skipped")
                    continue
            except (TypeError, ValueError) as e:
                raise FormatError(xml, f"invalid point: {e}", key=f"{key}/polygon") from None
            ds.ensure_label(label)
            lab = ds.schema.get(label)
            for k, v in attrs.items():
                _declare(lab, k, v)
            ids[oid] = len(shapes)
            shapes.append(Shape(kind, label, geom, attrs))
        group = 0
        for oid in [o for o in children if children[o] and o not in has_parent]:
            group += 1
            todo = [oid]
            while todo:
                o = todo.pop()
                if o in ids and shapes[ids[o]].group_id is None:
                    shapes[ids[o]].group_id = group
                todo.extend(children.get(o, []))
        ds.items.append(Item(name, w, h, shapes, subset, {}, image))
    report.items = len(ds.items)
    report.shapes = ds.shape_count
    return ds, report


def write_xml(dataset: Dataset, path: Path, *, include_images: bool = False, **options) -> Report:
    """Write LabelMe XML in datumaro's layout: ``<path>/<item name minus extension>.xml`` beside the
    image, masks as full-size PNGs in ``Masks/`` of the same folder."""
    from xml.sax.saxutils import escape

    from PIL import Image

    root = Path(path)
    report = Report(format="LabelMe XML")
    for item in dataset.items:
        rel = Path(item.name)
        folder = root / rel.parent
        objs, groups = [], {}
        for s in item.shapes:
            if s.group_id is not None:
                groups.setdefault(s.group_id, []).append(len(objs))
            objs.append(s)
        parts = {}
        for members in groups.values():
            parts[members[0]] = (",".join(str(m) for m in members[1:]), "")
            for m in members[1:]:
                parts[m] = ("", str(members[0]))
        folder_name = rel.parent.as_posix() if rel.parent.name else ""
        out = [f"<annotation><filename>{escape(rel.name)}</filename><folder>{escape(folder_name)}</folder>"
               "<source><sourceImage></sourceImage><sourceAnnotation>Limner</sourceAnnotation></source>"]  # fmt: skip
        if item.width and item.height:
            out.append(f"<imagesize><nrows>{item.height}</nrows><ncols>{item.width}</ncols></imagesize>")
        for n, s in enumerate(objs):
            g, k = s.geometry, s.kind
            attrs = dict(s.attributes)
            occluded = "yes" if attrs.pop("occluded", False) is True else "no"
            user = escape(str(attrs.pop("username", "")))
            typ, body = "", ""
            if k in ("box", "rotated_box", "polygon", "ellipse"):
                if k == "box":
                    x0, y0, x1, y1 = g["x"], g["y"], g["x"] + g["w"], g["y"] + g["h"]
                    pts = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
                    typ = "<type>bounding_box</type>"
                elif k == "polygon":
                    pts = g["points"]
                    if g.get("holes"):
                        report.drop("polygon holes dropped")
                else:
                    pts = (rotated_box_corners(g) if k == "rotated_box" else ellipse_points(g)).tolist()
                    report.drop("ellipses written as polygons" if k == "ellipse" else "rotated boxes written as polygons")
                xy = "".join(f"<pt><x>{_num_text(x)}</x><y>{_num_text(y)}</y></pt>" for x, y in pts)
                body = f"<polygon><username>{user}</username>{xy}</polygon>"
            elif k == "mask":
                m = _rle.decode(g["rle"])
                ys, xs = np.nonzero(m)
                if not len(ys):
                    report.drop("empty masks skipped")
                    continue
                mname = f"{rel.stem}_mask_{n}.png"
                buf = io.BytesIO()
                Image.fromarray(m * 255).save(buf, format="PNG")
                atomic_write(folder / "Masks" / mname, buf.getvalue())
                body = (f"<segm><username>{user}</username><box><xmin>{xs.min()}</xmin><ymin>{ys.min()}</ymin>"
                        f"<xmax>{xs.max()}</xmax><ymax>{ys.max()}</ymax></box><mask>{escape(mname)}</mask></segm>")  # fmt: skip
            else:
                report.drop(f"{k}s not representable in LabelMe XML")
                continue
            for field, default, what in (("z_order", 0, "z-orders"), ("track_id", None, "track ids"),
                                         ("confidence", None, "confidences")):  # fmt: skip
                if getattr(s, field) != default:
                    report.drop(f"{what} not representable")
            has, of = parts.get(n, ("", ""))
            out.append(f"<object><name>{escape(s.label)}</name><deleted>0</deleted><verified>0</verified>"
                       f"<occluded>{occluded}</occluded><attributes>{escape(_join_attrs(attrs))}</attributes>"
                       f"<parts><hasparts>{has}</hasparts><ispartof>{of}</ispartof></parts><date></date>"
                       f"<id>{n}</id>{typ}{body}</object>")  # fmt: skip
        out.append("</annotation>\n")
        atomic_write(folder / (rel.stem + ".xml"), "".join(out))
        if include_images:
            if item.image is not None and Path(item.image).is_file():
                (folder).mkdir(parents=True, exist_ok=True)
                if Path(item.image).resolve() != (folder / rel.name).resolve():
                    shutil.copyfile(item.image, folder / rel.name)
            else:
                report.missing_images.append(item.name)
    report.items = len(dataset.items)
    report.shapes = dataset.shape_count
    return report


def _num_text(v) -> str:
    v = float(v)
    return str(int(v)) if v.is_integer() else repr(v)


def _looks_labelme_xml(p: Path) -> bool:
    head = peek(p)
    marks = (b"<imagesize>", b"<pt>", b"<segm>")
    return b"<annotation>" in head and b"<bndbox>" not in head and any(m in head for m in marks)


def detect_xml(path: Path) -> int:
    path = Path(path)
    if path.is_dir():
        base = path / "Annotations" if (path / "Annotations").is_dir() else path
        for i, p in enumerate(base.rglob("*.xml")):
            if _looks_labelme_xml(p):
                return 80
            if i >= 20:
                break
    return 0
