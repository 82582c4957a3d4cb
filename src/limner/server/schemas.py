"""Request bodies of the REST API (responses are the plain dicts the store returns)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = [
    "LoginIn",
    "TokenIn",
    "UserIn",
    "UserPatch",
    "ProjectIn",
    "ProjectPatch",
    "MemberIn",
    "MemberPatch",
    "LabelIn",
    "LabelPatch",
    "AssetPatch",
    "ImportIn",
    "TaskIn",
    "TaskPatch",
    "AnnotationIn",
    "CommentIn",
    "CommentPatch",
    "ExportIn",
]


class LoginIn(BaseModel):
    username: str
    password: str


class TokenIn(BaseModel):
    name: str = Field("", max_length=200)


class UserIn(BaseModel):
    username: str
    password: str | None = None
    is_admin: bool = False
    display_name: str = ""
    email: str = ""


class UserPatch(BaseModel):
    password: str | None = None
    display_name: str | None = None
    email: str | None = None
    is_admin: bool | None = None
    is_active: bool | None = None


class ProjectIn(BaseModel):
    name: str
    description: str = ""


class ProjectPatch(BaseModel):
    name: str | None = None
    description: str | None = None


class MemberIn(BaseModel):
    username: str
    role: str


class MemberPatch(BaseModel):
    role: str


class LabelIn(BaseModel):
    name: str
    color: str = "#1f77b4"
    kinds: list[str] = []
    attributes: list[dict[str, Any]] = []
    parent: str | None = None
    skeleton: dict[str, Any] | None = None


class LabelPatch(BaseModel):
    name: str | None = None
    color: str | None = None
    kinds: list[str] | None = None
    attributes: list[dict[str, Any]] | None = None
    parent: str | None = None
    skeleton: dict[str, Any] | None = None


class AssetPatch(BaseModel):
    status: str | None = None
    task_id: int | None = None


class ImportIn(BaseModel):
    paths: list[str] = Field(..., min_length=1, description="server folders, files, zips, or http(s) URLs")


class TaskIn(BaseModel):
    name: str
    asset_ids: list[int] = []
    assignees: list[str] = []


class TaskPatch(BaseModel):
    name: str | None = None
    stage: str | None = None
    assignees: list[str] | None = None
    add_asset_ids: list[int] | None = None


class AnnotationIn(BaseModel):
    base_revision: int = Field(..., ge=0, description="the revision this write is based on (0 for a new one)")
    shapes: list[Any]


class CommentIn(BaseModel):
    body: str
    region: dict[str, Any] | None = None
    parent_id: int | None = None


class CommentPatch(BaseModel):
    body: str | None = None
    resolved: bool | None = None


class ExportIn(BaseModel):
    format: str
    statuses: list[str] | None = None
    labels: list[str] | None = None
    task_id: int | None = None
    owner: str | None = Field(None, description="whose annotation; default: the latest by a person per asset")
    include_models: bool = False
    include_images: bool = False
    split: str | None = Field(None, description="e.g. train=0.8,val=0.1,test=0.1")
    seed: int = 0
    stratify: bool = True
    remap: dict[str, str | None] | None = Field(None, description="old label -> new label, or null to drop")
