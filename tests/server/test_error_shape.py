"""Every failure answers in one JSON shape: {"detail": a sentence, "field": name or null}, plus
`current_revision` on an annotation conflict, and never a stack trace. One row per kind of failure."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

NO_ROUTE = "no such page or API route"
NO_METHOD = "this method is not allowed on this route"
LOGIN_FIRST = "log in first: send a session cookie or an Authorization: Bearer token"
BIG = 987654321
BUS = {"kind": "box", "label": "bus", "geometry": {"x": 0, "y": 0, "w": 1, "h": 1}}


@dataclass
class Env:
    admin: httpx.Client
    viewer: httpx.Client
    outsider: httpx.Client
    anonymous: httpx.Client
    session: httpx.Client  # a browser session, cookie only
    project: int
    asset: int


@pytest.fixture(scope="module")
def env(live, tmp_path_factory):
    admin = live.admin()
    p = admin.create_project("errors")
    admin.create_label(p["id"], "car", kinds=["box"])
    img = tmp_path_factory.mktemp("errors") / "one.png"
    from PIL import Image

    Image.new("RGB", (20, 10), (3, 4, 5)).save(img)
    asset = admin.upload(p["id"], [img])["added"][0]["id"]
    admin.put_annotation(asset, "admin", [], base_revision=0)  # now at revision 1
    viewer_user, viewer = live.new_user("viewer")
    admin.add_member(p["id"], viewer_user["username"], "viewer")
    outsider_user, outsider = live.new_user("outsider")
    session = httpx.Client(base_url=live.url, timeout=30)
    login = {"username": outsider_user["username"], "password": "password123"}
    assert session.post("/api/v1/auth/login", json=login).status_code == 200
    anonymous = httpx.Client(base_url=live.url, timeout=30)
    yield Env(admin._http, viewer._http, outsider._http, anonymous, session, p["id"], asset)
    for c in (admin, viewer, outsider, session, anonymous):
        c.close()



# id, request, status, field, detail (exact, or a callable check), extra keys beyond detail and field
ROWS: list = [
    ("no such route", lambda e: e.admin.get("/api/v1/no-such-route"), 404, None, NO_ROUTE, {}),
    ("no such page", lambda e: e.anonymous.get("/no/such/page.html"), 404, None, NO_ROUTE, {}),
    ("no such project", lambda e: e.admin.get(f"/api/v1/projects/{BIG}"), 404, None, f"no project with id {BIG}", {}),
    ("no such asset", lambda e: e.admin.delete(f"/api/v1/assets/{BIG}"), 404, None, f"no asset with id {BIG}", {}),
    ("no such user",
     lambda e: e.admin.post(f"/api/v1/projects/{e.project}/members", json={"username": "ghost-x", "role": "viewer"}),
     404, "username", "no user named 'ghost-x'", {}),
    ("method not allowed", lambda e: e.admin.delete("/api/v1/health"), 405, None, NO_METHOD, {}),
    ("method not allowed on a collection", lambda e: e.admin.put("/api/v1/projects", json={}), 405, None, NO_METHOD, {}),
    ("missing body field", lambda e: e.admin.post("/api/v1/projects", json={}), 422, "name", "name: Field required", {}),
    ("wrong type in body",
     lambda e: e.admin.put(f"/api/v1/assets/{e.asset}/annotations/admin", json={"base_revision": "one", "shapes": []}),
     422, "base_revision", lambda d: d.startswith("base_revision: ") and "integer" in d, {}),
    ("nested body field",
     lambda e: e.admin.post(f"/api/v1/projects/{e.project}/tasks", json={"name": "t", "asset_ids": ["x"]}),
     422, "asset_ids[0]", lambda d: d.startswith("asset_ids[0]: ") and "integer" in d, {}),
    ("several problems", lambda e: e.admin.post("/api/v1/users", json={"is_admin": "maybe"}),
     422, "username", lambda d: d.startswith("username: Field required") and d.endswith("(and 1 more problem)"), {}),
    ("bad path parameter", lambda e: e.admin.get("/api/v1/projects/abc"), 422, "project_id",
     lambda d: d.startswith("project_id: ") and "integer" in d, {}),
    ("bad query parameter",
     lambda e: e.admin.get(f"/api/v1/projects/{e.project}/assets", params={"limit": "many"}),
     422, "limit", lambda d: d.startswith("limit: "), {}),
    ("rule of the store", lambda e: e.admin.post("/api/v1/projects", json={"name": "   "}), 422, "name", lambda d: "name" in d, {}),
    ("invalid shape",
     lambda e: e.admin.put(f"/api/v1/assets/{e.asset}/annotations/other", json={"base_revision": 0, "shapes": [BUS]}),
     422, lambda f: str(f).startswith("shapes[0]"), "shapes[0]: label 'bus' is not in the project's schema", {}),
    ("malformed JSON",
     lambda e: e.admin.post("/api/v1/projects", content=b"{not json", headers={"content-type": "application/json"}),
     422, None, lambda d: d.startswith("the request body is not valid JSON"), {}),
    ("stale annotation write",
     lambda e: e.admin.put(f"/api/v1/assets/{e.asset}/annotations/admin", json={"base_revision": 0, "shapes": []}),
     409, "base_revision", lambda d: "it is at revision 1" in d, {"current_revision": 1}),
    ("duplicate label", lambda e: e.admin.post(f"/api/v1/projects/{e.project}/labels", json={"name": "car"}),
     409, "name", "label 'car' exists already in this project", {}),
    ("anonymous", lambda e: e.anonymous.get("/api/v1/projects"), 401, None, LOGIN_FIRST, {}),
    ("unknown token",
     lambda e: e.anonymous.get("/api/v1/projects", headers={"Authorization": "Bearer lmn_nope"}),
     401, None, "the API token is not valid: revoked, expired or mistyped", {}),
    ("wrong password",
     lambda e: e.anonymous.post("/api/v1/auth/login", json={"username": "admin", "password": "nope-nope"}),
     401, "password", "wrong username or password", {}),
    ("not a member", lambda e: e.outsider.get(f"/api/v1/projects/{e.project}"), 403, None, "you are not a member of this project", {}),
    ("role too low", lambda e: e.viewer.patch(f"/api/v1/projects/{e.project}", json={"name": "x"}), 403, None,
     "this needs the manager role or higher; you are viewer", {}),
    ("administrators only", lambda e: e.viewer.get("/api/v1/settings"), 403, None, "only an administrator may do this", {}),
    ("no CSRF header", lambda e: e.session.post("/api/v1/projects", json={"name": "x"}), 403, None,
     "a browser session needs the X-CSRF-Token header (from the limner_csrf cookie) on writes", {}),
]


def _param(row):
    return row if hasattr(row, "marks") else pytest.param(*row, id=row[0])


@pytest.mark.parametrize("name, send, status, field, detail, extra", [_param(r) for r in ROWS])
def test_one_error_shape(env, name, send, status, field, detail, extra):
    r = send(env)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) == {"detail", "field"} | set(extra), body
    got = body["detail"]
    assert isinstance(got, str) and got.strip() == got and 0 < len(got) < 300
    assert "Traceback" not in got and 'File "' not in got and "Error(" not in got
    if callable(detail):
        assert detail(got), got
    else:
        assert got == detail
    if callable(field):
        assert field(body["field"]), body
    else:
        assert body["field"] == field
    for k, v in extra.items():
        assert body[k] == v


def test_every_status_in_the_table():
    """The table covers each status the API answers with for a client's mistake."""
    statuses = {(r.values if hasattr(r, "values") else r)[2] for r in ROWS}
    assert statuses >= {401, 403, 404, 405, 409, 422}
