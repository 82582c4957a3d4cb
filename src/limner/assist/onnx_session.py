"""Opening ONNX models with onnxruntime, with errors that name the file and the tensor.

Sessions are shared: the same file opened twice (two projects registering one model, a test run
and the prelabel job) is loaded once per process, keyed by path, size and modification time.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from limner.errors import ValidationError

__all__ = ["OnnxModel", "open_model"]

_CACHE: dict[tuple, OnnxModel] = {}
_LOCK = threading.Lock()


class OnnxModel:
    """An onnxruntime session with the model's input and output names, shapes and metadata."""

    def __init__(self, path: Path, session: Any):
        self.path = path
        self.session = session
        self.inputs = {i.name: i for i in session.get_inputs()}
        self.outputs = [o.name for o in session.get_outputs()]
        self.output_shapes = {o.name: o.shape for o in session.get_outputs()}
        meta = session.get_modelmeta()
        self.metadata: dict[str, str] = dict(meta.custom_metadata_map or {})

    def input_shape(self, name: str) -> list:
        return list(self.inputs[name].shape)

    def require_inputs(self, names: dict[str, str], where: str) -> None:
        """Every configured input (config key -> tensor name) must exist in the model."""
        for key, name in names.items():
            if name not in self.inputs:
                raise ValidationError(
                    f"{self.path.name} has no input {name!r} ({where} {key}); its inputs are "
                    f"{', '.join(self.inputs)}: set {key} in the model's configuration",
                    field=f"config.{key}",
                )

    def require_outputs(self, names: dict[str, str], where: str) -> None:
        for key, name in names.items():
            if name not in self.outputs:
                raise ValidationError(
                    f"{self.path.name} has no output {name!r} ({where} {key}); its outputs are "
                    f"{', '.join(self.outputs)}: set {key} in the model's configuration",
                    field=f"config.{key}",
                )

    def run(self, outputs: list[str] | None, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        try:
            return self.session.run(outputs, feed)
        except Exception as e:  # onnxruntime raises its own exception types
            raise ValidationError(f"{self.path.name}: running the model failed: {e}", field="model") from None


def open_model(path: str | Path, *, field: str = "path") -> OnnxModel:
    """The model at ``path`` (loaded once per process and file version)."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise ValidationError(f"no ONNX model file at {p}", field=field)
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(p), sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ValidationError(f"{p} is not a model onnxruntime can load: {first}", field=field) from None
    model = OnnxModel(p, session)
    with _LOCK:
        for k in [k for k in _CACHE if k[0] == key[0]]:
            del _CACHE[k]  # an older version of the same file
        _CACHE[key] = model
    return model
