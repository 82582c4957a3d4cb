"""Users, browser sessions, API tokens and one-time login links."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from limner.errors import Conflict, NotFound, ValidationError
from limner.store import audit
from limner.store.models import ApiToken, BrowserSession, LoginToken, User, utcnow
from limner.store.secrets import hash_password, new_token, token_hash, verify_password

__all__ = [
    "user_dict",
    "create_user",
    "get_user",
    "get_user_by_name",
    "list_users",
    "update_user",
    "authenticate",
    "create_session",
    "session_user",
    "delete_session",
    "create_api_token",
    "list_api_tokens",
    "revoke_api_token",
    "token_user",
    "create_login_token",
    "consume_login_token",
    "count_users",
]

_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,149}$")
MIN_PASSWORD = 8


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def user_dict(u: User) -> dict:
    return {
        "id": u.id,
        "username": u.username,
        "display_name": u.display_name,
        "email": u.email,
        "is_admin": u.is_admin,
        "is_active": u.is_active,
        "created_at": u.created_at.isoformat(),
    }


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationError(f"the password must have at least {MIN_PASSWORD} characters", field="password")


def count_users(s: Session) -> int:
    return s.scalar(select(func.count()).select_from(User)) or 0


def create_user(
    s: Session,
    username: str,
    password: str | None = None,
    *,
    is_admin: bool = False,
    display_name: str = "",
    email: str = "",
    actor_id: int | None = None,
) -> User:
    if not _USERNAME.match(username or ""):
        raise ValidationError(
            "a username has 1 to 150 letters, digits or . _ @ -, starting with a letter or digit", field="username"
        )
    if s.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"the username {username!r} is taken", field="username")
    if password is not None:
        _check_password(password)
    u = User(
        username=username,
        password_hash=hash_password(password) if password else None,
        is_admin=is_admin,
        display_name=display_name or username,
        email=email,
    )
    s.add(u)
    s.flush()
    audit.record(s, actor_id, "create", "user", u.id, username=username, is_admin=is_admin)
    return u


def get_user(s: Session, user_id: int) -> User:
    u = s.get(User, user_id)
    if u is None:
        raise NotFound(f"no user with id {user_id}")
    return u


def get_user_by_name(s: Session, username: str) -> User:
    u = s.scalar(select(User).where(User.username == username))
    if u is None:
        raise NotFound(f"no user named {username!r}", field="username")
    return u


def list_users(s: Session) -> list[User]:
    return list(s.scalars(select(User).order_by(User.id)))


def update_user(s: Session, u: User, actor_id: int | None, **changes) -> User:
    changed = {}
    if changes.get("password") is not None:
        _check_password(changes["password"])
        u.password_hash = hash_password(changes["password"])
        changed["password"] = "changed"
    for name in ("display_name", "email", "is_admin", "is_active"):
        if changes.get(name) is not None:
            setattr(u, name, changes[name])
            changed[name] = changes[name]
    if changed:
        audit.record(s, actor_id, "update", "user", u.id, **changed)
    return u


def authenticate(s: Session, username: str, password: str) -> User | None:
    u = s.scalar(select(User).where(User.username == username))
    if u is None or not u.is_active or not verify_password(u.password_hash, password):
        return None
    return u


def create_session(s: Session, user: User, days: int) -> tuple[str, str]:
    """Open a browser session; returns (session token, CSRF token)."""
    token, csrf = new_token(), new_token()
    s.add(
        BrowserSession(
            token_hash=token_hash(token),
            csrf_token=csrf,
            user_id=user.id,
            expires_at=utcnow() + timedelta(days=days),
        )
    )
    s.execute(delete(BrowserSession).where(BrowserSession.expires_at < utcnow()))
    audit.record(s, user.id, "login", "session", user.id)
    return token, csrf


def session_user(s: Session, token: str) -> tuple[User, str] | None:
    row = s.execute(
        select(User, BrowserSession.csrf_token, BrowserSession.expires_at)
        .join(BrowserSession, BrowserSession.user_id == User.id)
        .where(BrowserSession.token_hash == token_hash(token))
    ).first()
    if row is None or _aware(row[2]) < utcnow() or not row[0].is_active:
        return None
    return row[0], row[1]


def delete_session(s: Session, token: str) -> None:
    s.execute(delete(BrowserSession).where(BrowserSession.token_hash == token_hash(token)))


def create_api_token(s: Session, user: User, name: str) -> tuple[ApiToken, str]:
    token = new_token("lmn_")
    row = ApiToken(user_id=user.id, name=name, token_hash=token_hash(token), prefix=token[:8])
    s.add(row)
    s.flush()
    audit.record(s, user.id, "create", "api_token", row.id, name=name)
    return row, token


def list_api_tokens(s: Session, user: User) -> list[dict]:
    rows = s.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
    return [
        {
            "id": t.id,
            "name": t.name,
            "prefix": t.prefix,
            "created_at": t.created_at.isoformat(),
            "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
        }
        for t in rows
    ]


def revoke_api_token(s: Session, user: User, token_id: int) -> None:
    row = s.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound(f"no API token with id {token_id}")
    s.delete(row)
    audit.record(s, user.id, "delete", "api_token", token_id)


def token_user(s: Session, token: str) -> tuple[User, int] | None:
    row = s.execute(
        select(User, ApiToken.id).join(ApiToken, ApiToken.user_id == User.id).where(ApiToken.token_hash == token_hash(token))
    ).first()
    if row is None or not row[0].is_active:
        return None
    return row[0], row[1]


def create_login_token(s: Session, user: User, minutes: int) -> str:
    token = new_token()
    s.add(LoginToken(user_id=user.id, token_hash=token_hash(token), expires_at=utcnow() + timedelta(minutes=minutes)))
    return token


def consume_login_token(s: Session, token: str) -> User | None:
    row = s.scalar(select(LoginToken).where(LoginToken.token_hash == token_hash(token)))
    if row is None or row.used_at is not None or _aware(row.expires_at) < utcnow():
        return None
    row.used_at = utcnow()
    u = s.get(User, row.user_id)
    return u if u is not None and u.is_active else None
