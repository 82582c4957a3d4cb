"""Tiny ONNX models with the inputs and outputs of the real exports, built with onnx.helper.

- ``sam_encoder``: ``image`` (1, 3, S, S) -> ``image_embeddings``: 16 x 16 average pooling, so the
  embedding is the normalised, padded image at 1/16 scale (checkable by hand);
- ``sam_decoder``: the SAM decoder's six inputs -> ``masks`` (1, 2, S/4, S/4) logits of two discs
  around the first point (in the S frame; radii ``radii``), ``iou_predictions`` ``ious`` and
  ``low_res_masks``;
- ``yolo``: ``images`` (1, 3, S, S) -> ``output0`` fixed candidates (1, 4 + nc + nm, N) and, with
  prototypes, ``output1`` (1, nm, S/4, S/4); the input is read (times zero) so it must be fed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = [helper.make_opsetid("", 17)]


def _save(graph, path: Path, metadata: dict | None = None) -> Path:
    model = helper.make_model(graph, opset_imports=OPSET, producer_name="limner-tests")
    model.ir_version = 8
    for k, v in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def _const(name: str, value: np.ndarray):
    return numpy_helper.from_array(np.asarray(value, np.float32), name)


def sam_encoder(path: Path, side: int = 1024, input_name: str = "image") -> Path:
    node = helper.make_node("AveragePool", [input_name], ["image_embeddings"], kernel_shape=[16, 16], strides=[16, 16])
    graph = helper.make_graph(
        [node], "encoder",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [1, 3, side, side])],
        [helper.make_tensor_value_info("image_embeddings", TensorProto.FLOAT, [1, 3, side // 16, side // 16])],
    )  # fmt: skip
    return _save(graph, path)


def sam_decoder(path: Path, side: int = 1024, radii=(100.0, 60.0), ious=(0.5, 0.9)) -> Path:
    low = side // 4
    centres = np.arange(low, dtype=np.float32) * (side / low) + (side / low) / 2
    gx = np.broadcast_to(centres[None, :], (low, low))[None, None]
    gy = np.broadcast_to(centres[:, None], (low, low))[None, None]
    inits = [_const("gx", gx), _const("gy", gy), _const("ious", np.asarray([ious])),
             _const("r2", np.asarray(radii, np.float32).reshape(1, len(radii), 1, 1) ** 2),
             numpy_helper.from_array(np.asarray([0], np.int64), "s0"), numpy_helper.from_array(np.asarray([1], np.int64), "s1"),
             numpy_helper.from_array(np.asarray([2], np.int64), "s2")]  # fmt: skip
    nodes = [
        helper.make_node("Slice", ["point_coords", "s0", "s1", "s1"], ["first"]),  # (1, 1, 2)
        helper.make_node("Slice", ["first", "s0", "s1", "s2"], ["px"]),  # (1, 1, 1)
        helper.make_node("Slice", ["first", "s1", "s2", "s2"], ["py"]),
        helper.make_node("Sub", ["gx", "px"], ["dx"]),
        helper.make_node("Sub", ["gy", "py"], ["dy"]),
        helper.make_node("Mul", ["dx", "dx"], ["dx2"]),
        helper.make_node("Mul", ["dy", "dy"], ["dy2"]),
        helper.make_node("Add", ["dx2", "dy2"], ["d2"]),
        helper.make_node("Sub", ["r2", "d2"], ["masks"]),  # (1, K, low, low): positive inside each disc
        helper.make_node("Identity", ["masks"], ["low_res_masks"]),
        helper.make_node("Identity", ["ious"], ["iou_predictions"]),
    ]
    f = TensorProto.FLOAT
    graph = helper.make_graph(
        nodes, "decoder",
        [helper.make_tensor_value_info("image_embeddings", f, [1, 3, side // 16, side // 16]),
         helper.make_tensor_value_info("point_coords", f, [1, "n", 2]),
         helper.make_tensor_value_info("point_labels", f, [1, "n"]),
         helper.make_tensor_value_info("mask_input", f, [1, 1, low, low]),
         helper.make_tensor_value_info("has_mask_input", f, [1]),
         helper.make_tensor_value_info("orig_im_size", f, [2])],
        [helper.make_tensor_value_info("masks", f, [1, len(radii), low, low]),
         helper.make_tensor_value_info("iou_predictions", f, [1, len(radii)]),
         helper.make_tensor_value_info("low_res_masks", f, [1, len(radii), low, low])],
        inits,
    )  # fmt: skip
    return _save(graph, path)


def yolo(path: Path, candidates: np.ndarray, protos: np.ndarray | None = None, side: int = 640,
         names: dict[int, str] | None = None) -> Path:  # fmt: skip
    """``candidates`` (4 + nc + nm, N) as the output; ``protos`` (nm, side/4, side/4) or None."""
    f = TensorProto.FLOAT
    cand = np.asarray(candidates, np.float32)[None]
    inits = [_const("cand", cand)]
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Add", ["cand", "nothing"], ["output0"]),
    ]
    inits.append(_const("zero", np.asarray(0.0)))
    outputs = [helper.make_tensor_value_info("output0", f, list(cand.shape))]
    if protos is not None:
        p = np.asarray(protos, np.float32)[None]
        inits.append(_const("protos", p))
        nodes.append(helper.make_node("Add", ["protos", "nothing"], ["output1"]))
        outputs.append(helper.make_tensor_value_info("output1", f, list(p.shape)))
    graph = helper.make_graph(nodes, "yolo", [helper.make_tensor_value_info("images", f, [1, 3, side, side])], outputs, inits)
    meta = {"names": repr(names)} if names is not None else None
    return _save(graph, path, meta)
