"""Every setting in one declarative table, read from LIMNER_* variables.

The CLI help, the API (`GET /api/v1/settings` for admins) and docs/settings.md are made from this
table, and a test checks the docs list every entry.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

__all__ = ["SETTINGS", "Setting", "Settings", "load_settings"]


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    default: Any
    help: str
    kind: type = str


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", "limner-data", "Folder for the embedded database and the local media store."),
    Setting("database_url", "", "SQLAlchemy URL of the database; empty means SQLite in the data folder."),
    Setting("media_url", "", "Where image bytes live: a folder or s3://bucket/prefix; empty means DATA_DIR/media."),
    Setting("host", "127.0.0.1", "Address the server binds to."),
    Setting("port", 8080, "Port the server listens on.", int),
    Setting("public_url", "", "URL printed in login links; empty means http://HOST:PORT."),
    Setting("session_days", 14, "How long a browser session lasts, in days.", int),
    Setting("login_token_minutes", 60, "How long a one-time login link stays valid, in minutes.", int),
    Setting("max_upload_mb", 200, "Largest single image file accepted, in megabytes.", int),
    Setting("import_roots", "", "Server folders (separated by ':') that managers may register as assets; empty: admins only."),
    Setting("model_hosts", "", "Model servers on this machine or a private network (host or host:port, separated by ',') "
            "that managers may register; empty: administrators only."),
    Setting("thumbnail_size", 256, "Longest side of asset thumbnails, in pixels.", int),
    Setting("workers", 2, "Threads used to decode images during ingest.", int),
    Setting("assist_cache_mb", 1280, "Memory for assistance: decoded images (a fifth) and per-image precompute states, in MB.", int),
    Setting("log_level", "info", "Server log level: debug, info, warning or error."),
    Setting("secure_cookies", False, "Mark session cookies Secure (set when served over HTTPS).", bool),
)


def _parse(s: Setting, raw: str) -> Any:
    if s.kind is bool:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if s.kind is int:
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"LIMNER_{s.name.upper()} must be a whole number, got {raw!r}") from None
    return raw


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: str = "limner-data"
    database_url: str = ""
    media_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = ""
    session_days: int = 14
    login_token_minutes: int = 60
    max_upload_mb: int = 200
    import_roots: str = ""
    model_hosts: str = ""
    thumbnail_size: int = 256
    workers: int = 2
    assist_cache_mb: int = 1280
    log_level: str = "info"
    secure_cookies: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser().resolve()

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_path / 'limner.db'}"

    @property
    def media_location(self) -> str:
        return self.media_url or str(self.data_path / "media")

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"

    @property
    def import_root_paths(self) -> list[Path]:
        return [Path(p).resolve() for p in self.import_roots.split(":") if p]

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def load_settings(environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for s in SETTINGS:
        raw = env.get(f"LIMNER_{s.name.upper()}")
        if raw is not None and raw != "":
            values[s.name] = _parse(s, raw)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)


assert {f.name for f in fields(Settings)} - {"extra"} == {s.name for s in SETTINGS}
