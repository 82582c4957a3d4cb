"""The project page's upload of files and folders (dialogs/upload.js), its cards and its keyset
paging (pages/project.js), in real Chromium against a real server.

A dropped folder cannot be synthesised (webkitGetAsEntry answers only for a real drag), so the
drop test hands the page's drop handler FileSystemEntry-like objects built in the page; the real
folder path goes through the "Upload folder" input (webkitdirectory) with set_input_files."""

from __future__ import annotations

import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

from ._browser import logged_in

SHOTS = Path("/tmp/limner-shots")
PASSWORD = "grid-password-1"


@pytest.fixture(scope="module")
def owner(live, browser):
    user, client = live.new_user("grid", password=PASSWORD)
    yield SimpleNamespace(user=user, client=client)
    client.close()


@pytest.fixture
def page(browser, live, owner):
    with logged_in(browser, live, owner.user["username"], PASSWORD, width=1280, height=800) as pg:
        yield pg


def _project(owner, prefix="grid"):
    return owner.client.create_project(f"{prefix} {uuid.uuid4().hex[:6]}")


def _open(page, live, p):
    page.goto(f"{live.url}/#/projects/{p['id']}")
    page.wait_for_selector("#upload-button:not([hidden])")


def _names(owner, p) -> set[str]:
    return {a["name"] for a in owner.client.list_assets(p["id"], limit=1000)["items"]}


# FileSystemEntry-like fakes: a folder "trip" with a picture, a text file and two levels of
# subfolders; the top folder answers readEntries in two chunks, as browsers do for big folders.
FAKE_DROP = """async () => {
    const png = async (w, h, colour) => {
        const c = document.createElement('canvas'); c.width = w; c.height = h;
        const g = c.getContext('2d'); g.fillStyle = colour; g.fillRect(0, 0, w, h);
        return await new Promise(r => c.toBlob(r, 'image/png'));
    };
    const file = (path, blob, type) => ({
        isFile: true, isDirectory: false, name: path.split('/').pop(), fullPath: '/' + path,
        file: (ok) => ok(new File([blob], path.split('/').pop(), {type})),
    });
    const dir = (path, chunks) => ({
        isFile: false, isDirectory: true, name: path.split('/').pop(), fullPath: '/' + path,
        createReader: () => { let i = 0; return { readEntries: (ok) => setTimeout(() => ok(chunks[i++] || []), 0) }; },
    });
    const deeper = dir('trip/day1/deeper', [[file('trip/day1/deeper/c.png', await png(12, 9, '#0a0'), 'image/png')]]);
    const day1 = dir('trip/day1', [[file('trip/day1/b.png', await png(10, 8, '#00f'), 'image/png'), deeper]]);
    const trip = dir('trip', [
        [file('trip/a.png', await png(8, 6, '#f00'), 'image/png'), file('trip/notes.txt', new Blob(['hello']), 'text/plain')],
        [day1],
    ]);
    const drop = new DragEvent('drop', {bubbles: true, cancelable: true});
    Object.defineProperty(drop, 'dataTransfer', {value: {
        types: ['Files'], files: [],
        items: [{kind: 'file', webkitGetAsEntry: () => trip, getAsFile: () => null}],
    }});
    document.querySelector('.grid-wrap').dispatchEvent(drop);
    return drop.defaultPrevented;
}"""


def test_folder_drop_uploads_nested_images_and_reports_the_rest(page, live, owner):
    p = _project(owner, "drop")
    _open(page, live, p)
    assert page.evaluate(FAKE_DROP) is True
    page.locator("#upload-report").wait_for()
    head = page.inner_text("#upload-report .report-head")
    assert "3 added" in head and "1 rejected" in head and "0 skipped" in head
    rejected = page.locator("#upload-report .rep-rejected")
    assert rejected.count() == 1
    assert "trip/notes.txt" in rejected.inner_text() and "not an image or a zip file" in rejected.inner_text()
    assert _names(owner, p) == {"trip/a.png", "trip/day1/b.png", "trip/day1/deeper/c.png"}
    page.wait_for_function("document.getElementById('range')?.textContent === '1–3 of 3'")


def test_upload_folder_button_sends_a_real_folder(page, live, owner, tmp_path):
    p = _project(owner, "folder")
    root = tmp_path / "shoot"
    (root / "north" / "left").mkdir(parents=True)
    Image.new("RGB", (9, 7), (200, 10, 10)).save(root / "top.jpg")
    Image.new("RGB", (9, 7), (10, 200, 10)).save(root / "north" / "n1.png")
    Image.new("RGB", (9, 7), (10, 10, 200)).save(root / "north" / "left" / "l1.png")
    Image.new("RGB", (9, 7), (10, 10, 200)).save(root / "north" / "same-as-l1.png")
    (root / "north" / "readme.md").write_text("# notes")
    (root / "broken.png").write_bytes(b"not really a png")
    _open(page, live, p)
    assert page.is_visible("#upload-folder-button")
    assert page.get_attribute("#upload-folder-input", "webkitdirectory") is not None
    page.set_input_files("#upload-folder-input", str(root))
    page.locator("#upload-report").wait_for()
    head = page.inner_text("#upload-report .report-head")
    assert "3 added" in head and "1 skipped" in head and "2 rejected" in head, head
    reasons = {r.split("\n")[1]: r for r in page.locator("#upload-report .rep-rejected").all_inner_texts()}
    assert "not an image or a zip file" in reasons["shoot/north/readme.md"]
    assert "not an image" in reasons["shoot/broken.png"]  # the server's reason
    assert "same image as" in page.inner_text("#upload-report .rep-duplicate")
    assert _names(owner, p) == {"shoot/top.jpg", "shoot/north/n1.png", "shoot/north/left/l1.png"}
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "upload-report.png"))


def test_many_files_go_up_in_batches(page, live, owner, tmp_path):
    p = _project(owner, "batches")
    paths = []
    for i in range(230):
        path = tmp_path / f"b{i:03d}.png"
        Image.new("RGB", (6, 5), (i, (3 * i) % 256, 255 - i)).save(path)
        paths.append(str(path))
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and r.url.endswith(f"/projects/{p['id']}/assets") else None)
    _open(page, live, p)
    page.set_input_files("#upload-input", paths)
    page.locator("#upload-report").wait_for(timeout=60000)
    assert "230 added" in page.inner_text("#upload-report .report-head")
    assert len(posts) == 3  # 100 + 100 + 30
    assert owner.client.list_assets(p["id"], limit=1)["total"] == 230
    page.wait_for_function("document.getElementById('range')?.textContent === '1–100 of 230'")


def test_walker_and_batches_with_fakes(page, live):
    page.goto(f"{live.url}/#/projects")
    got = page.evaluate(
        """async () => {
            const u = await import('/js/dialogs/upload.js');
            const f = (name, size) => ({file: {size}, name});
            const bad = {isFile: false, isDirectory: true, name: 'locked', fullPath: '/a/locked',
                         createReader: () => ({readEntries: (ok, fail) => fail(new Error('permission denied'))})};
            const ok = {isFile: true, isDirectory: false, name: 'x.jpg', fullPath: '/a/x.jpg',
                        file: (done) => done(new File(['x'], 'x.jpg'))};
            const a = {isFile: false, isDirectory: true, name: 'a', fullPath: '/a',
                       createReader: () => { let n = 0; return {readEntries: (k) => k(n++ ? [] : [bad, ok])}; }};
            const walked = await u.walkEntries([a]);
            return {
                kinds: ['a.JPG', 'b.tiff', 'c.zip', 'd.txt', 'noext', 'e.webp'].map(u.fileKind),
                sizes: u.makeBatches([f('1', 10), f('2', 10), f('3', 50), f('4', 5), f('5', 5), f('6', 5)],
                                     {maxFiles: 2, maxBytes: 40}).map(b => b.map(i => i.name)),
                walked: {files: walked.files.map(i => i.name), failed: walked.failed},
                sorted: u.sortItems([f('a/p.png', 1), f('a/q.doc', 1)]),
            };
        }"""
    )
    assert got["kinds"] == ["image", "image", "zip", None, None, "image"]
    assert got["sizes"] == [["1", "2"], ["3"], ["4", "5"], ["6"]]  # the 50-byte file goes alone
    assert got["walked"]["files"] == ["a/x.jpg"]
    assert got["walked"]["failed"] == [{"name": "a/locked", "reason": "could not be read (permission denied)"}]
    assert [i["name"] for i in got["sorted"]["accepted"]] == ["a/p.png"]
    assert got["sorted"]["rejected"][0]["name"] == "a/q.doc"


def test_cards_show_assignees_and_counts(page, live, owner, tmp_path):
    p = _project(owner, "cards")
    for i in range(3):
        Image.new("RGB", (10, 8), (40 * i, 90, 200 - 40 * i)).save(tmp_path / f"c{i}.png")
    owner.client.upload(p["id"], [tmp_path])
    a = owner.client.list_assets(p["id"])["items"]
    helper, hc = live.new_user("assignee")
    hc.close()
    owner.client.add_member(p["id"], helper["username"], "annotator")
    owner.client.create_task(p["id"], "first batch", asset_ids=[a[0]["id"]], assignees=[helper["username"], owner.user["username"]])
    t2 = owner.client.create_task(p["id"], "nobody yet", asset_ids=[a[1]["id"]])
    owner.client.create_label(p["id"], "spot")
    owner.client.put_annotation(a[0]["id"], owner.user["username"], [
        {"kind": "box", "label": "spot", "geometry": {"x": 1, "y": 1, "w": 3, "h": 3}},
        {"kind": "box", "label": "spot", "geometry": {"x": 5, "y": 1, "w": 3, "h": 3}},
    ], base_revision=0)
    for text in ("check the left edge", "is this a spot?"):
        owner.client.add_comment(a[2]["id"], text)
    listed = owner.client.list_assets(p["id"])["items"]
    assert listed[0]["assignees"] == sorted([helper["username"], owner.user["username"]])
    assert listed[1]["assignees"] == [] and listed[2]["assignees"] == []

    _open(page, live, p)
    cards = page.locator("#asset-grid .asset-card")
    cards.nth(2).wait_for()
    first = cards.nth(0).inner_text()
    assert "in progress" in first and "2 shapes" in first
    assert helper["username"] in cards.nth(0).locator(".assignees").inner_text()
    assert f"task {t2['id']} · unassigned" in cards.nth(1).locator(".assignees").inner_text()
    assert cards.nth(2).locator(".assignees").count() == 0
    assert cards.nth(2).locator(".comment-count").inner_text() == "💬 2"
    assert cards.nth(2).locator(".comment-count").get_attribute("title") == "2 open comments"
    assert cards.nth(0).locator(".comment-count").count() == 0
    href = cards.nth(1).locator("a.asset-link").get_attribute("href")
    assert href == f"#/assets/{a[1]['id']}?project={p['id']}&i=1"


def test_next_and_prev_page_by_id(page, live, owner, tmp_path):
    p = _project(owner, "keyset")
    for i in range(205):
        Image.new("RGB", (5, 4), (i, 255 - i, (11 * i) % 256)).save(tmp_path / f"k{i:03d}.png")
    assert owner.client.upload(p["id"], [tmp_path])["counts"]["added"] == 205
    ids = [a["id"] for a in owner.client.list_assets(p["id"], limit=1000)["items"]]
    asked = []
    page.on("request", lambda r: asked.append(r.url) if f"/projects/{p['id']}/assets?" in r.url else None)
    page.goto(f"{live.url}/#/projects/{p['id']}")
    page.wait_for_function("document.getElementById('range')?.textContent === '1–100 of 205'")
    first_ids = lambda: [int(v) for v in page.eval_on_selector_all("#asset-grid .asset-card", "els => els.map(e => e.dataset.id)")]  # noqa: E731
    page.click("#page-next")
    page.wait_for_function("document.getElementById('range')?.textContent === '101–200 of 205'")
    assert first_ids() == ids[100:200] and f"after={ids[99]}" in asked[-1]
    page.click("#page-next")
    page.wait_for_function("document.getElementById('range')?.textContent === '201–205 of 205'")
    assert first_ids() == ids[200:] and f"after={ids[199]}" in asked[-1]
    assert "offset=200" in page.url  # the address still says where we are
    page.click("#page-prev")
    page.wait_for_function("document.getElementById('range')?.textContent === '101–200 of 205'")
    assert first_ids() == ids[100:200] and f"before={ids[200]}" in asked[-1]
    # an address opened directly pages by offset
    page.goto(f"{live.url}/#/projects/{p['id']}?offset=200")
    page.wait_for_function("document.getElementById('range')?.textContent === '201–205 of 205'")
    assert "offset=200" in asked[-1] and "after=" not in asked[-1]
    # the cards link to the workspace with their place in the list
    assert page.locator("#asset-grid a.asset-link").first.get_attribute("href") == f"#/assets/{ids[200]}?project={p['id']}&i=200"
