"""The Segment-Anything interactor on tiny ONNX models with the real inputs and outputs: resizing,
normalisation and padding into the encoder, click coordinates into the decoder's frame, and masks
back onto the image, against values computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from limner import assist
from limner.assist.onnx_sam import IMAGENET_MEAN, IMAGENET_STD, OnnxSam, SamState, logits_to_image, mask_to_frame, resized_size
from limner.errors import ValidationError

from ._onnx_models import sam_decoder, sam_encoder

COLOUR = (10, 200, 60)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("sam")
    return sam_encoder(d / "encoder.onnx"), sam_decoder(d / "decoder.onnx")


@pytest.fixture(scope="module")
def sam(files) -> OnnxSam:
    return OnnxSam(str(files[0]), str(files[1]), name="sam-test")


def solid(h: int, w: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(COLOUR, np.uint8), (h, w, 3)).copy()


@pytest.mark.parametrize("h, w, expected", [(600, 800, (768, 1024)), (800, 600, (1024, 768)), (333, 1000, (341, 1024)),
                                            (1024, 1024, (1024, 1024)), (10, 20, (512, 1024))])  # fmt: skip
def test_resized_size_rounds_as_sam(h, w, expected):
    assert resized_size(h, w, 1024) == expected


@pytest.mark.parametrize("h, w, rows, cols", [(600, 800, 48, 64), (800, 600, 64, 48)])
def test_precompute_resizes_normalises_and_pads_bottom_right(sam, h, w, rows, cols):
    state = sam.precompute(solid(h, w))
    assert isinstance(state, SamState)
    assert (state.height, state.width) == (h, w)
    assert state.embedding.shape == (1, 3, 64, 64)
    normalised = (np.asarray(COLOUR, np.float32) - np.asarray(IMAGENET_MEAN)) / np.asarray(IMAGENET_STD)
    emb = state.embedding[0]
    for c in range(3):  # each 16 x 16 block of the image part holds the normalised colour, the padding 0
        assert np.allclose(emb[c, :rows, :cols], normalised[c], atol=1e-5)
        assert np.all(emb[c, rows:, :] == 0) and np.all(emb[c, :, cols:] == 0)


def test_decoder_feed_maps_points_box_and_padding(sam):
    state = sam.precompute(solid(600, 800))  # scale 1.28 on both axes
    feed = sam.decoder_feed(assist.Prompt(positive=[(400, 300)], negative=[(10, 20)], box=(100, 50, 200, 100)), state)
    assert np.allclose(feed["point_coords"][0], [[512, 384], [12.8, 25.6], [128, 64], [384, 192]])
    assert feed["point_labels"].tolist() == [[1, 0, 2, 3]]
    assert feed["has_mask_input"].tolist() == [0]
    assert feed["mask_input"].shape == (1, 1, 256, 256) and not feed["mask_input"].any()
    assert feed["orig_im_size"].tolist() == [600, 800]
    assert feed["point_coords"].dtype == np.float32 and feed["point_labels"].dtype == np.float32
    no_box = sam.decoder_feed(assist.Prompt(positive=[(80, 60)]), state)
    assert np.allclose(no_box["point_coords"][0], [[102.4, 76.8], [0, 0]])
    assert no_box["point_labels"].tolist() == [[1, -1]]


def test_a_previous_mask_goes_in_as_low_resolution_logits(sam):
    state = sam.precompute(solid(600, 800))
    mask = np.zeros((600, 800), bool)
    mask[:, :400] = True
    feed = sam.decoder_feed(assist.Prompt(positive=[(100, 100)], mask=mask), state)
    assert feed["has_mask_input"].tolist() == [1]
    low = feed["mask_input"][0, 0]
    # the image covers frame rows < 768 (low-res rows < 192); its left half frame cols < 512 (128)
    assert np.all(low[:192, :128] == 20) and np.all(low[:192, 128:] == -20) and np.all(low[192:] == -20)
    assert np.array_equal(mask_to_frame(mask, 768, 1024, 1024, 256), low)


def test_click_gives_the_best_disc_back_on_the_image(sam):
    image = solid(600, 800)
    result = sam.predict(image, assist.Prompt(positive=[(400, 300)]), sam.precompute(image), tolerance=0.5)
    assert result.score == pytest.approx(0.9)  # the second mask has the higher predicted IoU
    assert result.mask.shape == (600, 800) and result.mask.dtype == bool
    # the kept disc has radius 60 in the 1024 frame: 60 / 1.28 = 46.875 image pixels around the click
    yy, xx = np.mgrid[:600, :800]
    dist = np.hypot(xx + 0.5 - 400, yy + 0.5 - 300)
    assert result.mask[dist < 46.5].all()
    assert not result.mask[dist > 47.3].any()
    assert result.mask.sum() == pytest.approx(np.pi * 46.875**2, rel=0.02)
    (poly,) = result.polygons
    pts = np.asarray(poly["points"])
    assert np.abs(np.hypot(pts[:, 0] - 400, pts[:, 1] - 300) - 46.875).max() < 1.6
    assert set(result.elapsed_ms) >= {"predict", "polygon"}


def test_box_only_prompt_is_enough(sam):
    image = solid(600, 800)
    result = sam.predict(image, assist.Prompt(box=(300, 200, 200, 200)), sam.precompute(image))
    # the test decoder draws around the first point, here the box's top-left corner (300, 200)
    assert result.mask[200, 300] and not result.mask[300, 400]


def test_logits_at_the_image_size_are_used_as_they_are():
    state = SamState(np.zeros(1), 60, 80, 768, 1024)
    logits = np.random.default_rng(0).normal(size=(60, 80)).astype(np.float32)
    assert np.array_equal(logits_to_image(logits, state, 1024), logits)


def test_full_frame_logits_are_cropped_and_resized_back():
    state = SamState(np.zeros(1), 600, 800, 768, 1024)
    logits = np.full((1024, 1024), -1.0, np.float32)
    logits[:384, :512] = 1.0  # the image's top-left quarter in the frame; the padding rows stay out
    back = logits_to_image(logits, state, 1024) > 0
    expected = np.zeros((600, 800), bool)
    expected[:300, :400] = True
    assert np.array_equal(back, expected)


def test_the_embedding_is_computed_once_per_image(files):
    tool = assist.get("interactor", "onnx_sam", encoder=str(files[0]), decoder=str(files[1]))
    tool.name = "sam-cached"
    cache = assist.PrecomputeCache(max_entries=4)
    image = solid(120, 160)
    first = assist.run(tool, image, assist.Prompt(positive=[(80, 60)]), key="asset-1", cache=cache)
    again = assist.run(tool, image, assist.Prompt(positive=[(60, 60)], negative=[(5, 5)]), key="asset-1", cache=cache)
    assert first.elapsed_ms["precompute"] > 0 and again.elapsed_ms["precompute"] == 0
    assert len(cache) == 1 and cache.status("asset-1", "sam-cached") == "ready"
    assert first.mask[60, 80] and again.mask[60, 60]


def test_an_encoder_with_another_input_name_is_found(tmp_path, files):
    enc = sam_encoder(tmp_path / "enc.onnx", input_name="input_image")
    tool = OnnxSam(str(enc), str(files[1]))
    assert tool.encoder_input == "input_image"
    assert tool.precompute(solid(64, 64)).embedding.shape == (1, 3, 64, 64)


@pytest.mark.parametrize(
    "config, field, words",
    [
        ({"encoder": "/nonexistent/enc.onnx"}, "config.encoder", "no ONNX model file at /nonexistent/enc.onnx"),
        ({"decoder_inputs": {"point_coords": "coords"}}, "config.point_coords", "has no input 'coords'"),
        ({"decoder_inputs": {"prompt": "x"}}, "config.decoder_inputs", "unknown decoder tensor 'prompt'"),
        ({"encoder_output": "features"}, "config.encoder_output", "has no output 'features'"),
        ({"input_size": 8}, "config.input_size", "input_size must be"),
        ({"pixel_std": [1, 0, 1]}, "config.pixel_std", "all positive"),
    ],
)
def test_bad_configuration_names_the_problem(files, config, field, words):
    kw = {"encoder": str(files[0]), "decoder": str(files[1]), **config}
    with pytest.raises(ValidationError) as e:
        OnnxSam(kw.pop("encoder"), kw.pop("decoder"), **kw)
    assert e.value.field == field and words in e.value.detail


def test_a_file_that_is_not_a_model_is_refused(tmp_path, files):
    bad = tmp_path / "enc.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ValidationError, match=f"{bad} is not a model onnxruntime can load"):
        OnnxSam(str(bad), str(files[1]))


@pytest.mark.parametrize(
    "prompt, field",
    [(assist.Prompt(negative=[(10, 10)]), "positive"), (assist.Prompt(positive=[(900, 10)]), "positive[0]"),
     (assist.Prompt(positive=[(10, 10)], scribbles=[([(1, 1)], True, 2)]), "scribble")],
)  # fmt: skip
def test_bad_prompts_name_the_field(sam, prompt, field):
    image = solid(60, 80)
    with pytest.raises(ValidationError) as e:
        sam.predict(image, prompt, sam.precompute(image))
    assert e.value.field == field
