"""Assistants called for assets: tools by name, images and per-image precompute kept in memory,
and a model's self-test.

A tool is a project's (or a site-wide) registered model of that name, else a built-in assistant
(:func:`limner.assist.available`). Decoded images and precompute states are cached in LRUs keyed by
the image's checksum (so two servers in one process never mix their assets) and the tool's
identity (model id and configuration, or built-in name and options).

A scribble classifier trained on an image can be kept for the project (:func:`to_keep`,
:func:`store_classifier`): its ``.npz`` goes to the media storage under ``models/`` and a model of
type ``scribble`` names it, so ``POST /assets/{id}/assist/NAME`` applies it to the next images.
The last classifier each person trained on each image is remembered (in memory) until it is kept.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from limner import assist
from limner.assist.interactors.scribble import ScribbleModel, ScribbleSegmenter
from limner.assist.loader import PLUGGABLE
from limner.assist.precompute import PrecomputeCache
from limner.errors import Conflict, NotFound, ValidationError
from limner.prelabel import asset_image, load_model
from limner.store import assistants
from limner.store.models import Asset

__all__ = ["KEPT", "Tool", "check_kept_name", "drop_classifier", "interact", "list_tools", "precompute", "resolve", "self_test",
           "set_cache_limit", "store_classifier", "to_keep"]

IMAGES = PrecomputeCache(max_entries=8, max_bytes=256 << 20)
STATES = PrecomputeCache(max_entries=24, max_bytes=1 << 30)


def set_cache_limit(megabytes: int) -> None:
    """Share ``megabytes`` (the ``assist_cache_mb`` setting) between decoded images (a fifth) and
    precompute states (the rest)."""
    if megabytes < 1:
        raise ValidationError(f"LIMNER_ASSIST_CACHE_MB must be at least 1, got {megabytes}", field="assist_cache_mb")
    total = megabytes << 20
    IMAGES.resize(total // 5)
    STATES.resize(total - total // 5)

_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="limner-precompute")
_BUILTINS: dict[tuple, Any] = {}
_LOCK = threading.Lock()
#: the model type of a kept scribble classifier
KEPT = "scribble"
_KEPT: dict[tuple, Any] = {}  # (model id, storage key) -> the loaded ScribbleSegmenter
_TRAINED: OrderedDict[tuple, tuple] = OrderedDict()  # (user, image checksum, tool) -> (model, trained_on, options)
_TRAINED_MAX = 256


class Tool:
    """A resolved interactor: the assistant and the identity its precompute is cached under.
    ``options`` are a built-in's settings (a kept classifier's: those it was trained with);
    ``trained_on`` the assets a kept classifier learnt from."""

    def __init__(self, name: str, interactor: Any, identity: tuple, model_id: int | None, *, options: dict | None = None,
                 trained_on: list[int] | None = None):  # fmt: skip
        self.name, self.interactor, self.identity, self.model_id = name, interactor, identity, model_id
        self.options, self.trained_on = options or {}, list(trained_on or [])


def list_tools(s, project_id: int | None) -> dict:
    """Built-in interactors and detectors, and the project's (and site-wide) models."""
    out = {"builtin": {kind: [t for t in assist.describe(kind) if t["name"] not in PLUGGABLE] for kind in ("interactor", "detector")},
           "models": []}  # fmt: skip
    out["models"] = assistants.list_models(s, project_id) if project_id is not None else assistants.list_models(s, None)
    for m in out["models"]:
        config = m.pop("config", None) or {}
        if m["type"] == KEPT:
            m["trained_on"] = len(config.get("trained_on") or [])
    return out


def resolve(s, project_id: int, name: str, options: dict | None, storage=None) -> Tool:
    """The interactor called ``name`` for the project (see the module docstring); ``storage``
    holds kept scribble classifiers."""
    m = assistants.find_model(s, project_id, name)
    if m is not None:
        if m.kind != "interactor":
            raise ValidationError(f"model {name!r} is a {m.kind}, not an interactor", field="tool")
        if options:
            raise ValidationError("options are for built-in tools; a model's settings are its configuration", field="options")
        if m.type == KEPT:
            return _kept_tool(storage, m)
        from limner.store.projects import load_schema

        tool = load_model(m, load_schema(s, project_id)[0] if m.type == "ml_backend" else None)
        ident = ("model", m.id, json.dumps(m.config, sort_keys=True, default=str))
        return Tool(name, tool, ident, m.id)
    builtins = [n for n in assist.available("interactor") if n not in PLUGGABLE]
    if name not in builtins:
        known = ", ".join(builtins)
        raise NotFound(f"no assistant {name!r} in this project; built-in interactors are {known}", field="tool")
    if name == "scribble" and options and "model" in options:
        raise ValidationError("a kept scribble classifier is chosen by its name, not by options.model", field="options.model")
    key = (name, json.dumps(options or {}, sort_keys=True))
    with _LOCK:
        tool = _BUILTINS.get(key)
    if tool is None:
        tool = assist.get("interactor", name, **(options or {}))
        with _LOCK:
            _BUILTINS[key] = tool
    return Tool(name, tool, ("builtin",) + key, None, options=options)


def _kept_tool(storage, m) -> Tool:
    """A kept scribble classifier, read from the media storage once per stored version."""
    config = m.config or {}
    options, key = dict(config.get("options") or {}), config.get("key")
    with _LOCK:
        tool = _KEPT.get((m.id, key))
    if tool is None:
        if storage is None:
            raise ValidationError(f"{m.name!r} is a kept scribble classifier, read from the server's media storage: "
                                  f"run or test it through the server", field="tool")  # fmt: skip
        if not isinstance(key, str):
            raise ValidationError(f"model {m.name!r} has no stored classifier (config.key)", field="tool")
        try:
            f = storage.open(key)
            try:
                data = f.read()
            finally:
                f.close()
        except (FileNotFoundError, ValueError):
            raise NotFound(f"the stored classifier of {m.name!r} ({key}) is missing from the media storage; keep it again",
                           field="tool") from None  # fmt: skip
        tool = assist.get("interactor", "scribble", model=data, **options)
        with _LOCK:
            for k in [k for k in _KEPT if k[0] == m.id]:
                del _KEPT[k]
            _KEPT[(m.id, key)] = tool
    # the same identity as the built-in with these options: the image's features are shared
    ident = ("builtin", "scribble", json.dumps(options, sort_keys=True))
    return Tool(m.name, tool, ident, m.id, options=options, trained_on=config.get("trained_on"))


def _remember(user_id: int, asset: Asset, tool: Tool, model: ScribbleModel, marked: bool) -> None:
    trained_on = tool.trained_on + ([asset.id] if marked and asset.id not in tool.trained_on else [])
    key = (user_id, asset.checksum, tool.name)
    with _LOCK:
        _TRAINED[key] = (model, trained_on, tool.options)
        _TRAINED.move_to_end(key)
        while len(_TRAINED) > _TRAINED_MAX:
            _TRAINED.popitem(last=False)


def to_keep(storage, asset: Asset, tool: Tool, prompt: dict, user_id: int) -> tuple[bytes, dict]:
    """The scribble classifier to keep, as ``.npz`` bytes and the model configuration (without its
    storage key): trained on ``prompt``'s marks when it has any, else the last one this person's
    requests trained (or applied) on this image with this tool."""
    if not isinstance(tool.interactor, ScribbleSegmenter):
        raise ValidationError(f"only scribble classifiers can be kept; {tool.name!r} is not one", field="tool")
    p = assist.Prompt.from_dict(prompt or {})
    if p.positive or p.negative or p.scribbles:
        interact(storage, asset, tool, prompt, 1.0, user_id=user_id)
    with _LOCK:
        hit = _TRAINED.get((user_id, asset.checksum, tool.name))
    if hit is None:
        raise ValidationError("no classifier trained yet on this image: draw foreground and background scribbles first",
                              field="prompt")  # fmt: skip
    model, trained_on, options = hit
    config = {
        "options": options, "trained_on": trained_on, "scales": list(model.scales),
        "forest": {"kind": model.kind, "trees": model.trees, "depth": model.depth},
        "samples": {"foreground": int((model.y == 1).sum()), "background": int((model.y == 0).sum())},
    }  # fmt: skip
    return model.dumps(), config


def check_kept_name(name: str) -> str:
    """A kept classifier's name: a model name that does not hide a built-in assistant."""
    assistants.check_name(name)
    if name in assist.available("interactor"):
        raise Conflict(f"{name!r} is the name of a built-in assistant; pick another name", field="name")
    return name


def store_classifier(storage, project_id: int, data: bytes) -> str:
    """Write a kept classifier's bytes to the media storage; answers its key."""
    key = f"models/{project_id}/scribble-{uuid.uuid4().hex}.npz"
    storage.put_bytes(key, data)
    return key


def drop_classifier(storage, model_id: int | None, key: str | None) -> None:
    """Forget a kept classifier's loaded copy and remove its stored bytes (``key``)."""
    with _LOCK:
        for k in [k for k in _KEPT if k[0] == model_id]:
            del _KEPT[k]
    if isinstance(key, str) and key.startswith("models/"):
        storage.delete(key)


def _image(storage, asset: Asset) -> tuple[np.ndarray, float]:
    hit = IMAGES.peek(asset.checksum, "image")
    if hit is not None:
        return hit, 0.0
    t = time.perf_counter()
    image = asset_image(storage, asset.storage_key, asset.name)
    IMAGES.put(asset.checksum, "image", image)
    return image, (time.perf_counter() - t) * 1000


def interact(storage, asset: Asset, tool: Tool, body: dict, tolerance: float, *, user_id: int | None = None) -> dict:
    """Run the interactor on the asset: mask RLE, polygons, score and timings (ms). A scribble
    classifier it trains is remembered for ``user_id``, to be kept."""
    t0 = time.perf_counter()
    prompt = assist.Prompt.from_dict(body)
    image, image_ms = _image(storage, asset)
    state_before = STATES.status(asset.checksum, _key_name(tool))
    interactor = tool.interactor
    if isinstance(interactor, ScribbleSegmenter):
        interactor = copy.copy(interactor)  # its last_model belongs to this request alone
    result = assist.run(_Named(tool, interactor), image, prompt, key=asset.checksum, tolerance=tolerance, cache=STATES)
    if user_id is not None and isinstance(interactor, ScribbleSegmenter) and interactor.last_model is not None:
        _remember(user_id, asset, tool, interactor.last_model, bool(prompt.positive or prompt.negative or prompt.scribbles))
    out = result.to_dict()
    out["elapsed_ms"]["image"] = round(image_ms, 2)
    out["elapsed_ms"]["request"] = round((time.perf_counter() - t0) * 1000, 2)
    out.update(tool=tool.name, precompute="cached" if state_before == "ready" else "computed",
               width=int(image.shape[1]), height=int(image.shape[0]))  # fmt: skip
    return out


def precompute(storage, asset: Asset, tool: Tool) -> dict:
    """Start the tool's per-image precompute in the background; answers its status now
    (``ready``, ``running``), so a client asks again until it is ready."""
    named = _Named(tool)
    status = STATES.status(asset.checksum, named.name)
    if status == "absent":

        def work() -> None:
            image, _ = _image(storage, asset)
            STATES.get(asset.checksum, named, image)

        future = _POOL.submit(work)
        deadline = time.monotonic() + 0.05  # cheap precomputes finish within the request
        while not future.done() and time.monotonic() < deadline:
            time.sleep(0.005)
        if future.done():
            future.result()  # a failure (missing image file, a model that cannot run) is the answer
        status = STATES.status(asset.checksum, named.name)
        if status == "absent":
            status = "running"
    return {"tool": tool.name, "asset_id": asset.id, "status": status}


def _key_name(tool: Tool) -> str:
    return json.dumps(tool.identity, default=str)


class _Named:
    """The interactor under its cache identity (the precompute cache keys on ``name``)."""

    def __init__(self, tool: Tool, interactor: Any = None):
        self._tool = interactor if interactor is not None else tool.interactor
        self.name = _key_name(tool)
        self.prompts = self._tool.prompts

    def precompute(self, image):
        return self._tool.precompute(image)

    def predict(self, image, prompt, state, tolerance=1.0):
        return self._tool.predict(image, prompt, state, tolerance)


def sample_image(width: int = 640, height: int = 480) -> np.ndarray:
    """A made-up photo-like image: a gradient, a disc and a square (the same every time)."""
    import cv2

    yy, xx = np.mgrid[:height, :width]
    img = np.stack([(xx * 255 // width), (yy * 255 // height), np.full_like(xx, 96)], -1).astype(np.uint8)
    cv2.circle(img, (width // 2, height // 2), min(width, height) // 5, (230, 40, 40), -1)
    cv2.rectangle(img, (width // 8, height // 8), (width // 8 + width // 6, height // 8 + height // 6), (30, 200, 60), -1)
    return img


def self_test(m, storage=None) -> dict:
    """Load the model and run it once on :func:`sample_image`: timings and what came out (a kept
    scribble classifier is read from ``storage`` and applied as it is)."""
    t0 = time.perf_counter()
    tool = _kept_tool(storage, m).interactor if m.type == KEPT else load_model(m)
    timings = {"load": (time.perf_counter() - t0) * 1000}
    out: dict[str, Any] = {"model": m.name, "kind": m.kind, "type": m.type}
    if hasattr(tool, "health"):
        t = time.perf_counter()
        out["health"] = tool.health()
        timings["health"] = (time.perf_counter() - t) * 1000
    image = sample_image()
    h, w = image.shape[:2]
    if m.kind == "detector":
        t = time.perf_counter()
        dets = tool.detect(image)
        timings["detect"] = (time.perf_counter() - t) * 1000
        labels: dict[str, int] = {}
        for d in dets:
            labels[d["label"]] = labels.get(d["label"], 0) + 1
        confs = [d["confidence"] for d in dets if d.get("confidence") is not None]
        out["output"] = {"shapes": len(dets), "labels": labels, "kinds": sorted({d["kind"] for d in dets}),
                         "max_confidence": max(confs) if confs else None}  # fmt: skip
    else:
        t = time.perf_counter()
        state = tool.precompute(image)
        timings["precompute"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        prompt = assist.Prompt() if m.type == KEPT else assist.Prompt(positive=[(w / 2, h / 2)])
        result = tool.predict(image, prompt, state, 1.0)
        timings["predict"] = (time.perf_counter() - t) * 1000
        out["output"] = {"mask_pixels": int(result.mask.sum()), "polygons": len(result.polygons), "score": result.score}
    out["image"] = {"width": w, "height": h}
    out["elapsed_ms"] = {k: round(v, 2) for k, v in timings.items()}
    return out
