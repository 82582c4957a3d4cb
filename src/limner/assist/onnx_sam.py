"""Segment-Anything-family interactors from two ONNX files: an image encoder and a prompt decoder.

The files are the ones the SAM, MobileSAM and EfficientSAM projects export (nothing is downloaded):

- the **encoder** takes one ``1 x 3 x S x S`` float image (S = 1024): the image resized so its
  longest side is S (the other side ``int(side * S / longest + 0.5)``), normalised per channel with
  the ImageNet mean and standard deviation (on 0-255 values), and padded with zeros at the bottom
  and the right; it answers the image embedding (``1 x 256 x 64 x 64`` for SAM). It runs once per
  image, in :meth:`OnnxSam.precompute`, and the embedding is what the server caches;
- the **decoder** takes ``image_embeddings``, ``point_coords`` (``1 x N x 2``, in the resized
  frame), ``point_labels`` (1 positive, 0 negative, 2 and 3 a box's top-left and bottom-right
  corners, -1 the padding point added when there is no box), ``mask_input`` (``1 x 1 x S/4 x S/4``
  logits of a previous mask), ``has_mask_input`` and ``orig_im_size`` (``[height, width]``) and
  answers ``masks`` (logits; ``1 x K x H x W``), ``iou_predictions`` (``1 x K``) and
  ``low_res_masks``. Each click runs only the decoder.

The mask with the highest predicted IoU is kept. When the decoder answers masks at the image size
they are used as they are; masks at another size (the ``S/4`` low-resolution frame, or ``S``) are
taken to cover the padded ``S x S`` square and mapped back: each image pixel centre is carried
into the mask's frame by one affine map (scale ``new_size / size`` then ``mask_side / S``) and the
logits sampled bilinearly, which crops the padding and resizes in one step. A pixel is inside when
its logit is above ``mask_threshold`` (0).

Tensor names follow those exports and can be renamed in the configuration (``encoder_input``,
``encoder_output``, ``decoder_inputs``, ``decoder_outputs``); decoder inputs other than the
embedding, coordinates and labels are sent only when the model declares them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from limner.assist.base import InteractorResult, Prompt, check_image, register
from limner.assist.onnx_session import OnnxModel, open_model
from limner.assist.polygon import mask_to_polygons
from limner.errors import ValidationError

__all__ = ["DECODER_INPUTS", "DECODER_OUTPUTS", "OnnxSam", "SamState", "mask_to_frame", "to_frame"]

IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)
DECODER_INPUTS = {
    "image_embeddings": "image_embeddings",
    "point_coords": "point_coords",
    "point_labels": "point_labels",
    "mask_input": "mask_input",
    "has_mask_input": "has_mask_input",
    "orig_im_size": "orig_im_size",
}
DECODER_OUTPUTS = {"masks": "masks", "iou_predictions": "iou_predictions", "low_res_masks": "low_res_masks"}
_REQUIRED = ("image_embeddings", "point_coords", "point_labels")
_MASK_LOGIT = 20.0  # a previous mask given as a prompt becomes logits of +-20 (SAM's own are of that order)
_DTYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(int64)": np.int64,
           "tensor(int32)": np.int32, "tensor(float16)": np.float16}  # fmt: skip


@dataclass(slots=True)
class SamState:
    """One image's precompute: the embedding and the geometry of the resized frame."""

    embedding: np.ndarray
    height: int
    width: int
    new_height: int
    new_width: int

    @property
    def nbytes(self) -> int:
        return int(self.embedding.nbytes)


def resized_size(height: int, width: int, side: int) -> tuple[int, int]:
    """(new_height, new_width) with the longest side ``side``, as SAM's ResizeLongestSide rounds."""
    scale = side / max(height, width)
    return int(height * scale + 0.5), int(width * scale + 0.5)


def to_frame(points: np.ndarray, height: int, width: int, new_height: int, new_width: int) -> np.ndarray:
    """Image pixel coordinates ``(N, 2)`` -> the resized frame the decoder works in."""
    out = np.asarray(points, np.float64).reshape(-1, 2).copy()
    out[:, 0] *= new_width / width
    out[:, 1] *= new_height / height
    return out


def mask_to_frame(mask: np.ndarray, new_height: int, new_width: int, side: int, out_side: int) -> np.ndarray:
    """A bool image-size mask -> ``out_side x out_side`` logits in the padded square frame."""
    m = cv2.resize(mask.astype(np.float32), (new_width, new_height), interpolation=cv2.INTER_NEAREST_EXACT)
    square = np.zeros((side, side), np.float32)
    square[:new_height, :new_width] = m
    small = cv2.resize(square, (out_side, out_side), interpolation=cv2.INTER_AREA)
    return ((small * 2.0 - 1.0) * _MASK_LOGIT).astype(np.float32)


def logits_to_image(logits: np.ndarray, state: SamState, side: int) -> np.ndarray:
    """Mask logits ``(h, w)`` back to the image: as they are at the image size, else read as
    covering the padded ``side x side`` square (see the module docstring)."""
    mh, mw = logits.shape
    if (mh, mw) == (state.height, state.width):
        return logits.astype(np.float32, copy=False)
    sx = state.new_width / state.width * mw / side
    sy = state.new_height / state.height * mh / side
    # destination pixel centre (x + 0.5) lands on source coordinate (x + 0.5) * s - 0.5
    m = np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5]], np.float64)
    return cv2.warpAffine(
        logits.astype(np.float32, copy=False), m, (state.width, state.height),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE,
    )


class OnnxSam:
    """A Segment-Anything interactor over an encoder and a decoder ONNX file (see the module)."""

    title = "Segment Anything (ONNX)"
    prompts = frozenset({"point", "box", "mask"})

    def __init__(
        self,
        encoder: str,
        decoder: str,
        *,
        name: str = "onnx_sam",
        input_size: int = 1024,
        pixel_mean: tuple[float, float, float] = IMAGENET_MEAN,
        pixel_std: tuple[float, float, float] = IMAGENET_STD,
        encoder_input: str | None = None,
        encoder_output: str | None = None,
        decoder_inputs: dict[str, str] | None = None,
        decoder_outputs: dict[str, str] | None = None,
        mask_threshold: float = 0.0,
    ):
        if not isinstance(input_size, int) or not 16 <= input_size <= 4096:
            raise ValidationError(f"input_size must be a whole number of pixels in [16, 4096], got {input_size!r}",
                                  field="config.input_size")  # fmt: skip
        for key, v in (("pixel_mean", pixel_mean), ("pixel_std", pixel_std)):
            if len(v) != 3 or not all(isinstance(c, (int, float)) for c in v) or (key == "pixel_std" and min(v) <= 0):
                raise ValidationError(f"{key} must be three numbers (R, G, B){', all positive' if key == 'pixel_std' else ''}",
                                      field=f"config.{key}")  # fmt: skip
        self.name = name
        self.side = input_size
        self.mean = np.asarray(pixel_mean, np.float32)
        self.std = np.asarray(pixel_std, np.float32)
        self.mask_threshold = float(mask_threshold)
        self.encoder: OnnxModel = open_model(encoder, field="config.encoder")
        self.decoder: OnnxModel = open_model(decoder, field="config.decoder")
        if encoder_input is None:
            if len(self.encoder.inputs) != 1:
                raise ValidationError(
                    f"{self.encoder.path.name} has inputs {', '.join(self.encoder.inputs)}: say which takes the image "
                    "with encoder_input", field="config.encoder_input",
                )  # fmt: skip
            encoder_input = next(iter(self.encoder.inputs))
        self.encoder.require_inputs({"encoder_input": encoder_input}, "encoder")
        self.encoder_input = encoder_input
        self.encoder_output = encoder_output or self.encoder.outputs[0]
        self.encoder.require_outputs({"encoder_output": self.encoder_output}, "encoder")
        unknown = sorted(set(decoder_inputs or {}) - set(DECODER_INPUTS)) + sorted(set(decoder_outputs or {}) - set(DECODER_OUTPUTS))
        if unknown:
            raise ValidationError(
                f"unknown decoder tensor {unknown[0]!r}; inputs are {', '.join(DECODER_INPUTS)}, outputs "
                f"{', '.join(DECODER_OUTPUTS)}", field="config.decoder_inputs",
            )  # fmt: skip
        names = {**DECODER_INPUTS, **(decoder_inputs or {})}
        self.decoder.require_inputs({k: names[k] for k in _REQUIRED}, "decoder_inputs")
        if decoder_inputs:
            self.decoder.require_inputs(dict(decoder_inputs), "decoder_inputs")
        self.inputs = {k: v for k, v in names.items() if v in self.decoder.inputs}
        outs = {**DECODER_OUTPUTS, **(decoder_outputs or {})}
        self.decoder.require_outputs({"masks": outs["masks"]}, "decoder_outputs")
        self.out_masks = outs["masks"]
        self.out_iou = outs["iou_predictions"] if outs["iou_predictions"] in self.decoder.outputs else None
        shape = self.decoder.input_shape(self.inputs["mask_input"]) if "mask_input" in self.inputs else []
        self.mask_side = shape[-1] if shape and isinstance(shape[-1], int) else self.side // 4

    # -- the encoder ----------------------------------------------------------------------------

    def preprocess(self, image: np.ndarray) -> tuple[np.ndarray, int, int]:
        """The encoder's input ``1 x 3 x S x S`` and the resized (height, width)."""
        h, w = image.shape[:2]
        nh, nw = resized_size(h, w, self.side)
        resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR) if (nh, nw) != (h, w) else image
        x = np.zeros((self.side, self.side, 3), np.float32)
        x[:nh, :nw] = (resized.astype(np.float32) - self.mean) / self.std
        return np.ascontiguousarray(x.transpose(2, 0, 1)[None]), nh, nw

    def precompute(self, image: np.ndarray) -> SamState:
        image = check_image(image)
        x, nh, nw = self.preprocess(image)
        want = _DTYPES.get(self.encoder.inputs[self.encoder_input].type, np.float32)
        (emb,) = self.encoder.run([self.encoder_output], {self.encoder_input: x.astype(want, copy=False)})
        return SamState(np.ascontiguousarray(emb), image.shape[0], image.shape[1], nh, nw)

    # -- the decoder ----------------------------------------------------------------------------

    def _cast(self, key: str, value: np.ndarray) -> np.ndarray:
        return value.astype(_DTYPES.get(self.decoder.inputs[self.inputs[key]].type, np.float32), copy=False)

    def decoder_feed(self, prompt: Prompt, state: SamState) -> dict[str, np.ndarray]:
        """The decoder's inputs for a prompt (points in the resized frame; see the module)."""
        pts = [*prompt.positive, *prompt.negative]
        labels = [1.0] * len(prompt.positive) + [0.0] * len(prompt.negative)
        if prompt.box is not None:
            x, y, w, h = prompt.box
            pts += [(x, y), (x + w, y + h)]
            labels += [2.0, 3.0]
        else:
            pts.append((0.0, 0.0))
            labels.append(-1.0)
        coords = to_frame(np.asarray(pts), state.height, state.width, state.new_height, state.new_width)
        feed = {
            "image_embeddings": state.embedding,
            "point_coords": coords[None].astype(np.float32),
            "point_labels": np.asarray(labels, np.float32)[None],
        }
        if "mask_input" in self.inputs:
            if prompt.mask is not None:
                feed["mask_input"] = mask_to_frame(prompt.mask, state.new_height, state.new_width, self.side,
                                                   self.mask_side)[None, None]  # fmt: skip
            else:
                feed["mask_input"] = np.zeros((1, 1, self.mask_side, self.mask_side), np.float32)
        if "has_mask_input" in self.inputs:
            feed["has_mask_input"] = np.asarray([1.0 if prompt.mask is not None else 0.0], np.float32)
        if "orig_im_size" in self.inputs:
            feed["orig_im_size"] = np.asarray([state.height, state.width], np.float32)
        return {self.inputs[k]: self._cast(k, v) for k, v in feed.items()}

    def predict(self, image: np.ndarray, prompt: Prompt, state: Any, tolerance: float = 1.0) -> InteractorResult:
        t0 = time.perf_counter()
        timings = {"precompute": 0.0}
        if not isinstance(state, SamState):
            state = self.precompute(image)
            timings["precompute"] = (time.perf_counter() - t0) * 1000
        prompt.check(state.width, state.height, sorted(self.prompts), tool=self.name)
        if not prompt.positive and prompt.box is None:
            raise ValidationError(f"{self.name}: give at least one positive point or a box", field="positive")
        t1 = time.perf_counter()
        wanted = [self.out_masks] + ([self.out_iou] if self.out_iou else [])
        out = self.decoder.run(wanted, self.decoder_feed(prompt, state))
        masks = np.asarray(out[0])
        masks = masks.reshape((-1,) + masks.shape[-2:])
        scores = np.asarray(out[1]).reshape(-1) if self.out_iou else np.zeros(len(masks), np.float32)
        best = int(np.argmax(scores)) if len(scores) == len(masks) else 0
        mask = logits_to_image(masks[best], state, self.side) > self.mask_threshold
        t2 = time.perf_counter()
        timings["predict"] = (t2 - t1) * 1000
        polygons = mask_to_polygons(mask, tolerance)
        timings["polygon"] = (time.perf_counter() - t2) * 1000
        score = float(scores[best]) if self.out_iou else None
        return InteractorResult(mask, polygons, score, timings)


register("interactor", "onnx_sam", OnnxSam)
