"""The YOLO detector and segmenter on tiny ONNX models with the outputs of Ultralytics exports:
letterbox, decoding, confidence filter, per-class NMS, boxes and masks mapped back to the image,
against values computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from limner import assist
from limner.assist.onnx_yolo import Letterbox, OnnxYolo, letterbox, nms
from limner.core.rle import decode
from limner.errors import ValidationError

from ._onnx_models import yolo

NAMES = {0: "person", 1: "car", 2: "dog"}
# candidates in input pixels (cx, cy, w, h) and class scores
CANDIDATES = np.array(
    [
        [320, 320, 160, 80, 0.9, 0.0, 0.0],  # person
        [324, 322, 160, 80, 0.8, 0.0, 0.0],  # the same person again, lower: suppressed
        [320, 320, 160, 80, 0.0, 0.7, 0.0],  # a car on the same spot: another class, kept
        [100, 200, 40, 40, 0.0, 0.0, 0.2],  # below the confidence threshold
        [600, 560, 100, 60, 0.0, 0.0, 0.6],  # a dog reaching past the image: clipped
    ],
    np.float32,
).T
# real exports have thousands of candidates; zero-score ones pad these to more than the channels
CANDIDATES = np.concatenate([CANDIDATES, np.zeros((7, 15), np.float32)], axis=1)


def image(h: int, w: int) -> np.ndarray:
    return np.full((h, w, 3), 90, np.uint8)


def test_letterbox_scales_and_centres_the_padding():
    out, lb = letterbox(np.full((300, 400, 3), 7, np.uint8), (640, 640))
    assert lb == Letterbox(1.6, 0, 80, 400, 300)
    assert out.shape == (640, 640, 3)
    assert (out[:80] == 114).all() and (out[560:] == 114).all() and (out[80:560] == 7).all()
    _, odd = letterbox(np.zeros((301, 400, 3), np.uint8), (640, 640))  # 481.6 -> 482 rows, 79 padding each side
    assert (odd.top, odd.left) == (79, 0)
    tall, lb = letterbox(np.full((400, 300, 3), 7, np.uint8), (640, 640))
    assert (lb.left, lb.top) == (80, 0) and (tall[:, :80] == 114).all() and (tall[:, 80:560] == 7).all()


def test_preprocess_feeds_rgb_in_zero_one(tmp_path):
    det = OnnxYolo(str(yolo(tmp_path / "m.onnx", CANDIDATES, names=NAMES)))
    img = np.zeros((320, 640, 3), np.uint8)
    img[..., 0] = 255  # red
    x, lb = det.preprocess(img)
    assert x.shape == (1, 3, 640, 640) and x.dtype == np.float32
    assert lb == Letterbox(1.0, 0, 160, 640, 320)
    assert np.allclose(x[0, :, 200, 10], [1, 0, 0]) and np.allclose(x[0, :, 10, 10], 114 / 255)


def test_detections_are_filtered_suppressed_and_mapped_back(tmp_path):
    det = OnnxYolo(str(yolo(tmp_path / "m.onnx", CANDIDATES, names=NAMES)), name="yolo-test")
    assert det.class_names == ["person", "car", "dog"] and det.shape == "box"
    out = det.detect(image(300, 400))  # r = 1.6, 80 rows of padding at the top
    assert [(d["label"], d["confidence"]) for d in out] == [("person", pytest.approx(0.9)), ("car", pytest.approx(0.7)),
                                                            ("dog", pytest.approx(0.6))]  # fmt: skip
    assert out[0]["geometry"] == pytest.approx({"x": 150, "y": 125, "w": 100, "h": 50})
    assert out[1]["geometry"] == pytest.approx({"x": 150, "y": 125, "w": 100, "h": 50})
    assert out[2]["geometry"] == pytest.approx({"x": 343.75, "y": 281.25, "w": 56.25, "h": 18.75})
    assert {d["kind"] for d in out} == {"box"} and {d["source"] for d in out} == {"model:yolo-test"}


def test_the_transposed_layout_reads_the_same(tmp_path):
    plain = OnnxYolo(str(yolo(tmp_path / "a.onnx", CANDIDATES, names=NAMES))).detect(image(300, 400))
    flipped = OnnxYolo(str(yolo(tmp_path / "b.onnx", CANDIDATES.T.copy(), names=NAMES))).detect(image(300, 400))
    assert flipped == plain


@pytest.mark.parametrize(
    "label_map, expected",
    [
        ({"person": "pedestrian", "dog": None}, ["pedestrian"]),  # car is not named: dropped
        ({"1": "vehicle", "person": "person"}, ["person", "vehicle"]),  # class index as key
        (None, ["person", "car", "dog"]),
    ],
)
def test_label_map(tmp_path, label_map, expected):
    det = OnnxYolo(str(yolo(tmp_path / "m.onnx", CANDIDATES, names=NAMES)), label_map=label_map)
    assert [d["label"] for d in det.detect(image(300, 400))] == expected


def test_class_names_default_to_indices_or_configured_names(tmp_path):
    path = str(yolo(tmp_path / "m.onnx", CANDIDATES))
    assert [d["label"] for d in OnnxYolo(path).detect(image(300, 400))] == ["0", "1", "2"]
    named = OnnxYolo(path, classes=["a", "b", "c"], confidence=0.65)
    assert [d["label"] for d in named.detect(image(300, 400))] == ["a", "b"]


def test_nms_keeps_the_best_of_each_class_and_the_limit():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10], [50, 50, 60, 60]], np.float64)
    scores = np.array([0.5, 0.9, 0.8, 0.3])
    classes = np.array([0, 0, 1, 0])
    assert nms(boxes, scores, classes, 0.5, 10).tolist() == [1, 2, 3]
    assert nms(boxes, scores, classes, 0.5, 2).tolist() == [1, 2]
    assert nms(boxes, scores, classes, 0.9, 10).tolist() == [1, 2, 0, 3]  # IoU 0.68 < 0.9 keeps both
    assert nms(np.zeros((0, 4)), np.zeros(0), np.zeros(0), 0.5, 10).tolist() == []


def _segmenter(tmp_path, shape="auto"):
    protos = np.full((2, 160, 160), -10.0, np.float32)
    protos[0, 50:60, 70:90] = 10.0  # input x 280..360, y 200..240
    protos[1] = 1.0
    cand = np.array(
        [
            [320, 220, 120, 80, 0.9, 0.0, 1.0, 0.0],  # box larger than the blob: the mask is the blob
            [320, 220, 40, 40, 0.0, 0.8, 1.0, 0.0],  # box inside the blob: the mask is cropped to the box
            [100, 300, 40, 40, 0.0, 0.7, 0.0, -5.0],  # empty mask: left out
        ],
        np.float32,
    ).T
    return OnnxYolo(str(yolo(tmp_path / "seg.onnx", cand, protos, names={0: "blob", 1: "part"})), shape=shape)


def test_masks_decoded_through_the_prototypes_and_cropped_to_the_box(tmp_path):
    det = _segmenter(tmp_path, shape="mask")
    assert det.nm == 2
    out = det.detect(image(160, 320))  # r = 2, 160 rows of padding at the top
    assert [d["label"] for d in out] == ["blob", "part"]
    big, small = (decode(d["geometry"]["rle"]).astype(bool) for d in out)
    expected = np.zeros((160, 320), bool)
    expected[20:40, 140:180] = True  # input x 280..360 -> image 140..180; y (200..240 - 160) / 2 -> 20..40
    assert np.array_equal(big, expected)
    expected[:] = False
    expected[20:40, 150:170] = True  # the box: input x 300..340, y 200..240
    assert np.array_equal(small, expected)


def test_segmenters_give_polygons_by_default(tmp_path):
    det = _segmenter(tmp_path)
    assert det.shape == "polygon"
    out = det.detect(image(160, 320))
    pts = sorted(map(tuple, out[0]["geometry"]["points"]))
    assert out[0]["kind"] == "polygon" and pts == [(140, 20), (140, 40), (180, 20), (180, 40)]
    boxes = _segmenter(tmp_path, shape="box").detect(image(160, 320))
    assert [d["kind"] for d in boxes] == ["box", "box", "box"]


def test_registered_as_a_detector(tmp_path):
    det = assist.get("detector", "onnx_yolo", path=str(yolo(tmp_path / "m.onnx", CANDIDATES, names=NAMES)))
    assert isinstance(det, assist.Detector) and det.labels == ["person", "car", "dog"]


@pytest.mark.parametrize(
    "config, field",
    [
        ({"classes": ["a", "b"]}, "config.classes"),
        ({"shape": "polygon"}, "config.shape"),
        ({"shape": "circle"}, "config.shape"),
        ({"confidence": 2}, "config.confidence"),
        ({"label_map": {"person": 3}}, "config.label_map"),
        ({"path": "/nowhere/model.onnx"}, "config.path"),
    ],
)
def test_bad_configuration_names_the_field(tmp_path, config, field):
    path = config.pop("path", str(yolo(tmp_path / "m.onnx", CANDIDATES, names=NAMES)))
    with pytest.raises(ValidationError) as e:
        OnnxYolo(path, **config).detect(image(300, 400))
    assert e.value.field == field
