"""`limner models add|list|remove|test`: registered assistants, from the shell."""

import json
from typing import Annotated, Optional

import typer

__all__ = ["register"]


def _parse_sets(pairs: list[str], fail) -> dict:
    """``key=value`` pairs; a value is read as JSON when it is JSON (numbers, lists, objects)."""
    out = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            fail(f"--set takes key=value, got {pair!r}")
        try:
            out[key] = json.loads(raw)
        except ValueError:
            out[key] = raw
    return out


def _where(config: dict) -> str:
    for key in ("url", "path", "encoder", "tool"):
        if key in config:
            return str(config[key]) if key != "encoder" else f"{config['encoder']} + {config.get('decoder')}"
    return ""


def register(app: typer.Typer, open_db, settings_of, fail, project_id_of, data_dir_option) -> None:
    DataDir = data_dir_option
    models_app = typer.Typer(help="Registered models: interactors and detectors.", no_args_is_help=True)
    app.add_typer(models_app, name="models")
    Project = Annotated[Optional[str], typer.Option("--project", "-p", help="Project id or name (default: site-wide).")]

    def _find(s, ref: str, project: str | None):
        from limner.store import assistants

        pid = project_id_of(s, project) if project else None
        if ref.isdigit():
            m = s.get(assistants.ModelRow, int(ref))
            if m is not None:
                return m
        m = assistants.find_model(s, pid, ref) if pid is not None else None
        if m is None:
            from sqlalchemy import select

            rows = list(s.scalars(select(assistants.ModelRow).where(assistants.ModelRow.name == ref,
                                                                    assistants.ModelRow.project_id.is_(None))))  # fmt: skip
            m = rows[0] if rows else None
        if m is None:
            fail(f"no model {ref!r}" + (f" in project {project}" if project else " site-wide (name a project with --project)"))
        return m

    @models_app.command("add")
    def models_add(
        name: Annotated[str, typer.Argument(help="Model name; its pre-labels are owned by model:NAME.")],
        kind: Annotated[str, typer.Option(help="interactor or detector.")],
        type_: Annotated[str, typer.Option("--type", help="onnx_sam, onnx_yolo, ml_backend or builtin.")],
        project: Project = None,
        config: Annotated[Optional[str], typer.Option(help="The configuration as a JSON object.")] = None,
        set_: Annotated[Optional[list[str]], typer.Option("--set", help="A configuration entry key=value (repeatable; JSON values).")] = None,
        data_dir: DataDir = None,
    ) -> None:
        """Register a model for a project or site-wide; it is loaded once to check its configuration."""
        from rich.console import Console

        from limner.assist.loader import check, load, release
        from limner.errors import LimnerError
        from limner.store import assistants

        try:
            cfg = json.loads(config) if config else {}
        except ValueError as e:
            fail(f"--config is not JSON: {e}")
        if not isinstance(cfg, dict):
            fail("--config must be a JSON object")
        cfg.update(_parse_sets(set_ or [], fail))
        db = open_db(settings_of(data_dir))
        try:
            with db.read() as s:
                pid = project_id_of(s, project) if project else None
            check(kind, type_, cfg)
            with Console(stderr=True).status(f"loading {name}"):
                release(load(kind, type_, cfg, name=name))
            with db.write() as s:
                m = assistants.create_model(s, pid, name, kind, type_, cfg, None)
                typer.echo(f"added model {m.id}: {m.name} ({kind}, {type_}) {'site-wide' if pid is None else f'in project {pid}'}")
        except LimnerError as e:
            fail(e.detail)
        finally:
            db.dispose()

    @models_app.command("list")
    def models_list(project: Project = None, data_dir: DataDir = None) -> None:
        """List the models of a project (and the site-wide ones), or the site-wide ones alone."""
        from rich.console import Console
        from rich.table import Column, Table

        from limner.store import assistants

        db = open_db(settings_of(data_dir))
        try:
            with db.read() as s:
                pid = project_id_of(s, project) if project else None
                rows = assistants.list_models(s, pid)
        finally:
            db.dispose()
        t = Table("id", "name", "kind", "type", "scope", Column("model", overflow="fold"), "created")
        for m in rows:
            scope = "site-wide" if m["project_id"] is None else f"project {m['project_id']}"
            t.add_row(str(m["id"]), m["name"], m["kind"], m["type"], scope, _where(m["config"]), m["created_at"][:19])
        Console().print(t)

    @models_app.command("remove")
    def models_remove(ref: Annotated[str, typer.Argument(help="Model id or name.")], project: Project = None,
                      data_dir: DataDir = None) -> None:  # fmt: skip
        """Remove a model; its pre-labels stay."""
        from limner.store import assistants

        from limner.assist_calls import KEPT, drop_classifier
        from limner.media.storage import storage_from_url

        settings = settings_of(data_dir)
        db = open_db(settings)
        try:
            with db.write() as s:
                m = _find(s, ref, project)
                name, mid = m.name, m.id
                kept = (m.config or {}).get("key") if m.type == KEPT else None
                assistants.delete_model(s, m, None)
        finally:
            db.dispose()
        if kept is not None:  # a kept scribble classifier: its stored bytes go too
            drop_classifier(storage_from_url(settings.media_location), mid, kept)
        typer.echo(f"removed model {mid}: {name}")

    @models_app.command("test")
    def models_test(ref: Annotated[str, typer.Argument(help="Model id or name.")], project: Project = None,
                    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
                    data_dir: DataDir = None) -> None:  # fmt: skip
        """Load a model and run it on a generated image: timings and what came out."""
        from rich.console import Console
        from rich.table import Table

        from limner.assist_calls import self_test
        from limner.errors import LimnerError

        from limner.media.storage import storage_from_url

        settings = settings_of(data_dir)
        db = open_db(settings)
        try:
            with db.read() as s:
                m = _find(s, ref, project)
            with Console(stderr=True).status(f"running {m.name} on a test image"):
                report = self_test(m, storage_from_url(settings.media_location))
        except LimnerError as e:
            fail(e.detail)
        finally:
            db.dispose()
        if json_out:
            typer.echo(json.dumps(report))
            return
        out = Console(highlight=False)
        out.print(f"{report['model']} ({report['kind']}, {report['type']}) on a {report['image']['width']}x"
                  f"{report['image']['height']} test image")  # fmt: skip
        t = Table("step", "ms", title="Timings")
        for step, ms in report["elapsed_ms"].items():
            t.add_row(step, f"{ms:,.1f}")
        out.print(t)
        o = Table("output", "value")
        for k, v in report["output"].items():
            o.add_row(k, json.dumps(v) if isinstance(v, (dict, list)) else str(v))
        out.print(o)
