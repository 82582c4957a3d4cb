"""The `limner` command: server, demo, database, users, projects and assets from the shell."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from limner import __version__
from limner.settings import SETTINGS, load_settings

__all__ = ["app", "main"]

app = typer.Typer(
    help="Limner: image annotation for deep-learning datasets.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts and roles.", no_args_is_help=True)
projects_app = typer.Typer(help="Projects.", no_args_is_help=True)
assets_app = typer.Typer(help="Images of a project.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(projects_app, name="projects")
app.add_typer(assets_app, name="assets")

DataDir = Annotated[
    Optional[Path], typer.Option("--data-dir", help=next(s.help for s in SETTINGS if s.name == "data_dir"), envvar="LIMNER_DATA_DIR")
]
Host = Annotated[Optional[str], typer.Option(help="Address to bind (default 127.0.0.1: this machine only).")]
Port = Annotated[Optional[int], typer.Option(help="Port to listen on (default 8080).")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"limner {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    pass


def _settings(data_dir: Path | None = None, **kw):
    try:
        return load_settings(data_dir=str(data_dir) if data_dir else None, **kw)
    except ValueError as e:
        _fail(str(e))


def _open(settings):
    from limner.store import Database, upgrade

    db = Database(settings.db_url)
    upgrade(db)
    return db


def _fail(msg: str) -> None:
    typer.secho(f"error: {msg}", fg="red", err=True)
    raise typer.Exit(1)


def _project_id(s, ref: str) -> int:
    from sqlalchemy import select

    from limner.store.models import Project

    if ref.isdigit():
        if s.get(Project, int(ref)) is not None:
            return int(ref)
    ids = list(s.scalars(select(Project.id).where(Project.name == ref)))
    if len(ids) == 1:
        return ids[0]
    _fail(f"no project {ref!r}" if not ids else f"{len(ids)} projects are named {ref!r}; use the id")
    raise AssertionError


def _admin(s):
    """The first active administrator, created (without a password) when there is none."""
    from sqlalchemy import select

    from limner.store.models import User
    from limner.store.users import create_user

    u = s.scalar(select(User).where(User.is_admin.is_(True), User.is_active.is_(True)).order_by(User.id))
    return u or create_user(s, "admin", None, is_admin=True, display_name="Administrator")


def _tune_gc() -> None:
    """A request that writes 1,000 shapes makes tens of thousands of small objects; with the
    default thresholds the collector runs many times inside it and walks the whole heap. Objects
    alive after start-up are frozen out of collection and young collections happen less often
    (a 1,000-shape save: p95 from about 240 ms to about 85 ms here)."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def _run_server(settings, *, login_link: bool, banner: str = "") -> None:
    import uvicorn

    from limner.errors import LimnerError
    from limner.server.access_log import configure_logging
    from limner.server.app import create_app, open_services
    from limner.store.users import create_login_token

    try:
        services = open_services(settings)
    except LimnerError as e:
        _fail(e.detail)
    link = ""
    if login_link:
        with services.db.write() as s:
            token = create_login_token(s, _admin(s), settings.login_token_minutes)
        link = f"{settings.base_url}/login?token={token}"
    app_ = create_app(settings, services=services)
    configure_logging(settings.log_level)
    config = uvicorn.Config(
        app_, host=settings.host, port=settings.port, log_config=None, access_log=False, server_header=False
    )
    server = uvicorn.Server(config)
    _tune_gc()
    if banner:
        typer.echo(banner)
    typer.echo(f"Limner {__version__} serving {settings.base_url}  (data: {settings.data_path})")
    if link:
        typer.echo("Open this link to log in (valid once, for %d minutes):\n    %s" % (settings.login_token_minutes, link))
    try:
        server.run()
    finally:
        services.runner.shutdown()
        services.db.dispose()


@app.command()
def serve(
    data_dir: DataDir = None,
    host: Host = None,
    port: Port = None,
    login_link: Annotated[bool, typer.Option(help="Print a one-time login link for the administrator.")] = True,
) -> None:
    """Start the server (embedded SQLite and local media folder unless configured otherwise)."""
    _run_server(_settings(data_dir, host=host, port=port), login_link=login_link)


@app.command()
def demo(data_dir: DataDir = None, host: Host = None, port: Port = None) -> None:
    """Start the server with a demo project of sample photographs, a full label schema and annotations."""
    from limner.demo import build_demo

    settings = _settings(data_dir, host=host, port=port)
    db = _open(settings)
    try:
        with db.write() as s:
            admin_id = _admin(s).id
        pid, created = build_demo(db, settings, admin_id)
    finally:
        db.dispose()
    note = "created" if created else "already there"
    _run_server(settings, login_link=True, banner=f"Demo project {pid} {note}: {settings.base_url}/#/projects/{pid}")


@db_app.command("upgrade")
def db_upgrade(
    data_dir: DataDir = None,
    database_url: Annotated[Optional[str], typer.Option(help="SQLAlchemy URL (default: SQLite in the data folder).")] = None,
) -> None:
    """Create or migrate the database to the newest schema."""
    from limner.store import Database, upgrade
    from limner.store.migrate import current_revision

    settings = _settings(data_dir, database_url=database_url)
    db = Database(settings.db_url)
    ran = upgrade(db)
    typer.echo(f"database at revision {current_revision(db)}" + (" (migrated)" if ran else " (already current)"))
    db.dispose()


@users_app.command("add")
def users_add(
    username: str,
    password: Annotated[Optional[str], typer.Option(help="Password; asked for when omitted.")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Make the user a site administrator.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Create a user account."""
    from limner.errors import LimnerError
    from limner.store.users import create_user

    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    db = _open(_settings(data_dir))
    try:
        with db.write() as s:
            u = create_user(s, username, password, is_admin=admin)
            typer.echo(f"created user {u.username} (id {u.id}{', administrator' if admin else ''})")
    except LimnerError as e:
        _fail(e.detail)


@users_app.command("list")
def users_list(data_dir: DataDir = None) -> None:
    """List user accounts."""
    from rich.console import Console
    from rich.table import Table

    from limner.store.users import list_users

    db = _open(_settings(data_dir))
    t = Table("id", "username", "name", "admin", "active")
    with db.read() as s:
        for u in list_users(s):
            t.add_row(str(u.id), u.username, u.display_name, "yes" if u.is_admin else "", "yes" if u.is_active else "no")
    Console().print(t)


@users_app.command("set-role")
def users_set_role(
    username: str,
    role: Annotated[str, typer.Argument(help="admin or user; with --project: viewer, annotator, reviewer, manager or owner.")],
    project: Annotated[Optional[str], typer.Option(help="Project id or name for a project role.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Set a user's site role, or (with --project) their role in a project."""
    from limner.errors import LimnerError
    from limner.store.projects import add_member, role_of, set_member_role
    from limner.store.users import get_user_by_name, update_user

    db = _open(_settings(data_dir))
    try:
        with db.write() as s:
            u = get_user_by_name(s, username)
            if project is None:
                if role not in ("admin", "user"):
                    _fail("a site role is admin or user; use --project for a project role")
                update_user(s, u, None, is_admin=role == "admin")
                typer.echo(f"{username} is now {'an administrator' if role == 'admin' else 'a user'}")
            else:
                pid = _project_id(s, project)
                if role_of(s, u, pid) is None:
                    add_member(s, pid, u, role, None)
                else:
                    set_member_role(s, pid, u.id, role, None)
                typer.echo(f"{username} is {role} in project {pid}")
    except LimnerError as e:
        _fail(e.detail)


@projects_app.command("list")
def projects_list(data_dir: DataDir = None) -> None:
    """List projects with their asset and shape counts."""
    from rich.console import Console
    from rich.table import Table

    from limner.store.projects import list_projects

    db = _open(_settings(data_dir))
    t = Table("id", "name", "assets", "done", "shapes")
    with db.read() as s:
        for p in list_projects(s, _admin_view()):
            t.add_row(str(p["id"]), p["name"], str(p["asset_count"]), str(p["done_count"]), str(p["shape_count"]))
    Console().print(t)


def _admin_view():
    """A stand-in administrator for shell commands, which see every project."""
    from limner.store.models import User

    return User(id=0, username="(shell)", is_admin=True)


@projects_app.command("create")
def projects_create(
    name: str,
    description: Annotated[str, typer.Option(help="What the project is for.")] = "",
    owner: Annotated[Optional[str], typer.Option(help="Username of the owner (default: the first administrator).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Create a project."""
    from limner.errors import LimnerError
    from limner.store.projects import create_project
    from limner.store.users import get_user_by_name

    db = _open(_settings(data_dir))
    try:
        with db.write() as s:
            u = get_user_by_name(s, owner) if owner else _admin(s)
            p = create_project(s, u, name, description)
            typer.echo(f"created project {p.id}: {p.name} (owner {u.username})")
    except LimnerError as e:
        _fail(e.detail)


@assets_app.command("add")
def assets_add(
    project: Annotated[str, typer.Argument(help="Project id or name.")],
    paths: Annotated[list[str], typer.Argument(help="Image files, folders, zips or http(s) URLs.")],
    data_dir: DataDir = None,
    workers: Annotated[Optional[int], typer.Option(help="Decoding threads (default: LIMNER_WORKERS).")] = None,
) -> None:
    """Add images to a project, with a progress bar and a summary of what was added, skipped or rejected."""
    import tempfile

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from limner.ingest import ingest
    from limner.media.sources import expand_sources
    from limner.media.storage import storage_from_url

    settings = _settings(data_dir, workers=workers)
    db = _open(settings)
    console = Console(stderr=True, soft_wrap=True, highlight=False)
    with db.read() as s:
        pid = _project_id(s, project)
    storage = storage_from_url(settings.media_location)
    with tempfile.TemporaryDirectory(prefix="limner-add-") as tmp:
        sources = list(expand_sources(paths, Path(tmp)))
        with Progress(
            TextColumn("adding images"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console,
            transient=False, disable=not sources,
        ) as bar:
            task = bar.add_task("add", total=len(sources))
            report = ingest(
                db, storage, pid, sources, actor_id=None, thumb_size=settings.thumbnail_size,
                max_bytes=settings.max_upload_mb * 1024 * 1024, workers=settings.workers, total=len(sources),
                progress=lambda done, _n: bar.update(task, completed=done),
            )
    out = Console(soft_wrap=True, highlight=False, markup=False)
    out.print(
        f"added {len(report.added)}, skipped {len(report.duplicates)} already in the project, rejected {len(report.rejected)}"
    )
    for d in report.duplicates[:20]:
        out.print(f"  skipped {d['name']}: same image as asset {d.get('existing_id') or d.get('same_as')}")
    for r in report.rejected[:50]:
        out.print(f"  rejected {r['name']}: {r['reason']}")
    more = len(report.rejected) - 50
    if more > 0:
        out.print(f"  … and {more} more rejected")
    db.dispose()
    if not report.added and report.rejected:
        raise typer.Exit(1)


from limner import cli_formats  # noqa: E402
from limner import cli_models  # noqa: E402
from limner import cli_quality  # noqa: E402

cli_formats.register(app, _open, _settings, _fail, _project_id, DataDir)
cli_quality.register(app, _open, _settings, _fail, _project_id, DataDir)
cli_models.register(app, _open, _settings, _fail, _project_id, DataDir)


def main() -> None:
    cli_formats.FAST_EXIT = True
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
