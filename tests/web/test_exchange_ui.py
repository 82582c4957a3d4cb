"""The Export and Import dialogs and the recent jobs list, in real Chromium against a real server.

Projects are made through the admin's SDK client; a manager (and a viewer) drive the project page
as a user would. Exports are checked by downloading the zip the dialog links to and reading it;
imports by the grid and the SDK afterwards.
"""

from __future__ import annotations

import base64
import io
import json
import re
import uuid
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image, ImageDraw

SHOTS = Path("/tmp/limner-shots")
PASSWORD = "exchange-password-1"

LABELS = [
    {"name": "car", "color": "#e6194b", "kinds": ["box", "polygon"]},
    {"name": "road", "color": "#3cb44b", "kinds": ["polygon"]},
    {"name": "tree", "color": "#4363d8", "kinds": ["box"]},
]


# -- fixtures ----------------------------------------------------------------------------------


def _picture(path: Path, seed: int, size=(120, 90)) -> None:
    """A small picture no other test makes: a colour and a few rectangles from the seed."""
    import random

    rng = random.Random(seed)
    img = Image.new("RGB", size, tuple(rng.randrange(30, 230) for _ in range(3)))
    d = ImageDraw.Draw(img)
    for _ in range(3):
        x, y = rng.randrange(0, size[0] - 20), rng.randrange(0, size[1] - 20)
        d.rectangle([x, y, x + rng.randrange(8, 30), y + rng.randrange(8, 30)], fill=tuple(rng.randrange(256) for _ in range(3)))
    img.save(path)


@pytest.fixture(scope="module")
def people(live, browser):
    """A manager and a viewer with passwords (the projects are the admin's)."""
    manager, mc = live.new_user("exch", password=PASSWORD)
    viewer, vc = live.new_user("look", password=PASSWORD)
    mc.close()
    vc.close()
    return SimpleNamespace(manager=manager, viewer=viewer)


@pytest.fixture(scope="module")
def make_project(live, people, tmp_path_factory):
    """make_project() -> a project of the admin's with LABELS and two annotated pictures (each a
    car box, a car polygon and a road polygon), the manager and the viewer as members."""
    admin = live.admin()

    def make():
        tag = uuid.uuid4().hex[:6]
        folder = tmp_path_factory.mktemp(f"exch-{tag}")
        p = admin.create_project(f"Exchange {tag}", "export and import from the browser")
        for lb in LABELS:
            admin.create_label(p["id"], **lb)
        for i in range(2):
            _picture(folder / f"street{i}.png", hash((tag, i)) & 0xFFFF)
        admin.upload(p["id"], [folder])
        assets = admin.list_assets(p["id"])["items"]
        for a in assets:
            admin.put_annotation(a["id"], "admin", [
                {"kind": "box", "label": "car", "geometry": {"x": 10, "y": 10, "w": 30, "h": 20}},
                {"kind": "polygon", "label": "car", "geometry": {"points": [[50, 10], [80, 12], [70, 40]]}},
                {"kind": "polygon", "label": "road", "geometry": {"points": [[0, 60], [119, 60], [119, 89], [0, 89]]}},
            ], base_revision=0)
        admin.add_member(p["id"], people.manager["username"], "manager")
        admin.add_member(p["id"], people.viewer["username"], "viewer")
        p["assets"] = assets
        return p

    yield make
    admin.close()


@pytest.fixture(scope="module")
def shared(make_project):
    """The project the export tests share."""
    return make_project()


def _login(browser, live, username):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    r = ctx.request.post(f"{live.url}/api/v1/auth/login", data={"username": username, "password": PASSWORD})
    assert r.ok, r.text()
    return ctx


@pytest.fixture
def page(browser, live, people):
    """A page logged in as the manager; fails the test on an uncaught error in the page."""
    ctx = _login(browser, live, people.manager["username"])
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    ctx.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def _open_project(page, live, project) -> None:
    page.goto(f"{live.url}/#/projects/{project['id']}")
    page.wait_for_selector("#export-button:not([hidden])")
    n = len(project["assets"])
    page.wait_for_function("t => document.getElementById('range')?.textContent === t", arg=f"1–{n} of {n}")


def _open_export(page) -> None:
    page.click("#export-button")
    page.wait_for_selector("#export-dialog[open]")
    page.wait_for_function("document.querySelectorAll('#export-format option').length > 3")
    page.wait_for_selector("#export-remap tr[data-label]")


def _download(page, live, selector: str) -> zipfile.ZipFile:
    href = page.get_attribute(selector, "href")
    assert href and href.startswith("/api/v1/jobs/") and href.endswith("/download")
    r = page.context.request.get(live.url + href)
    assert r.ok, r.text()
    assert r.headers["content-type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(r.body()))


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name))


# -- export ------------------------------------------------------------------------------------


def test_export_coco_with_a_split_downloads_the_subsets(page, live, shared):
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if re.search(r"/api/v1/jobs/\d+$", r.url) else None)
    _open_project(page, live, shared)
    _open_export(page)
    # only writable formats are offered, each with its description
    options = page.eval_on_selector_all("#export-format option", "os => os.map(o => o.value)")
    assert "coco" in options and "voc_detection" in options
    page.select_option("#export-format", "coco")
    assert "COCO" in page.inner_text("#export-format-desc")
    assert page.is_disabled("#export-train")  # no split until asked for
    page.check("#export-split-on")
    page.fill("#export-train", "50")
    page.fill("#export-val", "50")
    page.fill("#export-test", "0")
    page.fill("#export-seed", "3")
    assert page.inner_text("#export-split-sum") == "= 100%"
    assert page.is_checked("#export-stratify")
    _shot(page, "export-dialog.png")

    page.click("#export-start")
    page.wait_for_selector("#export-download")
    assert page.get_attribute("#export-progress", "data-status") == "done"
    assert page.inner_text("#export-progress .job-pct") == "100%"
    result = page.inner_text("#export-result")
    assert "null" not in result and "undefined" not in result
    assert page.locator("#export-result .split-counts li").all_inner_texts() == ["train: 1 image", "val: 1 image"]
    assert "Nothing was dropped or converted." in result
    assert "No geometry problems found." in result
    _shot(page, "export-done.png")

    zf = _download(page, live, "#export-download")
    names = zf.namelist()
    assert "annotations/instances_train.json" in names and "annotations/instances_val.json" in names
    train = json.loads(zf.read("annotations/instances_train.json"))
    val = json.loads(zf.read("annotations/instances_val.json"))
    assert len(train["images"]) == len(val["images"]) == 1
    assert {c["name"] for c in train["categories"]} >= {"car", "road"}

    # the polling stopped once the job finished
    job_polls = [u for u in polls if re.search(r"/jobs/\d+$", u)]
    assert job_polls, "the dialog never asked for the job"
    seen = len(job_polls)
    page.wait_for_timeout(1200)
    assert len([u for u in polls if re.search(r"/jobs/\d+$", u)]) == seen


def test_export_yolo_with_a_dropped_label_shows_the_report(page, live, shared):
    _open_project(page, live, shared)
    _open_export(page)
    page.select_option("#export-format", "yolo")
    page.select_option("#export-remap tr[data-label=road] .remap-action", "drop")
    assert page.is_hidden("#export-remap tr[data-label=road] .remap-to")
    # renaming needs a name: the dialog says so before asking the server
    page.select_option("#export-remap tr[data-label=tree] .remap-action", "rename")
    page.click("#export-start")
    assert "new name for tree" in page.inner_text("#export-error")
    page.fill("#export-remap tr[data-label=tree] .remap-to", "plant")
    page.uncheck("#export-status-done")
    page.uncheck("#export-status-review")
    page.click("#export-start")
    page.wait_for_selector("#export-download")

    assert "null" not in page.inner_text("#export-result")
    lines = page.locator("#export-result .report-lines li").all_inner_texts()
    assert "2 shapes of 'road' dropped" in lines
    assert any(line.startswith("YOLO detect: 2 polygons") for line in lines), lines
    _shot(page, "export-report.png")

    zf = _download(page, live, "#export-download")
    data_yaml = next(n for n in zf.namelist() if n.endswith("data.yaml"))
    text = zf.read(data_yaml).decode()
    assert "car" in text and "plant" in text and "road" not in text

    # the recent jobs list has both exports, done, with their download links
    page.locator("#export-close").click()
    page.wait_for_selector("#export-dialog", state="detached")
    rows = page.locator("#job-list .job-row[data-kind='project.export'][data-status=done]")
    rows.first.wait_for()
    assert rows.count() >= 2
    assert "Export · yolo" in rows.first.inner_text()
    href = rows.first.locator(".job-download").get_attribute("href")
    assert href == page.get_attribute("#job-list .job-row >> nth=0 >> .job-download", "href")
    assert page.context.request.get(live.url + href).ok


def test_export_split_must_add_up(page, live, shared):
    _open_project(page, live, shared)
    _open_export(page)
    page.check("#export-split-on")
    page.fill("#export-train", "70")
    page.fill("#export-val", "10")
    page.fill("#export-test", "10")
    assert "bad" in page.get_attribute("#export-split-sum", "class")
    page.click("#export-start")
    assert "add up to 90%" in page.inner_text("#export-error")
    assert page.is_hidden("#export-progress")
    page.keyboard.press("Escape")
    page.wait_for_selector("#export-dialog", state="detached")


def test_recent_jobs_follow_a_running_job(page, live, shared):
    """A job started elsewhere shows as running and then done, without reloading the page."""
    import threading
    import time

    from limner.jobs.runner import JOB_KINDS, register

    gate = threading.Event()

    @register("test.slow")
    def slow(ctx):
        ctx.progress(0.4, "waiting for the test", force=True)
        gate.wait(20)
        return {}

    try:
        _open_project(page, live, shared)
        page.wait_for_selector("#job-list")
        job_id, _ = live.services.runner.submit("test.slow", project_id=shared["id"], user_id=None, params={})
        page.evaluate("async () => (await import('/js/bus.js')).bus.emit('jobs:changed', {projectId: %d})" % shared["id"])
        row = page.locator(f"#job-list .job-row[data-id='{job_id}']")
        row.wait_for()
        page.wait_for_function(
            "id => document.querySelector(`#job-list .job-row[data-id='${id}'] .job-pct`)?.textContent === '40%'", arg=job_id
        )
        assert row.get_attribute("data-status") == "running"
        _shot(page, "recent-jobs-running.png")
        gate.set()
        t0 = time.monotonic()
        page.wait_for_selector(f"#job-list .job-row[data-id='{job_id}'][data-status=done]", timeout=5000)
        assert time.monotonic() - t0 < 5
    finally:
        gate.set()
        JOB_KINDS.pop("test.slow", None)


# -- import ------------------------------------------------------------------------------------


def _dataset_zip(folder: Path, items: list[tuple[str, str, bool]], labels: list[str]) -> Path:
    """A COCO dataset zip written by limner.formats: items are (name, label, with an image)."""
    from limner.core.dataset import Dataset, Item
    from limner.core.schema import Label, LabelSchema
    from limner.core.shapes import Shape
    from limner.formats import write

    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "dataset"
    ds_items = []
    for k, (name, label, with_image) in enumerate(items):
        image = None
        if with_image:
            image = folder / name
            _picture(image, 1000 + k + hash(str(folder)) % 1000, size=(64, 48))
        ds_items.append(Item(name=name, width=64, height=48, image=image, shapes=[
            Shape(kind="box", label=label, geometry={"x": 4, "y": 4, "w": 20, "h": 16}),
        ]))
    ds = Dataset(schema=LabelSchema([Label(name=n, color="#f58231", kinds=["box"]) for n in labels]), items=ds_items)
    write(ds, out, "coco", include_images=True)
    zpath = folder / f"{folder.name}.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for f in sorted(out.rglob("*")):
            if f.is_file():
                zf.write(f, f.relative_to(out).as_posix())
    return zpath


def _open_import(page) -> None:
    page.click("#import-button")
    page.wait_for_selector("#import-dialog[open]")
    page.wait_for_function("document.querySelectorAll('#import-format option').length > 3")


def _wait_thumbnails(page, n: int) -> None:
    page.wait_for_function(
        """n => { const imgs = [...document.querySelectorAll('#asset-grid .asset-card img')];
                  return imgs.length === n && imgs.every(i => i.complete && i.naturalWidth > 0); }""",
        arg=n,
    )


def test_import_a_coco_zip_adds_its_images(page, live, people, make_project, tmp_path):
    project = make_project()
    zpath = _dataset_zip(tmp_path / "fresh", [("fresh0.png", "car", True), ("fresh1.png", "tree", True)], ["car", "tree"])
    _open_project(page, live, project)
    _open_import(page)
    assert page.input_value("#import-format") == ""
    assert page.inner_text("#import-format option:checked") == "detect automatically"
    assert page.is_checked("#import-owner-me") and page.is_disabled("#import-model")
    assert page.is_checked("#import-with-images") and page.is_checked("#import-create-labels")
    assert page.is_disabled("#import-start")
    page.set_input_files("#import-file", str(zpath))
    assert "fresh.zip" in page.inner_text("#import-file-name")
    _shot(page, "import-form.png")
    page.click("#import-start")
    page.wait_for_selector("#import-result:not([hidden])")
    assert page.get_attribute("#import-progress", "data-status") == "done"
    assert page.inner_text("#import-added") == "2 added"
    assert "0 matched" in page.inner_text("#import-result")
    assert "null" not in page.inner_text("#import-result")
    _shot(page, "import-dialog.png")
    # the grid behind the dialog already shows the new assets
    page.keyboard.press("Escape")
    page.wait_for_function("document.getElementById('range')?.textContent === '1–4 of 4'")
    _wait_thumbnails(page, 4)
    names = {a["name"] for a in live.admin().list_assets(project["id"])["items"]}
    assert {"fresh0.png", "fresh1.png"} <= {n.rsplit("/", 1)[-1] for n in names}
    new = [a for a in live.admin().list_assets(project["id"])["items"] if "fresh" in a["name"]]
    assert [x["owner"] for x in new[0]["annotations"]] == [people.manager["username"]]
    row = page.locator("#job-list .job-row[data-kind='project.import']").first
    row.wait_for()
    assert "Import · fresh.zip" in row.inner_text() and row.get_attribute("data-status") == "done"
    assert row.locator(".job-download").count() == 0


def test_import_with_an_unknown_label_changes_nothing(page, live, make_project, tmp_path):
    project = make_project()
    before = live.admin().list_assets(project["id"])["total"]
    zpath = _dataset_zip(tmp_path / "zebras", [("zebra0.png", "zebra", True), ("zebra1.png", "car", True)], ["zebra", "car"])
    _open_project(page, live, project)
    _open_import(page)
    page.uncheck("#import-create-labels")
    # dropped on the drop target rather than picked
    data = page.evaluate_handle(
        """([b64, name]) => {
            const bin = atob(b64);
            const dt = new DataTransfer();
            dt.items.add(new File([Uint8Array.from(bin, c => c.charCodeAt(0))], name, {type: 'application/zip'}));
            return dt; }""",
        [base64.b64encode(zpath.read_bytes()).decode(), "zebras.zip"],
    )
    page.dispatch_event("#import-drop", "dragover", {"dataTransfer": data})
    page.dispatch_event("#import-drop", "drop", {"dataTransfer": data})
    assert "zebras.zip" in page.inner_text("#import-file-name")
    page.click("#import-start")
    page.wait_for_selector("#import-result.failed")
    text = page.inner_text("#import-result")
    assert "Import failed" in text and "zebra" in text and "create them or allow creating labels" in text
    assert "Nothing was changed in the project." in text
    _shot(page, "import-failed.png")
    assert live.admin().list_assets(project["id"])["total"] == before
    assert "zebra" not in {lb["name"] for lb in live.admin().list_labels(project["id"])}
    assert page.inner_text("#range") == f"1–{before} of {before}"
    # the dialog can be used again at once
    assert not page.is_disabled("#import-start")


def test_import_as_model_prelabels_matching_assets(page, live, make_project, tmp_path):
    """Shapes for existing assets (matched by file name), owned by a model, a new label created,
    an image-less item reported as matching nothing."""
    project = make_project()
    names = [a["name"].rsplit("/", 1)[-1] for a in project["assets"]]
    zpath = _dataset_zip(
        tmp_path / "pre", [(names[0], "zebra", False), (names[1], "car", False), ("ghost.png", "car", True)], ["zebra", "car"]
    )
    _open_project(page, live, project)
    _open_import(page)
    page.check("#import-owner-model")
    page.uncheck("#import-with-images")
    page.set_input_files("#import-file", str(zpath))
    page.click("#import-start")
    assert "give the model a name" in page.inner_text("#import-error")
    page.fill("#import-model", "detector")
    page.select_option("#import-format", "coco")
    page.click("#import-start")
    page.wait_for_selector("#import-result:not([hidden]):not(.failed)")
    text = page.inner_text("#import-result")
    assert "0 added" in text and "2 matched" in text, text
    assert "null" not in text and "undefined" not in text
    assert page.locator("#import-result .labels-created li").all_inner_texts() == ["zebra"]
    assert page.locator("#import-result .unmatched li").all_inner_texts() == ["ghost.png"]
    _shot(page, "import-model.png")
    page.keyboard.press("Escape")
    # the new label is listed at once
    page.wait_for_selector("#labels-panel .label-row[data-label=zebra]")
    owners = {o["owner"] for a in live.admin().list_assets(project["id"])["items"] for o in a["annotations"]}
    assert owners == {"admin", "model:detector"}


def test_a_viewer_may_export_but_not_import(browser, live, people, shared):
    ctx = _login(browser, live, people.viewer["username"])
    try:
        page = ctx.new_page()
        _open_project(page, live, shared)
        assert page.is_visible("#export-button")
        assert page.is_hidden("#import-button") and page.is_hidden("#upload-button")
        _open_export(page)
        page.click("#export-start")
        page.wait_for_selector("#export-download")
        assert page.is_hidden("#export-cancel")  # cancelling needs a manager
        _shot(page, "export-viewer.png")
    finally:
        ctx.close()
