"""YOLO-family detectors and segmenters from one ONNX file (Ultralytics v8-style exports).

Pre-processing is the letterbox those exports are trained with: the image is scaled by
``r = min(S_h / h, S_w / w)`` to ``(round(w r), round(h r))``, padded to the model's input size
``S_h x S_w`` with grey (114) split evenly (``top = round(dh / 2 - 0.1)``, ``left = round(dw / 2 - 0.1)``),
and fed as ``1 x 3 x S_h x S_w`` RGB floats in [0, 1].

The output ``(1, 4 + nc [+ nm], N)`` holds, per candidate, the box centre and size in input pixels,
the ``nc`` class scores and (segmenters) ``nm`` mask coefficients; the transposed layout
``(1, N, 4 + nc [+ nm])`` is read as well. Candidates whose best class score reaches ``confidence``
are kept, then non-maximum suppression per class (``cv2.dnn.NMSBoxesBatched`` at ``iou``), at most
``max_detections``. Boxes go back through the letterbox (``(x - left) / r``) and are clipped to the
image.

Segmenters have a second output, the prototypes ``(1, nm, mh, mw)``: an instance's mask is
``sigmoid(coefficients @ prototypes)``, sampled bilinearly at each image pixel centre carried back
through the letterbox into the prototype grid (one affine map, over the box only), kept where it is
above 0.5 and inside the box (pixel centre in the box). ``shape`` says what a detection becomes:
``auto`` (a polygon for segmenters, else a box), ``box``, ``polygon`` (the mask's largest part,
simplified at ``tolerance`` pixels) or ``mask`` (COCO RLE).

Class names come from ``classes`` in the configuration, else from the export's ``names`` metadata,
else they are the class indices ("0", "1", ...). ``label_map`` renames them to project labels
(``{"person": "pedestrian", "3": "car", "dog": null}``); with a label map, classes it does not name
are dropped.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass

import cv2
import numpy as np

from limner.assist.base import Detection, check_image, register
from limner.assist.onnx_session import OnnxModel, open_model
from limner.assist.polygon import mask_to_polygons
from limner.core.rle import encode
from limner.errors import ValidationError

__all__ = ["Letterbox", "OnnxYolo", "decode_output", "letterbox", "nms"]

SHAPES = ("auto", "box", "polygon", "mask")


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How an image was fitted into the input: scale and the padding at the left and top."""

    scale: float
    left: int
    top: int
    width: int
    height: int

    def boxes_to_image(self, xyxy: np.ndarray) -> np.ndarray:
        out = np.asarray(xyxy, np.float64).copy()
        out[:, [0, 2]] = (out[:, [0, 2]] - self.left) / self.scale
        out[:, [1, 3]] = (out[:, [1, 3]] - self.top) / self.scale
        out[:, [0, 2]] = out[:, [0, 2]].clip(0, self.width)
        out[:, [1, 3]] = out[:, [1, 3]].clip(0, self.height)
        return out


def letterbox(image: np.ndarray, size: tuple[int, int], color: int = 114) -> tuple[np.ndarray, Letterbox]:
    """``image`` (H, W, 3) fitted into ``size`` = (height, width) keeping its aspect ratio."""
    h, w = image.shape[:2]
    sh, sw = size
    r = min(sh / h, sw / w)
    nw, nh = int(round(w * r)), int(round(h * r))
    dw, dh = (sw - nw) / 2, (sh - nh) / 2
    resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR) if (nw, nh) != (w, h) else image
    top, bottom = int(round(dh - 0.1)), int(round(dh + 0.1))
    left, right = int(round(dw - 0.1)), int(round(dw + 0.1))
    out = cv2.copyMakeBorder(resized, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(color, color, color))
    return out, Letterbox(r, left, top, w, h)


def nms(xyxy: np.ndarray, scores: np.ndarray, classes: np.ndarray, iou: float, limit: int) -> np.ndarray:
    """Indices kept by per-class non-maximum suppression, best score first."""
    if len(xyxy) == 0:
        return np.zeros(0, np.int64)
    xywh = np.column_stack([xyxy[:, 0], xyxy[:, 1], xyxy[:, 2] - xyxy[:, 0], xyxy[:, 3] - xyxy[:, 1]])
    keep = cv2.dnn.NMSBoxesBatched(xywh.tolist(), scores.astype(float).tolist(), classes.astype(int).tolist(), 0.0, float(iou))
    keep = np.asarray(keep, np.int64).reshape(-1)
    keep = keep[np.argsort(-scores[keep], kind="stable")]
    return keep[:limit]


def decode_output(
    out: np.ndarray, *, nc: int | None, nm: int, confidence: float, iou: float, limit: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The raw output ``(1, 4 + nc + nm, N)`` (or transposed) -> kept (boxes xyxy in input pixels,
    scores, classes, mask coefficients)."""
    a = np.asarray(out, np.float32)
    if a.ndim == 3 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 2:
        raise ValidationError(f"a YOLO output must be (1, 4 + classes, candidates), got shape {tuple(out.shape)}", field="model")
    if nc is not None:
        channels = 4 + nc + nm
        if a.shape[0] != channels and a.shape[1] == channels:
            a = a.T
        elif a.shape[0] != channels:
            raise ValidationError(
                f"the output has shape {tuple(out.shape)} but {nc} classes{f' and {nm} mask coefficients' if nm else ''} "
                f"need {channels} channels: check the classes of the configuration", field="config.classes",
            )  # fmt: skip
    elif a.shape[0] > a.shape[1]:
        a = a.T
    if a.shape[0] <= 4 + nm:
        raise ValidationError(f"the output has {a.shape[0]} channels: too few for boxes and class scores", field="model")
    preds = a.T  # (N, C)
    k = a.shape[0] - 4 - nm
    scores_all = preds[:, 4 : 4 + k]
    classes = scores_all.argmax(1)
    scores = scores_all[np.arange(len(preds)), classes]
    sel = scores >= confidence
    preds, classes, scores = preds[sel], classes[sel], scores[sel]
    cx, cy, w, h = preds[:, 0], preds[:, 1], preds[:, 2], preds[:, 3]
    xyxy = np.column_stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]).astype(np.float64)
    keep = nms(xyxy, scores, classes, iou, limit)
    return xyxy[keep], scores[keep], classes[keep], preds[keep, 4 + k :]


def instance_mask(coeffs: np.ndarray, protos: np.ndarray, box: np.ndarray, lb: Letterbox, input_size: tuple[int, int]
                  ) -> tuple[np.ndarray, int, int]:  # fmt: skip
    """One instance's mask over its box: (bool array, left, top) in image pixels."""
    nm, mh, mw = protos.shape
    x1, y1, x2, y2 = box
    ix0, iy0 = max(0, int(math.floor(x1))), max(0, int(math.floor(y1)))
    ix1, iy1 = min(lb.width, int(math.ceil(x2))), min(lb.height, int(math.ceil(y2)))
    if ix1 <= ix0 or iy1 <= iy0:
        return np.zeros((0, 0), bool), ix0, iy0
    logits = (coeffs.astype(np.float32) @ protos.reshape(nm, -1)).reshape(mh, mw)
    prob = 1.0 / (1.0 + np.exp(-np.clip(logits, -50, 50)))
    sx = lb.scale * mw / input_size[1]
    sy = lb.scale * mh / input_size[0]
    # ROI pixel (u, v) is image pixel (ix0 + u, iy0 + v); its centre lands on the prototype coordinate
    # ((ix0 + u + 0.5) r + left) mw / S_w - 0.5
    ox = ((ix0 + 0.5) * lb.scale + lb.left) * mw / input_size[1] - 0.5
    oy = ((iy0 + 0.5) * lb.scale + lb.top) * mh / input_size[0] - 0.5
    m = np.array([[sx, 0.0, ox], [0.0, sy, oy]], np.float64)
    roi = cv2.warpAffine(prob.astype(np.float32), m, (ix1 - ix0, iy1 - iy0),
                         flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    cx = np.arange(ix0, ix1) + 0.5
    cy = np.arange(iy0, iy1) + 0.5
    inside = ((cy >= y1) & (cy < y2))[:, None] & ((cx >= x1) & (cx < x2))[None, :]
    return (roi > 0.5) & inside, ix0, iy0


def _class_names(model: OnnxModel, classes: list[str] | None) -> list[str] | None:
    if classes is not None:
        if not isinstance(classes, list) or not all(isinstance(c, str) and c for c in classes):
            raise ValidationError("classes must be a list of class names, one per model class", field="config.classes")
        return list(classes)
    raw = model.metadata.get("names")
    if raw:
        try:
            names = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            return None
        if isinstance(names, dict) and all(isinstance(k, int) for k in names):
            return [str(names.get(i, i)) for i in range(max(names) + 1)]
        if isinstance(names, list):
            return [str(n) for n in names]
    return None


class OnnxYolo:
    """A YOLO detector or segmenter over one ONNX file (see the module docstring)."""

    title = "YOLO (ONNX)"

    def __init__(
        self,
        path: str,
        *,
        name: str = "onnx_yolo",
        classes: list[str] | None = None,
        label_map: dict[str, str | None] | None = None,
        confidence: float = 0.25,
        iou: float = 0.45,
        max_detections: int = 300,
        input_size: int | list[int] | None = None,
        shape: str = "auto",
        tolerance: float = 1.0,
    ):
        for key, v in (("confidence", confidence), ("iou", iou)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
                raise ValidationError(f"{key} must be a number in [0, 1], got {v!r}", field=f"config.{key}")
        if not isinstance(max_detections, int) or max_detections < 1:
            raise ValidationError(f"max_detections must be a positive whole number, got {max_detections!r}",
                                  field="config.max_detections")  # fmt: skip
        if shape not in SHAPES:
            raise ValidationError(f"shape must be one of {', '.join(SHAPES)}, got {shape!r}", field="config.shape")
        if label_map is not None and not (
            isinstance(label_map, dict) and all(v is None or (isinstance(v, str) and v) for v in label_map.values())
        ):
            raise ValidationError("label_map maps class names (or indices) to label names, or to null to drop a class",
                                  field="config.label_map")  # fmt: skip
        self.name = name
        self.model = open_model(path, field="config.path")
        self.input_name = next(iter(self.model.inputs))
        self.input_size = self._input_size(input_size)
        self.nm = 0
        self.protos_name = None
        if len(self.model.outputs) >= 2:
            pshape = self.model.output_shapes[self.model.outputs[1]]
            if len(pshape) == 4:
                self.protos_name = self.model.outputs[1]
                self.nm = pshape[1] if isinstance(pshape[1], int) else 32
        self.class_names = _class_names(self.model, classes)
        self.label_map = {str(k): v for k, v in label_map.items()} if label_map else None
        self.confidence, self.iou, self.limit = float(confidence), float(iou), max_detections
        self.shape = shape if shape != "auto" else ("polygon" if self.protos_name else "box")
        if self.shape != "box" and not self.protos_name:
            raise ValidationError(f"{self.model.path.name} has no mask prototypes: shape must be box", field="config.shape")
        self.tolerance = float(tolerance)

    def _input_size(self, configured) -> tuple[int, int]:
        shape = self.model.input_shape(self.input_name)
        if len(shape) == 4 and isinstance(shape[2], int) and isinstance(shape[3], int):
            return shape[2], shape[3]
        if configured is None:
            return 640, 640
        if isinstance(configured, int):
            configured = [configured, configured]
        if not (isinstance(configured, list) and len(configured) == 2 and all(isinstance(v, int) and v >= 32 for v in configured)):
            raise ValidationError("input_size is a whole number of pixels or [height, width]", field="config.input_size")
        return configured[0], configured[1]

    @property
    def labels(self) -> list[str]:
        names = self.class_names or []
        if self.label_map is None:
            return list(dict.fromkeys(names))
        return list(dict.fromkeys(v for v in self.label_map.values() if v))

    def label_of(self, cls: int) -> str | None:
        name = self.class_names[cls] if self.class_names and cls < len(self.class_names) else str(cls)
        if self.label_map is None:
            return name
        if name in self.label_map:
            return self.label_map[name]
        return self.label_map.get(str(cls))

    def preprocess(self, image: np.ndarray) -> tuple[np.ndarray, Letterbox]:
        boxed, lb = letterbox(image, self.input_size)
        x = boxed.astype(np.float32).transpose(2, 0, 1)[None] / np.float32(255.0)
        return np.ascontiguousarray(x), lb

    def detect(self, image: np.ndarray) -> list[Detection]:
        image = check_image(image)
        x, lb = self.preprocess(image)
        wanted = [self.model.outputs[0]] + ([self.protos_name] if self.protos_name else [])
        out = self.model.run(wanted, {self.input_name: x})
        nc = len(self.class_names) if self.class_names else None
        boxes, scores, classes, coeffs = decode_output(out[0], nc=nc, nm=self.nm, confidence=self.confidence, iou=self.iou,
                                                       limit=self.limit)  # fmt: skip
        boxes = lb.boxes_to_image(boxes)
        protos = np.asarray(out[1])[0] if self.protos_name else None
        dets: list[Detection] = []
        for i in range(len(boxes)):
            label = self.label_of(int(classes[i]))
            x1, y1, x2, y2 = (float(v) for v in boxes[i])
            if label is None or x2 - x1 <= 0 or y2 - y1 <= 0:
                continue
            det = {"kind": "box", "label": label, "geometry": {"x": x1, "y": y1, "w": x2 - x1, "h": y2 - y1},
                   "confidence": round(float(scores[i]), 6), "source": f"model:{self.name}"}  # fmt: skip
            if protos is not None and self.shape != "box":
                part, left, top = instance_mask(coeffs[i], protos, boxes[i], lb, self.input_size)
                if not part.any():
                    continue
                full = np.zeros((lb.height, lb.width), bool)
                full[top : top + part.shape[0], left : left + part.shape[1]] = part
                if self.shape == "mask":
                    det["kind"], det["geometry"] = "mask", {"rle": encode(full)}
                else:
                    polys = mask_to_polygons(full, tolerance=self.tolerance)
                    if not polys:
                        continue
                    det["kind"], det["geometry"] = "polygon", polys[0]  # the largest part
            dets.append(det)
        return dets


register("detector", "onnx_yolo", OnnxYolo)
