"""Registered models -> working assistants.

A model is stored as a kind (interactor or detector), a type and a configuration:

==========  =====================  ==================================================================
type        kinds                  configuration
==========  =====================  ==================================================================
onnx_sam    interactor             ``encoder``, ``decoder`` (ONNX files on the server) and the
                                   options of :class:`limner.assist.onnx_sam.OnnxSam`
onnx_yolo   detector               ``path`` (an ONNX file), ``classes``, ``label_map``,
                                   ``confidence``, ``iou``, ``shape``, ... (:class:`OnnxYolo`)
ml_backend  interactor, detector   ``url`` of a Label Studio ML backend, ``label_map``, ``timeout``,
                                   ... (:class:`limner.assist.ml_backend.MlBackend`)
builtin     interactor, detector   ``tool``: a registered assistant's name, ``options``: its
                                   settings (a built-in with the project's own defaults)
==========  =====================  ==================================================================

:func:`load` goes through the same registry (:func:`limner.assist.base.get`) as the built-ins, so
a bad option is refused the same way. Loaded assistants are kept per model id and configuration:
an ONNX session or an HTTP client is made once, not per click.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from limner.assist.base import get
from limner.errors import ValidationError

__all__ = ["KINDS_OF", "PLUGGABLE", "TYPES", "check", "forget", "load", "paths_of", "release"]

TYPES = ("onnx_sam", "onnx_yolo", "ml_backend", "builtin")
#: registered assistants that need a model's configuration (files, a URL): not tools on their own
PLUGGABLE = frozenset({"onnx_sam", "onnx_yolo", "ml_backend"})
KINDS_OF = {
    "onnx_sam": ("interactor",),
    "onnx_yolo": ("detector",),
    "ml_backend": ("interactor", "detector"),
    "builtin": ("interactor", "detector"),
}
_PATHS = {"onnx_sam": ("encoder", "decoder"), "onnx_yolo": ("path",)}
_LOADED: dict[tuple, Any] = {}
_LOCK = threading.Lock()


def _register_types() -> None:
    import limner.assist.ml_backend  # noqa: F401
    import limner.assist.onnx_sam  # noqa: F401
    import limner.assist.onnx_yolo  # noqa: F401


def paths_of(type_: str, config: dict) -> list[tuple[str, str]]:
    """The server files a configuration names: ``[(key, path)]``."""
    return [(k, config[k]) for k in _PATHS.get(type_, ()) if isinstance(config.get(k), str)]


def check(kind: str, type_: str, config: Any) -> dict:
    """The kind, type and configuration make sense together (before anything is loaded)."""
    if type_ not in TYPES:
        raise ValidationError(f"unknown model type {type_!r}; types are {', '.join(TYPES)}", field="type")
    if kind not in KINDS_OF[type_]:
        raise ValidationError(f"a {type_} model is a {' or '.join(KINDS_OF[type_])}, not a {kind!r}", field="kind")
    if not isinstance(config, dict):
        raise ValidationError("config must be an object", field="config")
    for key in _PATHS.get(type_, ()):
        if not isinstance(config.get(key), str) or not config[key]:
            raise ValidationError(f"a {type_} model needs config.{key}: the path of an ONNX file on the server",
                                  field=f"config.{key}")  # fmt: skip
    if type_ == "ml_backend" and not isinstance(config.get("url"), str):
        raise ValidationError("an ml_backend model needs config.url: the model server's address", field="config.url")
    if type_ == "builtin":
        if config.get("tool") in PLUGGABLE:
            raise ValidationError(f"{config['tool']} is a model type, not a built-in tool: use type {config['tool']}",
                                  field="config.tool")  # fmt: skip
        if not isinstance(config.get("tool"), str):
            raise ValidationError("a builtin model needs config.tool: the name of a built-in assistant", field="config.tool")
        if not isinstance(config.get("options", {}), dict):
            raise ValidationError("config.options must be an object", field="config.options")
        extra = sorted(set(config) - {"tool", "options"})
        if extra:
            raise ValidationError(f"a builtin model takes config.tool and config.options, not {extra[0]!r}",
                                  field=f"config.{extra[0]}")  # fmt: skip
    return config


def load(kind: str, type_: str, config: dict, *, name: str, key: Any = None) -> Any:
    """A working assistant for the model; ``key`` (the model id) keeps it for later calls."""
    check(kind, type_, config)
    cache_key = None
    if key is not None:
        cache_key = (key, kind, type_, json.dumps(config, sort_keys=True, default=str))
        with _LOCK:
            hit = _LOADED.get(cache_key)
        if hit is not None:
            return hit
    _register_types()
    if type_ == "builtin":
        tool = get(kind, config["tool"], **(config.get("options") or {}))
    else:
        tool = get(kind, type_, **config)
    tool.name = name
    if cache_key is not None:
        forget(key)  # an earlier configuration of the same model
        with _LOCK:
            _LOADED[cache_key] = tool
    return tool


def release(tool: Any) -> None:
    """Close what an assistant holds open (a model server's HTTP connections)."""
    from limner.assist.ml_backend import MlBackend

    if isinstance(tool, MlBackend):
        tool.close()


def forget(key: Any) -> None:
    """Drop the assistants loaded for a model (it was removed or changed)."""
    with _LOCK:
        for k in [k for k in _LOADED if k[0] == key]:
            release(_LOADED.pop(k))
