"""The demo project: real photographs shipped inside scikit-image, a schema using every shape kind,
and annotations — some drawn by hand here, some computed from the pixels (coin masks, the horse's
outline) — so a new user sees every kind of label on real images at once.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from sqlalchemy import select

from limner.settings import Settings
from limner.store.db import Database

__all__ = ["DEMO_NAME", "build_demo"]

DEMO_NAME = "Demo: sample photographs"

PHOTOS = [
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "rocket.jpg",
    "coins.png",
    "horse.png",
    "camera.png",
    "motorcycle_left.png",
    "hubble_deep_field.jpg",
]

LABELS = [
    {"name": "person", "color": "#e6194b", "kinds": ["box", "polygon", "mask"],
     "attributes": [{"name": "pose", "kind": "select", "options": ["standing", "sitting", "other"], "default": "standing"},
                    {"name": "occluded", "kind": "checkbox", "default": False}]},
    {"name": "face", "color": "#f58231", "kinds": ["ellipse", "box"],
     "attributes": [{"name": "expression", "kind": "select", "options": ["neutral", "smiling"], "default": "neutral"}]},
    {"name": "upper body", "color": "#ffe119", "kinds": ["skeleton"],
     "skeleton": {"points": ["head", "neck", "right shoulder", "left shoulder"], "edges": [[0, 1], [1, 2], [1, 3]]}},
    {"name": "animal", "color": "#3cb44b", "kinds": ["polygon", "mask", "box", "rotated_box"],
     "attributes": [{"name": "species", "kind": "text", "required": True}]},
    {"name": "eye", "color": "#42d4f4", "kinds": ["ellipse", "points"]},
    {"name": "coin", "color": "#911eb4", "kinds": ["mask", "points", "ellipse"],
     "attributes": [{"name": "value", "kind": "number", "minimum": 0}]},
    {"name": "vehicle", "color": "#4363d8", "kinds": ["rotated_box", "box", "polygon"],
     "attributes": [{"name": "type", "kind": "select", "options": ["rocket", "shuttle", "motorcycle", "other"], "default": "other"}]},
    {"name": "structure", "color": "#a9a9a9", "kinds": ["polygon", "polyline"]},
    {"name": "tableware", "color": "#9a6324", "kinds": ["ellipse", "polyline", "polygon"],
     "attributes": [{"name": "item", "kind": "select", "options": ["cup", "saucer", "spoon"], "default": "cup"}]},
    {"name": "scene", "color": "#808000", "kinds": ["tag"]},
    {"name": "outdoor", "color": "#469990", "kinds": ["tag"], "parent": "scene"},
    {"name": "indoor", "color": "#dcbeff", "kinds": ["tag"], "parent": "scene"},
    {"name": "night", "color": "#000075", "kinds": ["tag"], "parent": "scene"},
]


def _tag(name: str) -> dict:
    return {"kind": "tag", "label": name}


def _hand_drawn() -> dict[str, list[dict]]:
    return {
        "astronaut.png": [
            {"kind": "box", "label": "person", "geometry": {"x": 20, "y": 15, "w": 345, "h": 497}},
            {"kind": "ellipse", "label": "face", "geometry": {"cx": 226, "cy": 108, "rx": 52, "ry": 68, "angle": 0},
             "attributes": {"expression": "smiling"}},
            {"kind": "skeleton", "label": "upper body",
             "geometry": {"points": [[226, 95, 2], [215, 200, 1], [100, 255, 2], [325, 250, 2]]}},
            {"kind": "box", "label": "vehicle", "geometry": {"x": 355, "y": 0, "w": 110, "h": 280},
             "attributes": {"type": "shuttle"}},
            _tag("indoor"),
        ],
        "chelsea.png": [
            {"kind": "ellipse", "label": "eye", "geometry": {"cx": 170, "cy": 115, "rx": 34, "ry": 29, "angle": -10}},
            {"kind": "ellipse", "label": "eye", "geometry": {"cx": 320, "cy": 135, "rx": 25, "ry": 28, "angle": 0}},
            {"kind": "rotated_box", "label": "animal", "geometry": {"cx": 225, "cy": 150, "w": 420, "h": 300, "angle": 0},
             "attributes": {"species": "cat"}},
        ],
        "coffee.png": [
            {"kind": "ellipse", "label": "tableware", "geometry": {"cx": 290, "cy": 112, "rx": 116, "ry": 92, "angle": 0},
             "attributes": {"item": "cup"}},
            {"kind": "ellipse", "label": "tableware", "geometry": {"cx": 278, "cy": 245, "rx": 202, "ry": 142, "angle": 0},
             "attributes": {"item": "saucer"}, "z_order": -1},
            {"kind": "polyline", "label": "tableware", "geometry": {"points": [[410, 72], [396, 160], [381, 226], [368, 270]]},
             "attributes": {"item": "spoon"}, "z_order": 1},
            _tag("indoor"),
        ],
        "rocket.jpg": [
            {"kind": "rotated_box", "label": "vehicle", "geometry": {"cx": 322, "cy": 268, "w": 30, "h": 280, "angle": 0},
             "attributes": {"type": "rocket"}},
            {"kind": "polygon", "label": "structure",
             "geometry": {"points": [[45, 0], [90, 0], [85, 60], [62, 390], [5, 400], [0, 330], [30, 80]]}},
            {"kind": "polyline", "label": "structure", "geometry": {"points": [[447, 125], [448, 260], [452, 420]]}},
            _tag("outdoor"),
            _tag("night"),
        ],
    }


def _computed(folder: Path) -> dict[str, list[dict]]:
    """Labels computed from the pixels: each coin's mask and centre, the horse's outline."""
    import numpy as np
    from scipy import ndimage
    from skimage import data, filters, measure, segmentation

    from limner.core.rle import encode

    out: dict[str, list[dict]] = {}
    coins = data.coins()
    # region growing on the gradient from sure background and sure coin markers, holes filled
    markers = np.zeros_like(coins)
    markers[coins < 30] = 1
    markers[coins > 150] = 2
    fg = ndimage.binary_fill_holes(segmentation.watershed(filters.sobel(coins), markers) == 2)
    regions = [r for r in measure.regionprops(measure.label(fg)) if r.area > 400]
    shapes = []
    for r in regions:
        m = np.zeros(coins.shape, dtype=np.uint8)
        m[tuple(r.coords.T)] = 1
        shapes.append({"kind": "mask", "label": "coin", "geometry": {"rle": encode(m)}, "group_id": r.label})
    shapes.append({"kind": "points", "label": "coin",
                   "geometry": {"points": [[round(r.centroid[1], 1), round(r.centroid[0], 1)] for r in regions]}})
    out["coins.png"] = shapes

    horse = ~data.horse()
    contour = max(measure.find_contours(horse.astype(float), 0.5), key=len)
    poly = measure.approximate_polygon(contour, tolerance=1.5)[:-1]
    out["horse.png"] = [
        {"kind": "polygon", "label": "animal", "geometry": {"points": [[float(c), float(r)] for r, c in poly]},
         "attributes": {"species": "horse"}},
        _tag("outdoor"),
    ]
    return out


def build_demo(db: Database, settings: Settings, owner_id: int) -> tuple[int, bool]:
    """Create the demo project once; returns (project id, created now)."""
    import skimage

    from limner.ingest import ingest
    from limner.media.sources import Source
    from limner.media.storage import storage_from_url
    from limner.store.annotations import put_annotation
    from limner.store.assets import set_status
    from limner.store.models import Asset, Project, User
    from limner.store.projects import create_label, create_project

    with db.read() as s:
        existing = s.scalar(select(Project.id).where(Project.name == DEMO_NAME))
    if existing is not None:
        return existing, False
    with db.write() as s:
        p = create_project(s, s.get(User, owner_id), DEMO_NAME, "Photographs shipped with scikit-image, labelled with every shape kind.")
        pid = p.id
        for lb in LABELS:
            create_label(s, pid, lb, owner_id)
    src_dir = Path(skimage.__file__).parent / "data"
    with tempfile.TemporaryDirectory(prefix="limner-demo-") as tmp:
        sources = []
        for name in PHOTOS:
            if (src_dir / name).exists():
                shutil.copy(src_dir / name, Path(tmp) / name)
                sources.append(Source(name, Path(tmp) / name))
        ingest(db, storage_from_url(settings.media_location), pid, sources, actor_id=owner_id,
               thumb_size=settings.thumbnail_size, workers=settings.workers)
        shapes = _hand_drawn() | _computed(Path(tmp))
    user = None
    with db.write() as s:
        user = s.get(User, owner_id)
        for a in s.scalars(select(Asset).where(Asset.project_id == pid)):
            if a.name in shapes:
                put_annotation(s, a, user.username, 0, shapes[a.name], owner_id)
                set_status(s, a, "done" if a.name != "chelsea.png" else "review", owner_id)
    return pid, True
