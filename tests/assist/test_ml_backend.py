"""The Label Studio ML backend client against a test model server running in this process (a
thread with http.server): the protocol's requests, the results read back into shapes, and errors
that name the server."""

from __future__ import annotations

import base64
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from PIL import Image

from limner import assist
from limner.assist.ml_backend import BackendError, MlBackend, label_config_for
from limner.core.rle import decode
from limner.errors import ValidationError
from limner.formats.labelstudio import brush_decode, brush_encode

W, H = 200, 100


def _brush(x0: int, y0: int, x1: int, y1: int) -> list[int]:
    m = np.zeros((H, W), np.uint8)
    m[y0:y1, x0:x1] = 1
    return brush_encode(m)


DETECTIONS = [
    {"id": "r1", "type": "rectanglelabels", "from_name": "label", "to_name": "image", "original_width": W,
     "original_height": H, "value": {"x": 10, "y": 20, "width": 25, "height": 50, "rotation": 0,
                                     "rectanglelabels": ["Car"]}, "score": 0.9},
    # no original size: taken to be the image's
    {"id": "r2", "type": "polygonlabels", "from_name": "polygon", "to_name": "image",
     "value": {"points": [[50, 10], [90, 10], [70, 90]], "polygonlabels": ["Tree"]}, "score": 0.6},
    {"id": "r3", "type": "brushlabels", "from_name": "brush", "to_name": "image", "original_width": W, "original_height": H,
     "value": {"format": "rle", "rle": _brush(100, 10, 140, 30), "brushlabels": ["Car"]}, "score": 0.2},
    {"id": "r4", "type": "keypointlabels", "from_name": "kp", "to_name": "image", "original_width": W, "original_height": H,
     "value": {"x": 50, "y": 50, "width": 1, "keypointlabels": ["Eye"]}},
    {"id": "c1", "type": "choices", "from_name": "weather", "to_name": "image", "value": {"choices": ["Sunny"]}},
]


class Backend(BaseHTTPRequestHandler):
    """Answers as a Label Studio ML backend; what it answers is set on the server's `mode`."""

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, body, raw: bool = False) -> None:
        data = body if raw else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if raw else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        srv = self.server
        srv.calls.append(("GET", self.path, None))
        if self.path == "/health":
            self._send(200, {"status": "DOWN" if srv.mode == "down" else "UP", "model_class": "TestModel"})
        else:
            self._send(404, {"detail": "no such route"})

    def do_POST(self) -> None:
        srv = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        srv.calls.append(("POST", self.path, body))
        if self.path == "/setup":
            self._send(200, {"model_version": "test-1"})
            return
        if srv.mode == "error":
            self._send(500, {"error": "model exploded"})
            return
        if srv.mode == "text":
            self._send(200, b"<html>hello</html>", raw=True)
            return
        if srv.mode == "count":
            self._send(200, {"results": []})
            return
        preds = []
        for task in body["tasks"]:
            url = task["data"]["image"]
            img = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
            srv.images.append(img.size)
            ctx = (body.get("params") or {}).get("context")
            if ctx:  # interactive: a brush square of 20 px around the first positive click
                kp = next(r for r in ctx["result"] if r["type"] == "keypointlabels" and r["is_positive"])
                cx, cy = kp["value"]["x"] * W / 100, kp["value"]["y"] * H / 100
                rle = _brush(int(cx) - 10, int(cy) - 10, int(cx) + 10, int(cy) + 10)
                result = [{"id": "m", "type": "brushlabels", "from_name": "brush", "to_name": "image", "original_width": W,
                           "original_height": H, "value": {"format": "rle", "rle": rle, "brushlabels": ["Car"]}}]  # fmt: skip
                preds.append({"result": result, "score": 0.77})
            else:
                preds.append({"result": DETECTIONS, "score": 0.5, "model_version": "test-1"})
        self._send(200, preds if srv.mode == "bare" else {"results": preds})


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    srv.calls, srv.images, srv.mode = [], [], "ok"
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    yield srv
    srv.shutdown()
    srv.server_close()


def picture() -> np.ndarray:
    return np.random.default_rng(1).integers(0, 255, (H, W, 3), dtype=np.uint8)


def test_health_and_setup_follow_the_protocol(server):
    b = MlBackend(server.url, label_config="<View/>")
    assert b.health()["model_class"] == "TestModel"
    assert b.setup()["model_version"] == "test-1"
    method, path, body = server.calls[-1]
    assert (method, path) == ("POST", "/setup")
    assert body["schema"] == "<View/>" and body["project"] == "limner" and "access_token" in body


def test_detections_become_shapes_in_pixels(server):
    b = MlBackend(server.url, name="remote")
    out = b.detect(picture(), task_id=7)
    assert server.images == [(W, H)]  # the image went inline, whole
    setup, predict = server.calls[0][1], server.calls[1]
    assert setup == "/setup" and predict[1] == "/predict"
    assert predict[2]["tasks"][0]["id"] == 7 and predict[2]["tasks"][0]["data"]["image"].startswith("data:image/png;base64,")
    assert "label_config" in predict[2] and "params" in predict[2]
    by_kind = {d["kind"]: d for d in out}
    assert set(by_kind) == {"box", "polygon", "mask", "points", "tag"}
    assert by_kind["box"]["geometry"] == pytest.approx({"x": 20, "y": 20, "w": 50, "h": 50})
    assert by_kind["box"]["confidence"] == pytest.approx(0.9) and by_kind["box"]["label"] == "Car"
    assert np.allclose(by_kind["polygon"]["geometry"]["points"], [[100, 10], [180, 10], [140, 90]])
    assert by_kind["polygon"]["confidence"] == pytest.approx(0.6)
    mask = decode(by_kind["mask"]["geometry"]["rle"]).astype(bool)
    assert mask.sum() == 40 * 20 and mask[10:30, 100:140].all()
    assert np.allclose(by_kind["points"]["geometry"]["points"], [[100, 50]])
    assert by_kind["points"]["confidence"] == pytest.approx(0.5)  # the prediction's score
    assert by_kind["tag"]["label"] == "Sunny"
    assert {d["source"] for d in out} == {"model:remote"}
    b.detect(picture())
    assert [c[1] for c in server.calls].count("/setup") == 1  # set up once


def test_label_map_and_confidence_filter(server):
    b = MlBackend(server.url, label_map={"Car": "vehicle", "Tree": None, "Eye": "eye"}, confidence=0.5)
    out = b.detect(picture())
    # the brush Car is below 0.5; Tree is dropped by the map; Sunny is not in the map
    assert sorted((d["kind"], d["label"]) for d in out) == [("box", "vehicle"), ("points", "eye")]
    assert b.labels == ["vehicle", "eye"]


def test_a_bare_list_answer_is_read_too(server):
    server.mode = "bare"
    assert len(MlBackend(server.url).detect(picture())) == 5


def test_interactive_clicks_go_in_the_context(server):
    b = assist.get("interactor", "ml_backend", url=server.url, interactive_label="Car")
    image = picture()
    state = b.precompute(image)
    result = b.predict(image, assist.Prompt(positive=[(50, 40)], negative=[(150, 80)]), state)
    ctx = server.calls[-1][2]["params"]["context"]["result"]
    assert [(r["is_positive"], r["value"]["x"], r["value"]["y"], r["value"]["keypointlabels"]) for r in ctx] == [
        (True, 25.0, 40.0, ["Car"]), (False, 75.0, 80.0, ["Car"])]  # fmt: skip
    assert result.mask.sum() == 400 and result.mask[30:50, 40:60].all()
    assert result.score == pytest.approx(0.77)
    (poly,) = result.polygons
    assert sorted(map(tuple, poly["points"])) == [(40, 30), (40, 50), (60, 30), (60, 50)]


def test_label_config_for_a_schema():
    xml = label_config_for([("car", "#ff0000", ["box", "polygon"]), ("sky", "#00ffff", ["tag"]), ("road", "", ["mask"])])
    assert '<RectangleLabels name="label" toName="image"><Label value="car" background="#ff0000"/></RectangleLabels>' in xml
    assert '<PolygonLabels name="polygon" toName="image"><Label value="car"' in xml
    assert '<BrushLabels name="brush" toName="image"><Label value="road" background="#1f77b4"/>' in xml
    assert '<Choice value="sky"/>' in xml and xml.startswith("<View>")


def test_the_project_labels_go_to_setup_unless_a_config_is_given(server):
    b = MlBackend(server.url)
    b.use_labels([("car", "#ff0000", ["box"])])
    b.detect(picture())
    schema = next(body for _, path, body in server.calls if path == "/setup")["schema"]
    assert '<Label value="car" background="#ff0000"/>' in schema
    b.use_labels([("bus", "#00ff00", [])])  # changed labels: set up again, every region kind
    b.detect(picture())
    schema = [body for _, path, body in server.calls if path == "/setup"][-1]["schema"]
    assert schema.count('<Label value="bus"') == 5
    fixed = MlBackend(server.url, label_config="<View/>")
    fixed.use_labels([("car", "#ff0000", ["box"])])
    assert fixed.label_config == "<View/>"


def test_brush_round_trip_used_by_the_test_server():
    assert brush_decode(_brush(0, 0, 3, 2), H, W).sum() == 6


@pytest.mark.parametrize(
    "mode, words",
    [("error", "answered 500"), ("text", "did not answer JSON"), ("count", "answered 0 predictions for 1 tasks")],
)
def test_bad_answers_name_the_server(server, mode, words):
    server.mode = mode
    with pytest.raises(BackendError) as e:
        MlBackend(server.url).detect(picture())
    assert e.value.status == 502 and f"{server.url}/predict" in e.value.detail and words in e.value.detail


def test_a_server_that_is_not_up(server):
    server.mode = "down"
    with pytest.raises(BackendError, match="is not up"):
        MlBackend(server.url).health()


def test_an_unreachable_server_is_named():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(BackendError) as e:
        MlBackend(f"http://127.0.0.1:{port}", timeout=2).health()
    assert f"could not reach the ML backend at http://127.0.0.1:{port}/health" in e.value.detail


@pytest.mark.parametrize(
    "config, field",
    [({"url": "ftp://x"}, "config.url"), ({"timeout": 0}, "config.timeout"), ({"confidence": -1}, "config.confidence"),
     ({"label_map": ["a"]}, "config.label_map")],
)  # fmt: skip
def test_bad_configuration(config, field):
    kw = {"url": "http://127.0.0.1:1", **config}
    with pytest.raises(ValidationError) as e:
        MlBackend(kw.pop("url"), **kw)
    assert e.value.field == field
