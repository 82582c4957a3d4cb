"""Every route of the app, called as every kind of user: who is let in and who is turned away.

The expected table below is written out by hand, independently of `limner.server.permissions.POLICY`
and of the routers' special cases, so a change to either shows up here as a failing cell. Each
cell is its own test: (route, variant) x (anonymous, non-member, viewer … owner, site admin).
Allowed means the request succeeds (2xx/3xx); denied means 401 anonymously and 403 otherwise.

A route that the app serves but the table does not list fails `test_every_route_is_in_the_matrix`,
so a new route cannot skip the matrix.
"""

from __future__ import annotations

import io
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi.routing import APIRoute
from PIL import Image

from limner.client import Client

API = "/api/v1"
ROLES = ("viewer", "annotator", "reviewer", "manager", "owner")
IDENTITIES = ("anonymous", "non-member", *ROLES, "admin")

# Who may call each route. A project role means that role or higher (and any site admin); the
# markers are: "public" anyone, logged in or not; "login" any logged-in user; "admin" site
# administrators only; "nobody" no one at all (401 anonymously, 403 for everyone else).
# A dict names the variants of one route whose answer depends on the body or the object.
EXPECTED: dict[tuple[str, str], str | dict[str, str]] = {
    # meta, auth, tokens
    ("GET", "/api/v1/health"): "public",
    ("GET", "/api/v1/settings"): "admin",
    ("POST", "/api/v1/auth/login"): "public",
    ("POST", "/api/v1/auth/logout"): "public",
    ("GET", "/api/v1/auth/me"): "login",
    ("GET", "/api/v1/tokens"): "login",
    ("POST", "/api/v1/tokens"): "login",
    ("DELETE", "/api/v1/tokens/{token_id}"): "login",
    ("GET", "/login"): "public",
    # users
    ("GET", "/api/v1/users"): "login",
    ("POST", "/api/v1/users"): "admin",
    ("GET", "/api/v1/users/{user_id}"): "login",
    ("PATCH", "/api/v1/users/{user_id}"): {
        "self, display name": "login",
        "self, password": "login",
        "self, is_active": "admin",
        "self, is_admin": "admin",
        "another user": "admin",
    },
    # projects and members
    ("GET", "/api/v1/projects"): "login",
    ("POST", "/api/v1/projects"): "login",
    ("GET", "/api/v1/projects/{project_id}"): "viewer",
    ("PATCH", "/api/v1/projects/{project_id}"): "manager",
    ("DELETE", "/api/v1/projects/{project_id}"): "owner",
    ("GET", "/api/v1/projects/{project_id}/members"): "viewer",
    ("POST", "/api/v1/projects/{project_id}/members"): {"as annotator": "manager", "as owner": "owner"},
    ("PATCH", "/api/v1/projects/{project_id}/members/{user_id}"): {
        "annotator to reviewer": "manager",
        "annotator to owner": "owner",
        "owner to manager": "owner",
    },
    ("DELETE", "/api/v1/projects/{project_id}/members/{user_id}"): {"an annotator": "manager", "an owner": "owner"},
    # label schema
    ("GET", "/api/v1/projects/{project_id}/labels"): "viewer",
    ("POST", "/api/v1/projects/{project_id}/labels"): "manager",
    ("PATCH", "/api/v1/projects/{project_id}/labels/{label_id}"): "manager",
    ("DELETE", "/api/v1/projects/{project_id}/labels/{label_id}"): "manager",
    # assets
    ("GET", "/api/v1/projects/{project_id}/assets"): "viewer",
    ("POST", "/api/v1/projects/{project_id}/assets"): "manager",
    ("POST", "/api/v1/projects/{project_id}/assets/import"): {
        "public url": "manager",
        "url on this machine": "admin",
        "server folder": "admin",
    },
    ("GET", "/api/v1/assets/{asset_id}"): "viewer",
    ("PATCH", "/api/v1/assets/{asset_id}"): {
        "no change": "viewer",
        "status in_progress": "annotator",
        "status review": "annotator",
        "status done": "reviewer",
        "reopen a done asset": "reviewer",
        "move to a task": "manager",
    },
    ("DELETE", "/api/v1/assets/{asset_id}"): "manager",
    ("GET", "/api/v1/assets/{asset_id}/image"): "viewer",
    ("GET", "/api/v1/assets/{asset_id}/thumbnail"): "viewer",
    # tasks
    ("GET", "/api/v1/projects/{project_id}/tasks"): "viewer",
    ("POST", "/api/v1/projects/{project_id}/tasks"): "manager",
    ("GET", "/api/v1/tasks/{task_id}"): "viewer",
    ("PATCH", "/api/v1/tasks/{task_id}"): {
        "stage review": "annotator",
        "stage done": "reviewer",
        "reopen a done task": "reviewer",
        "name": "manager",
        "assignees": "manager",
        "stage and name": "manager",
    },
    ("DELETE", "/api/v1/tasks/{task_id}"): "manager",
    # annotations
    ("GET", "/api/v1/assets/{asset_id}/annotations"): "viewer",
    ("GET", "/api/v1/projects/{project_id}/owners"): "viewer",
    ("GET", "/api/v1/assets/{asset_id}/annotations/{owner}"): "viewer",
    ("PUT", "/api/v1/assets/{asset_id}/annotations/{owner}"): {"own": "annotator", "another owner's": "reviewer"},
    ("DELETE", "/api/v1/assets/{asset_id}/annotations/{owner}"): {"own": "annotator", "another owner's": "reviewer"},
    # comments
    ("GET", "/api/v1/assets/{asset_id}/comments"): "viewer",
    ("POST", "/api/v1/assets/{asset_id}/comments"): "annotator",
    ("PATCH", "/api/v1/comments/{comment_id}"): {
        "own, text": "annotator",
        "own, resolve": "annotator",
        "another's, resolve": "reviewer",
        "another's, text": "nobody",
    },
    ("DELETE", "/api/v1/comments/{comment_id}"): {"own": "annotator", "another's": "reviewer"},
    # jobs and audit
    ("GET", "/api/v1/projects/{project_id}/jobs"): "viewer",
    ("GET", "/api/v1/jobs/{job_id}"): "viewer",
    ("POST", "/api/v1/jobs/{job_id}/cancel"): "manager",
    ("GET", "/api/v1/projects/{project_id}/audit"): "manager",
    ("GET", "/api/v1/audit"): "admin",
    # dataset formats, exports and imports
    ("GET", "/api/v1/formats"): "login",
    ("POST", "/api/v1/projects/{project_id}/exports"): "viewer",
    ("GET", "/api/v1/jobs/{job_id}/download"): "viewer",
    ("POST", "/api/v1/projects/{project_id}/imports"): {
        "a zip, as oneself": "manager",
        "a zip, for another owner": "manager",
        "a server path": "admin",
    },
    # quality
    ("GET", "/api/v1/projects/{project_id}/checks"): "viewer",
    ("POST", "/api/v1/assets/{asset_id}/consensus"): "reviewer",
    # models and assistance
    ("GET", "/api/v1/projects/{project_id}/models"): "viewer",
    ("POST", "/api/v1/projects/{project_id}/models"): {"a built-in": "manager", "a model file elsewhere on the server": "admin"},
    ("DELETE", "/api/v1/models/{model_id}"): {"a project's": "manager", "a site-wide one": "admin"},
    ("POST", "/api/v1/models/{model_id}/test"): "manager",
    ("GET", "/api/v1/projects/{project_id}/models/acceptance"): "viewer",
    ("GET", "/api/v1/assist/tools"): {"built-ins": "login", "with a project's models": "viewer"},
    ("POST", "/api/v1/assets/{asset_id}/assist/{tool}"): "annotator",
    ("POST", "/api/v1/assets/{asset_id}/assist/{tool}/precompute"): "annotator",
    ("POST", "/api/v1/assets/{asset_id}/assist/{tool}/keep"): {"a new name": "annotator", "replacing another's": "manager"},
    ("POST", "/api/v1/projects/{project_id}/prelabel"): "manager",
    ("POST", "/api/v1/assets/{asset_id}/consensus/preview"): "reviewer",
    ("POST", "/api/v1/projects/{project_id}/consensus"): "reviewer",
    ("GET", "/api/v1/projects/{project_id}/quality"): "reviewer",
    ("GET", "/api/v1/projects/{project_id}/quality/settings"): "viewer",
    ("PATCH", "/api/v1/projects/{project_id}/quality/settings"): "manager",
    # review workflow
    ("GET", "/api/v1/projects/{project_id}/queue"): "annotator",
    ("POST", "/api/v1/assets/{asset_id}/annotations/{owner}/submit"): {"own": "annotator", "another owner's": "reviewer"},
    ("POST", "/api/v1/assets/{asset_id}/annotations/{owner}/review"): "reviewer",
    ("PUT", "/api/v1/assets/{asset_id}/annotations/{owner}/shapes/{index}/review"): "reviewer",
    ("GET", "/api/v1/assets/{asset_id}/review"): "viewer",
    ("POST", "/api/v1/assets/{asset_id}/review"): "reviewer",
    ("GET", "/api/v1/projects/{project_id}/ground-truth"): "manager",
    ("PUT", "/api/v1/assets/{asset_id}/ground-truth"): "manager",
    ("DELETE", "/api/v1/assets/{asset_id}/ground-truth"): "manager",
}

# Cells that show a bug in src/: (method, path, identity) -> what goes wrong (none open).
KNOWN_BUGS: dict[tuple[str, str, str], str] = {}


def app_routes() -> set[tuple[str, str]]:
    """(method, path template) of every API route, mounted as `create_app` mounts them."""
    from limner.server.routers import ROUTERS, browser

    out = set()
    for prefix, routers in ((API, ROUTERS), ("", [browser.router])):
        for router in routers:
            for route in router.routes:
                if isinstance(route, APIRoute):
                    out |= {(m, prefix + route.path) for m in route.methods}
    return out


def expected(need: str, who: str) -> str | int:
    """"allowed", 401 or 403 for an identity on a route that needs `need`."""
    if need == "public":
        return "allowed"
    if who == "anonymous":
        return 401
    if need == "nobody":
        return 403
    if who == "admin" or need == "login":
        return "allowed"
    if need == "admin" or who == "non-member":
        return 403
    return "allowed" if ROLES.index(who) >= ROLES.index(need) else 403


def _variants(spec: str | dict[str, str]) -> list[tuple[str | None, str]]:
    return list(spec.items()) if isinstance(spec, dict) else [(None, spec)]


def _cases() -> list:
    out = []
    for (method, path), spec in EXPECTED.items():
        for (variant, need), who in itertools.product(_variants(spec), IDENTITIES):
            label = f"{method} {path.removeprefix(API)}{f' ({variant})' if variant else ''} as {who}"
            bug = KNOWN_BUGS.get((method, path, who))
            marks = [pytest.mark.xfail(reason=bug, strict=True)] if bug else []
            out.append(pytest.param(method, path, variant, need, who, id=label, marks=marks))
    return out


# --- the world the requests act on -------------------------------------------------------------


def png(n: int, size: tuple[int, int] = (32, 24)) -> bytes:
    """A small PNG whose pixels (and so checksum) are unique to n."""
    buf = io.BytesIO()
    Image.new("RGB", size, (n % 251, (n // 251) % 251, 90)).save(buf, "PNG")
    return buf.getvalue()


BOX = {"kind": "box", "label": "car", "geometry": {"x": 1, "y": 1, "w": 4, "h": 3}}


@dataclass
class Who:
    name: str
    client: Client
    user: dict | None = None

    @property
    def id(self) -> int | None:
        return self.user["id"] if self.user else None

    @property
    def username(self) -> str | None:
        return self.user["username"] if self.user else None


@dataclass
class World:
    live: object
    root: Client  # the fixture's admin: sets things up, never the subject of a check
    folder: object
    who: dict[str, Who] = field(default_factory=dict)
    project: int = 0
    label: int = 0
    asset: int = 0
    task: int = 0
    job: int = 0
    victim: dict = field(default_factory=dict)
    imports: object = None
    exchange: int = 0
    export_job: int = 0
    export_zip: bytes = b""
    _n: itertools.count = field(default_factory=lambda: itertools.count(1000))
    _pool: list[int] = field(default_factory=list)

    def n(self) -> int:
        return next(self._n)

    def name(self, prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:8]}"

    def upload(self, project_id: int, count: int) -> list[int]:
        paths = []
        for _ in range(count):
            p = self.folder / f"img{self.n()}.png"
            p.write_bytes(png(self.n()))
            paths.append(p)
        report = self.root.upload(project_id, paths)
        assert report["counts"]["added"] == count, report
        return [a["id"] for a in report["added"]]

    # throwaway objects, one per request that changes or destroys something

    def fresh_project(self) -> int:
        owner = self.who["owner"].client
        p = owner.create_project(self.name("throwaway"))
        for role in ROLES[:-1]:
            owner.add_member(p["id"], self.who[role].username, role)
        return p["id"]

    def fresh_asset(self, status: str | None = None) -> int:
        if not self._pool:
            self._pool = self.upload(self.project, 24)
        aid = self._pool.pop()
        if status:
            self.root.update_asset(aid, status=status)
        return aid

    def fresh_task(self, stage: str | None = None) -> int:
        t = self.root.create_task(self.project, self.name("task"))
        if stage:
            self.root.update_task(t["id"], stage=stage)
        return t["id"]

    def fresh_user(self) -> dict:
        return self.root.create_user(self.name("member"))

    def fresh_member(self, role: str) -> int:
        u = self.fresh_user()
        self.root.add_member(self.project, u["username"], role)
        return u["id"]

    def fresh_label(self) -> int:
        return self.root.create_label(self.project, self.name("label"), kinds=["box"])["id"]

    def fresh_comment(self, author_id: int) -> int:
        """Written straight to the store: a viewer or a removed member may be the author of a
        comment written before their role changed."""
        from limner.store import comments
        from limner.store.models import Asset, User

        with self.live.services.db.write() as s:
            return comments.create_comment(s, s.get(Asset, self.asset), s.get(User, author_id), "throwaway")["id"]

    def revision(self, owner: str) -> int:
        return self.root.get_annotation(self.asset, owner)["revision"]

    def fresh_annotation(self, owner: str) -> str:
        self.root.put_annotation(self.asset, owner, [BOX], base_revision=self.revision(owner))
        return owner


@pytest.fixture(scope="module")
def world(live, tmp_path_factory) -> World:
    folder = tmp_path_factory.mktemp("matrix")
    w = World(live, live.admin(), folder)
    w.who["anonymous"] = Who("anonymous", live.client())
    _, c = live.new_user("outsider")
    w.who["non-member"] = Who("non-member", c, c.me())
    for role in ROLES:
        _, c = live.new_user(role)
        w.who[role] = Who(role, c, c.me())
    _, c = live.new_user("siteadmin", admin=True)
    w.who["admin"] = Who("admin", c, c.me())
    w.victim = w.fresh_user()

    owner = w.who["owner"].client
    p = owner.create_project(w.name("matrix"))
    w.project = p["id"]
    for role in ROLES[:-1]:
        owner.add_member(w.project, w.who[role].username, role)
    w.label = owner.create_label(w.project, "car", kinds=["box"])["id"]
    (w.asset,) = w.upload(w.project, 1)
    w.fresh_annotation("admin")
    w.task = w.root.create_task(w.project, "shared", asset_ids=[w.asset])["id"]
    w.root.add_comment(w.asset, "shared comment")
    imports = folder / "server-folder"
    imports.mkdir()
    (imports / "one.png").write_bytes(png(1))
    job = w.root.import_paths(w.project, [str(imports)])
    w.job = job["id"]
    assert w.root.wait_job(w.job, timeout=60)["status"] == "done"
    w.imports = imports
    w.exchange = w.fresh_project()
    w.upload(w.exchange, 1)
    export = w.root.request("POST", f"/projects/{w.exchange}/exports", json={"format": "coco"}).json()
    assert w.root.wait_job(export["id"], timeout=60)["status"] == "done"
    w.export_job = export["id"]
    w.export_zip = w.root.request("GET", f"/jobs/{w.export_job}/download").content
    assert w.export_zip.startswith(b"PK")
    yield w
    for who in w.who.values():
        who.client.close()
    w.root.close()


# --- one request per (route, variant): the concrete path and body for an identity -------------

Build = Callable[[World, Who], tuple[str, dict]]
BUILD: dict[tuple[str, str, str | None], Build] = {}


def build(method: str, path: str, variant: str | None = None):
    def deco(fn: Build) -> Build:
        BUILD[(method, path, variant)] = fn
        return fn

    return deco


def _own(w: World, who: Who) -> int:
    """The identity's own user id, or (anonymously) someone's."""
    return who.id if who.user else w.victim["id"]


build("GET", "/api/v1/health")(lambda w, who: ("/api/v1/health", {}))
build("GET", "/api/v1/settings")(lambda w, who: ("/api/v1/settings", {}))
build("POST", "/api/v1/auth/login")(
    lambda w, who: ("/api/v1/auth/login", {"json": {"username": w.who["viewer"].username, "password": "password123"}})
)
build("POST", "/api/v1/auth/logout")(lambda w, who: ("/api/v1/auth/logout", {}))
build("GET", "/api/v1/auth/me")(lambda w, who: ("/api/v1/auth/me", {}))
build("GET", "/api/v1/tokens")(lambda w, who: ("/api/v1/tokens", {}))
build("POST", "/api/v1/tokens")(lambda w, who: ("/api/v1/tokens", {"json": {"name": "matrix"}}))
build("GET", "/login")(lambda w, who: ("/login", {}))


@build("DELETE", "/api/v1/tokens/{token_id}")
def _(w, who):
    maker = who.client if who.user else w.root
    return f"/api/v1/tokens/{maker.create_token('throwaway')['id']}", {}


build("GET", "/api/v1/users")(lambda w, who: ("/api/v1/users", {}))
build("POST", "/api/v1/users")(lambda w, who: ("/api/v1/users", {"json": {"username": w.name("new")}}))
build("GET", "/api/v1/users/{user_id}")(lambda w, who: (f"/api/v1/users/{w.victim['id']}", {}))
U = "/api/v1/users/{user_id}"
build("PATCH", U, "self, display name")(
    lambda w, who: (f"/api/v1/users/{_own(w, who)}", {"json": {"display_name": f"{who.name} renamed"}})
)
# the same password again, so the viewer can still log in for the auth/login cell
build("PATCH", U, "self, password")(lambda w, who: (f"/api/v1/users/{_own(w, who)}", {"json": {"password": "password123"}}))
build("PATCH", U, "self, is_active")(lambda w, who: (f"/api/v1/users/{_own(w, who)}", {"json": {"is_active": True}}))
# asks for the flag the user has already: only the asking is checked
build("PATCH", U, "self, is_admin")(
    lambda w, who: (f"/api/v1/users/{_own(w, who)}", {"json": {"is_admin": who.name == "admin"}})
)
build("PATCH", U, "another user")(lambda w, who: (f"/api/v1/users/{w.victim['id']}", {"json": {"display_name": "changed"}}))

P = "/api/v1/projects/{project_id}"
build("GET", "/api/v1/projects")(lambda w, who: ("/api/v1/projects", {}))
build("POST", "/api/v1/projects")(lambda w, who: ("/api/v1/projects", {"json": {"name": w.name("mine")}}))
build("GET", P)(lambda w, who: (f"/api/v1/projects/{w.project}", {}))
build("PATCH", P)(lambda w, who: (f"/api/v1/projects/{w.project}", {"json": {"description": f"edited by {who.name}"}}))
build("DELETE", P)(lambda w, who: (f"/api/v1/projects/{w.fresh_project()}", {}))

M = P + "/members"
build("GET", M)(lambda w, who: (f"/api/v1/projects/{w.project}/members", {}))
for _variant, _role in (("as annotator", "annotator"), ("as owner", "owner")):
    build("POST", M, _variant)(
        lambda w, who, role=_role: (
            f"/api/v1/projects/{w.project}/members", {"json": {"username": w.fresh_user()["username"], "role": role}}
        )
    )
for _variant, (_was, _now) in {
    "annotator to reviewer": ("annotator", "reviewer"),
    "annotator to owner": ("annotator", "owner"),
    "owner to manager": ("owner", "manager"),
}.items():
    build("PATCH", M + "/{user_id}", _variant)(
        lambda w, who, was=_was, now=_now: (
            f"/api/v1/projects/{w.project}/members/{w.fresh_member(was)}", {"json": {"role": now}}
        )
    )
for _variant, _was in (("an annotator", "annotator"), ("an owner", "owner")):
    build("DELETE", M + "/{user_id}", _variant)(
        lambda w, who, was=_was: (f"/api/v1/projects/{w.project}/members/{w.fresh_member(was)}", {})
    )

L = P + "/labels"
build("GET", L)(lambda w, who: (f"/api/v1/projects/{w.project}/labels", {}))
build("POST", L)(lambda w, who: (f"/api/v1/projects/{w.project}/labels", {"json": {"name": w.name("lbl"), "kinds": ["box"]}}))
build("PATCH", L + "/{label_id}")(
    lambda w, who: (f"/api/v1/projects/{w.project}/labels/{w.label}", {"json": {"color": "#00aa00"}})
)
build("DELETE", L + "/{label_id}")(lambda w, who: (f"/api/v1/projects/{w.project}/labels/{w.fresh_label()}", {}))

build("GET", P + "/assets")(lambda w, who: (f"/api/v1/projects/{w.project}/assets", {}))
build("POST", P + "/assets")(
    lambda w, who: (
        f"/api/v1/projects/{w.project}/assets",
        {"files": [("files", (f"up{w.n()}.png", png(w.n()), "image/png"))]},
    )
)
# a host that never resolves (RFC 6761): allowed to managers, and the job fails at once
build("POST", P + "/assets/import", "public url")(
    lambda w, who: (f"/api/v1/projects/{w.project}/assets/import", {"json": {"paths": ["http://images.invalid/a.png"]}})
)
build("POST", P + "/assets/import", "url on this machine")(
    lambda w, who: (f"/api/v1/projects/{w.project}/assets/import", {"json": {"paths": [f"{w.live.url}/missing.png"]}})
)
build("POST", P + "/assets/import", "server folder")(
    lambda w, who: (f"/api/v1/projects/{w.project}/assets/import", {"json": {"paths": [str(w.imports)]}})
)
A = "/api/v1/assets/{asset_id}"
build("GET", A)(lambda w, who: (f"/api/v1/assets/{w.asset}", {}))
build("PATCH", A, "no change")(lambda w, who: (f"/api/v1/assets/{w.asset}", {"json": {}}))
build("PATCH", A, "status in_progress")(lambda w, who: (f"/api/v1/assets/{w.fresh_asset()}", {"json": {"status": "in_progress"}}))
build("PATCH", A, "status review")(lambda w, who: (f"/api/v1/assets/{w.fresh_asset()}", {"json": {"status": "review"}}))
build("PATCH", A, "status done")(lambda w, who: (f"/api/v1/assets/{w.fresh_asset()}", {"json": {"status": "done"}}))
build("PATCH", A, "reopen a done asset")(
    lambda w, who: (f"/api/v1/assets/{w.fresh_asset('done')}", {"json": {"status": "in_progress"}})
)
build("PATCH", A, "move to a task")(lambda w, who: (f"/api/v1/assets/{w.fresh_asset()}", {"json": {"task_id": w.task}}))
build("DELETE", A)(lambda w, who: (f"/api/v1/assets/{w.fresh_asset()}", {}))
build("GET", A + "/image")(lambda w, who: (f"/api/v1/assets/{w.asset}/image", {}))
build("GET", A + "/thumbnail")(lambda w, who: (f"/api/v1/assets/{w.asset}/thumbnail", {}))

T = "/api/v1/tasks/{task_id}"
build("GET", P + "/tasks")(lambda w, who: (f"/api/v1/projects/{w.project}/tasks", {}))
build("POST", P + "/tasks")(lambda w, who: (f"/api/v1/projects/{w.project}/tasks", {"json": {"name": "by " + who.name}}))
build("GET", T)(lambda w, who: (f"/api/v1/tasks/{w.task}", {}))
build("PATCH", T, "stage review")(lambda w, who: (f"/api/v1/tasks/{w.fresh_task()}", {"json": {"stage": "review"}}))
build("PATCH", T, "stage done")(lambda w, who: (f"/api/v1/tasks/{w.fresh_task('review')}", {"json": {"stage": "done"}}))
build("PATCH", T, "reopen a done task")(
    lambda w, who: (f"/api/v1/tasks/{w.fresh_task('done')}", {"json": {"stage": "annotate"}})
)
build("PATCH", T, "name")(lambda w, who: (f"/api/v1/tasks/{w.fresh_task()}", {"json": {"name": "renamed"}}))
build("PATCH", T, "assignees")(
    lambda w, who: (f"/api/v1/tasks/{w.fresh_task()}", {"json": {"assignees": [w.who["annotator"].username]}})
)
build("PATCH", T, "stage and name")(
    lambda w, who: (f"/api/v1/tasks/{w.fresh_task()}", {"json": {"stage": "review", "name": "renamed"}})
)
build("DELETE", T)(lambda w, who: (f"/api/v1/tasks/{w.fresh_task()}", {}))

AN = A + "/annotations"
build("GET", AN)(lambda w, who: (f"/api/v1/assets/{w.asset}/annotations", {}))
build("GET", AN + "/{owner}")(lambda w, who: (f"/api/v1/assets/{w.asset}/annotations/admin", {}))


def _own_name(who: Who) -> str:
    return who.username or "nobody"


build("PUT", AN + "/{owner}", "own")(
    lambda w, who: (
        f"/api/v1/assets/{w.asset}/annotations/{_own_name(who)}",
        {"json": {"base_revision": w.revision(_own_name(who)), "shapes": [BOX]}},
    )
)
build("PUT", AN + "/{owner}", "another owner's")(
    lambda w, who: (
        f"/api/v1/assets/{w.asset}/annotations/model-a",
        {"json": {"base_revision": w.revision("model-a"), "shapes": [BOX]}},
    )
)
build("DELETE", AN + "/{owner}", "own")(
    lambda w, who: (f"/api/v1/assets/{w.asset}/annotations/{w.fresh_annotation(_own_name(who))}", {})
)
build("DELETE", AN + "/{owner}", "another owner's")(
    lambda w, who: (f"/api/v1/assets/{w.asset}/annotations/{w.fresh_annotation(w.name('someone'))}", {})
)

C = "/api/v1/comments/{comment_id}"
build("GET", A + "/comments")(lambda w, who: (f"/api/v1/assets/{w.asset}/comments", {}))
build("POST", A + "/comments")(lambda w, who: (f"/api/v1/assets/{w.asset}/comments", {"json": {"body": "looks off"}}))


def _mine(w: World, who: Who) -> int:
    return w.fresh_comment(who.id if who.user else w.victim["id"])


def _theirs(w: World, who: Who) -> int:
    return w.fresh_comment(w.victim["id"])


build("PATCH", C, "own, text")(lambda w, who: (f"/api/v1/comments/{_mine(w, who)}", {"json": {"body": "edited"}}))
build("PATCH", C, "own, resolve")(lambda w, who: (f"/api/v1/comments/{_mine(w, who)}", {"json": {"resolved": True}}))
build("PATCH", C, "another's, resolve")(lambda w, who: (f"/api/v1/comments/{_theirs(w, who)}", {"json": {"resolved": True}}))
build("PATCH", C, "another's, text")(lambda w, who: (f"/api/v1/comments/{_theirs(w, who)}", {"json": {"body": "edited"}}))
build("DELETE", C, "own")(lambda w, who: (f"/api/v1/comments/{_mine(w, who)}", {}))
build("DELETE", C, "another's")(lambda w, who: (f"/api/v1/comments/{_theirs(w, who)}", {}))

build("GET", P + "/jobs")(lambda w, who: (f"/api/v1/projects/{w.project}/jobs", {}))
build("GET", P + "/owners")(lambda w, who: (f"/api/v1/projects/{w.project}/owners", {}))
build("GET", "/api/v1/jobs/{job_id}")(lambda w, who: (f"/api/v1/jobs/{w.job}", {}))
build("POST", "/api/v1/jobs/{job_id}/cancel")(lambda w, who: (f"/api/v1/jobs/{w.job}/cancel", {}))
build("GET", P + "/audit")(lambda w, who: (f"/api/v1/projects/{w.project}/audit", {}))
build("GET", "/api/v1/audit")(lambda w, who: ("/api/v1/audit", {}))

# exports and imports act on their own project, so their jobs never touch the shared one
build("GET", "/api/v1/formats")(lambda w, who: ("/api/v1/formats", {}))
build("POST", P + "/exports")(lambda w, who: (f"/api/v1/projects/{w.exchange}/exports", {"json": {"format": "coco"}}))
build("GET", "/api/v1/jobs/{job_id}/download")(lambda w, who: (f"/api/v1/jobs/{w.export_job}/download", {}))
build("POST", P + "/imports", "a zip, as oneself")(
    lambda w, who: (
        f"/api/v1/projects/{w.exchange}/imports",
        {"files": {"file": ("export.zip", w.export_zip, "application/zip")}, "data": {"format": "coco"}},
    )
)
build("POST", P + "/imports", "a zip, for another owner")(
    lambda w, who: (
        f"/api/v1/projects/{w.exchange}/imports",
        {"files": {"file": ("export.zip", w.export_zip, "application/zip")}, "data": {"format": "coco", "owner": "model-b"}},
    )
)
build("POST", P + "/imports", "a server path")(
    lambda w, who: (f"/api/v1/projects/{w.exchange}/imports", {"data": {"path": str(w.imports), "format": "coco"}})
)

# quality: the consensus merges two annotations written for it (by the fixture's admin)
build("GET", P + "/checks")(lambda w, who: (f"/api/v1/projects/{w.project}/checks", {}))
build("POST", A + "/consensus")(
    lambda w, who: (
        f"/api/v1/assets/{w.asset}/consensus",
        {"json": {"owners": [w.fresh_annotation("qa-one"), w.fresh_annotation("qa-two")]}},
    )
)
build("POST", A + "/consensus/preview")(
    lambda w, who: (
        f"/api/v1/assets/{w.asset}/consensus/preview",
        {"json": {"owners": [w.fresh_annotation("qa-one"), w.fresh_annotation("qa-two")]}},
    )
)

build("POST", P + "/consensus")(
    lambda w, who: (f"/api/v1/projects/{w.project}/consensus", {"json": {"asset_ids": [w.asset]}})
)


# models and assistance: models made by the fixture's admin, one per request that removes one
def _model(w: World, kind: str = "interactor", *, site: bool = False) -> dict:
    if site:
        from limner.store.assistants import create_model

        with w.live.services.db.write() as s:
            m = create_model(s, None, w.name("site"), "interactor", "builtin", {"tool": "magic_wand"}, None)
            return {"id": m.id, "name": m.name}
    if kind == "detector":
        return w.root.add_model(w.project, w.name("det"), "detector", "onnx_yolo", {"path": _yolo_path(w)})
    return w.root.add_model(w.project, w.name("wand"), "interactor", "builtin", {"tool": "magic_wand"})


def _yolo_path(w: World) -> str:
    path = w.folder / "det.onnx"
    if not path.exists():
        import numpy as np

        from ..assist._onnx_models import yolo

        cand = np.zeros((5, 20), np.float32)
        cand[:, 0] = [16, 12, 8, 6, 0.9]
        yolo(path, cand, side=32, names={0: "car"})
    return str(path)


MO = "/api/v1/models/{model_id}"
build("GET", P + "/models")(lambda w, who: (f"/api/v1/projects/{w.project}/models", {}))
build("POST", P + "/models", "a built-in")(
    lambda w, who: (f"/api/v1/projects/{w.project}/models",
                    {"json": {"name": w.name("wand"), "kind": "interactor", "type": "builtin", "config": {"tool": "magic_wand"}}})
)  # fmt: skip
build("POST", P + "/models", "a model file elsewhere on the server")(
    lambda w, who: (f"/api/v1/projects/{w.project}/models",
                    {"json": {"name": w.name("det"), "kind": "detector", "type": "onnx_yolo", "config": {"path": _yolo_path(w)}}})
)  # fmt: skip
build("DELETE", MO, "a project's")(lambda w, who: (f"/api/v1/models/{_model(w)['id']}", {}))
build("DELETE", MO, "a site-wide one")(lambda w, who: (f"/api/v1/models/{_model(w, site=True)['id']}", {}))
build("POST", MO + "/test")(lambda w, who: (f"/api/v1/models/{_model(w)['id']}/test", {}))
build("GET", P + "/models/acceptance")(lambda w, who: (f"/api/v1/projects/{w.project}/models/acceptance", {}))
build("GET", "/api/v1/assist/tools", "built-ins")(lambda w, who: ("/api/v1/assist/tools", {}))
build("GET", "/api/v1/assist/tools", "with a project's models")(
    lambda w, who: (f"/api/v1/assist/tools?project_id={w.project}", {})
)
build("POST", A + "/assist/{tool}")(
    lambda w, who: (f"/api/v1/assets/{w.asset}/assist/magic_wand", {"json": {"prompt": {"positive": [[2, 2]]}}})
)
build("POST", A + "/assist/{tool}/precompute")(lambda w, who: (f"/api/v1/assets/{w.asset}/assist/magic_wand/precompute", {}))
KEEP = {"positive": [[2, 2]]}  # a click: the image's frame stands for background


def _kept(w: World) -> str:
    """A scribble classifier kept by the fixture's admin."""
    name = w.name("kept")
    w.root._json("POST", f"/assets/{w.asset}/assist/scribble/keep", json={"name": name, "prompt": KEEP})
    return name


build("POST", A + "/assist/{tool}/keep", "a new name")(
    lambda w, who: (f"/api/v1/assets/{w.asset}/assist/scribble/keep", {"json": {"name": w.name("kept"), "prompt": KEEP}})
)
build("POST", A + "/assist/{tool}/keep", "replacing another's")(
    lambda w, who: (f"/api/v1/assets/{w.asset}/assist/scribble/keep",
                    {"json": {"name": _kept(w), "prompt": KEEP, "replace": True}})
)  # fmt: skip
build("POST", P + "/prelabel")(
    lambda w, who: (f"/api/v1/projects/{w.project}/prelabel",
                    {"json": {"model": _model(w, "detector")["name"], "asset_ids": [w.asset], "overwrite": True}})
)  # fmt: skip
build("GET", P + "/quality")(lambda w, who: (f"/api/v1/projects/{w.project}/quality", {}))
build("GET", P + "/quality/settings")(lambda w, who: (f"/api/v1/projects/{w.project}/quality/settings", {}))
build("PATCH", P + "/quality/settings")(
    lambda w, who: (f"/api/v1/projects/{w.project}/quality/settings", {"json": {"retrain_threshold": 0.8}})
)


# review workflow: each write acts on an annotation (or asset) of its own


def _annotated(w: World, owner: str, *, submitted: bool = False) -> int:
    aid = w.fresh_asset()
    w.root.put_annotation(aid, owner, [BOX], base_revision=0)
    if submitted:
        w.root.request("POST", f"/assets/{aid}/annotations/{owner}/submit")
    return aid


build("GET", P + "/queue")(lambda w, who: (f"/api/v1/projects/{w.project}/queue", {}))
AO = AN + "/{owner}"
build("POST", AO + "/submit", "own")(
    lambda w, who: (f"/api/v1/assets/{_annotated(w, _own_name(who))}/annotations/{_own_name(who)}/submit", {})
)
build("POST", AO + "/submit", "another owner's")(
    lambda w, who, name="someone-else": (f"/api/v1/assets/{_annotated(w, name)}/annotations/{name}/submit", {})
)
build("POST", AO + "/review")(
    lambda w, who: (
        f"/api/v1/assets/{_annotated(w, 'worker', submitted=True)}/annotations/worker/review", {"json": {"verdict": "accept"}}
    )
)
build("PUT", AO + "/shapes/{index}/review")(
    lambda w, who: (
        f"/api/v1/assets/{w.asset}/annotations/admin/shapes/0/review", {"json": {"verdict": "reject", "reason": "too big"}}
    )
)
build("GET", A + "/review")(lambda w, who: (f"/api/v1/assets/{w.asset}/review", {}))
build("POST", A + "/review")(
    lambda w, who: (f"/api/v1/assets/{_annotated(w, 'worker', submitted=True)}/review", {"json": {"verdict": "accept"}})
)
build("GET", P + "/ground-truth")(lambda w, who: (f"/api/v1/projects/{w.project}/ground-truth", {}))
build("PUT", A + "/ground-truth")(
    lambda w, who: (f"/api/v1/assets/{_annotated(w, 'reference')}/ground-truth", {"json": {"owner": "reference"}})
)
build("DELETE", A + "/ground-truth")(lambda w, who: (f"/api/v1/assets/{_annotated(w, 'reference')}/ground-truth", {}))


# --- the tests -------------------------------------------------------------------------------


def test_every_route_is_in_the_matrix():
    """A route the app serves and the table does not list (or a stale row) fails here."""
    routes = app_routes()
    missing = sorted(routes - EXPECTED.keys())
    stale = sorted(EXPECTED.keys() - routes)
    assert not missing, f"routes with no row in EXPECTED (say who may call them): {missing}"
    assert not stale, f"rows in EXPECTED for routes the app does not serve: {stale}"
    unbuilt = sorted(
        (m, p, v) for (m, p), spec in EXPECTED.items() for v, _ in _variants(spec) if (m, p, v) not in BUILD
    )
    assert not unbuilt, f"rows with no request to send: {unbuilt}"


def test_expected_outcomes_follow_the_role_order():
    assert [expected("manager", w) for w in IDENTITIES] == [401, 403, 403, 403, 403, "allowed", "allowed", "allowed"]
    assert [expected("login", w) for w in IDENTITIES] == [401] + ["allowed"] * 7
    assert [expected("admin", w) for w in IDENTITIES] == [401] + [403] * 6 + ["allowed"]
    assert [expected("nobody", w) for w in IDENTITIES] == [401] + [403] * 7
    assert {expected("public", w) for w in IDENTITIES} == {"allowed"}


@pytest.mark.parametrize("method, path, variant, need, who", _cases())
def test_route_permission(world, method, path, variant, need, who):
    ident = world.who[who]
    url, kw = BUILD[(method, path, variant)](world, ident)
    http: httpx.Client = ident.client._http
    try:
        r = http.request(method, url, **kw)
    finally:
        http.cookies.clear()  # auth/login sets a session cookie; each cell starts without one
    if r.status_code >= 500:
        # uvicorn logs the traceback on its own thread right after answering; one more request
        # waits for that, so it does not race pytest formatting this failure (Python 3.11's
        # traceback and ast.parse share state across threads: "AST constructor recursion depth
        # mismatch" INTERNALERROR)
        http.get("/api/v1/health")
    want = expected(need, who)
    where = f"{method} {url} {kw.get('json', '')} as {who} (needs {need}): {r.status_code} {r.text[:300]}"
    if want == "allowed":
        assert r.status_code < 400, "should be allowed: " + where
    else:
        assert r.status_code == want, f"should be {want}: " + where
        body = r.json()
        assert set(body) == {"detail", "field"} and isinstance(body["detail"], str) and body["detail"], where
