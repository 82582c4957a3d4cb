"""`Client`: typed methods for the Limner REST API, over httpx.

    from limner.client import Client
    c = Client("http://127.0.0.1:8080", token="lmn_...")
    p = c.create_project("birds")
    c.upload(p["id"], ["photos/"])
"""

from __future__ import annotations

import mimetypes
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

__all__ = ["ApiError", "Client", "ConflictError"]

JSON = dict[str, Any]


class ApiError(Exception):
    """The server refused a request; `detail` is its sentence, `field` what it concerns."""

    def __init__(self, status: int, detail: str, field: str | None = None, body: dict | None = None):
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.field = field
        self.body = body or {}


class ConflictError(ApiError):
    """409: somebody else wrote first. `current_revision` is the revision to load."""

    @property
    def current_revision(self) -> int | None:
        return self.body.get("current_revision")


class Client:
    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = 60.0,
        http: httpx.Client | None = None,
    ):
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = http or httpx.Client(base_url=self.url, timeout=timeout)
        self._http.headers.update(headers)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # plumbing

    def request(self, method: str, path: str, **kw) -> httpx.Response:
        r = self._http.request(method, "/api/v1" + path, **kw)
        if r.status_code >= 400:
            try:
                body = r.json()
            except ValueError:
                body = {"detail": r.text[:500] or r.reason_phrase}
            cls = ConflictError if r.status_code == 409 else ApiError
            raise cls(r.status_code, body.get("detail", r.reason_phrase), body.get("field"), body)
        return r

    def _json(self, method: str, path: str, **kw) -> Any:
        r = self.request(method, path, **kw)
        return None if r.status_code == 204 or not r.content else r.json()

    # meta and auth

    def health(self) -> JSON:
        return self._json("GET", "/health")

    def login(self, username: str, password: str) -> JSON:
        """Open a cookie session instead of using a token (sends the CSRF header from then on)."""
        me = self._json("POST", "/auth/login", json={"username": username, "password": password})
        self._http.headers["X-CSRF-Token"] = me["csrf_token"]
        return me

    def logout(self) -> None:
        self._json("POST", "/auth/logout")

    def me(self) -> JSON:
        return self._json("GET", "/auth/me")

    def create_token(self, name: str = "") -> JSON:
        return self._json("POST", "/tokens", json={"name": name})

    def list_tokens(self) -> list[JSON]:
        return self._json("GET", "/tokens")["items"]

    def revoke_token(self, token_id: int) -> None:
        self._json("DELETE", f"/tokens/{token_id}")

    # users

    def list_users(self) -> list[JSON]:
        return self._json("GET", "/users")["items"]

    def create_user(self, username: str, password: str | None = None, *, is_admin: bool = False, **extra) -> JSON:
        return self._json("POST", "/users", json={"username": username, "password": password, "is_admin": is_admin, **extra})

    def get_user(self, user_id: int) -> JSON:
        return self._json("GET", f"/users/{user_id}")

    def update_user(self, user_id: int, **changes) -> JSON:
        return self._json("PATCH", f"/users/{user_id}", json=changes)

    # projects and members

    def list_projects(self) -> list[JSON]:
        return self._json("GET", "/projects")["items"]

    def create_project(self, name: str, description: str = "") -> JSON:
        return self._json("POST", "/projects", json={"name": name, "description": description})

    def get_project(self, project_id: int) -> JSON:
        return self._json("GET", f"/projects/{project_id}")

    def update_project(self, project_id: int, **changes) -> JSON:
        return self._json("PATCH", f"/projects/{project_id}", json=changes)

    def delete_project(self, project_id: int) -> None:
        self._json("DELETE", f"/projects/{project_id}")

    def list_members(self, project_id: int) -> list[JSON]:
        return self._json("GET", f"/projects/{project_id}/members")["items"]

    def add_member(self, project_id: int, username: str, role: str) -> JSON:
        return self._json("POST", f"/projects/{project_id}/members", json={"username": username, "role": role})

    def set_member_role(self, project_id: int, user_id: int, role: str) -> JSON:
        return self._json("PATCH", f"/projects/{project_id}/members/{user_id}", json={"role": role})

    def remove_member(self, project_id: int, user_id: int) -> None:
        self._json("DELETE", f"/projects/{project_id}/members/{user_id}")

    # label schema

    def list_labels(self, project_id: int) -> list[JSON]:
        return self._json("GET", f"/projects/{project_id}/labels")["items"]

    def create_label(self, project_id: int, name: str, **fields) -> JSON:
        return self._json("POST", f"/projects/{project_id}/labels", json={"name": name, **fields})

    def update_label(self, project_id: int, label_id: int, **changes) -> JSON:
        return self._json("PATCH", f"/projects/{project_id}/labels/{label_id}", json=changes)

    def delete_label(self, project_id: int, label_id: int) -> None:
        self._json("DELETE", f"/projects/{project_id}/labels/{label_id}")

    # assets

    def list_assets(self, project_id: int, **params) -> JSON:
        """A page: {"total", "items", ...}; filters: status, assignee, label, task_id, name; offset/after, limit."""
        return self._json("GET", f"/projects/{project_id}/assets", params={k: v for k, v in params.items() if v is not None})

    def iter_assets(self, project_id: int, *, page: int = 500, **filters) -> Iterator[JSON]:
        after = None
        while True:
            items = self.list_assets(project_id, after=after, limit=page, **filters)["items"]
            yield from items
            if len(items) < page:
                return
            after = items[-1]["id"]

    def upload(self, project_id: int, paths: list[str | Path]) -> JSON:
        """Upload image files (and zips) from this machine; returns added, duplicates, rejected."""
        files = []
        handles = []
        try:
            for p in paths:
                p = Path(p)
                items = sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p]
                for q in items:
                    fh = q.open("rb")
                    handles.append(fh)
                    name = q.relative_to(p).as_posix() if p.is_dir() else q.name
                    files.append(("files", (name, fh, mimetypes.guess_type(q.name)[0] or "application/octet-stream")))
            return self._json("POST", f"/projects/{project_id}/assets", files=files)
        finally:
            for fh in handles:
                fh.close()

    def import_paths(self, project_id: int, paths: list[str]) -> JSON:
        """Ask the server to add its own folders, zips or http(s) URLs; returns the job."""
        return self._json("POST", f"/projects/{project_id}/assets/import", json={"paths": paths})

    def get_asset(self, asset_id: int) -> JSON:
        return self._json("GET", f"/assets/{asset_id}")

    def update_asset(self, asset_id: int, **changes) -> JSON:
        return self._json("PATCH", f"/assets/{asset_id}", json=changes)

    def delete_asset(self, asset_id: int) -> None:
        self._json("DELETE", f"/assets/{asset_id}")

    def image(self, asset_id: int) -> bytes:
        return self.request("GET", f"/assets/{asset_id}/image").content

    def thumbnail(self, asset_id: int) -> bytes:
        return self.request("GET", f"/assets/{asset_id}/thumbnail").content

    # tasks

    def list_tasks(self, project_id: int) -> list[JSON]:
        return self._json("GET", f"/projects/{project_id}/tasks")["items"]

    def create_task(self, project_id: int, name: str, *, asset_ids: list[int] = (), assignees: list[str] = ()) -> JSON:
        body = {"name": name, "asset_ids": list(asset_ids), "assignees": list(assignees)}
        return self._json("POST", f"/projects/{project_id}/tasks", json=body)

    def get_task(self, task_id: int) -> JSON:
        return self._json("GET", f"/tasks/{task_id}")

    def update_task(self, task_id: int, **changes) -> JSON:
        return self._json("PATCH", f"/tasks/{task_id}", json=changes)

    def delete_task(self, task_id: int) -> None:
        self._json("DELETE", f"/tasks/{task_id}")

    # annotations

    def list_annotations(self, asset_id: int) -> list[JSON]:
        return self._json("GET", f"/assets/{asset_id}/annotations")["items"]

    def get_annotation(self, asset_id: int, owner: str) -> JSON:
        return self._json("GET", f"/assets/{asset_id}/annotations/{owner}")

    def put_annotation(self, asset_id: int, owner: str, shapes: list[dict], *, base_revision: int) -> JSON:
        """Replace the owner's shapes; raises ConflictError if the revision moved on."""
        body = {"base_revision": base_revision, "shapes": shapes}
        return self._json("PUT", f"/assets/{asset_id}/annotations/{owner}", json=body)

    def delete_annotation(self, asset_id: int, owner: str) -> None:
        self._json("DELETE", f"/assets/{asset_id}/annotations/{owner}")

    def list_owners(self, project_id: int) -> list[JSON]:
        """Who has annotated the project (people and `model:NAME`), with counts."""
        return self._json("GET", f"/projects/{project_id}/owners")["items"]

    # datasets in and out

    def formats(self) -> list[JSON]:
        return self._json("GET", "/formats")["items"]

    def export(self, project_id: int, format: str, **options) -> JSON:
        """Start an export job (options: statuses, labels, task_id, owner, include_models,
        include_images, split, seed, stratify, remap); returns the job."""
        return self._json("POST", f"/projects/{project_id}/exports", json={"format": format, **options})

    def import_dataset(
        self, project_id: int, zip_path: str | Path, *, format: str | None = None, owner: str | None = None,
        with_images: bool = True, create_labels: bool = True,
    ) -> JSON:
        """Upload a dataset zip as an import job; returns the job."""
        data = {"with_images": str(with_images).lower(), "create_labels": str(create_labels).lower()}
        if format:
            data["format"] = format
        if owner:
            data["owner"] = owner
        with Path(zip_path).open("rb") as fh:
            return self._json(
                "POST", f"/projects/{project_id}/imports", files={"file": (Path(zip_path).name, fh, "application/zip")}, data=data
            )

    def download(self, job_id: int, path: str | Path) -> Path:
        """Save a finished export's zip to `path`, streamed."""
        path = Path(path)
        with self._http.stream("GET", f"/api/v1/jobs/{job_id}/download") as r:
            if r.status_code >= 400:
                r.read()
                body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
                raise ApiError(r.status_code, body.get("detail", r.reason_phrase), body.get("field"), body)
            with path.open("wb") as out:
                for chunk in r.iter_bytes(1 << 20):
                    out.write(chunk)
        return path

    # comments

    def list_comments(self, asset_id: int) -> list[JSON]:
        return self._json("GET", f"/assets/{asset_id}/comments")["items"]

    def add_comment(self, asset_id: int, body: str, *, region: dict | None = None, parent_id: int | None = None) -> JSON:
        payload = {"body": body, "region": region, "parent_id": parent_id}
        return self._json("POST", f"/assets/{asset_id}/comments", json=payload)

    def update_comment(self, comment_id: int, **changes) -> JSON:
        return self._json("PATCH", f"/comments/{comment_id}", json=changes)

    def delete_comment(self, comment_id: int) -> None:
        self._json("DELETE", f"/comments/{comment_id}")

    # models and assistance

    def list_models(self, project_id: int) -> list[JSON]:
        return self._json("GET", f"/projects/{project_id}/models")["items"]

    def add_model(self, project_id: int, name: str, kind: str, type: str, config: dict | None = None) -> JSON:
        """Register a model: kind interactor|detector, type onnx_sam|onnx_yolo|ml_backend|builtin."""
        body = {"name": name, "kind": kind, "type": type, "config": config or {}}
        return self._json("POST", f"/projects/{project_id}/models", json=body)

    def remove_model(self, model_id: int) -> None:
        self._json("DELETE", f"/models/{model_id}")

    def test_model(self, model_id: int) -> JSON:
        return self._json("POST", f"/models/{model_id}/test")

    def assist_tools(self, project_id: int | None = None) -> JSON:
        return self._json("GET", "/assist/tools", params={"project_id": project_id} if project_id is not None else {})

    def assist(self, asset_id: int, tool: str, prompt: dict, *, tolerance: float = 1.0, options: dict | None = None) -> JSON:
        """Run an interactor: prompt {positive, negative, box, scribbles, mask} -> mask RLE, polygons, timings."""
        body = {"prompt": prompt, "tolerance": tolerance, "options": options}
        return self._json("POST", f"/assets/{asset_id}/assist/{tool}", json=body)

    def keep_classifier(self, asset_id: int, tool: str, name: str, *, prompt: dict | None = None,
                        options: dict | None = None, replace: bool = False) -> JSON:  # fmt: skip
        """Keep the scribble classifier trained on this image (by the last ``assist`` call with
        ``tool``, or on ``prompt`` now) as the project's model ``name``; returns the model."""
        body = {"name": name, "prompt": prompt or {}, "options": options, "replace": replace}
        return self._json("POST", f"/assets/{asset_id}/assist/{tool}/keep", json=body)

    def precompute(self, asset_id: int, tool: str, *, options: dict | None = None) -> JSON:
        return self._json("POST", f"/assets/{asset_id}/assist/{tool}/precompute", json={"options": options})

    def prelabel(self, project_id: int, model: str, *, asset_ids: list[int] | None = None, overwrite: bool = False) -> JSON:
        """Start a pre-labelling job with a detector; wait for it with `wait_job`."""
        body = {"model": model, "asset_ids": asset_ids, "overwrite": overwrite}
        return self._json("POST", f"/projects/{project_id}/prelabel", json=body)

    def model_acceptance(self, project_id: int, models: list[str] | None = None) -> JSON:
        return self._json("GET", f"/projects/{project_id}/models/acceptance", params={"model": models} if models else {})

    # jobs and audit

    def get_job(self, job_id: int) -> JSON:
        return self._json("GET", f"/jobs/{job_id}")

    def list_jobs(self, project_id: int) -> list[JSON]:
        return self._json("GET", f"/projects/{project_id}/jobs")["items"]

    def cancel_job(self, job_id: int) -> JSON:
        return self._json("POST", f"/jobs/{job_id}/cancel")

    def wait_job(
        self, job_id: int, *, timeout: float = 600, poll: float = 0.2, on_progress: Callable[[JSON], None] | None = None
    ) -> JSON:
        """Poll until the job ends; returns the finished job (status done, failed or cancelled)."""
        end = time.monotonic() + timeout
        while True:
            job = self.get_job(job_id)
            if on_progress is not None:
                on_progress(job)
            if job["status"] in ("done", "failed", "cancelled"):
                return job
            if time.monotonic() > end:
                raise TimeoutError(f"job {job_id} still {job['status']} after {timeout} s")
            time.sleep(poll)

    def audit(self, project_id: int | None = None, *, limit: int = 100, before: int | None = None) -> list[JSON]:
        path = f"/projects/{project_id}/audit" if project_id is not None else "/audit"
        return self._json("GET", path, params={"limit": limit, **({"before": before} if before else {})})["items"]
