from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from limner import assist_calls, prelabel  # noqa: F401  (prelabel registers the job kind)
from limner.assist.loader import check, forget, load, paths_of, release
from limner.errors import PermissionDenied, ValidationError
from limner.server.deps import Ctx, get_ctx
from limner.store import assets, assistants, jobs, projects
from limner.store.models import User

router = APIRouter(tags=["assist"])


class ModelIn(BaseModel):
    name: str = Field(..., description="unique in the project; its pre-labels are owned by model:NAME")
    kind: str = Field(..., description="interactor or detector")
    type: str = Field(..., description="onnx_sam, onnx_yolo, ml_backend or builtin")
    config: dict[str, Any] = Field(default_factory=dict, description="paths, url, label map, thresholds (see docs/assist.md)")


class AssistIn(BaseModel):
    prompt: dict[str, Any] = Field(default_factory=dict, description="{positive, negative, box, scribbles, mask}")
    tolerance: float = Field(1.0, ge=0, le=100, description="polygon simplification, pixels")
    options: dict[str, Any] | None = Field(None, description="settings of a built-in tool")


class KeepIn(BaseModel):
    name: str = Field(..., description="the kept classifier's name in the project (the tool to call it by)")
    prompt: dict[str, Any] = Field(default_factory=dict, description="the marks to train on; empty: the last classifier "
                                   "you trained on this image with this tool")  # fmt: skip
    options: dict[str, Any] | None = Field(None, description="settings of the built-in scribble tool")
    replace: bool = Field(False, description="replace a classifier kept earlier under this name")


class PrecomputeIn(BaseModel):
    options: dict[str, Any] | None = None


class PrelabelIn(BaseModel):
    model: str = Field(..., description="the name of a detector registered for the project (or site-wide)")
    asset_ids: list[int] | None = Field(None, description="the assets to pre-label; default: all of the project")
    overwrite: bool = Field(False, description="replace the model's earlier annotation of an asset instead of skipping it")


def _check_paths(ctx: Ctx, type_: str, config: dict) -> None:
    """Model files on the server: a relative path is taken in DATA_DIR/models; administrators name
    any file, managers only files there."""
    root = (ctx.services.settings.data_path / "models").resolve()
    for key, path in paths_of(type_, config):
        p = Path(path).expanduser()
        p = (root / p if not p.is_absolute() else p).resolve()
        if not ctx.user.is_admin and not p.is_relative_to(root):
            raise PermissionDenied(f"config.{key}: only administrators register model files outside {root}",
                                   field=f"config.{key}")  # fmt: skip
        config[key] = str(p)


def _check_url(ctx: Ctx, type_: str, config: dict) -> None:
    """A model server a manager registers is on the public network, or on a host an administrator
    listed in LIMNER_MODEL_HOSTS: the server calls it with project images, so a manager must not
    be able to point it at this machine's or the private network's services."""
    if type_ != "ml_backend" or ctx.user.is_admin:
        return
    from urllib.parse import urlsplit

    from limner.ingest import internal_host

    url = config["url"]
    try:
        parts = urlsplit(url)
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        raise ValidationError(f"config.url: {url!r} is not a URL", field="config.url") from None
    port = port or (443 if parts.scheme == "https" else 80)
    allowed = {h.strip().lower() for h in ctx.services.settings.model_hosts.split(",") if h.strip()}
    if host in allowed or f"{host}:{port}" in allowed:
        return
    if internal_host(url):
        raise PermissionDenied(
            f"config.url: {host} is this machine or a private network address; only administrators register such "
            "model servers, or list the host in LIMNER_MODEL_HOSTS for managers", field="config.url")  # fmt: skip


@router.get("/projects/{project_id}/models")
def list_models(project_id: int, ctx: Ctx = Depends(get_ctx)) -> dict:
    """The project's registered models and the site-wide ones, with their configuration."""
    with ctx.read() as s:
        projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "models.view")
        return {"items": assistants.list_models(s, project_id)}


@router.post("/projects/{project_id}/models", status_code=201)
def create_model(project_id: int, body: ModelIn, ctx: Ctx = Depends(get_ctx)) -> dict:
    """Register a model for the project (manager; model files outside DATA_DIR/models and model
    servers on this machine or a private network not in LIMNER_MODEL_HOSTS: administrators).
    It is loaded once to check its configuration."""
    with ctx.read() as s:
        projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "models.edit")
    if body.type == assist_calls.KEPT:
        raise ValidationError("scribble classifiers are kept from a scribble call: POST /api/v1/assets/{asset_id}/assist/"
                              "scribble/keep {name}", field="type")  # fmt: skip
    config = dict(body.config)
    check(body.kind, body.type, config)
    _check_paths(ctx, body.type, config)
    _check_url(ctx, body.type, config)
    release(load(body.kind, body.type, config, name=body.name))
    with ctx.write() as s:
        m = assistants.create_model(s, project_id, body.name, body.kind, body.type, config, ctx.user.id)
        return assistants.model_dict(m, ctx.user.username)


def _model_action(ctx: Ctx, s, model_id: int, action: str):
    m = assistants.get_model(s, model_id)
    if m.project_id is None:
        ctx.admin_required()
    else:
        ctx.authorize(s, m.project_id, action)
    return m


@router.delete("/models/{model_id}", status_code=204)
def delete_model(model_id: int, ctx: Ctx = Depends(get_ctx)) -> Response:
    """Remove a model (a project's: manager; site-wide: administrators); its pre-labels stay."""
    with ctx.write() as s:
        m = _model_action(ctx, s, model_id, "models.edit")
        kept = (m.config or {}).get("key") if m.type == assist_calls.KEPT else None
        assistants.delete_model(s, m, ctx.user.id)
    forget(model_id)
    if kept is not None:
        assist_calls.drop_classifier(ctx.services.storage, model_id, kept)
    return Response(status_code=204)


@router.post("/models/{model_id}/test")
def test_model(model_id: int, ctx: Ctx = Depends(get_ctx)) -> dict:
    """Load the model and run it on a generated 640x480 image: timings (ms) and a summary of the
    output (a server model's /health too)."""
    with ctx.read() as s:
        m = _model_action(ctx, s, model_id, "models.edit")
    return assist_calls.self_test(m, ctx.services.storage)


@router.get("/projects/{project_id}/models/acceptance")
def model_acceptance(project_id: int, model: list[str] | None = Query(None, description="models to report; default: all"),
                     ctx: Ctx = Depends(get_ctx)) -> dict:  # fmt: skip
    """Per model and label, how many model shapes people accepted unchanged, edited or rejected."""
    with ctx.read() as s:
        projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "models.view")
    return prelabel.acceptance(ctx.db, project_id, model)


@router.get("/assist/tools")
def list_tools(project_id: int | None = Query(None, description="include this project's models"),
               ctx: Ctx = Depends(get_ctx)) -> dict:  # fmt: skip
    """Built-in interactors and detectors, and the registered models (the project's and site-wide)."""
    ctx.login_required()
    with ctx.read() as s:
        if project_id is not None:
            projects.get_project(s, project_id)
            ctx.authorize(s, project_id, "models.view")
        return assist_calls.list_tools(s, project_id)


@router.post("/assets/{asset_id}/assist/{tool}")
def run_interactor(asset_id: int, tool: str, body: AssistIn, ctx: Ctx = Depends(get_ctx)) -> dict:
    """Run an interactor on the asset with a prompt: the mask (COCO RLE), its polygons, a score and
    timings. The per-image precompute is kept in memory for the next click."""
    with ctx.read() as s:
        a = assets.get_asset(s, asset_id)
        ctx.authorize(s, a.project_id, "assist.use")
        t = assist_calls.resolve(s, a.project_id, tool, body.options, ctx.services.storage)
    return assist_calls.interact(ctx.services.storage, a, t, body.prompt, body.tolerance, user_id=ctx.user.id)


@router.post("/assets/{asset_id}/assist/{tool}/keep", status_code=201)
def keep_classifier(asset_id: int, tool: str, body: KeepIn, ctx: Ctx = Depends(get_ctx)) -> dict:
    """Keep the scribble classifier trained on this image for the project, under a name: trained on
    ``prompt``'s marks, or the last one you trained here. Annotators may keep (and replace their
    own); replacing another's takes a manager. Then ``POST /assets/{id}/assist/NAME`` applies it."""
    with ctx.read() as s:
        a = assets.get_asset(s, asset_id)
        ctx.authorize(s, a.project_id, "assist.use")
        assist_calls.check_kept_name(body.name)
        t = assist_calls.resolve(s, a.project_id, tool, body.options, ctx.services.storage)
        try:
            ctx.authorize(s, a.project_id, "models.edit")
            manager = True
        except PermissionDenied:
            manager = False
    data, config = assist_calls.to_keep(ctx.services.storage, a, t, body.prompt, ctx.user.id)
    config["key"] = assist_calls.store_classifier(ctx.services.storage, a.project_id, data)
    try:
        with ctx.write() as s:
            m, old = assistants.keep_model(s, a.project_id, body.name, assist_calls.KEPT, config, ctx.user.id,
                                           replace=body.replace, replace_others=manager)  # fmt: skip
            creator = s.get(User, m.created_by) if m.created_by is not None else None
            out, mid = assistants.model_dict(m, creator.username if creator else None), m.id
    except BaseException:
        ctx.services.storage.delete(config["key"])
        raise
    if old is not None:
        assist_calls.drop_classifier(ctx.services.storage, mid, old.get("key"))
    return out


@router.post("/assets/{asset_id}/assist/{tool}/precompute")
def start_precompute(asset_id: int, tool: str, body: PrecomputeIn | None = None, ctx: Ctx = Depends(get_ctx)) -> dict:
    """Start the tool's per-image precompute (when the image opens): answers ready or running."""
    with ctx.read() as s:
        a = assets.get_asset(s, asset_id)
        ctx.authorize(s, a.project_id, "assist.use")
        t = assist_calls.resolve(s, a.project_id, tool, body.options if body else None, ctx.services.storage)
    return assist_calls.precompute(ctx.services.storage, a, t)


@router.post("/projects/{project_id}/prelabel", status_code=202)
def start_prelabel(project_id: int, body: PrelabelIn, ctx: Ctx = Depends(get_ctx)) -> dict:
    """Pre-label the project (or the given assets) with a detector as a job; shapes are stored as
    the annotation of model:NAME with confidences. Poll /jobs/{id}."""
    with ctx.read() as s:
        projects.get_project(s, project_id)
        ctx.authorize(s, project_id, "models.prelabel")
        m = assistants.find_model(s, project_id, body.model)
        if m is None:
            raise ValidationError(f"no model named {body.model!r} in this project", field="model")
        if m.kind != "detector":
            raise ValidationError(f"model {body.model!r} is an {m.kind}; pre-labelling needs a detector", field="model")
        if body.asset_ids is not None:
            assets.check_in_project(s, project_id, body.asset_ids)
    params = {"model_id": m.id, "model": m.name, "asset_ids": body.asset_ids, "overwrite": body.overwrite}
    job_id, _ = ctx.services.runner.submit("project.prelabel", project_id=project_id, user_id=ctx.user.id, params=params)
    with ctx.read() as s:
        return jobs.job_dict(jobs.get_job(s, job_id))
