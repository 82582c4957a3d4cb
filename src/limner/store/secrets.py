"""Password hashing (argon2) and random tokens, stored only as their SHA-256."""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["hash_password", "verify_password", "new_token", "token_hash"]

_hasher = None


def _ph():
    global _hasher
    if _hasher is None:
        from argon2 import PasswordHasher

        _hasher = PasswordHasher()
    return _hasher


def hash_password(password: str) -> str:
    return _ph().hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    if not stored:
        return False
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _ph().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
