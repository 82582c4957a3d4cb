"""One log line per request: method, path, status and milliseconds (no tracebacks for 4xx)."""

from __future__ import annotations

import logging
import time

__all__ = ["AccessLog", "configure_logging"]

log = logging.getLogger("limner.access")


class AccessLog:
    """Pure ASGI middleware, so it adds microseconds, not a thread hop, to each request."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = 500

        async def _send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, _send)
        finally:
            ms = (time.perf_counter() - start) * 1000
            path = scope.get("path", "")
            if scope.get("query_string"):
                path += "?" + scope["query_string"].decode("latin-1")
            log.info("%s %s %d %.1fms", scope.get("method", ""), path, status, ms)


def configure_logging(level: str = "info") -> None:
    """One handler, one format; uvicorn's own chatter only from warnings up."""
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%Y-%m-%d %H:%M:%S"))
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers.clear()
        lg.propagate = True
        lg.setLevel(logging.WARNING)
