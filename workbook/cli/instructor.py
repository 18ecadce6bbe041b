"""Commands for instructors: grade a class, build course-platform autograders, export a
learner's own record (never a grade: learner code can write the store it reads), and
the course-author command that regenerates the tamper-evidence manifest.

Registered on the main `cli` group when `workbook.cli` is imported; heavy modules
are imported inside the commands so that `workbook list` stays quick.
"""

from __future__ import annotations

from pathlib import Path

import click

from workbook.cli import EXIT_NOT_PASSED, EXIT_OK, cli
from workbook.errors import WorkbookError


def _workspace(ctx: click.Context):
    from workbook.workspace import Workspace, find_workspace

    chosen = ctx.obj.get("workspace") if ctx.obj else None
    if chosen is None:
        return find_workspace()
    if not (chosen / "course" / "course.toml").is_file():
        raise WorkbookError(f"{chosen} is not a workbook workspace (no course/course.toml)")
    return Workspace(chosen.resolve())


def _write(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output}", err=True)


@cli.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["gradescope", "csv", "json"]),
    default="json",
    show_default=True,
    help="gradescope: the progress in Gradescope's results.json shape; csv: one row per "
    "lesson; json: everything, with the attempt log. Not grades: see below.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE instead of standard output.",
)
@click.pass_context
def export(ctx: click.Context, fmt: str, output: Path | None) -> None:
    """Export this workspace's progress record (from its progress store; nothing is
    re-graded).

    The store is the learner's own file, which they can change: an export is their
    record, never a grade. To grade, grade the exercise files afresh: `workbook
    grade-class`, or the bundles of `workbook autograder gradescope|prairielearn`."""
    from workbook.export import collect, render

    _write(render(collect(_workspace(ctx)), fmt), output)
    click.echo(
        "note: this is the learner's own progress record (their store, which they can "
        "change), not a grade; grade their files with `workbook grade-class` or "
        "`workbook autograder`.",
        err=True,
    )


@cli.command("grade-class")
@click.argument("submissions", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("results.csv"),
    show_default=True,
    help="The CSV to write (never inside SUBMISSIONS).",
)
@click.option(
    "--jobs", "-j", type=click.IntRange(min=1), help="Parallel attempts (default: cores)."
)
@click.option(
    "--own-checks",
    is_flag=True,
    help="Grade full workspaces with their own course and checks instead of the shipped ones.",
)
@click.pass_context
def grade_class_command(
    ctx: click.Context, submissions: Path, output: Path, jobs: int | None, own_checks: bool
) -> None:
    """Grade every learner folder in SUBMISSIONS (a workspace, or a folder with
    exercises/) in parallel and write one CSV row per learner and lesson, plus totals.

    Exit 0 if every learner passed every lesson, 1 otherwise.
    """
    from workbook.classroom import check_output_path, grade_class, write_csv

    check_output_path(output, submissions)

    def tick(learner: str, lesson, result) -> None:
        kind = result.error.kind if result.error is not None else None
        shown = kind if kind in ("missing", "refused") else result.verdict  # as in the CSV
        click.echo(f"  {learner} · {lesson.number}. {lesson.title}: {shown}", err=True)

    result = grade_class(submissions, jobs=jobs, own_checks=own_checks, progress=tick)
    for name, why in result.skipped.items():
        click.echo(f"not graded: {name}: {why} (0 points in the CSV)", err=True)
    if len(result.skipped) == len(result.totals()):
        hint = ""
        if (submissions / "exercises").is_dir() or (submissions / "course").is_dir():
            hint = f": {submissions} looks like one workspace; pass the folder that holds them"
        raise WorkbookError(f"no submissions found in {submissions}{hint}")
    output.parent.mkdir(parents=True, exist_ok=True)
    write_csv(result, output)
    totals = result.totals()
    for learner, (passed, total) in totals.items():
        flag = (
            "  (grading files differ from the shipped course)"
            if any(r["tampered"] for r in result.rows if r["learner"] == learner)
            else ""
        )
        click.echo(f"{learner}: {passed}/{total} lessons passed{flag}")
    click.echo(
        f"Graded {len(totals) - len(result.skipped)} learners, {result.attempts} attempts in "
        f"{result.wall_s:.1f} s; "
        f"wrote {output}"
    )
    everyone = all(passed == total for passed, total in totals.values())
    ctx.exit(EXIT_OK if everyone else EXIT_NOT_PASSED)


def _dev_group() -> click.Group:
    """The `dev` group of course-author commands, created here if no other module has."""
    existing = cli.commands.get("dev")
    if isinstance(existing, click.Group):
        return existing

    @cli.group("dev")
    def dev() -> None:
        """Tools for course authors."""

    return dev


@_dev_group().command("manifest")
@click.option("--check", "only_check", is_flag=True, help="Exit 1 if the manifest is stale.")
@click.pass_context
def dev_manifest(ctx: click.Context, only_check: bool) -> None:
    """Regenerate workbook/manifest.json (SHA-256 of course/ and checks/)."""
    from workbook.manifest import MANIFEST_PATH, build_manifest, load_manifest, write_manifest
    from workbook.workspace import bundled_root

    if only_check:
        fresh = build_manifest(bundled_root())
        stale = fresh != load_manifest()
        click.echo("manifest is stale" if stale else "manifest is up to date")
        ctx.exit(EXIT_NOT_PASSED if stale else EXIT_OK)
    written = write_manifest()
    click.echo(f"wrote {MANIFEST_PATH} ({len(written['files'])} files)")


@cli.group("autograder")
def autograder() -> None:
    """Build a course platform's autograder that grades each submission afresh."""


@autograder.command("gradescope")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("autograder.zip"),
    show_default=True,
    help="The zip to upload as the assignment's autograder.",
)
@click.option(
    "--visibility",
    type=click.Choice(["hidden", "after_due_date", "after_published", "visible"]),
    default="visible",
    show_default=True,
    help="When learners see their results.",
)
def autograder_gradescope(output: Path, visibility: str) -> None:
    """A Gradescope autograder zip: setup.sh installs this exact workbook (shipped in
    the zip as a wheel), run_autograder grades /autograder/submission with the
    shipped checks and writes /autograder/results/results.json."""
    from workbook.autograder import gradescope_bundle

    gradescope_bundle(output, visibility=visibility)
    click.echo(f"wrote {output}: upload it as the assignment's autograder (Ubuntu 22.04+ image)")


@autograder.command("prairielearn")
@click.option(
    "--output",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The folder to write the grader image's files into.",
)
@click.option(
    "--timeout",
    type=click.IntRange(min=10),
    default=600,
    show_default=True,
    help="Seconds, for the example question-info.json.",
)
def autograder_prairielearn(output: Path, timeout: int) -> None:
    """A PrairieLearn external grader: a Dockerfile installing this exact workbook and
    an entry point that grades /grade/student into /grade/results/results.json."""
    from workbook.autograder import prairielearn_bundle

    for path in prairielearn_bundle(output, timeout_s=timeout):
        click.echo(f"wrote {path}")
    click.echo(
        f"next: docker build -t YOUR-REGISTRY/lstm-workbook-grader {output}, push it, "
        "and merge question-info.json into each question's info.json"
    )
