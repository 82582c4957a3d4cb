"""The assistance engine's declared types and its registry.

Three kinds of assistant, each a small class with a declared input and output:

- an **interactor** turns an image and prompts (positive/negative points, a box, scribbles, a
  previous mask) into a mask and its simplified polygons (:class:`Interactor`);
- a **detector** turns an image into shapes with labels and confidences (:class:`Detector`);
- a **tracker** carries shapes from one video frame to the next (:class:`Tracker`; the seam for
  video, declared here, with no implementation yet).

Images are numpy ``uint8`` arrays of shape ``(height, width, 3)`` in RGB order. Coordinates are
image pixels (floats), x to the right, y down, as in :mod:`limner.core.shapes`.

Built-in assistants register through :func:`register` exactly as third-party ones do: a package
exposes a module in the ``limner.assistants`` entry-point group whose import calls ``register``.
Both the built-ins and the entry points are loaded lazily, on the first call to :func:`get` or
:func:`available`.
"""

from __future__ import annotations

import importlib
import inspect
import math
import pkgutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias, runtime_checkable

import numpy as np

from limner.errors import NotFound, ValidationError

__all__ = [
    "KINDS",
    "PROMPT_KINDS",
    "Detection",
    "Detector",
    "Interactor",
    "InteractorResult",
    "Prompt",
    "Scribble",
    "Tracker",
    "available",
    "check_image",
    "describe",
    "get",
    "register",
    "unregister",
]

KINDS = ("interactor", "detector", "tracker")
#: the prompt kinds an interactor may accept (its ``prompts`` attribute is a subset)
PROMPT_KINDS = ("point", "box", "scribble", "mask")

Point: TypeAlias = tuple[float, float]
#: a detector's output item: a core shape dict
#: ``{"kind", "label", "geometry", "confidence", "source"}`` (see :mod:`limner.core.shapes`)
Detection: TypeAlias = dict[str, Any]


# ----------------------------------------------------------------------------------------- types


@dataclass(slots=True)
class Scribble:
    """A brush stroke: its centre line, whether it marks foreground, and the brush radius (px)."""

    points: list[Point]
    positive: bool = True
    radius: float = 3.0


@dataclass(slots=True)
class Prompt:
    """What the annotator gave an interactor.

    ``box`` is ``(x, y, w, h)``; ``scribbles`` items are :class:`Scribble` or
    ``(points, positive, radius)`` tuples (converted on construction); ``mask`` is the previous
    result as a bool ``(height, width)`` array, or None.
    """

    positive: list[Point] = field(default_factory=list)
    negative: list[Point] = field(default_factory=list)
    box: tuple[float, float, float, float] | None = None
    scribbles: list[Scribble] = field(default_factory=list)
    mask: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.positive = [(float(x), float(y)) for x, y in self.positive]
        self.negative = [(float(x), float(y)) for x, y in self.negative]
        if self.box is not None:
            x, y, w, h = (float(v) for v in self.box)
            self.box = (x, y, w, h)
        self.scribbles = [s if isinstance(s, Scribble) else Scribble(*s) for s in self.scribbles]
        for s in self.scribbles:
            s.points = [(float(x), float(y)) for x, y in s.points]
            s.positive = bool(s.positive)
            s.radius = float(s.radius)
        if self.mask is not None:
            self.mask = np.asarray(self.mask).astype(bool, copy=False)

    @property
    def kinds(self) -> frozenset[str]:
        """The prompt kinds present (a subset of :data:`PROMPT_KINDS`)."""
        out = set()
        if self.positive or self.negative:
            out.add("point")
        if self.box is not None:
            out.add("box")
        if self.scribbles:
            out.add("scribble")
        if self.mask is not None:
            out.add("mask")
        return frozenset(out)

    def check(self, width: int, height: int, accepts: Sequence[str] = PROMPT_KINDS, *, tool: str = "") -> Prompt:
        """Check the prompt against an image size and the kinds an interactor accepts.

        Raises :class:`ValidationError` naming the field ("positive[2]", "box", ...) on a
        coordinate that is not finite or lies outside the image, an empty box, a mask of the wrong
        size, or a prompt kind the tool does not take. Returns the prompt itself.
        """
        who = f"{tool}: " if tool else ""
        extra = self.kinds - set(accepts)
        if extra:
            raise ValidationError(
                f"{who}does not take {', '.join(sorted(extra))} prompts; it takes {', '.join(accepts)}",
                field=sorted(extra)[0],
            )

        def pt(p: Point, where: str) -> None:
            x, y = p
            if not (math.isfinite(x) and math.isfinite(y)):
                raise ValidationError(f"{who}{where} must be finite numbers, got {[x, y]}", field=where)
            if not (0 <= x <= width and 0 <= y <= height):
                raise ValidationError(
                    f"{who}{where} = {[x, y]} lies outside the {width}x{height} image", field=where
                )

        for name in ("positive", "negative"):
            for i, p in enumerate(getattr(self, name)):
                pt(p, f"{name}[{i}]")
        if self.box is not None:
            x, y, w, h = self.box
            if not all(math.isfinite(v) for v in self.box) or w < 1 or h < 1:
                raise ValidationError(f"{who}box must be [x, y, w, h] with w, h >= 1, got {list(self.box)}", field="box")
            if x >= width or y >= height or x + w <= 0 or y + h <= 0:
                raise ValidationError(f"{who}box {list(self.box)} lies outside the {width}x{height} image", field="box")
        for i, s in enumerate(self.scribbles):
            if not s.points:
                raise ValidationError(f"{who}scribbles[{i}] has no points", field=f"scribbles[{i}].points")
            if not (math.isfinite(s.radius) and 0 < s.radius <= 256):
                raise ValidationError(
                    f"{who}scribbles[{i}].radius must be in (0, 256] pixels, got {s.radius}", field=f"scribbles[{i}].radius"
                )
            for j, p in enumerate(s.points):
                pt(p, f"scribbles[{i}].points[{j}]")
        if self.mask is not None and self.mask.shape != (height, width):
            raise ValidationError(
                f"{who}mask is {self.mask.shape[1]}x{self.mask.shape[0]} but the image is {width}x{height}", field="mask"
            )
        return self

    @classmethod
    def from_dict(cls, data: dict) -> Prompt:
        """A prompt from its JSON form.

        ``{"positive": [[x, y], ...], "negative": [...], "box": [x, y, w, h] or {"x", "y", "w", "h"},
        "scribbles": [{"points": [[x, y], ...], "positive": true, "radius": 3}], "mask": COCO RLE}``;
        every key is optional. Malformed input raises :class:`ValidationError` naming the field.
        """
        if not isinstance(data, dict):
            raise ValidationError(f"a prompt must be an object, got {type(data).__name__}", field="prompt")
        known = {"positive", "negative", "box", "scribbles", "mask"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError(
                f"unknown prompt field {unknown[0]!r}; fields are {', '.join(sorted(known))}", field=unknown[0]
            )

        def points(v: Any, where: str) -> list[Point]:
            if not isinstance(v, list):
                raise ValidationError(f"{where} must be a list of [x, y], got {type(v).__name__}", field=where)
            out = []
            for i, p in enumerate(v):
                if (
                    not isinstance(p, (list, tuple))
                    or len(p) != 2
                    or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in p)
                ):
                    raise ValidationError(f"{where}[{i}] must be [x, y] numbers, got {p!r}"[:200], field=f"{where}[{i}]")
                out.append((float(p[0]), float(p[1])))
            return out

        box = data.get("box")
        if box is not None:
            if isinstance(box, dict):
                try:
                    box = [box["x"], box["y"], box["w"], box["h"]]
                except KeyError as e:
                    raise ValidationError(f"box is missing {e.args[0]!r}", field="box") from None
            if not isinstance(box, (list, tuple)) or len(box) != 4 or not all(
                isinstance(c, (int, float)) and not isinstance(c, bool) for c in box
            ):
                raise ValidationError(f"box must be [x, y, w, h] numbers, got {box!r}"[:200], field="box")
        scribbles = []
        raw = data.get("scribbles") or []
        if not isinstance(raw, list):
            raise ValidationError("scribbles must be a list", field="scribbles")
        for i, s in enumerate(raw):
            where = f"scribbles[{i}]"
            if not isinstance(s, dict):
                raise ValidationError(f"{where} must be an object with points, positive, radius", field=where)
            radius = s.get("radius", 3.0)
            if not isinstance(radius, (int, float)) or isinstance(radius, bool):
                raise ValidationError(f"{where}.radius must be a number, got {radius!r}", field=f"{where}.radius")
            scribbles.append(Scribble(points(s.get("points"), f"{where}.points"), bool(s.get("positive", True)), float(radius)))
        mask = None
        if data.get("mask") is not None:
            from limner.core.rle import check_rle, decode

            raw_mask = data["mask"]
            if isinstance(raw_mask, dict) and "rle" in raw_mask:
                raw_mask = raw_mask["rle"]
            mask = decode(check_rle(raw_mask, None, None, "prompt mask", field_prefix="mask")).astype(bool)
        return cls(
            positive=points(data.get("positive") or [], "positive"),
            negative=points(data.get("negative") or [], "negative"),
            box=tuple(box) if box is not None else None,
            scribbles=scribbles,
            mask=mask,
        )


@dataclass(slots=True)
class InteractorResult:
    """An interactor's answer.

    ``mask`` is a bool ``(height, width)`` array; ``polygons`` the mask's connected parts as core
    polygon geometries ``{"points": [[x, y], ...], "holes": [[[x, y], ...], ...]}`` simplified at
    the requested tolerance; ``score`` the tool's own confidence where it has one; ``elapsed_ms``
    the time per stage (e.g. ``{"precompute": 0.0, "predict": 31.2, "polygon": 2.1}``).
    """

    mask: np.ndarray
    polygons: list[dict] = field(default_factory=list)
    score: float | None = None
    elapsed_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self, *, rle: bool = True) -> dict:
        """JSON form: polygons, score, timings and (unless ``rle=False``) the mask as COCO RLE."""
        out: dict[str, Any] = {
            "polygons": self.polygons,
            "score": self.score,
            "elapsed_ms": {k: round(float(v), 2) for k, v in self.elapsed_ms.items()},
        }
        if rle:
            from limner.core.rle import encode

            out["mask"] = encode(self.mask)
        return out


# ------------------------------------------------------------------------------------- protocols


@runtime_checkable
class Interactor(Protocol):
    """Interactive segmentation: prompts in, mask and polygons out.

    ``precompute(image)`` does the per-image work once (superpixels, filter features, an image
    embedding) and returns an opaque state that :mod:`limner.assist.precompute` caches per
    (asset key, tool); tools with nothing to precompute return None. ``predict`` is then run once
    per click with that state and must not change it in ways another click could see.
    ``tolerance`` is the polygon simplification in pixels.
    """

    name: str
    title: str
    prompts: frozenset[str]

    def precompute(self, image: np.ndarray) -> Any: ...

    def predict(self, image: np.ndarray, prompt: Prompt, state: Any, tolerance: float = 1.0) -> InteractorResult: ...


@runtime_checkable
class Detector(Protocol):
    """Pre-labelling: an image in, shapes out (:data:`Detection` dicts with confidences).

    ``labels`` are the label names it can emit (after any label map is applied).
    """

    name: str
    labels: list[str]

    def detect(self, image: np.ndarray) -> list[Detection]: ...


@runtime_checkable
class Tracker(Protocol):
    """Carries shapes through a video: the seam the video work plugs into.

    ``start(frame, shapes)`` takes the first frame and the annotator's shapes on it
    (:data:`Detection`-style dicts carrying a ``track_id``) and returns the tracker's state;
    ``step(frame, state)`` takes the next frame and returns ``(shapes, state)``, the same tracks
    moved onto that frame (a track that is lost is left out). No tracker ships yet; one registers
    with ``register("tracker", name, factory)`` like any assistant.
    """

    name: str

    def start(self, frame: np.ndarray, shapes: list[Detection]) -> Any: ...

    def step(self, frame: np.ndarray, state: Any) -> tuple[list[Detection], Any]: ...


def check_image(image: Any, where: str = "image") -> np.ndarray:
    """The image as a contiguous ``uint8 (H, W, 3)`` array, or a :class:`ValidationError`.

    Grey ``(H, W)`` images are stacked to three channels and an alpha channel is dropped.
    """
    a = np.asarray(image)
    if a.dtype != np.uint8:
        raise ValidationError(f"{where} must be uint8, got {a.dtype}", field=where)
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    elif a.ndim == 3 and a.shape[2] == 4:
        a = a[:, :, :3]
    if a.ndim != 3 or a.shape[2] != 3:
        raise ValidationError(f"{where} must be (height, width, 3) RGB, got shape {a.shape}", field=where)
    if a.shape[0] < 2 or a.shape[1] < 2:
        raise ValidationError(f"{where} is {a.shape[1]}x{a.shape[0]}; it must be at least 2x2", field=where)
    return np.ascontiguousarray(a)


# -------------------------------------------------------------------------------------- registry

_REGISTRY: dict[str, dict[str, Callable[..., Any]]] = {k: {} for k in KINDS}
_lock = threading.Lock()
_loaded = False


def _kind(kind: str) -> dict[str, Callable[..., Any]]:
    if kind not in _REGISTRY:
        raise ValidationError(f"unknown assistant kind {kind!r}; kinds are {', '.join(KINDS)}", field="kind")
    return _REGISTRY[kind]


def register(kind: str, name: str, factory: Callable[..., Any]) -> Callable[..., Any]:
    """Register ``factory(**config) -> assistant`` under ``name`` for ``kind``.

    A later registration under the same name replaces the earlier one (so a project can override a
    built-in). Returns the factory, so it can be used as a class decorator's body.
    """
    if not isinstance(name, str) or not name:
        raise ValidationError(f"an assistant name must be a non-empty string, got {name!r}", field="name")
    if not callable(factory):
        raise ValidationError(f"the factory for {kind} {name!r} is not callable", field="factory")
    with _lock:
        _kind(kind)[name] = factory
    return factory


def unregister(kind: str, name: str) -> None:
    """Remove a registration; unknown names are ignored."""
    with _lock:
        _kind(kind).pop(name, None)


def _load() -> None:
    global _loaded
    if _loaded:
        return
    with _lock:
        if _loaded:
            return
        _loaded = True
    import limner.assist.interactors as pkg

    for m in pkgutil.iter_modules(pkg.__path__):
        if not m.name.startswith("_"):
            importlib.import_module(f"{pkg.__name__}.{m.name}")
    from importlib.metadata import entry_points

    for ep in entry_points(group="limner.assistants"):
        ep.load()


def available(kind: str) -> list[str]:
    """The names registered for ``kind``, sorted."""
    _load()
    return sorted(_kind(kind))


def describe(kind: str) -> list[dict]:
    """``[{"name", "title", "prompts"}]`` for ``kind``, read from the factories' class attributes
    (nothing is instantiated, so no weights are loaded)."""
    _load()
    out = []
    for name, f in sorted(_kind(kind).items()):
        item: dict[str, Any] = {"name": name, "title": getattr(f, "title", name)}
        if kind == "interactor":
            item["prompts"] = sorted(getattr(f, "prompts", ()))
        out.append(item)
    return out


def get(kind: str, name: str, **config: Any) -> Any:
    """A new assistant: ``factory(**config)`` for ``name``.

    Raises :class:`NotFound` naming the unknown assistant and listing the known ones, and
    :class:`ValidationError` when ``config`` holds an option the factory does not take.
    """
    _load()
    reg = _kind(kind)
    if name not in reg:
        known = ", ".join(sorted(reg)) or "none"
        raise NotFound(f"unknown {kind} {name!r}; {kind}s are {known}", field="name")
    factory = reg[name]
    try:
        inspect.signature(factory).bind(**config)
    except TypeError as e:
        raise ValidationError(f"{kind} {name!r}: bad configuration: {e}", field="config") from None
    except ValueError:  # no introspectable signature (a builtin): let the call itself decide
        pass
    return factory(**config)
