"""`limner check`: the automatic quality checks of a project, from the shell."""

import json
import time
from typing import Annotated, Optional

import typer

__all__ = ["register"]

SHOWN = 20  # findings printed in the table; --json lists up to --limit


def _short(message: str, item: str, shape: int | None) -> str:
    """The message without the "name shapes[i]: " it starts with (the table has those columns)."""
    lead = item + ("" if shape is None else f" shapes[{shape}]") + ": "
    return message[len(lead):] if message.startswith(lead) else message


def _print_report(console, report, shown: int, read_seconds: float) -> None:
    from rich.table import Column, Table

    d = report.to_dict()
    console.print(
        f"checked {d['items']:,} images, {d['shapes']:,} shapes (read in {read_seconds:.1f} s, checked in "
        f"{d['seconds']:.1f} s): {d['total']:,} finding{'s' if d['total'] != 1 else ''}"
    )
    t = Table("rule", "findings", "what it means", title="Checks")
    for r in d["rules"]:
        t.add_row(r["name"], f"{r['count']:,}", r["description"], style=None if r["count"] else "dim")
    console.print(t)
    if d["findings"]:
        f = Table(
            Column("image", overflow="fold"), "asset", "shape", "rule", "message",
            title=f"First findings ({min(shown, len(d['findings']))} of {d['total']:,})",
        )
        for x in d["findings"][:shown]:
            f.add_row(
                x["item"], "" if x["asset_id"] is None else str(x["asset_id"]),
                "" if x["shape"] is None else str(x["shape"]), x["rule"], _short(x["message"], x["item"], x["shape"]),
            )
        console.print(f)
    b = d["balance"]
    if b["labels"]:
        bt = Table("label", "shapes", "share", title="Class balance")
        total = sum(b["labels"].values()) or 1
        for name, n in sorted(b["labels"].items(), key=lambda kv: -kv[1]):
            bt.add_row(name, f"{n:,}", f"{100 * n / total:.1f} %")
        console.print(bt)
        if b["ratio"] is not None:
            console.print(f"most / least frequent label: {b['most']} / {b['least']} = {b['ratio']:.2f}")
        if b["unused"]:
            console.print("labels without shapes: " + ", ".join(b["unused"]))


def register(app: typer.Typer, open_db, settings_of, fail, project_id_of, data_dir_option) -> None:
    DataDir = data_dir_option

    @app.command()
    def consensus(
        project: Annotated[str, typer.Argument(help="Project id or name.")],
        quorum: Annotated[float, typer.Option(help="Share of the owners a cluster needs, in (0, 1].")] = 0.5,
        iou: Annotated[float, typer.Option(help="Similarity every two shapes of a cluster must reach, in (0, 1].")] = 0.5,
        data_dir: DataDir = None,
    ) -> None:
        """Merge the annotations of every asset that two or more people annotated into its
        `consensus` annotation (replacing an earlier one); assets with fewer are skipped."""
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from limner.errors import LimnerError
        from limner.quality.project_consensus import project_consensus

        console = Console(stderr=True, soft_wrap=True, highlight=False)
        settings = settings_of(data_dir)
        db = open_db(settings)
        try:
            with db.read() as s:
                pid = project_id_of(s, project)
            with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console,
                          transient=True) as bar:
                task = bar.add_task("reading the annotations", total=1.0)
                result = project_consensus(db, pid, quorum=quorum, iou=iou,
                                           progress=lambda f, m: bar.update(task, completed=f, description=m))  # fmt: skip
        except LimnerError as e:
            fail(e.detail)
        finally:
            db.dispose()
        console.print(
            f"consensus of {result['merged']} assets written ({result['shapes']} shapes; clusters: {result['kept']} kept, "
            f"{result['below_quorum']} below the quorum, {result['ties']} label ties); "
            f"{result['skipped']} assets with fewer than two people's annotations skipped"
        )

    @app.command()
    def check(
        project: Annotated[str, typer.Argument(help="Project id or name.")],
        rule: Annotated[Optional[list[str]], typer.Option("--rule", "-r", help="Run only this rule (repeatable); default: all.")] = None,
        json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout.")] = False,
        limit: Annotated[int, typer.Option(help="Findings to list (all are counted).")] = 1000,
        owner: Annotated[Optional[str], typer.Option(help="Whose annotations (default: the latest by a person).")] = None,
        min_area: Annotated[float, typer.Option(help="small_area: smallest area in square pixels.")] = 16.0,
        duplicate_iou: Annotated[float, typer.Option(help="duplicate: IoU above which two shapes are one.")] = 0.95,
        outlier_z: Annotated[float, typer.Option(help="count_outlier: robust z-score beyond which a count is an outlier.")] = 3.5,
        data_dir: DataDir = None,
    ) -> None:
        """Check a project's annotations: geometry, unlabelled images, tiny shapes, duplicates,
        missing attributes, unknown labels, keypoints outside their box, shape-count outliers, and
        the class balance."""
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from limner.errors import LimnerError
        from limner.quality.checks import RULES, CheckOptions
        from limner.quality.report import project_checks

        console = Console(stderr=True, soft_wrap=True, highlight=False)
        unknown = [r for r in rule or [] if r not in RULES]
        if unknown:
            fail(f"unknown rule {', '.join(unknown)}; rules are {', '.join(RULES)}")
        settings = settings_of(data_dir)
        db = open_db(settings)
        try:
            with db.read() as s:
                pid = project_id_of(s, project)
            started = time.perf_counter()
            read_seconds = 0.0
            with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console,
                          transient=True) as bar:
                task = bar.add_task("reading the project", total=None)

                def on_read(items: int, shapes: int) -> None:
                    nonlocal read_seconds
                    read_seconds = time.perf_counter() - started
                    bar.update(task, total=1.0, completed=0.0, description=f"checking {items:,} images, {shapes:,} shapes")

                report = project_checks(
                    db, pid, rules=rule, limit=limit, owner=owner,
                    options=CheckOptions(min_area=min_area, duplicate_iou=duplicate_iou, outlier_z=outlier_z),
                    on_read=on_read, progress=lambda f, name: bar.update(task, completed=f),
                )
        except LimnerError as e:
            fail(e.detail)
        finally:
            db.dispose()
        if json_out:
            typer.echo(json.dumps({**report.to_dict(), "read_seconds": round(read_seconds, 3)}, ensure_ascii=False))
        else:
            _print_report(Console(soft_wrap=False, highlight=False), report, SHOWN, read_seconds)
