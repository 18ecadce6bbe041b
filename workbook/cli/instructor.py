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
    from workbook.instructor.export import collect, render

    _write(render(collect(_workspace(ctx)), fmt), output)
    click.echo(
        "note: this is the learner's own progress record (their store, which they can "
        "change), not a grade; grade their files with `workbook grade-class` or "
        "`workbook autograder`.",
        err=True,
    )


def _chosen_lessons(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    """`--lessons`: the ids of the lessons named (numbers, ranges such as 3-7, ids),
    checked against the shipped course; () for every lesson. Unknown: a usage error."""
    if not value or not value.strip():
        return ()
    from workbook.workspace import Workspace, bundled_root

    course = Workspace(bundled_root()).course
    try:
        chosen = course.select(value)
    except WorkbookError as exc:
        raise click.BadParameter(
            f"{exc}; ranges such as 3-7 work too, comma-separated", ctx=ctx, param=param
        ) from exc
    return tuple(lesson.id for lesson in chosen)


_LESSONS_HELP = (
    "Only these lessons, comma-separated: numbers, ranges (3-7) or ids. The others are "
    "not graded and not reported; totals and maximum scores count only these. "
    "Default: every lesson."
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
@click.option("--lessons", default="", metavar="LIST", callback=_chosen_lessons, help=_LESSONS_HELP)
@click.pass_context
def grade_class_command(
    ctx: click.Context,
    submissions: Path,
    output: Path,
    jobs: int | None,
    own_checks: bool,
    lessons: tuple[str, ...],
) -> None:
    """Grade every learner folder in SUBMISSIONS (a workspace, or a folder with
    exercises/) in parallel and write one CSV row per learner and lesson, plus totals.

    Exit 0 if every learner passed every lesson graded, 1 otherwise.
    """
    from workbook.instructor.classroom import check_output_path, grade_class, write_csv

    check_output_path(output, submissions)

    def learner_done(learner: str, done: int, learners: int) -> None:
        click.echo(f"  graded {done}/{learners}: {learner}", err=True)

    result = grade_class(
        submissions, jobs=jobs, own_checks=own_checks, lessons=lessons, learner_done=learner_done
    )
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


def _jobs_option(value: str) -> int | None:
    if value == "auto":
        return None
    if not value.isdigit() or int(value) < 1:
        raise click.BadParameter("a number of lessons at once (1 or more), or auto")
    return int(value)


_WEIGHT_HELP = (
    "Points for every lesson (W) or one lesson (LESSON=W, a number or an id); "
    "repeatable. Default: the [grading] table of course/course.toml (1 point each)."
)
_PARTIAL_HELP = (
    "A lesson that does not pass earns checks passed / checks total of its points "
    "(--no-partial-credit: all or nothing). Default: course.toml's partial_credit."
)


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
    multiple=True,
    metavar="[LESSON=]V",
    help="When learners see results: hidden, after_due_date, after_published or visible; "
    "for everything (V) or one lesson (LESSON=V); repeatable. Default: course.toml's "
    "[grading] table (visible).",
)
@click.option("--weight", multiple=True, metavar="[LESSON=]W", help=_WEIGHT_HELP)
@click.option("--partial-credit/--no-partial-credit", default=None, help=_PARTIAL_HELP)
@click.option("--lessons", default="", metavar="LIST", callback=_chosen_lessons, help=_LESSONS_HELP)
@click.option(
    "--output-format",
    type=click.Choice(["md", "text"]),
    default="md",
    show_default=True,
    help="How the results' outputs are written: Markdown or plain text.",
)
@click.option(
    "--jobs",
    default="auto",
    show_default=True,
    metavar="N|auto",
    callback=lambda ctx, param, value: _jobs_option(value),
    help="Lessons graded at once in Gradescope's container. auto: as many as its CPU "
    "quota allows and its memory holds; N: at most N (memory still caps it).",
)
def autograder_gradescope(
    output: Path,
    visibility: tuple[str, ...],
    weight: tuple[str, ...],
    partial_credit: bool | None,
    lessons: tuple[str, ...],
    output_format: str,
    jobs: int | None,
) -> None:
    """A Gradescope autograder zip: setup.sh installs this exact workbook (shipped in
    the zip as a wheel), run_autograder grades /autograder/submission with the
    shipped checks and writes /autograder/results/results.json, one test per lesson
    worth its weight (--lessons: only those lessons, and the maximum is theirs). The
    zip's README.md says the total to set and the CPU and memory to give the
    autograder."""
    from workbook.instructor.autograder import gradescope_bundle, resource_lines

    gradescope_bundle(
        output,
        visibility=visibility,
        weight=weight,
        partial_credit=partial_credit,
        output_format=output_format,
        jobs=jobs,
        lessons=lessons,
    )
    if lessons:
        click.echo(f"grades {len(lessons)} lesson(s): {', '.join(lessons)}")
    click.echo(f"wrote {output}: upload it as the assignment's autograder (Ubuntu 22.04+ image)")
    for line in resource_lines():
        click.echo(f"  {line}")


@autograder.command("prairielearn")
@click.option(
    "--output",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The folder to write the grader image's build context and the questions into.",
)
@click.option(
    "--image",
    default="YOUR-DOCKERHUB-USER/lstm-workbook-grader",
    show_default=True,
    metavar="REPOSITORY",
    help="The image's repository, without a tag: the tag is always this workbook's version.",
)
@click.option(
    "--lessons",
    default="",
    metavar="LIST",
    callback=_chosen_lessons,
    help="The lessons to make questions for, comma-separated: numbers, ranges (3-7) or "
    "ids (default: all).",
)
@click.option(
    "--timeout",
    type=click.IntRange(min=10, max=600),
    default=None,
    help="Seconds PrairieLearn waits for a question's grading (default: each lesson's "
    "worst case under the grader's own limits).",
)
@click.option("--weight", multiple=True, metavar="[LESSON=]W", help=_WEIGHT_HELP)
@click.option("--partial-credit/--no-partial-credit", default=None, help=_PARTIAL_HELP)
def autograder_prairielearn(
    output: Path,
    image: str,
    lessons: tuple[str, ...],
    timeout: int | None,
    weight: tuple[str, ...],
    partial_credit: bool | None,
) -> None:
    """A PrairieLearn external grader: grader/ (a Dockerfile installing this exact
    workbook, and the entry point that grades /grade/student into
    /grade/results/results.json), and questions/lstm-workbook/, one question per
    lesson (info.json, question.html with a file editor holding the stub, server.py)
    to copy into the course's questions/."""
    from workbook.instructor.autograder import image_name, prairielearn_bundle

    written = prairielearn_bundle(
        output,
        image=image,
        lessons=lessons,
        timeout_s=timeout,
        weight=weight,
        partial_credit=partial_credit,
    )
    questions = sum(path.name == "info.json" for path in written)
    noun = "question" if questions == 1 else "questions"
    click.echo(f"wrote {output}: grader/, {questions} {noun}, build-image.sh, README.md")
    tagged = image_name(image)
    click.echo(
        f"next: docker build --platform linux/amd64 -t {tagged} {output / 'grader'}\n"
        f"      docker push {tagged}\n"
        f"      then copy {output / 'questions' / 'lstm-workbook'} into your course's questions/"
    )
