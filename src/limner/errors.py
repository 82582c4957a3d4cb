"""The one exception family of Limner.

Every error carries the HTTP status it maps to and, where it concerns one input, the field (or file
and line) it names, so the server renders every failure in one JSON shape and the CLI prints the same
sentence.
"""

from __future__ import annotations

__all__ = [
    "LimnerError",
    "ValidationError",
    "NotFound",
    "Conflict",
    "PermissionDenied",
    "Unauthorized",
    "PayloadTooLarge",
]


class LimnerError(Exception):
    status = 400

    def __init__(self, detail: str, *, field: str | None = None, status: int | None = None, **extra):
        super().__init__(detail)
        self.detail = detail
        self.field = field
        if status is not None:
            self.status = status
        self.extra = extra

    def to_dict(self) -> dict:
        out = {"detail": self.detail, "field": self.field}
        out.update(self.extra)
        return out


class ValidationError(LimnerError):
    status = 422


class NotFound(LimnerError):
    status = 404


class Conflict(LimnerError):
    status = 409


class PermissionDenied(LimnerError):
    status = 403


class Unauthorized(LimnerError):
    status = 401


class PayloadTooLarge(LimnerError):
    status = 413
