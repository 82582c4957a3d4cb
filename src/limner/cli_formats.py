"""`limner convert`, `limner export` and `limner import`: datasets in and out, with progress."""


from pathlib import Path
from typing import Annotated, Optional

import typer

__all__ = ["register"]

#: set by ``limner.cli.main``: the process is the ``limner`` command, so it may end without freeing
#: what it holds (not when the commands run inside another program, e.g. a test's CliRunner)
FAST_EXIT = False


def _finish() -> None:
    """End a command that has written everything it was asked to: a converted dataset's hundreds of
    thousands of objects need not be freed one by one before the process ends (0.3 s for 200,000
    shapes). Output streams are flushed first; files were closed by their writers."""
    if FAST_EXIT:
        import os
        import sys

        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


class _Bar:
    """A progress bar for one step, drawn only when the work reports progress (and at its start
    and end). No thread redraws it meanwhile: a spinner's thread takes the interpreter from the
    work a dozen times a second, which made reading a big file 15 % slower. Call it with the
    fraction done; it redraws at most ten times a second."""

    def __init__(self, console, text: str):
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
            console=console, auto_refresh=False, transient=True,
        )  # fmt: skip
        self.task = self.progress.add_task(text, total=1.0)
        self.drawn = 0.0

    def __enter__(self) -> "_Bar":
        self.progress.start()
        self.progress.refresh()
        return self

    def __call__(self, fraction: float, message: Optional[str] = None) -> None:
        import time

        now = time.monotonic()
        draw = now - self.drawn >= 0.1
        if message is None:
            self.progress.update(self.task, completed=fraction, refresh=draw)
        else:
            self.progress.update(self.task, completed=fraction, description=message, refresh=draw)
        if draw:
            self.drawn = now

    def __exit__(self, *exc) -> None:
        self.progress.stop()


def _print_result(console, result: dict) -> None:
    rep = result.get("report") or {}
    for line in rep.get("summary", []):
        console.print(f"  {line}")
    checks = (result.get("checks") or {}).get("counts") or {}
    if checks:
        console.print("  checks: " + ", ".join(f"{k} {v}" for k, v in sorted(checks.items())))
    if result.get("splits"):
        console.print("  splits: " + ", ".join(f"{k} {v}" for k, v in sorted(result["splits"].items())))


def register(app: typer.Typer, open_db, settings_of, fail, project_id_of, data_dir_option) -> None:
    DataDir = data_dir_option

    @app.command()
    def formats() -> None:
        """List the dataset formats Limner reads and writes."""
        from rich.console import Console
        from rich.table import Table

        from limner.formats import FORMATS, names

        names()
        t = Table("format", "read", "write", "what it is")
        for f in sorted(FORMATS.values(), key=lambda f: f.name):
            t.add_row(f.name, "yes" if f.read else "", "yes" if f.write else "", f.description)
        Console().print(t)

    @app.command()
    def convert(
        src: Annotated[Path, typer.Argument(help="Dataset folder or file to read.")],
        out: Annotated[Path, typer.Argument(help="Folder to write.")],
        to: Annotated[str, typer.Option("--to", help="Format to write (see `limner formats`).")],
        from_: Annotated[Optional[str], typer.Option("--from", help="Format to read; found by itself when omitted.")] = None,
        include_images: Annotated[bool, typer.Option(help="Copy the images into the output.")] = False,
        split: Annotated[Optional[str], typer.Option(help="Re-split, e.g. train=0.8,val=0.1,test=0.1.")] = None,
        seed: Annotated[int, typer.Option(help="Seed of the split.")] = 0,
        remap: Annotated[Optional[str], typer.Option(help="Rename or merge labels: old=new,other=new,drop=")] = None,
    ) -> None:
        """Convert a dataset between formats, no server needed."""
        from rich.console import Console

        from limner.errors import LimnerError
        from limner.convert import export_to_folder, read_for
        from limner.formats import get

        console = Console(stderr=True, soft_wrap=True, highlight=False, markup=False)
        try:
            get(to)
            with _Bar(console, f"reading {src}") as bar:
                ds, rep, fmt = read_for(src, from_, to, remap=remap, split=split, progress=bar)
            console.print(f"read {src} as {fmt}: {len(ds.items)} images, {ds.shape_count} shapes, {len(ds.schema)} labels")
            for line in rep.summary():
                console.print(f"  {line}")
            with _Bar(console, f"writing {to} to {out}") as bar:
                result = export_to_folder(ds, to, out, include_images=include_images, split=split, seed=seed, remap=remap, progress=bar)
        except LimnerError as e:
            fail(e.detail)
        console.print(f"wrote {out} as {to}")
        _print_result(console, result)
        _finish()

    @app.command("export")
    def export_cmd(
        project: Annotated[str, typer.Argument(help="Project id or name.")],
        out: Annotated[Path, typer.Argument(help="Folder to write.")],
        format: Annotated[str, typer.Option("--format", "-f", help="Format to write.")],
        status: Annotated[Optional[list[str]], typer.Option(help="Only assets with this status (repeatable).")] = None,
        label: Annotated[Optional[list[str]], typer.Option(help="Only these labels (repeatable).")] = None,
        owner: Annotated[Optional[str], typer.Option(help="Whose annotation (default: the latest by a person).")] = None,
        include_images: Annotated[bool, typer.Option(help="Copy the images into the output.")] = False,
        split: Annotated[Optional[str], typer.Option(help="Split, e.g. train=0.8,val=0.1,test=0.1.")] = None,
        seed: Annotated[int, typer.Option(help="Seed of the split.")] = 0,
        remap: Annotated[Optional[str], typer.Option(help="Rename or merge labels: old=new,drop=")] = None,
        data_dir: DataDir = None,
    ) -> None:
        """Export a project's annotations in a format."""
        from rich.console import Console

        from limner.errors import LimnerError
        from limner.exchange import project_dataset
        from limner.convert import export_to_folder
        from limner.media.storage import storage_from_url

        console = Console(stderr=True, soft_wrap=True, highlight=False, markup=False)
        settings = settings_of(data_dir)
        db = open_db(settings)
        try:
            with db.read() as s:
                pid = project_id_of(s, project)
            with _Bar(console, "reading the project"):
                ds = project_dataset(db, pid, storage_from_url(settings.media_location), statuses=status, labels=label, owner=owner)
            with _Bar(console, f"writing {len(ds.items)} images as {format}") as bar:
                result = export_to_folder(ds, format, out, include_images=include_images, split=split, seed=seed, remap=remap, progress=bar)
        except LimnerError as e:
            fail(e.detail)
        finally:
            db.dispose()
        console.print(f"exported {result['items']} images, {result['shapes']} shapes to {out} as {format}")
        _print_result(console, result)
        _finish()

    @app.command("import")
    def import_cmd(
        project: Annotated[str, typer.Argument(help="Project id or name.")],
        src: Annotated[Path, typer.Argument(help="Dataset folder, file or zip.")],
        format: Annotated[Optional[str], typer.Option("--format", "-f", help="Format; found by itself when omitted.")] = None,
        owner: Annotated[str, typer.Option(help="Whose annotations the shapes become, e.g. model:yolo for pre-labels.")] = "import",
        images: Annotated[bool, typer.Option(help="Add the dataset's images that match no asset.")] = True,
        create_labels: Annotated[bool, typer.Option(help="Create labels the project lacks (else refuse).")] = True,
        data_dir: DataDir = None,
    ) -> None:
        """Import a dataset into a project: images and annotations, or pre-labels onto existing assets
        matched by file name. All or nothing."""
        import tempfile

        from rich.console import Console

        from limner.errors import LimnerError
        from limner.exchange import import_dataset
        from limner.formats import read
        from limner.media.archives import extract_all
        from limner.media.storage import storage_from_url

        console = Console(stderr=True, soft_wrap=True, highlight=False, markup=False)
        settings = settings_of(data_dir)
        db = open_db(settings)
        try:
            with db.read() as s:
                pid = project_id_of(s, project)
            with tempfile.TemporaryDirectory(prefix="limner-import-") as tmp:
                root = src
                if src.is_file() and src.suffix.lower() == ".zip":
                    extract_all(src, Path(tmp))
                    root = Path(tmp)
                with _Bar(console, f"reading {src}"):
                    ds, rep, fmt = read(root, format)
                console.print(f"read {src} as {fmt}: {len(ds.items)} images, {ds.shape_count} shapes")
                for line in rep.summary():
                    console.print(f"  {line}")
                with _Bar(console, "importing") as bar:
                    summary = import_dataset(
                        db, storage_from_url(settings.media_location), pid, ds, owner=owner, actor_id=None,
                        with_images=images, create_labels=create_labels, thumb_size=settings.thumbnail_size,
                        workers=settings.workers, progress=bar,
                    )
        except LimnerError as e:
            fail(e.detail)
        finally:
            db.dispose()
        out = summary.to_dict()
        typer.echo(
            f"imported {out['shapes']} shapes on {out['annotations']} images as {owner!r} "
            f"({out['assets_added']} images added, {out['assets_matched']} matched, {out['unmatched_count']} not matched)"
        )
        if out["labels_created"]:
            typer.echo("labels created: " + ", ".join(out["labels_created"]))
        for name in out["unmatched"][:20]:
            typer.echo(f"  not matched: {name}")
        for r in out["rejected"][:20]:
            typer.echo(f"  rejected {r['name']}: {r['reason']}")
        _finish()
