"""`workbook dev ...`: commands for course authors (lint, scaffold, regenerate stubs)."""

from __future__ import annotations

import click

from workbook.cli import EXIT_NOT_PASSED, _session, cli
from workbook.errors import WorkbookError


@cli.group()
def dev() -> None:
    """Tools for course authors."""


def _authoring(ctx: click.Context):
    """The workspace, if it holds its course's checks and references: a learner's
    workspace holds neither, so there is nothing to lint, scaffold or regenerate."""
    ws = _session(ctx).workspace
    if ws.answers_root != ws.root:
        raise WorkbookError(
            f"{ws.root} is a learner's workspace (no checks/ or course/solutions/ in it): "
            "the `dev` commands work on a course's source, e.g. a clone of the workbook "
            "repository"
        )
    return ws


@dev.command("check")
@click.argument("lessons", nargs=-1, metavar="[LESSON]...")
@click.option("--no-grade", is_flag=True, help="Skip grading stubs and solutions (fast).")
@click.option(
    "--no-mistakes", is_flag=True, help="Skip the typical mistakes (tests/mistakes/LESSON.toml)."
)
@click.option("--jobs", "-j", type=int, default=None, help="Parallel gradings (default: cores).")
@click.pass_context
def dev_check(
    ctx: click.Context,
    lessons: tuple[str, ...],
    no_grade: bool,
    no_mistakes: bool,
    jobs: int | None,
) -> None:
    """Lint the whole course, or only the LESSONs named (numbers, ranges such as 3-7,
    ids): every stub fails, every reference passes, every typical mistake in
    tests/mistakes/LESSON.toml gets its diagnosis, static checks. Exit 1 on any problem."""
    from workbook.authoring.devtools import lint_course

    ws = _authoring(ctx)
    chosen = None
    if lessons:
        try:
            chosen = ws.course.select(lessons)
        except WorkbookError as exc:
            raise click.BadParameter(
                f"{exc}; ranges such as 3-7 work too", ctx=ctx, param_hint="LESSON"
            ) from exc
    total = len(ws.course.lessons if chosen is None else chosen)
    done: list[str] = []

    def tick(lesson) -> None:
        done.append(lesson.id)
        click.echo(f"  graded {len(done)}/{total}: {lesson.id}", err=True)

    problems = lint_course(
        ws,
        grade=not no_grade,
        jobs=jobs,
        progress=tick,
        lessons=chosen,
        mistakes=not no_mistakes,
    )
    noun = "lesson" if total == 1 else "lessons"
    for problem in problems:
        click.echo(f"✗ {problem}")
    if problems:
        click.echo(f"{len(problems)} problem(s) in {total} {noun}.")
        ctx.exit(EXIT_NOT_PASSED)
    what = "static checks"
    if not no_grade:
        what = "stubs fail, references pass, " + ("" if no_mistakes else "mistakes diagnosed, ")
        what += "static checks"
    click.echo(f"✓ {total} {noun} OK ({what}).")


@dev.command("new")
@click.argument("lesson_id")
@click.option("--title", required=True, help="The lesson's title.")
@click.option("--topic", required=True, help="A topic id from course.toml.")
@click.pass_context
def dev_new(ctx: click.Context, lesson_id: str, title: str, topic: str) -> None:
    """Scaffold lesson LESSON_ID (e.g. 23-peephole-gates) with every file it needs."""
    from workbook.authoring.devtools import scaffold_lesson

    ws = _authoring(ctx)
    for path in scaffold_lesson(ws, lesson_id, title, topic):
        click.echo(f"wrote {path.relative_to(ws.root)}")
    number = int(lesson_id[:2])
    click.echo(
        "Next: edit those files, then `ruff format` them, `workbook dev stubs`, "
        f"`workbook dev manifest` and `workbook dev check {number}`."
    )


@dev.command("stubs")
@click.pass_context
def dev_stubs(ctx: click.Context) -> None:
    """Regenerate every exercise stub from its annotated solution."""
    from workbook.authoring.devtools import write_stubs

    changed = write_stubs(_authoring(ctx))
    for rel in changed:
        click.echo(f"regenerated {rel}")
    click.echo(f"{len(changed)} stub(s) changed.")
