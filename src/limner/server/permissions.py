"""Who may do what: the one place where roles are checked.

Project roles rank viewer < annotator < reviewer < manager < owner; a site admin acts as owner
everywhere. Every route names an action from POLICY; `authorize` decides.
"""

from __future__ import annotations

from limner.errors import PermissionDenied, Unauthorized
from limner.store.models import ROLES

__all__ = ["POLICY", "RANK", "authorize", "require_login", "require_admin", "at_least"]

RANK = {r: i for i, r in enumerate(ROLES)}

POLICY: dict[str, str] = {
    "project.view": "viewer",
    "project.edit": "manager",
    "project.delete": "owner",
    "members.view": "viewer",
    "members.edit": "manager",
    "members.grant_owner": "owner",
    "labels.view": "viewer",
    "labels.edit": "manager",
    "assets.view": "viewer",
    "assets.add": "manager",
    "assets.delete": "manager",
    "assets.status": "annotator",
    "assets.approve": "reviewer",
    "tasks.view": "viewer",
    "tasks.edit": "manager",
    "tasks.stage": "annotator",
    "annotations.view": "viewer",
    "annotations.write_own": "annotator",
    "annotations.write_any": "reviewer",
    "comments.view": "viewer",
    "comments.write": "annotator",
    "comments.moderate": "reviewer",
    "jobs.view": "viewer",
    "jobs.cancel": "manager",
    "audit.view": "manager",
    "project.export": "viewer",
    "project.import": "manager",
    "quality.view": "viewer",
    "quality.consensus": "reviewer",
    "models.view": "viewer",
    "models.edit": "manager",
    "models.prelabel": "manager",
    "assist.use": "annotator",
}


def require_login(user) -> None:
    if user is None:
        raise Unauthorized("log in first: send a session cookie or an Authorization: Bearer token")


def require_admin(user) -> None:
    require_login(user)
    if not user.is_admin:
        raise PermissionDenied("only an administrator may do this")


def at_least(role: str | None, needed: str) -> bool:
    return role is not None and RANK[role] >= RANK[needed]


def authorize(user, role: str | None, action: str) -> None:
    """Raise 401 for no user, 403 when the user's project role is below the action's."""
    require_login(user)
    if user.is_admin:
        return
    needed = POLICY[action]
    if role is None:
        raise PermissionDenied("you are not a member of this project")
    if not at_least(role, needed):
        raise PermissionDenied(f"this needs the {needed} role or higher; you are {role}")
