"""The in-process job worker.

A job kind is a function registered by name; `JobRunner.submit` stores a job row and runs the
function on a worker thread with a `JobContext` whose `progress()` writes the percentage (at most a
few times a second) so the API, the CLI and the UI can show it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update

from limner.errors import LimnerError
from limner.store.db import Database
from limner.store.jobs import create_job
from limner.store.models import Job, utcnow

__all__ = ["JOB_KINDS", "JobCancelled", "JobContext", "JobRunner", "register"]

log = logging.getLogger("limner.jobs")
JOB_KINDS: dict[str, Callable[[JobContext], dict | None]] = {}


def register(kind: str):
    def deco(fn):
        JOB_KINDS[kind] = fn
        return fn

    return deco


class JobCancelled(Exception):
    pass


@dataclass
class JobContext:
    db: Database
    job_id: int
    project_id: int | None
    user_id: int | None
    params: dict
    services: Any = None
    _last: float = field(default=0.0)
    _cancel: threading.Event = field(default_factory=threading.Event)

    def progress(self, fraction: float, message: str = "", *, force: bool = False) -> None:
        if self._cancel.is_set():
            raise JobCancelled()
        now = time.monotonic()
        if not force and now - self._last < 0.25 and fraction < 1.0:
            return
        self._last = now
        with self.db.write() as s:
            s.execute(
                update(Job)
                .where(Job.id == self.job_id)
                .values(progress=max(0.0, min(1.0, fraction)), message=message)
            )


class JobRunner:
    def __init__(self, db: Database, services: Any = None, workers: int = 1):
        self.db = db
        self.services = services
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="limner-job")
        self._running: dict[int, JobContext] = {}

    def submit(self, kind: str, *, project_id: int | None, user_id: int | None, params: dict) -> tuple[int, Future]:
        if kind not in JOB_KINDS:
            raise LimnerError(f"unknown job kind {kind!r}", field="kind")
        with self.db.write() as s:
            job_id = create_job(s, kind, project_id=project_id, user_id=user_id, params=params).id
        ctx = JobContext(self.db, job_id, project_id, user_id, params, self.services)
        self._running[job_id] = ctx
        return job_id, self._pool.submit(self._run, kind, ctx)

    def cancel(self, job_id: int) -> bool:
        ctx = self._running.get(job_id)
        if ctx is None:
            return False
        ctx._cancel.set()
        return True

    def _finish(self, job_id: int, **values) -> None:
        with self.db.write() as s:
            s.execute(update(Job).where(Job.id == job_id).values(finished_at=utcnow(), **values))

    def _run(self, kind: str, ctx: JobContext) -> dict | None:
        with self.db.write() as s:
            s.execute(update(Job).where(Job.id == ctx.job_id).values(status="running", started_at=utcnow()))
        try:
            result = JOB_KINDS[kind](ctx)
        except JobCancelled:
            self._finish(ctx.job_id, status="cancelled", message="cancelled")
            return None
        except LimnerError as e:
            self._finish(ctx.job_id, status="failed", error=e.detail)
            return None
        except Exception as e:  # a job must end with a reason whatever went wrong
            log.exception("job %s (%s) failed", ctx.job_id, kind)
            self._finish(ctx.job_id, status="failed", error=f"{type(e).__name__}: {e}")
            return None
        finally:
            self._running.pop(ctx.job_id, None)
        self._finish(ctx.job_id, status="done", progress=1.0, message="done", result=result or {})
        return result

    def shutdown(self) -> None:
        for ctx in list(self._running.values()):
            ctx._cancel.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
