"""The app factory: settings in, a FastAPI app out, with its database, media store and job worker."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from limner import __version__
from limner.jobs.runner import JobRunner
from limner.server.access_log import AccessLog
from limner.server.deps import touch_token
from limner.server.errors import install_error_handlers
from limner.settings import Settings, load_settings
from limner.store.db import Database
from limner.store.jobs import mark_interrupted
from limner.errors import LimnerError
from limner.store.migrate import current_revision, head_revision, upgrade

__all__ = ["Services", "create_app"]

log = logging.getLogger("limner.server")
WEB_DIR = Path(__file__).resolve().parent.parent / "web"


@dataclass
class Services:
    settings: Settings
    db: Database
    storage: object
    runner: JobRunner
    _token_seen: dict = field(default_factory=dict)

    def touch_token(self, token_id: int) -> None:
        touch_token(self.db, token_id, self._token_seen)


def open_services(settings: Settings, *, migrate: bool | None = None) -> Services:
    """Open the database, media store and job worker.

    The embedded SQLite database migrates itself; a shared database (PostgreSQL) is migrated by
    `limner db upgrade`, once, and a server finding it behind refuses to start with that advice.
    """
    from limner.media.storage import storage_from_url

    db = Database(settings.db_url)
    if migrate if migrate is not None else db.is_sqlite:
        upgrade(db)
    else:
        have, need = current_revision(db), head_revision()
        if have != need:
            db.dispose()
            raise LimnerError(
                f"the database is at schema revision {have or '(empty)'} and this Limner needs {need}: "
                "run `limner db upgrade` with the same LIMNER_DATABASE_URL first"
            )
    with db.write() as s:
        n = mark_interrupted(s)
    if n:
        log.warning("%d jobs were left unfinished by a previous run and are marked failed", n)
    storage = storage_from_url(settings.media_location)
    svc = Services(settings, db, storage, None)  # type: ignore[arg-type]
    svc.runner = JobRunner(db, services=svc)
    return svc


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        app.state.limner.runner.shutdown()
        if services is None:
            app.state.limner.db.dispose()

    app = FastAPI(
        title="Limner",
        version=__version__,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    app.state.limner = services or open_services(settings)
    install_error_handlers(app)
    app.add_middleware(AccessLog)

    from limner import assist_calls
    from limner.server.routers import ROUTERS, browser

    assist_calls.set_cache_limit(app.state.limner.settings.assist_cache_mb)

    for r in ROUTERS:
        app.include_router(r, prefix="/api/v1")
    app.include_router(browser.router)
    app.mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web")
    return app
