"""Docs that cannot drift: every setting, command and API route is documented, and CI runs the
README's test command."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main
from fastapi.routing import APIRoute

import limner
from limner.cli import app as cli_app
from limner.server.routers import ROUTERS
from limner.settings import SETTINGS

ROOT = Path(__file__).resolve().parent.parent


def _commands(group, prefix: str = "limner") -> list[str]:
    out = []
    for name, cmd in group.commands.items():
        if getattr(cmd, "commands", None):
            out += _commands(cmd, f"{prefix} {name}")
        else:
            out.append(f"{prefix} {name}")
    return out


def test_every_setting_documented():
    text = (ROOT / "docs/settings.md").read_text()
    missing = [s.name for s in SETTINGS if f"`LIMNER_{s.name.upper()}`" not in text]
    assert missing == []


def test_every_cli_command_documented():
    text = (ROOT / "docs/cli.md").read_text()
    commands = _commands(typer.main.get_command(cli_app))
    assert len(commands) >= 9
    missing = [c for c in commands if f"`{c}" not in text]
    assert missing == []


def test_every_api_route_documented():
    text = (ROOT / "docs/api.md").read_text()
    routes = [(m, "/api/v1" + r.path) for router in ROUTERS for r in router.routes if isinstance(r, APIRoute) for m in r.methods]
    missing = [f"{m} {p}" for m, p in routes if f"| {m} | `{p}` |" not in text]
    assert missing == []


def _fenced_after(text: str, marker: str) -> str:
    tail = text[text.index(marker) :]
    return re.search(r"```sh\n(.+?)\n```", tail, re.S).group(1).strip()


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    command = _fenced_after(readme, "**Run the tests**")
    assert "pytest" in command
    ci_lines = [ln.strip() for ln in (ROOT / ".ci/run").read_text().splitlines()]
    assert command in ci_lines
    assert "limner demo" in _fenced_after(readme, "**Run the demo server**")


def test_public_api_is_explicit():
    import limner.client
    import limner.core

    assert limner.__all__ == ["__version__"]
    assert sorted(limner.client.__all__) == ["ApiError", "Client", "ConflictError"]
    for name in limner.core.__all__:
        assert getattr(limner.core, name) is not None
    assert {"Shape", "LabelSchema", "Dataset", "validate_shape"} <= set(limner.core.__all__)


def test_every_editor_shortcut_and_tool_is_in_docs_editor_md():
    """docs/editor.md lists each binding of web/js/keys.js and each tool's key (read from the
    modules' source, so the page and the docs cannot drift apart)."""
    import re

    web = ROOT / "src/limner/web/js"
    doc = (ROOT / "docs/editor.md").read_text()
    keys = (web / "keys.js").read_text()
    titles = re.findall(r'\{ keys: "[^"]+", action: "[^"]+", title: "([^"]+)"', keys)
    assert len(titles) > 30
    missing = sorted({t for t in titles if t not in doc})
    assert not missing, f"docs/editor.md lacks: {missing}"
    tools = re.findall(r'name: "([a-z_]+)",\s*key: "([a-z])"', "".join(p.read_text() for p in (web / "tools").glob("*.js")))
    assert len(tools) >= 12
    rows = set(re.findall(r"^\| ([A-Z]) \|", doc, re.M))
    assert {k.upper() for _, k in tools} <= rows, sorted({k.upper() for _, k in tools} - rows)
