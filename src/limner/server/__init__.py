"""The HTTP server: FastAPI app factory, auth, one router per resource, static web files."""

from limner.server.app import create_app

__all__ = ["create_app"]
