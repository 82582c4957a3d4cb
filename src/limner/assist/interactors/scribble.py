"""Scribble segmentation: a random forest on per-pixel filter features.

The precompute computes the :mod:`limner.assist.features` stack on the image scaled down to
``work_pixels``. Each request trains a random forest (scikit-learn; by default of extremely
randomised trees) on the pixels under the foreground and background scribbles (clicks count as
short scribbles), classifies every pixel of the scaled image, and carries the probability map up to
full resolution with a guided filter fitted at the small scale (the fast guided filter), so the
outline follows the full image's edges. With foreground marks but no background mark, the image's
outer frame stands for background.

A trained classifier can be kept and applied to the next images: :class:`ScribbleModel` holds the
training samples and the forest's settings, and :meth:`ScribbleModel.dumps` writes them as a small
``.npz`` (no pickle, so a stored model can be loaded safely); loading refits the same forest
(fixed seed). ``ScribbleSegmenter(model=...)`` applies a kept model, and adds the new image's
scribbles to its samples when there are any.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from limner.assist.base import InteractorResult, Prompt, register
from limner.assist.features import DEFAULT_SCALES, filter_features, guided_filter, guided_upsample
from limner.assist.interactors._common import BuiltinInteractor, Clock, draw_prompt
from limner.errors import ValidationError

__all__ = ["ScribbleModel", "ScribbleSegmenter", "ScribbleState", "apply", "fit", "samples"]

_FORMAT = 1


FORESTS = ("extra", "random")


def _forest_class(kind: str):
    try:
        from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("scribble segmentation needs scikit-learn: pip install scikit-learn") from None
    return ExtraTreesClassifier if kind == "extra" else RandomForestClassifier


@dataclass(slots=True)
class ScribbleState:
    features: np.ndarray  # (h, w, F) float32 at the working scale
    scale: float  # working size / image size
    guide: np.ndarray  # (H, W) float32 grey in [0, 1], full resolution
    guide_small: np.ndarray  # the same at the working scale
    scales: tuple[float, ...]


@dataclass(slots=True)
class ScribbleModel:
    """Training samples (features ``x``, labels ``y``: 1 foreground, 0 background) and the forest
    settings; the fitted forest is built on first use."""

    x: np.ndarray
    y: np.ndarray
    scales: tuple[float, ...] = DEFAULT_SCALES
    trees: int = 10
    depth: int = 10
    seed: int = 0
    kind: str = "extra"
    _forest: Any = field(default=None, repr=False, compare=False)

    @property
    def forest(self):
        if self._forest is None:
            if len(np.unique(self.y)) < 2:
                raise ValidationError("a scribble model needs both foreground and background samples", field="scribbles")
            rf = _forest_class(self.kind)(
                n_estimators=self.trees, max_depth=self.depth, min_samples_leaf=2, max_features="sqrt",
                n_jobs=1, random_state=self.seed,
            )
            self._forest = rf.fit(self.x, self.y)
        return self._forest

    def probability(self, features: np.ndarray) -> np.ndarray:
        """Foreground probability of each pixel of an ``(h, w, F)`` feature stack."""
        h, w, f = features.shape
        if f != self.x.shape[1]:
            raise ValidationError(f"the model was trained on {self.x.shape[1]} features, the image has {f}", field="model")
        rf = self.forest
        p = rf.predict_proba(features.reshape(-1, f))
        col = list(rf.classes_).index(1)
        return p[:, col].reshape(h, w).astype(np.float32)

    def dumps(self) -> bytes:
        buf = io.BytesIO()
        np.savez_compressed(
            buf, format=np.int32(_FORMAT), x=self.x.astype(np.float32), y=self.y.astype(np.uint8),
            scales=np.asarray(self.scales, np.float64),
            params=np.asarray([self.trees, self.depth, self.seed, FORESTS.index(self.kind)], np.int64),
        )
        return buf.getvalue()

    @classmethod
    def loads(cls, data: bytes) -> ScribbleModel:
        try:
            z = np.load(io.BytesIO(data), allow_pickle=False)
            fmt = int(z["format"])
            x, y, scales, params = z["x"], z["y"], tuple(float(s) for s in z["scales"]), z["params"]
        except Exception as e:  # noqa: BLE001 - any damage reads as one clear error
            raise ValidationError(f"not a scribble model: {e}", field="model") from None
        if fmt != _FORMAT:
            raise ValidationError(f"scribble model format {fmt} is not supported (expected {_FORMAT})", field="model")
        if x.ndim != 2 or len(x) != len(y) or x.shape[1] != 3 + 7 * len(scales):
            raise ValidationError("scribble model samples are inconsistent with its feature scales", field="model")
        if len(params) != 4 or not 0 <= int(params[3]) < len(FORESTS):
            raise ValidationError("scribble model settings are damaged", field="model")
        return cls(
            x=x, y=y.astype(np.int32), scales=scales, trees=int(params[0]), depth=int(params[1]), seed=int(params[2]),
            kind=FORESTS[int(params[3])],
        )


def samples(
    state: ScribbleState, prompt: Prompt, *, point_radius: float = 3.0, per_class: int = 1000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows under the prompt's marks and their labels, at most ``per_class`` per class."""
    h, w = state.features.shape[:2]
    marks = np.zeros((h, w), np.uint8)
    draw_prompt(marks, prompt, 1, 2, point_radius=point_radius, scale=state.scale)
    if (marks == 1).any() and not (marks == 2).any():
        frame = np.zeros((h, w), bool)
        b = max(1, min(h, w) // 100)
        frame[:b], frame[-b:], frame[:, :b], frame[:, -b:] = True, True, True, True
        near = cv2.dilate((marks == 1).view(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
        marks[frame & ~near] = 2
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for value, label in ((1, 1), (2, 0)):
        idx = np.flatnonzero(marks.ravel() == value)
        if len(idx) > per_class:
            idx = rng.choice(idx, per_class, replace=False)
        xs.append(state.features.reshape(-1, state.features.shape[2])[idx])
        ys.append(np.full(len(idx), label, np.int32))
    return np.concatenate(xs), np.concatenate(ys)


def fit(state: ScribbleState, prompt: Prompt, *, base: ScribbleModel | None = None, trees: int = 10, depth: int = 10,
        kind: str = "extra", point_radius: float = 3.0, per_class: int = 1000) -> ScribbleModel:
    """A model trained on the prompt's marks, plus ``base``'s samples when given."""
    x, y = samples(state, prompt, point_radius=point_radius, per_class=per_class)
    if base is not None:
        if base.scales != state.scales:
            raise ValidationError(f"the model uses feature scales {base.scales}, the image {state.scales}", field="model")
        x, y = np.concatenate([base.x, x]), np.concatenate([base.y, y])
        trees, depth, kind = base.trees, base.depth, base.kind
    if not (y == 1).any():
        raise ValidationError("scribble segmentation needs a foreground scribble or click", field="scribbles")
    if not (y == 0).any():
        raise ValidationError("scribble segmentation needs a background scribble or click", field="scribbles")
    return ScribbleModel(x=x.astype(np.float32), y=y, scales=state.scales, trees=trees, depth=depth, kind=kind)


def apply(
    model: ScribbleModel, state: ScribbleState, *, min_area: int = 0, marked: list[tuple[float, float]] | None = None
) -> np.ndarray:
    """The model applied to the whole image: a bool ``(H, W)`` mask at full resolution. With
    ``marked`` points, only the parts that hold one of them are kept."""
    prob = model.probability(state.features)
    H, W = state.guide.shape
    if state.scale < 1:
        up = guided_upsample(state.guide_small, prob, state.guide, 2, 1e-3)
    else:
        up = guided_filter(state.guide, prob, 2, 1e-3)
    mask = up > 0.5
    if min_area > 0 or marked is not None:
        n, lab, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
        keep = stats[:, cv2.CC_STAT_AREA] >= min_area
        if marked is not None:
            hit = np.zeros(n, bool)
            for x, y in marked:
                hit[lab[min(H - 1, int(y)), min(W - 1, int(x))]] = True
            keep &= hit
        keep[0] = False
        mask = keep[lab]
    return mask


class ScribbleSegmenter(BuiltinInteractor):
    name = "scribble"
    title = "Scribble segmentation (random forest)"
    prompts = frozenset({"point", "scribble"})

    def __init__(
        self,
        model: bytes | ScribbleModel | None = None,
        work_pixels: int = 50_000,
        trees: int = 10,
        depth: int = 10,
        forest: str = "extra",
        point_radius: float = 3.0,
        min_area: int = 16,
        parts: str = "all",
        scales: tuple[float, ...] = DEFAULT_SCALES,
    ):
        """``model``: a kept classifier (its :meth:`ScribbleModel.dumps` bytes) to apply or extend;
        ``work_pixels``: size features are computed and classified at; ``trees``/``depth``: the
        forest; ``forest``: ``"extra"`` (extremely randomised trees, the default: they train several
        times faster, which is what keeps a stroke under 100 ms) or ``"random"`` (a classic random
        forest); ``point_radius``: the stroke a click makes; ``min_area``: smallest part kept (px); ``parts``: ``"all"`` keeps every part classified as
        foreground (many objects at once, as in pixel classification), ``"marked"`` only the parts
        a foreground click or scribble touches (one object)."""
        if work_pixels < 1000:
            raise ValidationError(f"scribble work_pixels must be >= 1000, got {work_pixels}", field="work_pixels")
        if not 1 <= trees <= 500 or not 1 <= depth <= 64:
            raise ValidationError(f"scribble trees must be in [1, 500] and depth in [1, 64], got {trees}, {depth}", field="trees")
        if forest not in FORESTS:
            raise ValidationError(f"scribble forest must be one of {', '.join(FORESTS)}, got {forest!r}", field="forest")
        self.forest = forest
        self.model = ScribbleModel.loads(model) if isinstance(model, (bytes, bytearray)) else model
        self.work_pixels = int(work_pixels)
        self.trees, self.depth = int(trees), int(depth)
        self.point_radius = float(point_radius)
        self.min_area = int(min_area)
        if parts not in ("all", "marked"):
            raise ValidationError(f"scribble parts must be 'all' or 'marked', got {parts!r}", field="parts")
        self.parts = parts
        self.scales = tuple(self.model.scales if self.model is not None else scales)
        #: the classifier behind the last prediction, to keep for the next images
        self.last_model: ScribbleModel | None = self.model

    def precompute(self, image: np.ndarray) -> ScribbleState:
        h, w = image.shape[:2]
        s = min(1.0, float(np.sqrt(self.work_pixels / (h * w))))
        small = cv2.resize(image, (max(2, round(w * s)), max(2, round(h * s))), interpolation=cv2.INTER_AREA) if s < 1 else image
        guide = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
        guide_small = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
        return ScribbleState(
            features=filter_features(small, self.scales), scale=s, guide=guide, guide_small=guide_small, scales=self.scales
        )

    def predict(self, image: np.ndarray, prompt: Prompt, state: ScribbleState | None, tolerance: float = 1.0) -> InteractorResult:
        clock = Clock()
        if state is None:
            state = self.precompute(image)
        if prompt.positive or prompt.negative or prompt.scribbles:
            model = fit(state, prompt, base=self.model, trees=self.trees, depth=self.depth, kind=self.forest,
                        point_radius=self.point_radius)
        elif self.model is not None:
            model = self.model
        else:
            raise ValidationError("scribble segmentation needs scribbles or clicks (or a kept model)", field="scribbles")
        model.forest  # noqa: B018 - fit now, so the timings separate training from classifying
        clock.lap("train")
        marked = None
        if self.parts == "marked":
            marked = list(prompt.positive) + [p for s in prompt.scribbles if s.positive for p in s.points]
        # a kept model applied without foreground marks keeps every part it finds
        mask = apply(model, state, min_area=self.min_area, marked=marked or None)
        clock.lap("classify")
        self.last_model = model
        return self.result(mask, tolerance, clock)


register("interactor", ScribbleSegmenter.name, ScribbleSegmenter)
