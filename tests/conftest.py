"""Shared fixtures: a real Limner server over HTTP on a real database.

Every API test runs on SQLite, and on PostgreSQL when LIMNER_TEST_POSTGRES_URL is set (each run
gets its own schema, dropped afterwards).
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import uvicorn
from sqlalchemy import create_engine, text

from limner.client import Client
from limner.server.app import create_app, open_services
from limner.settings import load_settings
from limner.store.db import normalise_url
from limner.store.users import create_api_token, create_user

PG_URL = os.environ.get("LIMNER_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite", "postgres"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    services: object
    admin_token: str
    backend: str
    _n: int = 0

    def client(self, token: str | None = None) -> Client:
        return Client(self.url, token)

    def admin(self) -> Client:
        return self.client(self.admin_token)

    def new_user(self, prefix: str = "u", *, admin: bool = False, password: str = "password123") -> tuple[dict, Client]:
        """A fresh user with an API token; returns (user dict, client)."""
        self._n += 1
        name = f"{prefix}{self._n}_{uuid.uuid4().hex[:6]}"
        user = self.admin().create_user(name, password, is_admin=admin)
        c = Client(self.url)
        c.login(name, password)
        token = c.create_token("tests")["token"]
        c.close()
        return user, self.client(token)


def _pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return normalise_url(base) + f"{sep}options={quote('-csearch_path=' + schema)}"


def _start(settings) -> tuple[uvicorn.Server, threading.Thread, object]:
    services = open_services(settings)
    app = create_app(settings, services=services)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=settings.port, log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    end = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > end or not th.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    return server, th, services


@pytest.fixture(scope="session", params=BACKENDS)
def live(request, tmp_path_factory) -> LiveServer:
    backend = request.param
    data = tmp_path_factory.mktemp(f"limner-{backend}")
    schema = None
    if backend == "postgres":
        if not PG_URL:
            pytest.skip("PostgreSQL tests need LIMNER_TEST_POSTGRES_URL (CI sets it); running SQLite only")
        schema = f"limner_test_{uuid.uuid4().hex[:10]}"
        admin_engine = create_engine(normalise_url(PG_URL))
        with admin_engine.begin() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
        db_url = _pg_schema_url(PG_URL, schema)
    else:
        db_url = ""
    settings = load_settings({}, data_dir=str(data), database_url=db_url, port=free_port(), workers=2)
    if schema:
        from limner.store import Database, upgrade

        db = Database(settings.db_url)
        upgrade(db)  # a shared database is migrated explicitly, as `limner db upgrade` does
        db.dispose()
    server, th, services = _start(settings)
    with services.db.write() as s:
        admin = create_user(s, "admin", "admin-password", is_admin=True)
        _, token = create_api_token(s, admin, "tests")
    try:
        yield LiveServer(f"http://127.0.0.1:{settings.port}", services, token, backend)
    finally:
        server.should_exit = True
        th.join(timeout=20)
        services.db.dispose()
        if schema:
            with admin_engine.begin() as c:
                c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin_engine.dispose()


@pytest.fixture
def admin(live) -> Client:
    with live.admin() as c:
        yield c


@pytest.fixture
def images(tmp_path) -> Path:
    """Six small distinct JPEG and PNG photos-alike in a folder."""
    import numpy as np
    from PIL import Image

    folder = tmp_path / "imgs"
    folder.mkdir()
    rng = np.random.default_rng(7)
    for i in range(6):
        arr = (rng.random((48 + i, 64, 3)) * 255).astype("uint8")
        ext = "png" if i % 3 == 2 else "jpg"
        Image.fromarray(arr).save(folder / f"img{i}.{ext}")
    return folder


@pytest.fixture
def project(admin, images) -> dict:
    """A project with a schema of every shape kind and six uploaded images."""
    p = admin.create_project(f"p-{uuid.uuid4().hex[:6]}")
    for lb in SCHEMA:
        admin.create_label(p["id"], **lb)
    admin.upload(p["id"], [images])
    p["assets"] = admin.list_assets(p["id"])["items"]
    return p


SCHEMA = [
    {"name": "car", "color": "#ff0000", "kinds": ["box", "rotated_box", "polygon", "mask"],
     "attributes": [{"name": "colour", "kind": "select", "options": ["red", "blue"], "default": "red"},
                    {"name": "occluded", "kind": "checkbox", "default": False},
                    {"name": "count", "kind": "number", "minimum": 0, "maximum": 10},
                    {"name": "plate", "kind": "text", "required": True}]},
    {"name": "road", "color": "#00ff00", "kinds": ["polyline", "polygon"]},
    {"name": "face", "color": "#0000ff", "kinds": ["ellipse", "points"]},
    {"name": "person", "color": "#ffff00", "kinds": ["skeleton", "box"],
     "skeleton": {"points": ["head", "left hand", "right hand"], "edges": [[0, 1], [0, 2]]}},
    {"name": "outdoor", "color": "#00ffff", "kinds": ["tag"]},
]
