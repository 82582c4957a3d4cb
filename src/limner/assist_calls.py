"""Assistants called for assets: tools by name, images and per-image precompute kept in memory,
and a model's self-test.

A tool is a project's (or a site-wide) registered model of that name, else a built-in assistant
(:func:`limner.assist.available`). Decoded images and precompute states are cached in LRUs keyed by
the image's checksum (so two servers in one process never mix their assets) and the tool's
identity (model id and configuration, or built-in name and options).
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from limner import assist
from limner.assist.loader import PLUGGABLE
from limner.assist.precompute import PrecomputeCache
from limner.errors import NotFound, ValidationError
from limner.prelabel import asset_image, load_model
from limner.store import assistants
from limner.store.models import Asset

__all__ = ["Tool", "interact", "list_tools", "precompute", "resolve", "self_test"]

IMAGES = PrecomputeCache(max_entries=8, max_bytes=256 << 20)
STATES = PrecomputeCache(max_entries=24, max_bytes=1 << 30)
_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="limner-precompute")
_BUILTINS: dict[tuple, Any] = {}
_LOCK = threading.Lock()


class Tool:
    """A resolved interactor: the assistant and the identity its precompute is cached under."""

    def __init__(self, name: str, interactor: Any, identity: tuple, model_id: int | None):
        self.name, self.interactor, self.identity, self.model_id = name, interactor, identity, model_id


def list_tools(s, project_id: int | None) -> dict:
    """Built-in interactors and detectors, and the project's (and site-wide) models."""
    out = {"builtin": {kind: [t for t in assist.describe(kind) if t["name"] not in PLUGGABLE] for kind in ("interactor", "detector")},
           "models": []}  # fmt: skip
    out["models"] = assistants.list_models(s, project_id) if project_id is not None else assistants.list_models(s, None)
    for m in out["models"]:
        m.pop("config", None)
    return out


def resolve(s, project_id: int, name: str, options: dict | None) -> Tool:
    """The interactor called ``name`` for the project (see the module docstring)."""
    m = assistants.find_model(s, project_id, name)
    if m is not None:
        if m.kind != "interactor":
            raise ValidationError(f"model {name!r} is a {m.kind}, not an interactor", field="tool")
        if options:
            raise ValidationError("options are for built-in tools; a model's settings are its configuration", field="options")
        from limner.store.projects import load_schema

        tool = load_model(m, load_schema(s, project_id)[0] if m.type == "ml_backend" else None)
        ident = ("model", m.id, json.dumps(m.config, sort_keys=True, default=str))
        return Tool(name, tool, ident, m.id)
    builtins = [n for n in assist.available("interactor") if n not in PLUGGABLE]
    if name not in builtins:
        known = ", ".join(builtins)
        raise NotFound(f"no assistant {name!r} in this project; built-in interactors are {known}", field="tool")
    key = (name, json.dumps(options or {}, sort_keys=True))
    with _LOCK:
        tool = _BUILTINS.get(key)
    if tool is None:
        tool = assist.get("interactor", name, **(options or {}))
        with _LOCK:
            _BUILTINS[key] = tool
    return Tool(name, tool, ("builtin",) + key, None)


def _image(storage, asset: Asset) -> tuple[np.ndarray, float]:
    hit = IMAGES.peek(asset.checksum, "image")
    if hit is not None:
        return hit, 0.0
    t = time.perf_counter()
    image = asset_image(storage, asset.storage_key, asset.name)
    IMAGES.put(asset.checksum, "image", image)
    return image, (time.perf_counter() - t) * 1000


def interact(storage, asset: Asset, tool: Tool, body: dict, tolerance: float) -> dict:
    """Run the interactor on the asset: mask RLE, polygons, score and timings (ms)."""
    t0 = time.perf_counter()
    prompt = assist.Prompt.from_dict(body)
    image, image_ms = _image(storage, asset)
    state_before = STATES.status(asset.checksum, _key_name(tool))
    result = assist.run(_Named(tool), image, prompt, key=asset.checksum, tolerance=tolerance, cache=STATES)
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

    def __init__(self, tool: Tool):
        self._tool = tool.interactor
        self.name = _key_name(tool)
        self.prompts = tool.interactor.prompts

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


def self_test(m) -> dict:
    """Load the model and run it once on :func:`sample_image`: timings and what came out."""
    t0 = time.perf_counter()
    tool = load_model(m)
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
        result = tool.predict(image, assist.Prompt(positive=[(w / 2, h / 2)]), state, 1.0)
        timings["predict"] = (time.perf_counter() - t) * 1000
        out["output"] = {"mask_pixels": int(result.mask.sum()), "polygons": len(result.polygons), "score": result.score}
    out["image"] = {"width": w, "height": h}
    out["elapsed_ms"] = {k: round(v, 2) for k, v in timings.items()}
    return out
