"""Models, interactors and pre-labelling over the live server (SQLite, and PostgreSQL when set):
models CRUD and self-test, an interactor call with a built-in and with an ONNX SAM model, the
prelabel job end to end with a tiny ONNX YOLO file, and the acceptance report."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from PIL import Image

from limner.client import ApiError
from limner.core.rle import decode
from limner.store import assistants

from ..assist._onnx_models import sam_decoder, sam_encoder, yolo

# two classes, one candidate each, in the 640 input: on a 64 x 48 image (r = 10, 80 rows of padding)
# the person box is x 24..40, y 20..28
CANDIDATES = np.zeros((6, 20), np.float32)
CANDIDATES[:, 0] = [320, 320, 160, 80, 0.9, 0.0]
CANDIDATES[:, 1] = [100, 200, 40, 40, 0.0, 0.8]


@pytest.fixture
def square_project(admin, tmp_path):
    """A project with labels and two 120 x 100 images: a grey square on black, a disc."""
    p = admin.create_project(f"assist-{uuid.uuid4().hex[:6]}")
    admin.create_label(p["id"], "car", kinds=["box", "polygon", "mask"])
    admin.create_label(p["id"], "face", kinds=["ellipse"])
    img = np.zeros((100, 120, 3), np.uint8)
    img[20:60, 30:90] = 180
    # a new image each time (the server caches by content): 16 dim pixels in the corner, 9**16
    # images, where one pixel of 9 values made two fixtures of a run share a cache entry now and then
    img[99, 104:120] = np.random.default_rng(uuid.uuid4().int).integers(1, 10, (16, 1))
    Image.fromarray(img).save(tmp_path / "square.png")
    img2 = np.zeros((100, 120, 3), np.uint8)
    img2[40:80, 10:50] = (20, 200, 90)
    Image.fromarray(img2).save(tmp_path / "other.png")
    admin.upload(p["id"], [tmp_path / "square.png", tmp_path / "other.png"])
    p["assets"] = admin.list_assets(p["id"])["items"]
    return p


def _yolo_file(tmp_path, name="det.onnx"):
    return str(yolo(tmp_path / name, CANDIDATES, names={0: "person", 1: "dog"}))


def test_models_crud_and_self_test(admin, square_project, tmp_path):
    pid = square_project["id"]
    path = _yolo_file(tmp_path)
    m = admin.add_model(pid, "det", "detector", "onnx_yolo", {"path": path, "label_map": {"person": "car"}})
    assert m["owner"] == "model:det" and m["project_id"] == pid and m["config"]["path"] == path
    assert [x["name"] for x in admin.list_models(pid)] == ["det"]
    with pytest.raises(ApiError) as e:
        admin.add_model(pid, "det", "detector", "onnx_yolo", {"path": path})
    assert e.value.status == 409 and e.value.field == "name"
    for kind, type_, config, status, field in [
        ("detector", "tensorflow", {}, 422, "type"),
        ("interactor", "onnx_yolo", {"path": path}, 422, "kind"),
        ("detector", "onnx_yolo", {"path": str(tmp_path / "none.onnx")}, 422, "config.path"),
        ("detector", "onnx_yolo", {"path": path, "iou": 3}, 422, "config.iou"),
        ("detector", "onnx_yolo", {"path": path, "colour": "red"}, 422, "config"),
        ("interactor", "builtin", {"tool": "no_such_tool"}, 404, "name"),
    ]:
        with pytest.raises(ApiError) as e:
            admin.add_model(pid, f"bad-{uuid.uuid4().hex[:4]}", kind, type_, config)
        assert (e.value.status, e.value.field) == (status, field), e.value.detail
    report = admin.test_model(m["id"])
    # the generated test image is 640 x 480: r = 1, 80 rows of padding; the person box is there
    assert report["output"] == {"shapes": 1, "labels": {"car": 1}, "kinds": ["box"], "max_confidence": pytest.approx(0.9)}
    assert set(report["elapsed_ms"]) == {"load", "detect"}
    wand = admin.add_model(pid, "wand", "interactor", "builtin", {"tool": "magic_wand", "options": {"threshold": 30}})
    assert admin.test_model(wand["id"])["output"]["mask_pixels"] > 0
    admin.remove_model(m["id"])
    assert [x["name"] for x in admin.list_models(pid)] == ["wand"]
    with pytest.raises(ApiError) as e:
        admin.remove_model(m["id"])
    assert e.value.status == 404


def test_managers_name_model_files_only_in_the_models_folder(live, admin, square_project, tmp_path):
    pid = square_project["id"]
    user, manager = live.new_user("mgr")
    admin.add_member(pid, user["username"], "manager")
    with pytest.raises(ApiError) as e:
        manager.add_model(pid, "outside", "detector", "onnx_yolo", {"path": _yolo_file(tmp_path)})
    assert e.value.status == 403 and e.value.field == "config.path"
    folder = live.services.settings.data_path / "models"
    folder.mkdir(parents=True, exist_ok=True)
    _yolo_file(folder, "mine.onnx")
    m = manager.add_model(pid, "inside", "detector", "onnx_yolo", {"path": "mine.onnx"})
    assert m["config"]["path"] == str((folder / "mine.onnx").resolve())
    with pytest.raises(ApiError) as e:
        manager.add_model(pid, "sneaky", "detector", "onnx_yolo", {"path": "../limner.db"})
    assert e.value.status == 403


def test_managers_register_model_servers_on_private_hosts_only_when_listed(live, admin, square_project):
    pid = square_project["id"]
    user, manager = live.new_user("mgr-url")
    admin.add_member(pid, user["username"], "manager")
    for url in ("http://127.0.0.1:9/", "http://localhost:9", "http://10.1.2.3:9090", "http://[::1]:9"):
        with pytest.raises(ApiError) as e:
            manager.add_model(pid, f"srv-{uuid.uuid4().hex[:4]}", "detector", "ml_backend", {"url": url})
        assert (e.value.status, e.value.field) == (403, "config.url"), url
        assert "LIMNER_MODEL_HOSTS" in e.value.detail
    assert manager.add_model(pid, "public", "detector", "ml_backend", {"url": "http://93.184.215.14:9090"})["type"] == "ml_backend"
    assert admin.add_model(pid, "local", "detector", "ml_backend", {"url": "http://127.0.0.1:9/"})["config"]["url"] == (
        "http://127.0.0.1:9/")
    before = live.services.settings
    live.services.settings = before.with_(model_hosts="127.0.0.1:9, ml.internal")
    try:
        assert manager.add_model(pid, "listed", "detector", "ml_backend", {"url": "http://127.0.0.1:9/x"})["name"] == "listed"
        with pytest.raises(ApiError) as e:  # the same host on another port is not listed
            manager.add_model(pid, "other-port", "detector", "ml_backend", {"url": "http://127.0.0.1:10"})
        assert e.value.status == 403
    finally:
        live.services.settings = before
    names = {m["name"] for m in admin._json("GET", f"/projects/{pid}/models")["items"]}
    assert {"public", "local", "listed"} <= names and "other-port" not in names


def test_tools_and_a_builtin_interactor(admin, square_project):
    pid = square_project["id"]
    asset = next(a for a in square_project["assets"] if a["name"] == "square.png")
    tools = admin.assist_tools(pid)
    names = [t["name"] for t in tools["builtin"]["interactor"]]
    assert "magic_wand" in names and "onnx_sam" not in names
    sharp = {"smooth": 1}  # no blur before the flood: the square exactly
    first = admin.assist(asset["id"], "magic_wand", {"positive": [[60, 40]]}, tolerance=0.5, options=sharp)
    mask = decode(first["mask"]).astype(bool)
    assert mask.shape == (100, 120) and first["width"] == 120 and first["height"] == 100
    expected = np.zeros((100, 120), bool)
    expected[20:60, 30:90] = True
    assert np.array_equal(mask, expected)
    (poly,) = first["polygons"]
    assert sorted(map(tuple, poly["points"])) == [(30, 20), (30, 60), (90, 20), (90, 60)]
    again = admin.assist(asset["id"], "magic_wand", {"positive": [[10, 90]]}, options=sharp)
    assert first["precompute"] == "computed" and again["precompute"] == "cached"
    assert decode(again["mask"]).astype(bool)[90, 10] and not decode(again["mask"]).astype(bool)[40, 60]
    assert {"image", "request", "precompute"} <= set(again["elapsed_ms"])
    status = admin.precompute(asset["id"], "superpixels")
    assert status["status"] in ("running", "ready") and status["tool"] == "superpixels"
    for _ in range(200):
        if admin.precompute(asset["id"], "superpixels")["status"] == "ready":
            break
    assert admin.precompute(asset["id"], "superpixels")["status"] == "ready"
    with pytest.raises(ApiError) as e:
        admin.assist(asset["id"], "no_such_tool", {"positive": [[1, 1]]})
    assert e.value.status == 404 and "magic_wand" in e.value.detail
    with pytest.raises(ApiError) as e:
        admin.assist(asset["id"], "magic_wand", {"positive": [[500, 1]]})
    assert e.value.status == 422 and e.value.field == "positive[0]"
    with pytest.raises(ApiError) as e:
        admin.assist(asset["id"], "magic_wand", {"positive": [[5, 5]]}, options={"threshold": 900})
    assert e.value.status == 422 and e.value.field == "threshold"


def test_an_onnx_sam_model_through_the_api(admin, square_project, tmp_path):
    pid = square_project["id"]
    asset = next(a for a in square_project["assets"] if a["name"] == "square.png")
    config = {"encoder": str(sam_encoder(tmp_path / "enc.onnx")), "decoder": str(sam_decoder(tmp_path / "dec.onnx"))}
    admin.add_model(pid, "sam", "interactor", "onnx_sam", config)
    assert "sam" in [m["name"] for m in admin.assist_tools(pid)["models"]]
    out = admin.assist(asset["id"], "sam", {"positive": [[60, 50]]})
    mask = decode(out["mask"]).astype(bool)
    # the test decoder's second disc, radius 60 in the 1024 frame: 60 * 120 / 1024 = 7.03 pixels
    yy, xx = np.mgrid[:100, :120]
    dist = np.hypot(xx + 0.5 - 60, yy + 0.5 - 50)
    assert mask[dist < 6.5].all() and not mask[dist > 7.6].any()
    assert out["score"] == pytest.approx(0.9)
    with pytest.raises(ApiError) as e:
        admin.assist(asset["id"], "sam", {"positive": [[60, 50]]}, options={"x": 1})
    assert e.value.field == "options"


def test_prelabel_job_and_acceptance(admin, project, tmp_path):
    """On the shared fixture's six small photos (64 wide, 48 to 53 tall)."""
    pid = project["id"]
    admin.add_model(pid, "yolo", "detector", "onnx_yolo",
                    {"path": _yolo_file(tmp_path), "label_map": {"person": "car", "dog": "face"}})  # fmt: skip
    with pytest.raises(ApiError) as e:
        admin.prelabel(pid, "nope")
    assert e.value.status == 422 and e.value.field == "model"
    job = admin.wait_job(admin.prelabel(pid, "yolo")["id"], timeout=120)
    assert job["status"] == "done", job
    r = job["result"]
    assert (r["assets"], r["processed"], r["skipped"], r["shapes"], r["failed"]) == (6, 6, 0, 6, 0)
    # face allows ellipses and points, not boxes: the dog is left out and counted
    assert r["dropped"] == {"label 'face' does not allow box": 6}
    ids = [a["id"] for a in sorted(project["assets"], key=lambda a: a["id"])]
    first = admin.get_annotation(ids[0], "model:yolo")
    (shape,) = first["shapes"]
    h = next(a["height"] for a in project["assets"] if a["id"] == ids[0])
    r_ = min(640 / h, 640 / 64)
    top = round((640 - round(h * r_)) / 2 - 0.1)
    assert shape["kind"] == "box" and shape["label"] == "car" and shape["source"] == "model:yolo"
    assert shape["confidence"] == pytest.approx(0.9)
    assert shape["geometry"]["x"] == pytest.approx(240 / r_) and shape["geometry"]["y"] == pytest.approx((280 - top) / r_)
    assert first["revision"] == 1
    again = admin.wait_job(admin.prelabel(pid, "yolo")["id"], timeout=120)["result"]
    assert (again["processed"], again["skipped"]) == (0, 6)
    some = admin.wait_job(admin.prelabel(pid, "yolo", asset_ids=ids[:2], overwrite=True)["id"], timeout=120)["result"]
    assert (some["assets"], some["processed"], some["skipped"]) == (2, 2, 0)
    assert admin.get_annotation(ids[0], "model:yolo")["revision"] == 2
    assert admin.get_annotation(ids[2], "model:yolo")["revision"] == 1

    # people: kept one box as it was, moved another, deleted a third; three assets not looked at yet
    boxes = [admin.get_annotation(i, "model:yolo")["shapes"][0] for i in ids[:3]]
    keep = {k: boxes[0][k] for k in ("kind", "label", "geometry")}
    moved = {"kind": "box", "label": "car", "geometry": {**boxes[1]["geometry"], "x": boxes[1]["geometry"]["x"] + 2}}
    plate = {"plate": "AB-123"}
    admin.put_annotation(ids[0], "admin", [{**keep, "attributes": plate}], base_revision=0)
    admin.put_annotation(ids[1], "admin", [{**moved, "attributes": plate},
                                           {"kind": "tag", "label": "outdoor", "geometry": {}}], base_revision=0)  # fmt: skip
    admin.put_annotation(ids[2], "admin", [], base_revision=0)
    report = admin.model_acceptance(pid)
    (m,) = report["models"]
    assert (m["model"], m["accepted"], m["edited"], m["rejected"], m["missed"], m["pending_assets"]) == ("yolo", 1, 1, 1, 1, 3)
    assert m["rate"] == 0.3333  # rounded to 4 places
    assert [(x["label"], x["accepted"], x["edited"], x["rejected"], x["missed"]) for x in m["labels"]] == [
        ("car", 1, 1, 1, 0), ("outdoor", 0, 0, 0, 1)]  # fmt: skip
    assert admin.model_acceptance(pid, ["other"])["models"] == []


# -- keeping a scribble classifier for the project -------------------------------------------------

BLOB_W, BLOB_H = 200, 150


def _blobs(seed: int, discs: list[tuple[int, int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """A grass-green noisy image with noisy yellow discs ``(cx, cy, r)``: the image and the discs' mask."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:BLOB_H, :BLOB_W]
    mask = np.zeros((BLOB_H, BLOB_W), bool)
    for cx, cy, r in discs:
        mask |= np.hypot(xx + 0.5 - cx, yy + 0.5 - cy) <= r
    img = np.where(mask[..., None], (225, 190, 60), (50, 110, 60)) + rng.normal(0, 14, (BLOB_H, BLOB_W, 3))
    return np.clip(img, 0, 255).astype(np.uint8), mask


@pytest.fixture
def blobs_project(admin, tmp_path):
    """Two images of the same kind (yellow discs on grass), each new per run, with their true masks."""
    p = admin.create_project(f"keep-{uuid.uuid4().hex[:6]}")
    admin.create_label(p["id"], "blob", kinds=["polygon", "mask"])
    salt = uuid.uuid4().int % 10_000
    first, m1 = _blobs(salt, [(70, 70, 35), (160, 40, 18)])
    second, m2 = _blobs(salt + 1, [(120, 90, 40), (40, 30, 15)])
    Image.fromarray(first).save(tmp_path / "first.png")
    Image.fromarray(second).save(tmp_path / "second.png")
    admin.upload(p["id"], [tmp_path / "first.png", tmp_path / "second.png"])
    ids = {a["name"]: a["id"] for a in admin.list_assets(p["id"])["items"]}
    p["first"], p["second"], p["masks"] = ids["first.png"], ids["second.png"], {ids["first.png"]: m1, ids["second.png"]: m2}
    return p


# as one marks cells for pixel classification: strokes across the first disc, rim to rim, and a ring
# just outside it
FG = {"points": [[38, 70], [102, 70], [70, 70], [70, 38], [70, 102]], "positive": True, "radius": 3}
BG = {"points": [[round(70 + 43 * np.cos(a), 1), round(70 + 43 * np.sin(a), 1)] for a in np.linspace(0, 2 * np.pi, 25)],
      "positive": False, "radius": 3}  # fmt: skip


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def _keep(client, asset_id: int, tool: str, name: str, **body) -> dict:
    return client.keep_classifier(asset_id, tool, name, **body)


def test_a_kept_scribble_classifier_segments_the_next_image(live, admin, blobs_project):
    pid, first, second, masks = blobs_project["id"], blobs_project["first"], blobs_project["second"], blobs_project["masks"]
    user, annotator = live.new_user("keeper")
    admin.add_member(pid, user["username"], "annotator")
    with pytest.raises(ApiError) as e:
        _keep(annotator, first, "scribble", "blobs")
    assert (e.value.status, e.value.field) == (422, "prompt")
    assert "draw foreground and background scribbles first" in e.value.detail

    trained = annotator.assist(first, "scribble", {"scribbles": [FG, BG]})
    assert _iou(decode(trained["mask"]).astype(bool), masks[first]) > 0.8
    kept = _keep(annotator, first, "scribble", "blobs")
    assert (kept["name"], kept["kind"], kept["type"], kept["project_id"]) == ("blobs", "interactor", "scribble", pid)
    assert kept["created_by"] == user["username"]
    config = kept["config"]
    assert config["key"].startswith(f"models/{pid}/") and config["key"].endswith(".npz")
    assert live.services.storage.exists(config["key"])
    assert config["trained_on"] == [first] and config["options"] == {} and config["scales"] == [1.0, 2.0, 4.0, 8.0]
    assert config["samples"]["foreground"] > 0 and config["samples"]["background"] > 0
    assert config["forest"] == {"kind": "extra", "trees": 10, "depth": 10}
    listed = {m["name"]: m for m in annotator.assist_tools(pid)["models"]}
    assert listed["blobs"]["type"] == "scribble" and listed["blobs"]["trained_on"] == 1 and "config" not in listed["blobs"]

    # applied as it is to an image it has never seen: an empty prompt
    applied = annotator.assist(second, "blobs", {})
    got = decode(applied["mask"]).astype(bool)
    assert _iou(got, masks[second]) > 0.8, _iou(got, masks[second])
    assert applied["tool"] == "blobs" and len(applied["polygons"]) == 2

    # refined with one more background scribble on the new image, then kept again in its place
    stroke = {"points": [[190, 10], [150, 10]], "positive": False, "radius": 4}
    refined = annotator.assist(second, "blobs", {"scribbles": [stroke]})
    assert _iou(decode(refined["mask"]).astype(bool), masks[second]) > 0.8
    with pytest.raises(ApiError) as e:
        _keep(annotator, second, "blobs", "blobs")
    assert (e.value.status, e.value.field) == (409, "name")
    again = _keep(annotator, second, "blobs", "blobs", replace=True)
    assert again["id"] == kept["id"] and again["config"]["trained_on"] == [first, second]
    assert again["config"]["samples"]["background"] > config["samples"]["background"]
    assert live.services.storage.exists(again["config"]["key"]) and not live.services.storage.exists(config["key"])
    assert _iou(decode(annotator.assist(second, "blobs", {})["mask"]).astype(bool), masks[second]) > 0.8

    # the prompt may come with the keep request itself (no earlier call needed), under another name
    other = _keep(annotator, first, "scribble", "blobs-2", prompt={"scribbles": [FG, BG]}, options={"parts": "marked"})
    assert other["config"]["trained_on"] == [first] and other["config"]["options"] == {"parts": "marked"}
    # kept with the tool's settings; with no mark to pick parts by, every part found is kept
    assert _iou(decode(annotator.assist(second, "blobs-2", {})["mask"]).astype(bool), masks[second]) > 0.8
    with pytest.raises(ApiError) as e:
        annotator.assist(second, "blobs-2", {}, options={"parts": "all"})
    assert (e.value.status, e.value.field) == (422, "options")

    # the self-test applies it to the generated image; removing it removes the stored file
    assert "predict" in admin.test_model(kept["id"])["elapsed_ms"]
    admin.remove_model(kept["id"])
    assert not live.services.storage.exists(again["config"]["key"])
    with pytest.raises(ApiError) as e:
        annotator.assist(second, "blobs", {})
    assert (e.value.status, e.value.field) == (404, "tool")


def test_deleting_the_project_removes_its_kept_classifiers_files(live, admin, blobs_project):
    pid, first = blobs_project["id"], blobs_project["first"]
    kept = _keep(admin, first, "scribble", "gone", prompt={"scribbles": [FG, BG]})
    key = kept["config"]["key"]
    assert live.services.storage.exists(key)
    admin.delete_project(pid)
    assert not live.services.storage.exists(key)
    with pytest.raises(ApiError) as e:
        admin.get_project(pid)
    assert e.value.status == 404


def test_keeping_a_classifier_is_refused_clearly(live, admin, blobs_project):
    pid, first = blobs_project["id"], blobs_project["first"]
    one, first_annotator = live.new_user("keep-a")
    two, second_annotator = live.new_user("keep-b")
    for u in (one, two):
        admin.add_member(pid, u["username"], "annotator")
    admin.add_model(pid, "wand", "interactor", "builtin", {"tool": "magic_wand"})
    site = f"site-{uuid.uuid4().hex[:6]}"
    with live.services.db.write() as s:
        site_id = assistants.create_model(s, None, site, "interactor", "builtin", {"tool": "magic_wand"}, None).id
    mine = {"scribbles": [FG, BG]}
    _keep(first_annotator, first, "scribble", "mine", prompt=mine)
    cases = [
        (second_annotator, "scribble", {"name": "x"}, 422, "prompt"),  # the other annotator trained one, not they
        (second_annotator, "scribble", {"name": "mine", "prompt": mine, "replace": True}, 403, "name"),  # another's
        (second_annotator, "scribble", {"name": "wand", "prompt": mine, "replace": True}, 409, "name"),
        (second_annotator, "scribble", {"name": "no spaces"}, 422, "name"),
        (second_annotator, "scribble", {"name": "grabcut"}, 409, "name"),  # would hide the built-in
        (second_annotator, "scribble", {"name": site, "prompt": mine}, 409, "name"),  # would hide the site-wide model
        (second_annotator, "magic_wand", {"name": "wandy", "prompt": {"positive": [[70, 70]]}}, 422, "tool"),
        (second_annotator, "nothing", {"name": "x"}, 404, "tool"),
        (second_annotator, "scribble", {"name": "x", "prompt": {"scribbles": [BG]}}, 422, "scribbles"),
        (second_annotator, "scribble", {"name": "x", "options": {"model": "mine"}}, 422, "options.model"),
    ]
    for client, tool, body, status, field in cases:
        with pytest.raises(ApiError) as e:
            client._json("POST", f"/assets/{first}/assist/{tool}/keep", json=body)
        assert (e.value.status, e.value.field) == (status, field), (body, e.value.detail)
    admin.remove_model(site_id)
    # a manager may replace anyone's; refused requests leave no stored file behind
    replaced = _keep(admin, first, "scribble", "mine", prompt=mine, replace=True)
    assert replaced["created_by"] == one["username"]
    kept = live.services.storage.path(replaced["config"]["key"])
    assert sorted(f.name for f in kept.parent.glob("*.npz")) == [kept.name]
    with pytest.raises(ApiError) as e:
        admin.add_model(pid, "forged", "interactor", "scribble", {"key": "models/x.npz"})
    assert (e.value.status, e.value.field) == (422, "type")
