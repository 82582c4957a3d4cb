"""Request context: the current user (cookie or bearer token), services, and authorization."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request
from sqlalchemy import update
from sqlalchemy.orm import Session

from limner.errors import PermissionDenied, Unauthorized
from limner.server import permissions
from limner.store.models import ApiToken, User, utcnow
from limner.store.projects import role_of
from limner.store.users import session_user, token_user

__all__ = ["Ctx", "get_ctx", "SESSION_COOKIE", "CSRF_COOKIE", "CSRF_HEADER"]

SESSION_COOKIE = "limner_session"
CSRF_COOKIE = "limner_csrf"
CSRF_HEADER = "x-csrf-token"
_SAFE = ("GET", "HEAD", "OPTIONS")


@dataclass
class Ctx:
    user: User | None
    services: object
    request: Request

    @property
    def db(self):
        return self.services.db

    def read(self):
        return self.services.db.read()

    def write(self):
        return self.services.db.write()

    def login_required(self) -> User:
        permissions.require_login(self.user)
        return self.user

    def admin_required(self) -> User:
        permissions.require_admin(self.user)
        return self.user

    def authorize(self, s: Session, project_id: int, action: str) -> str | None:
        """Check the action on the project; returns the user's role there."""
        permissions.require_login(self.user)
        role = role_of(s, self.user, project_id)
        permissions.authorize(self.user, role, action)
        return "owner" if self.user.is_admin and role is None else role

    @contextmanager
    def project(self, project_id: int, action: str, *, write: bool = False) -> Iterator[Session]:
        with (self.write() if write else self.read()) as s:
            self.authorize(s, project_id, action)
            yield s


def get_ctx(request: Request) -> Ctx:
    svc = request.app.state.limner
    user = None
    authz = request.headers.get("authorization")
    if authz:
        scheme, _, token = authz.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("the Authorization header must be 'Bearer <token>'")
        with svc.db.read() as s:
            found = token_user(s, token.strip())
        if found is None:
            raise Unauthorized("the API token is not valid: revoked, expired or mistyped")
        user, token_id = found
        svc.touch_token(token_id)
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            with svc.db.read() as s:
                found = session_user(s, cookie)
            if found is not None:
                user, csrf = found
                if request.method not in _SAFE and request.headers.get(CSRF_HEADER) != csrf:
                    raise PermissionDenied(
                        "a browser session needs the X-CSRF-Token header (from the limner_csrf cookie) on writes"
                    )
    return Ctx(user, svc, request)


def touch_token(db, token_id: int, seen: dict, every: timedelta = timedelta(minutes=5)) -> None:
    """Record when an API token was last used, at most every few minutes."""
    now = utcnow()
    last = seen.get(token_id)
    if last is not None and now - last < every:
        return
    seen[token_id] = now
    with db.write() as s:
        s.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
