"""Label tables and colours: Cityscapes' standard classes (cityscapesScripts' ``labels.py``) and
CamVid's 32, VOC's palette for other labels, the names that mean background, colour text
conversions and label_colors.txt (``r g b name`` per line) as Cityscapes and CamVid folders hold it."""

from __future__ import annotations

from pathlib import Path

from limner.formats.base import FormatError
from limner.formats.voc import voc_palette

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
_BACKGROUND_NAMES = ("background", "_background_", "unlabeled", "void")


def _hex(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _norm(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


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
