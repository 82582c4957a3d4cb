"""Remote model servers that speak the Label Studio ML backend protocol, as detectors and interactors.

The protocol, over HTTP with JSON bodies:

- ``GET /health`` answers ``{"status": "UP", ...}``;
- ``POST /setup`` with ``{"project", "schema" (the labeling config XML), "hostname", "access_token",
  "model_version"}`` answers ``{"model_version": ...}``;
- ``POST /predict`` with ``{"tasks": [{"id", "data": {"image": URL}}], "label_config", "project",
  "params": {"login", "password", "context"}}`` answers ``{"results": [{"result": [...], "score",
  "model_version"}, ...]}`` (one prediction per task; older servers answer the bare list).

Results are Label Studio regions in percent of the image size (``rectanglelabels``,
``polygonlabels``, ``keypointlabels``, ``ellipselabels``, ``brushlabels`` in its RLE, ``choices``)
and are read by :func:`limner.formats.labelstudio.labelstudio_to_dataset`, the same reader as
Label Studio exports; a result without ``original_width`` / ``original_height`` is taken to be at
the image's size. The image goes to the server inline, as a ``data:`` URL of a PNG, unless the
caller gives a URL the server can fetch.

As an interactor, the annotator's clicks go in ``params.context.result`` the way Label Studio's
interactive mode sends them (``keypointlabels`` with ``is_positive``, a ``rectanglelabels`` box) and
the first region of the answer (a brush, polygon or rectangle) becomes the mask.

``label_map`` renames the server's labels to project labels (null drops one); every failure names
the server's URL.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np

from limner.assist.base import Detection, InteractorResult, Prompt, check_image, register
from limner.assist.polygon import mask_to_polygons
from limner.errors import LimnerError, ValidationError

__all__ = ["MlBackend", "label_config_for", "png_data_url", "results_to_shapes"]

_TAGS = {"box": "RectangleLabels", "polygon": "PolygonLabels", "points": "KeyPointLabels", "ellipse": "EllipseLabels",
         "mask": "BrushLabels", "rotated_box": "RectangleLabels"}  # fmt: skip
_FROM = {"RectangleLabels": "label", "PolygonLabels": "polygon", "KeyPointLabels": "keypoint", "EllipseLabels": "ellipse",
         "BrushLabels": "brush"}  # fmt: skip


class BackendError(LimnerError):
    """The model server could not be reached or answered something unusable (502)."""

    status = 502


def png_data_url(image: np.ndarray) -> str:
    import cv2

    ok, buf = cv2.imencode(".png", np.ascontiguousarray(image[:, :, ::-1]))
    if not ok:
        raise ValidationError("the image could not be encoded as PNG", field="image")
    return "data:image/png;base64," + base64.b64encode(buf.tobytes()).decode()


def label_config_for(labels: list[tuple[str, str, list[str]]]) -> str:
    """A Label Studio labeling config for ``(name, colour, kinds)`` labels: one control per kind family."""
    controls: dict[str, list[str]] = {}
    choices = []
    for name, color, kinds in labels:
        label = f"<Label value={quoteattr(name)} background={quoteattr(color or '#1f77b4')}/>"
        for k in kinds or ["box", "polygon", "points", "ellipse", "mask"]:  # no kinds: every kind
            if k == "tag":
                choices.append(f"<Choice value={quoteattr(name)}/>")
            elif k in _TAGS and label not in controls.setdefault(_TAGS[k], []):
                controls[_TAGS[k]].append(label)
    out = ['<View>', '  <Image name="image" value="$image"/>']
    for tag, items in controls.items():
        out.append(f'  <{tag} name="{_FROM[tag]}" toName="image">{"".join(items)}</{tag}>')
    if choices:
        out.append(f'  <Choices name="choice" toName="image" choice="multiple">{"".join(choices)}</Choices>')
    out.append("</View>")
    return "\n".join(out)


def results_to_shapes(results: list, width: int, height: int, *, where: str) -> list:
    """Label Studio results (one prediction's ``result`` list) -> core shapes, in image pixels."""
    from limner.core.dataset import Dataset
    from limner.formats.base import FormatError, Report
    from limner.formats.labelstudio import labelstudio_to_dataset

    if not isinstance(results, list):
        raise BackendError(f"{where}: a prediction's result must be a list, got {type(results).__name__}", field="result")
    sized = []
    for r in results:
        if isinstance(r, dict) and not (r.get("original_width") and r.get("original_height")):
            r = {**r, "original_width": width, "original_height": height}
        sized.append(r)
    ds, report = Dataset(), Report(format="Label Studio ML backend")
    task = {"data": {"image": "image"}, "predictions": [{"model_version": "backend", "result": sized}]}
    try:
        labelstudio_to_dataset([task], ds, report, file=Path(where))
    except FormatError as e:
        raise BackendError(f"{e.detail.replace('[0].predictions[0].', '')}", field="result") from None
    return ds.items[0].shapes if ds.items else []


class MlBackend:
    """A Label Studio ML backend at ``url`` (see the module docstring)."""

    title = "Label Studio ML backend"
    prompts = frozenset({"point", "box"})

    def __init__(
        self,
        url: str,
        *,
        name: str = "ml_backend",
        timeout: float = 30.0,
        label_map: dict[str, str | None] | None = None,
        label_config: str | None = None,
        access_token: str | None = None,
        model_version: str | None = None,
        confidence: float = 0.0,
        interactive_label: str | None = None,
        project: str = "limner",
    ):
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValidationError(f"an ML backend url starts with http:// or https://, got {url!r}", field="config.url")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 3600:
            raise ValidationError(f"timeout must be a number of seconds in (0, 3600], got {timeout!r}", field="config.timeout")
        if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 <= confidence <= 1:
            raise ValidationError(f"confidence must be a number in [0, 1], got {confidence!r}", field="config.confidence")
        if label_map is not None and not (
            isinstance(label_map, dict) and all(v is None or (isinstance(v, str) and v) for v in label_map.values())
        ):
            raise ValidationError("label_map maps the server's labels to label names, or to null to drop one",
                                  field="config.label_map")  # fmt: skip
        import httpx

        self.name = name
        self.url = url.rstrip("/")
        self.label_map = dict(label_map) if label_map else None
        self.label_config = label_config
        self._configured = label_config is not None
        self.access_token = access_token
        self.model_version = model_version
        self.confidence = float(confidence)
        self.interactive_label = interactive_label
        self.project = project
        self._http = httpx.Client(timeout=httpx.Timeout(float(timeout), connect=min(10.0, float(timeout))))
        self._setup_done = False

    @property
    def labels(self) -> list[str]:
        return [v for v in (self.label_map or {}).values() if v]

    def close(self) -> None:
        self._http.close()

    def use_labels(self, labels: list[tuple[str, str, list[str]]]) -> None:
        """Describe the project's labels ``(name, colour, kinds)`` to the server (at the next
        ``/setup``), unless a labeling config was configured."""
        if self._configured:
            return
        config = label_config_for(labels)
        if config != self.label_config:
            self.label_config, self._setup_done = config, False

    # -- the protocol -----------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: dict | None = None) -> Any:
        import httpx

        where = f"{self.url}{path}"
        try:
            r = self._http.request(method, where, json=body)
        except httpx.TimeoutException:
            raise BackendError(f"the ML backend at {where} did not answer in time", field="config.url") from None
        except httpx.HTTPError as e:
            raise BackendError(f"could not reach the ML backend at {where}: {e}", field="config.url") from None
        if r.status_code >= 400:
            raise BackendError(f"the ML backend at {where} answered {r.status_code}: {r.text[:300].strip()}", field="config.url")
        try:
            return r.json()
        except ValueError:
            raise BackendError(f"the ML backend at {where} did not answer JSON: {r.text[:200]!r}", field="config.url") from None

    def health(self) -> dict:
        """``GET /health``; a server that is not "UP" is an error."""
        body = self._call("GET", "/health")
        if not isinstance(body, dict) or str(body.get("status", "")).upper() != "UP":
            raise BackendError(f"the ML backend at {self.url}/health is not up: {str(body)[:200]}", field="config.url")
        return body

    def setup(self, label_config: str | None = None) -> dict:
        """``POST /setup`` with the labeling config; answers the server's model version."""
        schema = label_config or self.label_config or label_config_for([(n, "", ["box", "polygon", "mask"]) for n in self.labels])
        body = self._call("POST", "/setup", {"project": self.project, "schema": schema, "hostname": "",
                                             "access_token": self.access_token or "", "model_version": self.model_version})  # fmt: skip
        if not isinstance(body, dict):
            raise BackendError(f"the ML backend at {self.url}/setup answered {str(body)[:200]}", field="config.url")
        self.label_config = schema
        self._setup_done = True
        return body

    def predict_tasks(self, tasks: list[dict], context: dict | None = None) -> list[dict]:
        """``POST /predict``: one prediction ``{"result": [...], "score"?}`` per task."""
        if not self._setup_done:
            self.setup()
        params: dict[str, Any] = {"login": None, "password": None}
        if context is not None:
            params["context"] = context
        body = self._call("POST", "/predict", {"tasks": tasks, "label_config": self.label_config, "project": self.project,
                                               "params": params})  # fmt: skip
        preds = body.get("results") if isinstance(body, dict) else body
        if not isinstance(preds, list):
            raise BackendError(f"the ML backend at {self.url}/predict answered no results list: {str(body)[:200]}",
                               field="config.url")  # fmt: skip
        if len(preds) != len(tasks):
            raise BackendError(f"the ML backend at {self.url}/predict answered {len(preds)} predictions for {len(tasks)} tasks",
                               field="config.url")  # fmt: skip
        out = []
        for p in preds:
            if isinstance(p, list):  # a bare result list
                p = {"result": p}
            if not isinstance(p, dict):
                raise BackendError(f"the ML backend at {self.url}/predict answered a prediction that is not an object",
                                   field="config.url")  # fmt: skip
            out.append(p)
        return out

    def _shapes(self, prediction: dict, width: int, height: int) -> list:
        shapes = results_to_shapes(prediction.get("result") or [], width, height, where=f"{self.url}/predict")
        score = prediction.get("score")
        out = []
        for s in shapes:
            label = s.label
            if self.label_map is not None:
                if label not in self.label_map or self.label_map[label] is None:
                    continue
                label = self.label_map[label]
            conf = s.confidence if s.confidence is not None else (float(score) if isinstance(score, (int, float)) else None)
            if conf is not None and conf < self.confidence:
                continue
            s.label, s.confidence, s.source = label, conf, f"model:{self.name}"
            out.append(s)
        return out

    # -- as a detector ----------------------------------------------------------------------------

    def detect(self, image: np.ndarray, *, url: str | None = None, task_id: int | None = None) -> list[Detection]:
        image = check_image(image)
        h, w = image.shape[:2]
        task = {"id": task_id if task_id is not None else 0, "data": {"image": url or png_data_url(image)}}
        (pred,) = self.predict_tasks([task])
        return [
            {"kind": s.kind, "label": s.label, "geometry": s.geometry, "attributes": s.attributes,
             "confidence": s.confidence, "source": s.source}
            for s in self._shapes(pred, w, h)
        ]  # fmt: skip

    # -- as an interactor -------------------------------------------------------------------------

    def precompute(self, image: np.ndarray) -> str:
        """The image as a data URL, encoded once per image."""
        return png_data_url(check_image(image))

    def context(self, prompt: Prompt, width: int, height: int) -> dict:
        """The clicks as Label Studio's interactive context (percent of the image size)."""
        label = self.interactive_label or (self.labels[0] if self.labels else "object")
        out = []
        for i, (pts, positive) in enumerate(((prompt.positive, True), (prompt.negative, False))):
            for j, (x, y) in enumerate(pts):
                out.append({"id": f"p{i}{j}", "type": "keypointlabels", "from_name": "keypoint", "to_name": "image",
                            "original_width": width, "original_height": height, "is_positive": positive,
                            "value": {"x": 100 * x / width, "y": 100 * y / height, "width": 0.5,
                                      "keypointlabels": [label]}})  # fmt: skip
        if prompt.box is not None:
            x, y, w, h = prompt.box
            out.append({"id": "box", "type": "rectanglelabels", "from_name": "label", "to_name": "image",
                        "original_width": width, "original_height": height, "is_positive": True,
                        "value": {"x": 100 * x / width, "y": 100 * y / height, "width": 100 * w / width,
                                  "height": 100 * h / height, "rotation": 0, "rectanglelabels": [label]}})  # fmt: skip
        return {"result": out}

    def predict(self, image: np.ndarray, prompt: Prompt, state: Any, tolerance: float = 1.0) -> InteractorResult:
        from limner.core.raster import rasterize

        h, w = image.shape[:2]
        prompt.check(w, h, sorted(self.prompts), tool=self.name)
        if not prompt.positive and prompt.box is None:
            raise ValidationError(f"{self.name}: give at least one positive point or a box", field="positive")
        t0 = time.perf_counter()
        data = state if isinstance(state, str) else self.precompute(image)
        (pred,) = self.predict_tasks([{"id": 0, "data": {"image": data}}], context=self.context(prompt, w, h))
        regions = [s for s in self._shapes(pred, w, h) if s.kind in ("mask", "polygon", "box", "rotated_box", "ellipse")]
        t1 = time.perf_counter()
        if not regions:
            mask = np.zeros((h, w), bool)
        else:
            mask = rasterize(regions[0].kind, regions[0].geometry, h, w).astype(bool)
        polygons = mask_to_polygons(mask, tolerance)
        return InteractorResult(mask, polygons, regions[0].confidence if regions else None,
                                {"predict": (t1 - t0) * 1000, "polygon": (time.perf_counter() - t1) * 1000})  # fmt: skip


register("detector", "ml_backend", MlBackend)
register("interactor", "ml_backend", MlBackend)
