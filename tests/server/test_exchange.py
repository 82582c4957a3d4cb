"""Export and import through the API as jobs, and the convert/export/import commands."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from limner.client import ApiError

BOX = {"kind": "box", "label": "car", "geometry": {"x": 2, "y": 3, "w": 10, "h": 8}, "attributes": {"plate": "A"}}
POLY = {"kind": "polygon", "label": "road", "geometry": {"points": [[1, 1], [20, 1], [20, 15], [1, 15]]}}


def _annotate(admin, project):
    for a in project["assets"]:
        admin.put_annotation(a["id"], "admin", [BOX, POLY], base_revision=0)


def _export(admin, live, pid, **body) -> zipfile.ZipFile:
    fmt = body.pop("format")
    job = admin.export(pid, fmt, **body)
    done = admin.wait_job(job["id"], timeout=120)
    assert done["status"] == "done" and done["message"] == "done", done
    r = admin.request("GET", f"/jobs/{job['id']}/download")
    assert r.headers["content-type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(r.content)), done["result"]


def test_export_coco_loads_in_pycocotools(admin, live, project, tmp_path):
    from pycocotools.coco import COCO

    _annotate(admin, project)
    zf, result = _export(admin, live, project["id"], format="coco", split="train=0.5,val=0.5", seed=1)
    assert result["items"] == 6 and result["shapes"] == 12 and sum(result["splits"].values()) == 6
    zf.extractall(tmp_path)
    files = sorted(p.name for p in (tmp_path / "annotations").iterdir())
    assert files == ["instances_train.json", "instances_val.json"]
    total = 0
    for f in files:
        coco = COCO(str(tmp_path / "annotations" / f))
        total += len(coco.getAnnIds())
        assert {c["name"] for c in coco.loadCats(coco.getCatIds())} >= {"car", "road"}
    assert total == 12


def test_export_yolo_with_images_and_remap(admin, live, project, tmp_path):
    _annotate(admin, project)
    zf, result = _export(admin, live, project["id"], format="yolo", include_images=True, remap={"road": None})
    zf.extractall(tmp_path)
    labels = sorted((tmp_path / "labels").rglob("*.txt"))
    images = sorted((tmp_path / "images").rglob("*.*"))
    assert len(labels) == 6 and len(images) == 6
    lines = [ln.split() for p in labels for ln in p.read_text().splitlines()]
    assert len(lines) == 6  # the polygons' label was dropped by the remap
    assert all(0 <= float(v) <= 1 for ln in lines for v in ln[1:])


def test_export_unknown_format_is_refused(admin, project):
    with pytest.raises(ApiError) as e:
        admin._json("POST", f"/projects/{project['id']}/exports", json={"format": "nope"})
    assert e.value.status == 422 and "unknown format 'nope'" in e.value.detail


def _coco_zip(tmp_path: Path, names: list[str], label="car", with_images=True) -> Path:
    from limner.core import Dataset, Item, Label, LabelSchema, Shape
    from limner.formats import write

    ds = Dataset(LabelSchema([Label(label)]))
    for i, n in enumerate(names):
        img = tmp_path / "src" / n
        img.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (40, 30), (i * 40, 100, 200)).save(img)
        ds.items.append(Item(n, 40, 30, [Shape("box", label, {"x": 1.0, "y": 2.0, "w": 5.0, "h": 6.0})],
                             image=img if with_images else None))
    out = tmp_path / "coco"
    write(ds, out, "coco", include_images=with_images)
    z = tmp_path / "coco.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in out.rglob("*"):
            if p.is_file():
                zf.write(p, p.relative_to(out).as_posix())
    return z


def _import(admin, pid, z: Path, **form) -> dict:
    job = admin.import_dataset(pid, z, **form)
    assert "_source" not in job["params"] and "source" not in job["params"]  # no server paths shown
    return admin.wait_job(job["id"], timeout=120)


def test_import_zip_with_images_creates_assets_labels_and_annotations(admin, tmp_path):
    p = admin.create_project("imported")
    done = _import(admin, p["id"], _coco_zip(tmp_path, ["a.jpg", "b.jpg"]))
    assert done["status"] == "done", done
    res = done["result"]
    assert (res["assets_added"], res["shapes"], res["labels_created"]) == (2, 2, ["car"])
    assets = admin.list_assets(p["id"])["items"]
    assert sorted(a["name"] for a in assets) == ["a.jpg", "b.jpg"]
    shapes = admin.get_annotation(assets[0]["id"], "admin")["shapes"]
    assert shapes[0]["geometry"] == {"x": 1.0, "y": 2.0, "w": 5.0, "h": 6.0}


def test_prelabels_onto_existing_assets_by_file_name(admin, project, tmp_path):
    names = [a["name"] for a in project["assets"][:2]]
    done = _import(admin, project["id"], _coco_zip(tmp_path, names, with_images=False), owner="model:detector")
    assert done["status"] == "done", done
    assert done["result"]["assets_matched"] == 2 and done["result"]["assets_added"] == 0
    assert done["result"]["missing_required"] == {"car.plate": 2}  # reported; a model cannot fill it in
    ann = admin.get_annotation(project["assets"][0]["id"], "model:detector")
    assert ann["revision"] == 1 and ann["shapes"][0]["kind"] == "box"
    owners = {o["owner"]: o for o in admin.list_owners(project["id"])}
    assert owners["model:detector"]["is_model"] and owners["model:detector"]["shapes"] == 2


def test_failed_import_leaves_the_project_as_it_was(admin, project, tmp_path):
    before = admin.list_assets(project["id"])
    labels_before = admin.list_labels(project["id"])
    done = _import(admin, project["id"], _coco_zip(tmp_path, ["new1.jpg", "new2.jpg"], label="zebra"), create_labels=False)
    assert done["status"] == "failed" and "labels not in the project: zebra" in done["error"]
    assert admin.list_assets(project["id"]) == before
    assert admin.list_labels(project["id"]) == labels_before


def test_import_refuses_a_zip_escaping_its_folder(admin, project, tmp_path):
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("../../outside.json", "{}")
    done = _import(admin, project["id"], z)
    assert done["status"] == "failed" and "points outside the archive folder" in done["error"]


def test_formats_listed(admin):
    names = {f["name"] for f in admin.formats()}
    assert {"coco", "yolo", "cvat"} <= names


def test_download_through_the_sdk_and_unreadable_upload_named(admin, project, tmp_path):
    job = admin.wait_job(admin.export(project["id"], "coco")["id"])
    z = admin.download(job["id"], tmp_path / "out.zip")
    assert zipfile.is_zipfile(z)
    junk = tmp_path / "holiday.zip"
    with zipfile.ZipFile(junk, "w") as zf:
        zf.writestr("notes/readme.txt", "nothing here")
    done = _import(admin, project["id"], junk)
    assert done["status"] == "failed"
    assert "no known format recognises this" in done["error"] and "/tmp" not in done["error"] and "import-" not in done["error"]


def test_the_creator_of_an_export_may_cancel_it_a_viewer_not_others(admin, live, project):
    _, viewer = live.new_user("viewer")
    admin.add_member(project["id"], viewer.me()["username"], "viewer")
    job = viewer.export(project["id"], "coco")
    assert viewer.cancel_job(job["id"])["id"] == job["id"]  # own job: allowed
    other = admin.export(project["id"], "coco")
    with pytest.raises(ApiError) as e:
        viewer.cancel_job(other["id"])
    assert e.value.status == 403


def test_export_of_labels_survives_a_missing_image_file(admin, live, project):
    from limner.store.models import Asset

    _annotate(admin, project)
    with live.services.db.read() as s:
        key = s.get(Asset, project["assets"][0]["id"]).storage_key
    original = live.services.storage.path(key)
    moved = original.with_name(original.name + ".moved")
    original.rename(moved)
    try:
        zf, result = _export(admin, live, project["id"], format="coco")
        assert result["items"] == 6 and result["shapes"] == 12
    finally:
        moved.rename(original)
