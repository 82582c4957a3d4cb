"""The REST API through the SDK, over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image

from limner.client import ApiError, ConflictError

CAR = {"kind": "box", "label": "car", "geometry": {"x": 1, "y": 2, "w": 10, "h": 5}, "attributes": {"plate": "AB-1"}}


def test_projects_crud_and_counts(admin):
    p = admin.create_project("birds", "first")
    assert p["role"] == "owner" and p["name"] == "birds"
    assert admin.update_project(p["id"], name="birds 2")["name"] == "birds 2"
    got = admin.get_project(p["id"])
    assert (got["asset_count"], got["shape_count"]) == (0, 0)
    assert p["id"] in [x["id"] for x in admin.list_projects()]
    admin.delete_project(p["id"])
    with pytest.raises(ApiError) as e:
        admin.get_project(p["id"])
    assert e.value.status == 404 and f"no project with id {p['id']}" in e.value.detail


def test_project_name_required(admin):
    with pytest.raises(ApiError) as e:
        admin.create_project("  ")
    assert (e.value.status, e.value.field) == (422, "name")


def test_label_schema_rules(admin, project):
    labels = {lb["name"]: lb for lb in admin.list_labels(project["id"])}
    assert labels["person"]["skeleton"]["points"] == ["head", "left hand", "right hand"]
    assert labels["car"]["attributes"][0]["options"] == ["red", "blue"]
    child = admin.create_label(project["id"], "sedan", parent="car", kinds=["box"])
    assert child["parent"] == "car"
    with pytest.raises(ApiError) as e:
        admin.create_label(project["id"], "car")
    assert e.value.status == 409
    with pytest.raises(ApiError) as e:
        admin.create_label(project["id"], "x", kinds=["blob"])
    assert e.value.status == 422 and "unknown shape kind 'blob'" in e.value.detail
    with pytest.raises(ApiError) as e:
        admin.create_label(project["id"], "y", color="red")
    assert "colour must look like #rrggbb" in e.value.detail
    renamed = admin.update_label(project["id"], child["id"], name="saloon", color="#123456")
    assert (renamed["name"], renamed["color"], renamed["parent"]) == ("saloon", "#123456", "car")


def test_upload_reports_added_duplicates_rejected(admin, images, tmp_path):
    p = admin.create_project("upload")
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "fake.jpg").write_bytes(b"not a jpeg at all")
    r = admin.upload(p["id"], [images, tmp_path / "notes.txt", tmp_path / "fake.jpg"])
    assert r["counts"] == {"added": 6, "duplicates": 0, "rejected": 2}
    reasons = {x["name"]: x["reason"] for x in r["rejected"]}
    assert reasons["notes.txt"] == "not an image extension"
    assert reasons["fake.jpg"].startswith("fake.jpg: ")
    again = admin.upload(p["id"], [images / "img0.jpg"])
    assert again["counts"]["duplicates"] == 1 and again["counts"]["added"] == 0
    page = admin.list_assets(p["id"])
    assert page["total"] == 6
    first = next(a for a in page["items"] if a["name"] == "img0.jpg")
    assert (first["width"], first["height"], first["status"]) == (64, 48, "new")


def test_upload_zip_and_exif_orientation(admin, tmp_path):
    p = admin.create_project("zip")
    img = Image.new("RGB", (40, 20), (0, 128, 255))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90°: shown 20 wide, 40 high
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    z = tmp_path / "batch.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("sub/rot.jpg", buf.getvalue())
        zf.writestr("readme.md", "x")
    r = admin.upload(p["id"], [z])
    assert r["counts"]["added"] == 1
    a = admin.get_asset(r["added"][0]["id"])
    assert (a["name"], a["width"], a["height"]) == ("sub/rot.jpg", 20, 40)
    assert any(x["name"] == "readme.md" for x in r["rejected"])


def test_image_and_thumbnail_served_with_etag(admin, project, live):
    aid = project["assets"][0]["id"]
    r = admin.request("GET", f"/assets/{aid}/image")
    assert r.headers["etag"] == f'"{project["assets"][0]["checksum"]}"'
    assert "max-age" in r.headers["cache-control"]
    assert Image.open(io.BytesIO(r.content)).size == (64, 48)
    again = admin._http.get(f"/api/v1/assets/{aid}/image", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    thumb = Image.open(io.BytesIO(admin.thumbnail(aid)))
    assert thumb.format == "JPEG" and max(thumb.size) <= 256


def test_annotation_revisions_and_conflict(admin, project):
    aid = project["assets"][0]["id"]
    empty = admin.get_annotation(aid, "admin")
    assert (empty["revision"], empty["shapes"]) == (0, [])
    r1 = admin.put_annotation(aid, "admin", [CAR], base_revision=0)
    assert (r1["revision"], r1["shape_count"]) == (1, 1)
    with pytest.raises(ConflictError) as e:
        admin.put_annotation(aid, "admin", [], base_revision=0)
    assert e.value.current_revision == 1
    stored = admin.get_annotation(aid, "admin")
    assert stored["revision"] == 1 and len(stored["shapes"]) == 1  # nothing overwritten
    sh = stored["shapes"][0]
    assert sh["geometry"] == {"x": 1.0, "y": 2.0, "w": 10.0, "h": 5.0}
    assert sh["attributes"] == {"colour": "red", "occluded": False, "plate": "AB-1"}  # defaults filled
    r2 = admin.put_annotation(aid, "admin", [CAR, CAR], base_revision=1)
    assert r2["revision"] == 2
    asset = admin.get_asset(aid)
    assert (asset["shape_count"], asset["status"]) == (2, "in_progress")
    summary = admin.list_assets(project["id"], name=asset["name"])["items"][0]["annotations"]
    assert [(x["owner"], x["revision"], x["shape_count"]) for x in summary] == [("admin", 2, 2)]


ALL_KINDS = [
    {"kind": "tag", "label": "outdoor"},
    CAR,
    {"kind": "rotated_box", "label": "car", "geometry": {"cx": 20, "cy": 20, "w": 8, "h": 4, "angle": 30},
     "attributes": {"plate": "X"}},
    {"kind": "polygon", "label": "road", "geometry": {"points": [[0, 0], [30, 0], [30, 20]], "holes": [[[20, 2], [25, 2], [25, 5]]]}},
    {"kind": "polyline", "label": "road", "geometry": {"points": [[0, 0], [10, 10]]}},
    {"kind": "points", "label": "face", "geometry": {"points": [[5, 5]]}},
    {"kind": "skeleton", "label": "person", "geometry": {"points": [[1, 1, 2], [2, 2, 1], [0, 0, 0]]}},
    {"kind": "ellipse", "label": "face", "geometry": {"cx": 10, "cy": 10, "rx": 4, "ry": 2, "angle": 0}},
    {"kind": "mask", "label": "car", "attributes": {"plate": "M"},
     "geometry": {"rle": {"size": [48, 64], "counts": [100, 20, 48 * 64 - 120]}}},
]


def test_every_shape_kind_round_trips(admin, project):
    aid = next(a["id"] for a in project["assets"] if a["height"] == 48)
    admin.put_annotation(aid, "admin", ALL_KINDS, base_revision=0)
    got = admin.get_annotation(aid, "admin")["shapes"]
    assert [s["kind"] for s in got] == [s["kind"] for s in ALL_KINDS]
    assert got[6]["geometry"]["points"] == [[1.0, 1.0, 2], [2.0, 2.0, 1], [0.0, 0.0, 0]]
    rle = got[8]["geometry"]["rle"]
    assert rle["size"] == [48, 64] and isinstance(rle["counts"], str)
    from pycocotools import mask as mu

    m = mu.decode({"size": rle["size"], "counts": rle["counts"].encode()})
    assert int(m.sum()) == 20 and m.shape == (48, 64)


@pytest.mark.parametrize(
    "shape, message",
    [
        ({"kind": "polygon", "label": "road", "geometry": {"points": [[0, 0], [1, 1]]}}, "shapes[1]: polygon needs at least 3 points, got 2"),
        ({"kind": "box", "label": "nope", "geometry": {"x": 0, "y": 0, "w": 1, "h": 1}}, "shapes[1]: label 'nope' is not in the project's schema"),
        ({"kind": "ellipse", "label": "car", "geometry": {}}, "shapes[1]: label 'car' allows box, rotated_box, polygon, mask, not ellipse"),
        ({"kind": "box", "label": "car", "geometry": {"x": 0, "y": 0, "w": 0, "h": 1}, "attributes": {"plate": "a"}}, "box width and height must be positive"),
        ({"kind": "box", "label": "car", "geometry": {"x": 0, "y": 0, "w": 1, "h": 1}, "attributes": {"plate": "a", "count": 11}}, "11 is above the maximum 10"),
        ({"kind": "box", "label": "car", "geometry": {"x": 0, "y": 0, "w": 1, "h": 1}, "attributes": {"plate": "a", "colour": "green"}}, "'green' is not one of ['red', 'blue']"),
        ({"kind": "skeleton", "label": "person", "geometry": {"points": [[1, 1, 2]]}}, "the label's skeleton has 3 points, got 1"),
        ({"kind": "skeleton", "label": "person", "geometry": {"points": [[1, 1, 3], [1, 1, 1], [1, 1, 1]]}}, "visibility must be 0, 1 or 2"),
        ({"kind": "mask", "label": "car", "attributes": {"plate": "a"}, "geometry": {"rle": {"size": [10, 10], "counts": [100]}}}, "mask size 10x10 (height x width) differs from the image's 48x64"),
        ({"kind": "mask", "label": "car", "attributes": {"plate": "a"}, "geometry": {"rle": {"size": [48, 64], "counts": [5]}}}, "rle counts cover 5 pixels, the mask has 3072"),
        ({"kind": "tag", "label": "outdoor", "geometry": {"x": 1}}, "a tag has no geometry"),
        ({"kind": "hexagon", "label": "car"}, "unknown kind 'hexagon'"),
    ],
)
def test_invalid_shapes_are_refused_with_index_and_rule(admin, project, shape, message):
    aid = next(a["id"] for a in project["assets"] if a["height"] == 48)
    with pytest.raises(ApiError) as e:
        admin.put_annotation(aid, "admin", [{"kind": "tag", "label": "outdoor"}, shape], base_revision=0)
    assert e.value.status == 422
    assert message in e.value.detail
    assert e.value.field.startswith("shapes[1]")
    assert admin.get_annotation(aid, "admin")["revision"] == 0  # nothing written


def test_missing_required_attributes_are_saved_but_block_review_and_done(admin, project):
    """Work in progress saves as it is drawn; the image goes to review or done only once every
    person's shape has its required attributes."""
    aid = next(a["id"] for a in project["assets"] if a["height"] == 48)
    box = {"kind": "box", "label": "car", "geometry": {"x": 0, "y": 0, "w": 4, "h": 4}}
    admin.put_annotation(aid, "admin", [{"kind": "tag", "label": "outdoor"}, box], base_revision=0)
    assert admin.get_annotation(aid, "admin")["shapes"][1]["attributes"].get("plate") is None
    for status in ("review", "done"):
        with pytest.raises(ApiError) as e:
            admin.update_asset(aid, status=status)
        assert e.value.status == 422 and e.value.field == "status"
        assert f"cannot go to {status}: shapes[1] (car) of admin lacks the required attribute 'plate'" in e.value.detail
    assert admin.get_asset(aid)["status"] == "in_progress"
    # submitting the annotation is refused the same way, naming the shape
    with pytest.raises(ApiError) as e:
        admin.request("POST", f"/assets/{aid}/annotations/admin/submit")
    assert e.value.status == 422 and "cannot be submitted: shapes[1] (car) of admin lacks the required attribute 'plate'" in e.value.detail
    # a model's pre-label is not held to it
    admin.put_annotation(aid, "model:det", [box], base_revision=0)
    admin.put_annotation(aid, "admin", [{**box, "attributes": {"plate": "B 12"}}], base_revision=1)
    assert admin.update_asset(aid, status="review")["status"] == "review"


def test_asset_filters_and_paging(admin, project, live):
    ids = [a["id"] for a in project["assets"]]
    admin.put_annotation(ids[0], "admin", [{"kind": "tag", "label": "outdoor"}], base_revision=0)
    admin.update_asset(ids[1], status="done")
    _, annot = live.new_user("ann")
    me = annot.me()
    admin.add_member(project["id"], me["username"], "annotator")
    t = admin.create_task(project["id"], "batch 1", asset_ids=ids[2:4], assignees=[me["username"]])
    assert (t["asset_count"], t["assignees"]) == (2, [me["username"]])
    assert [a["id"] for a in admin.list_assets(project["id"], label="outdoor")["items"]] == [ids[0]]
    assert [a["id"] for a in admin.list_assets(project["id"], status="done")["items"]] == [ids[1]]
    assert [a["id"] for a in admin.list_assets(project["id"], assignee=me["username"])["items"]] == ids[2:4]
    assert [a["id"] for a in admin.list_assets(project["id"], task_id=t["id"])["items"]] == ids[2:4]
    page = admin.list_assets(project["id"], offset=2, limit=2)
    assert page["total"] == 6 and [a["id"] for a in page["items"]] == ids[2:4]
    assert [a["id"] for a in admin.iter_assets(project["id"], page=4)] == ids
    assert [a["id"] for a in admin.list_assets(project["id"], before=ids[4], limit=2)["items"]] == ids[2:4]
    assert [a["id"] for a in admin.list_assets(project["id"], before=ids[0])["items"]] == []
    with pytest.raises(ApiError) as e:
        admin.list_assets(project["id"], limit=5000)
    assert e.value.field == "limit"


def test_tasks_stages(admin, project):
    t = admin.create_task(project["id"], "t", asset_ids=[project["assets"][0]["id"]])
    assert t["stage"] == "annotate"
    assert admin.update_task(t["id"], stage="review")["stage"] == "review"
    with pytest.raises(ApiError) as e:
        admin.update_task(t["id"], stage="later")
    assert "stage must be one of annotate, review, done" in e.value.detail
    admin.delete_task(t["id"])
    assert admin.get_asset(project["assets"][0]["id"])["task_id"] is None


def test_comments_threaded_pinned_resolvable(admin, project):
    aid = project["assets"][0]["id"]
    c = admin.add_comment(aid, "the wheel is missing", region={"kind": "box", "geometry": {"x": 1, "y": 1, "w": 5, "h": 5}})
    reply = admin.add_comment(aid, "fixed", parent_id=c["id"])
    assert reply["parent_id"] == c["id"] and c["region"]["geometry"]["w"] == 5.0
    assert admin.update_comment(c["id"], resolved=True)["resolved"] is True
    assert [x["id"] for x in admin.list_comments(aid)] == [c["id"], reply["id"]]
    with pytest.raises(ApiError) as e:
        admin.add_comment(aid, "x", region={"kind": "mask"})
    assert e.value.field == "region"


def test_server_folder_import_is_a_job_with_progress(admin, images):
    p = admin.create_project("import")
    job = admin.import_paths(p["id"], [str(images)])
    assert job["kind"] == "assets.import" and job["status"] in ("queued", "running", "done")
    seen = []
    done = admin.wait_job(job["id"], timeout=60, on_progress=lambda j: seen.append(j["percent"]))
    assert done["status"] == "done" and done["percent"] == 100.0
    assert done["result"]["counts"] == {"added": 6, "duplicates": 0, "rejected": 0}
    assert admin.list_jobs(p["id"])[0]["id"] == job["id"]


def test_audit_log_records_writes(admin, project):
    aid = project["assets"][0]["id"]
    admin.put_annotation(aid, "admin", [CAR], base_revision=0)
    events = admin.audit(project["id"])
    assert events[0]["action"] == "update" and events[0]["object_type"] == "annotation"
    assert events[0]["user"] == "admin" and events[0]["details"]["shapes"] == 1
    kinds = {(e["action"], e["object_type"]) for e in events}
    assert {("create", "label"), ("create", "asset"), ("create", "project")} <= kinds


def test_label_in_use_cannot_be_deleted(admin, project):
    aid = project["assets"][0]["id"]
    admin.put_annotation(aid, "admin", [{"kind": "tag", "label": "outdoor"}], base_revision=0)
    lid = next(lb["id"] for lb in admin.list_labels(project["id"]) if lb["name"] == "outdoor")
    with pytest.raises(ApiError) as e:
        admin.delete_label(project["id"], lid)
    assert e.value.status == 409 and "used by 1 shapes" in e.value.detail


def test_upload_of_nothing_usable_is_a_422_naming_the_file(admin, tmp_path):
    p = admin.create_project("bad upload")
    (tmp_path / "scan.jpg").write_bytes(b"%PDF-1.4 not an image")
    with pytest.raises(ApiError) as e:
        admin.upload(p["id"], [tmp_path / "scan.jpg"])
    assert e.value.status == 422 and e.value.detail.startswith("nothing was added: scan.jpg: ")
    assert e.value.body["counts"] == {"added": 0, "duplicates": 0, "rejected": 1}
    assert admin.list_assets(p["id"])["total"] == 0


def test_managers_cannot_import_server_paths_or_internal_urls(admin, live, images):
    p = admin.create_project("guarded")
    _, manager = live.new_user("mgr")
    admin.add_member(p["id"], manager.me()["username"], "manager")
    for path, words in [
        (str(images), "only administrators may import server paths"),
        ("http://127.0.0.1:9/x.jpg", "this machine or private network addresses"),
        ("http://10.1.2.3/x.jpg", "this machine or private network addresses"),
        ("ftp://example.org/x.jpg", "only http and https URLs"),
    ]:
        with pytest.raises(ApiError) as e:
            manager.import_paths(p["id"], [path])
        assert e.value.status in (403,) and words in e.value.detail, (path, e.value.detail)
    assert admin.list_jobs(p["id"]) == []
