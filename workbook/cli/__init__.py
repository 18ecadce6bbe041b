"""The `workbook` command line: a thin face over `workbook.session.Session`.

Exit codes: 0 passed / success, 1 not passed, 2 usage or workspace error. Heavy
imports (textual, rich tables, the grader) happen inside the commands that need
them, so `workbook list` stays quick.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from workbook import __version__
from workbook.errors import WorkbookError

if TYPE_CHECKING:  # the faces import the core lazily: start-up stays light
    from workbook.catalog import Lesson
    from workbook.grading.service import ServiceGrader
    from workbook.session import Session

EXIT_OK, EXIT_NOT_PASSED, EXIT_USAGE = 0, 1, 2
# Commands that only read the workspace: they work in a read-only one too.
READ_ONLY_COMMANDS = frozenset({"list", "show", "glossary", "progress", "solution"})


class WorkbookGroup(click.Group):
    """Turns WorkbookError into a one-line message and exit code 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except WorkbookError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_USAGE)
        except sqlite3.DatabaseError as exc:  # after the store was opened and checked
            from workbook.progress import describe

            click.echo(f"error: {describe(exc)}", err=True)
            ctx.exit(EXIT_USAGE)


def _session(ctx: click.Context):
    from workbook.session import Session

    workspace = ctx.obj.get("workspace")
    session = Session.open(workspace, exact=workspace is not None)
    ctx.call_on_close(session.close)
    read_only = session.progress.read_only
    if read_only and ctx.info_name not in READ_ONLY_COMMANDS:
        raise WorkbookError(read_only)  # before any grading or editing, not after
    return session


def _emit_json(data) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


@click.group(cls=WorkbookGroup, invoke_without_command=True)
@click.option(
    "--workspace",
    "-w",
    type=click.Path(file_okay=False, path_type=Path),
    help="Workspace folder (default: found by walking up from the current directory).",
)
@click.version_option(__version__, prog_name="workbook")
@click.pass_context
def cli(ctx: click.Context, workspace: Path | None) -> None:
    """LSTM Workbook: learn LSTMs by writing them, graded as you save.

    With no command, opens the interactive workbook.
    """
    ctx.ensure_object(dict)
    ctx.obj["workspace"] = workspace
    if ctx.invoked_subcommand is None:
        session = _session(ctx)
        try:
            from workbook.tui import run_app
        except ImportError:  # pragma: no cover - the TUI ships with the package
            ctx.invoke(list_lessons)
            return
        run_app(session)


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
def init(directory: Path) -> None:
    """Create a fresh workspace in DIRECTORY (default: here)."""
    from workbook.workspace import init_workspace

    workspace = init_workspace(directory)
    count = len(workspace.course.lessons)
    click.echo(f"Created a workspace with {count} lessons in {workspace.root}")
    script = Path(sys.argv[0])
    command = str(script.resolve()) if script.name == "workbook" and script.exists() else "workbook"
    click.echo(f"Next: cd {directory} && {command}")


def _status_payload(session) -> dict:
    statuses = session.statuses()
    root = session.workspace.root
    lessons = [s.to_json(root) for s in statuses]
    topics = []
    for topic in session.course.topics:
        mine = [s for s in statuses if s.lesson.topic == topic.id]
        if mine:
            topics.append(
                {
                    "id": topic.id,
                    "title": topic.title,
                    "passed": sum(s.status == "passed" for s in mine),
                    "total": len(mine),
                }
            )
    current = session.current_lesson()
    return {
        "workspace": str(root),
        "lessons": lessons,
        "topics": topics,
        "current": current.id if current else None,
        "passed": sum(s.status == "passed" for s in statuses),
        "total": len(statuses),
    }


@cli.command("list")
@json_option
@click.pass_context
def list_lessons(ctx: click.Context, as_json: bool) -> None:
    """List the lessons, grouped by topic, with their status."""
    session = _session(ctx)
    if as_json:
        _emit_json(_status_payload(session))
        return
    from workbook.cli import render

    out = render.console()
    statuses = session.statuses()
    missing = session.missing_exercises()
    gone = {lesson.id for lesson in missing}
    for topic in session.course.topics:
        rows = [s for s in statuses if s.lesson.topic == topic.id]
        if rows:
            out.print(f"[bold]{render.escape(topic.title)}[/bold]")
            out.print(render.lessons_table(rows, gone))
            out.print()
    passed = sum(s.status == "passed" for s in statuses)
    out.print(render.progress_line(passed, len(statuses)))
    if missing:
        folder = session.workspace.path("exercises")
        render.missing_note(out, missing, folder_gone=not folder.is_dir())


@cli.command()
@json_option
@click.option(
    "--export",
    "export_to",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write your progress to FILE (JSON), to carry it to another machine.",
)
@click.option(
    "--import",
    "import_from",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Merge progress from FILE; nothing recorded here is overwritten.",
)
@click.pass_context
def progress(
    ctx: click.Context, as_json: bool, export_to: Path | None, import_from: Path | None
) -> None:
    """Show how far you are: overall, per topic, attempts and hints."""
    session = _session(ctx)
    if export_to is not None:
        data = session.progress.export_data()
        export_to.write_text(json.dumps(data, indent=1), encoding="utf-8")
        click.echo(f"Wrote {len(data['attempts'])} attempts to {export_to}")
        return
    if import_from is not None:
        try:
            added = session.progress.import_data(json.loads(import_from.read_text("utf-8")))
        except (ValueError, KeyError, TypeError) as exc:
            raise WorkbookError(f"{import_from} is not a workbook progress export: {exc}") from exc
        click.echo(f"Merged {added} new attempts from {import_from}")
        return
    payload = _status_payload(session)
    if as_json:
        _emit_json(payload)
        return
    from rich.table import Table

    from workbook.cli import render

    out = render.console()
    out.print(render.progress_line(payload["passed"], payload["total"]))
    table = Table(show_edge=False)
    # Hints shown in all, and of those the ones asked for (the first one of a lesson
    # comes by itself with the first failure).
    for column in ("topic", "passed", "attempts", "hints shown", "asked for"):
        table.add_column(column, justify="left" if column == "topic" else "right")
    for topic in payload["topics"]:
        mine = [row for row in payload["lessons"] if row["topic"] == topic["id"]]
        table.add_row(
            topic["title"],
            f"{topic['passed']}/{topic['total']}",
            str(sum(row["attempts"] for row in mine)),
            str(sum(row["hints_revealed"] for row in mine)),
            str(sum(row["hints_asked"] for row in mine)),
        )
    out.print(table)
    imported = [row for row in payload["lessons"] if row["imported"]]
    if imported:
        numbers = ", ".join(str(row["number"]) for row in imported)
        out.print(
            f"Passed only in imported progress: {numbers} (their solutions open once they "
            "pass here)"
        )
    current = session.current_lesson()
    if current:
        out.print(
            f"Current lesson: {current.number}. {render.escape(current.title)} — {current.exercise}"
        )
    else:
        out.print("[bold green]Course complete![/bold green]")


def _check_one(session, lesson, as_json: bool, plot: bool = False) -> bool:
    if not as_json:
        # Imported (and its first print's tables loaded) now, while a spare grading
        # child may still be starting on the other core, rather than after the
        # verdict, when the learner is waiting for it.
        from workbook.cli import render

        render.warm_up()
    terms = session.lesson_terms(lesson)  # the glossary's TOML read before, not after
    finishing = session.current_lesson() is not None
    result = session.check(lesson)
    completes = result.passed and finishing and session.current_lesson() is None
    hint = session.hint_after_attempt(lesson, result)
    if as_json:
        payload = result.to_json()
        payload["hint"] = hint.to_json() if hint else None
        payload["glossary"] = [t.key for t in terms]
        _emit_json(payload)
    else:
        render.grade_result(
            render.console(),
            result,
            f"{lesson.number}. {lesson.title}",
            lesson.exercise,
            hint,
            len(lesson.hints),
            terms,
            lesson.number,
        )
        if plot:
            render.plots(render.console(), result.plots)
        if completes:  # after the lesson's own result, which the learner reads first
            _course_complete(session, lesson)
    return result.passed


def _course_complete(session, last) -> None:
    """The last open lesson passed: re-check the others so nothing broke silently."""
    others = [lesson for lesson in session.course.lessons if lesson.id != last.id]
    click.echo(f"\nThat was the last lesson! Re-checking the other {len(others)}…")
    broken = session.recheck(others)
    for lesson, result in broken:
        click.echo(f"  ✗ {lesson.number}. {lesson.title}: {result.headline}")
    if broken:
        click.echo(f"{len(broken)} lesson(s) broke since you passed them; fix them to finish.")
    else:
        click.echo("All lessons still pass. Course complete!")


@cli.command()
@click.argument("lesson", required=False)
@click.option("--all", "check_all", is_flag=True, help="Check every lesson, in order.")
@click.option("--plot", is_flag=True, help="Draw the check's plots of your numbers, as text.")
@json_option
@click.pass_context
def check(
    ctx: click.Context, lesson: str | None, check_all: bool, as_json: bool, plot: bool
) -> None:
    """Grade LESSON (default: the current lesson). Exit 0 only if it passes."""
    session = _session(ctx)
    if check_all and lesson is not None:
        raise click.UsageError("give a LESSON or --all, not both")
    if check_all:
        from workbook.session import is_missing

        results = []
        for item, result in session.check_each(session.course.lessons):
            results.append(result)
            if not as_json:
                mark = "✓" if result.passed else "✗"
                said = result.headline
                if is_missing(result):
                    said = (
                        f"{item.exercise} is missing, not checked (nothing recorded): "
                        f"`workbook reset {item.number}` restores it"
                    )
                click.echo(f"{mark} {item.number:>2}. {item.title}: {said}")
        if as_json:
            _emit_json({"results": [r.to_json() for r in results]})
        ctx.exit(EXIT_OK if all(r.passed for r in results) else EXIT_NOT_PASSED)
    item = session.lesson(lesson)
    if session.exercise_missing(item) and not as_json:
        from workbook.cli import render

        # Nothing to grade, and nothing recorded: not a failed attempt.
        render.missing_file(render.console(), item, session.workspace.path("exercises"))
        ctx.exit(EXIT_USAGE)
    warm = _use_service(session)
    passed = _check_one(session, session.lesson(lesson), as_json, plot)
    if not warm and service_enabled():
        from workbook.grading import service

        service.start(session.workspace.root)  # after the verdict: not competing with it
    ctx.exit(EXIT_OK if passed else EXIT_NOT_PASSED)


def service_enabled() -> bool:
    import os

    return os.environ.get("WORKBOOK_WARM", "1") != "0"


def _use_service(session: Session) -> bool:
    """Grade on the workspace's grading service when it runs (warm: no numpy, pytest
    or TensorFlow import for this command); otherwise the attempt runs cold, on the
    spare child `launch` started. Whether the service grades it."""
    if not service_enabled():
        return False
    from workbook.grading import service

    if not service.running(session.workspace.root):
        return False
    session.grader = service.ServiceGrader(session.workspace.root).grade
    return True


@cli.command()
@click.argument("lesson", required=False)
@click.pass_context
def show(ctx: click.Context, lesson: str | None) -> None:
    """Print LESSON's text (default: the current lesson), without its hints."""
    from rich.markdown import Markdown

    from workbook.cli import render

    session = _session(ctx)
    item = session.lesson(lesson)
    out = render.console()
    status = next(s for s in session.statuses() if s.lesson.id == item.id)
    topic = session.course.topic_title(item.topic)
    words = "passed, now failing" if status.broken else status.status.replace("-", " ")
    title, topic = render.escape(item.title), render.escape(topic)
    out.print(f"[bold]Lesson {item.number} · {title}[/bold]  ({topic}: {words})")
    out.print(f"File: {render.escape(item.exercise)}")
    out.print(Markdown(item.text))
    if status.status == "passed" and item.explanation:
        out.print(Markdown(item.explanation))
    revealed = session.revealed_hints(item)
    for number, text in enumerate(revealed, start=1):
        out.print(f"[cyan]Hint {number}/{len(item.hints)}:[/cyan] {render.escape(text)}")
    terms = ", ".join(t.name for t in session.lesson_terms(item))
    if terms:
        out.print(f"[dim]Glossary: {render.escape(terms)}  (workbook glossary TERM)[/dim]")


@cli.command()
@click.argument("lesson", required=False)
@click.pass_context
def hint(ctx: click.Context, lesson: str | None) -> None:
    """Reveal the next hint of LESSON (default: the current lesson)."""
    session = _session(ctx)
    item = session.lesson(lesson)
    number, text = session.reveal_hint(item)
    total = len(item.hints)
    for index, earlier in enumerate(item.hints[: number - 1], start=1):
        click.echo(f"Hint {index}/{total}: {earlier}")
    click.secho(f"Hint {number}/{total}: ", bold=True, nl=False)
    click.echo(text)
    if number == total:
        click.echo("That was the last hint.")


@cli.command()
@click.argument("term", required=False)
@click.option("--all", "show_all", is_flag=True, help="Include terms not unlocked yet.")
@json_option
@click.pass_context
def glossary(ctx: click.Context, term: str | None, show_all: bool, as_json: bool) -> None:
    """Show the glossary, or one TERM (a name, symbol or alias)."""
    from workbook.glossary import find_term

    session = _session(ctx)
    terms = session.workspace.glossary
    unlocked = session.unlocked_terms()

    def as_dict(t) -> dict:
        return {
            "key": t.key,
            "name": t.name,
            "symbol": t.symbol,
            "definition": t.definition,
            "equation": t.equation,
            "lessons": [lesson.id for lesson in session.term_lessons(t)],
            "unlocked": t.key in unlocked,
        }

    chosen = [find_term(terms, term)] if term else list(terms.values())
    if as_json:
        _emit_json({"terms": [as_dict(t) for t in chosen]})
        return
    from workbook.cli import render

    out = render.console()
    locked = 0
    for t in chosen:
        if t.key not in unlocked and not (term or show_all):
            locked += 1
            continue
        lessons = [f"{lesson.number}. {lesson.title}" for lesson in session.term_lessons(t)]
        out.print(render.term_panel(t, lessons))
    if locked:
        out.print(f"{locked} more terms unlock as you progress (`--all` shows them).")


def _confirm(question: str) -> None:
    """Ask; anything but yes resets nothing, exit status 1. No answer at all (Ctrl-D, or
    a script whose input ended) says so on a line of its own: click's "Aborted!" was
    glued to the question, and did not say how to reset without asking."""
    try:
        if click.confirm(question):
            return
        why = ""
    except click.Abort:
        click.echo()  # end the question's line
        why = " (no answer: `-y` resets without asking)"
    click.echo(f"Nothing was reset{why}.", err=True)
    raise click.exceptions.Exit(1)


@cli.command()
@click.argument("lesson", required=False)
@click.option("--all", "reset_all", is_flag=True, help="Reset every lesson (all backed up).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def reset(ctx: click.Context, lesson: str | None, reset_all: bool, yes: bool) -> None:
    """Restore LESSON's exercise to its stub; your file is kept as a backup."""
    session = _session(ctx)
    if reset_all:
        if not yes:
            _confirm(
                "Reset EVERY exercise to its original stub? (each of your files is backed up;"
                " your recorded progress stays)"
            )
        backups = session.reset_all()
        where = session.workspace.state_dir / "backups"
        click.echo(f"Restored all exercises; {len(backups)} backups in {where}")
        return
    if lesson is None:
        raise click.UsageError("name a LESSON, or use --all")
    item = session.lesson(lesson)
    if not yes:
        _confirm(f"Reset {item.exercise} to its original stub? (your version is backed up)")
    missing = not session.workspace.path(item.exercise).exists()
    backup = session.reset(item)
    if missing:
        click.echo(f"{item.exercise} was missing: restored its original stub.")
    elif backup is None:
        click.echo(f"{item.exercise} was already the original stub.")
    else:
        click.echo(f"Restored {item.exercise}; your previous file is in {backup}")


@cli.command()
@click.argument("lesson", required=False)
@click.option("--diff", is_flag=True, help="Show how your file differs from the reference.")
@click.pass_context
def solution(ctx: click.Context, lesson: str | None, diff: bool) -> None:
    """Show LESSON's reference solution, once you have passed it (default: the lesson
    you passed most recently)."""
    session = _session(ctx)
    item = session.lesson(lesson) if lesson else session.last_passed_lesson()
    if item is None:
        click.echo("No lesson passed yet: solutions open once you pass a lesson.", err=True)
        ctx.exit(EXIT_NOT_PASSED)
    if lesson is None:
        click.echo(f"# {item.number}. {item.title} — {item.exercise}", err=True)
    try:
        if diff:
            text = session.solution_diff(item) or "Your file matches the reference.\n"
        else:
            text = session.solution(item)
    except WorkbookError as exc:
        click.echo(str(exc), err=True)
        ctx.exit(EXIT_NOT_PASSED)
    click.echo(text, nl=False)


@cli.command()
@click.option("--poll", is_flag=True, help="Poll for changes (WSL, network drives).")
@click.pass_context
def watch(ctx: click.Context, poll: bool) -> None:
    """Re-grade the current lesson each time you save its file (Ctrl-C to stop)."""
    from rich.text import Text

    from workbook.cli import render
    from workbook.watching import saved_exercises

    out = render.console()

    def say(text: str, *, gap: bool = False) -> None:
        """A line wrapped between words: a path is never split across two lines."""
        if gap:
            out.print()
        render.indented(out, Text(text), 0)

    session = _session(ctx)
    lesson = session.current_lesson()
    if lesson is None:
        say("Every lesson has passed. Name one with `workbook check N` to revisit it.")
        return
    root = session.workspace.root
    folder = root / "exercises"
    warm = _warm_grader(session, lesson)
    if session.exercise_missing(lesson):
        render.missing_file(out, lesson, folder)
    else:
        _check_one(session, lesson, False)
    say(f"Watching {lesson.exercise}: save it to re-grade (Ctrl-C stops).", gap=True)
    try:
        for changed in saved_exercises(folder, poll=poll or None):
            current = session.current_lesson()
            if current is None:
                say("Every lesson has passed: the course is complete!")
                return
            if current.id != lesson.id:  # passed or `continue-at` in another terminal
                lesson = current
                if warm is not None and lesson.uses_tensorflow:
                    warm.preload_tensorflow()
                say(f"The current lesson is now {lesson.number}. {lesson.title}.", gap=True)
                say(f"Now watching {lesson.exercise}: save it to re-grade.")
            target = (root / lesson.exercise).resolve()
            if target not in changed:
                continue
            if not target.exists():
                say(
                    f"{lesson.exercise} was deleted: `workbook reset {lesson.number}` restores "
                    f"its stub (your earlier versions are in {render.BACKUPS}).",
                    gap=True,
                )
                continue
            click.clear() if sys.stdout.isatty() else click.echo()
            if _check_one(session, lesson, False):
                lesson = session.current_lesson()
                if lesson is None:
                    say("That was the last lesson: the course is complete!")
                    return
                say(f"Next: {lesson.number}. {lesson.title}.", gap=True)
                say(f"Now watching {lesson.exercise}: save it to re-grade.")
                if warm is not None and lesson.uses_tensorflow:
                    warm.preload_tensorflow()
    except KeyboardInterrupt:
        say("Stopped watching.", gap=True)
    finally:
        if warm is not None:
            warm.close()


def _warm_grader(session: Session, lesson: Lesson) -> ServiceGrader | None:
    """This workspace's grading service (started if none runs), shared with the TUI
    and other commands: each attempt then costs a fork, not an interpreter (and, for
    a Keras lesson, not a TensorFlow import). None with WORKBOOK_WARM=0 (cold)."""
    from workbook.grading import service

    if not service.enabled():
        return None
    warm = service.ServiceGrader(session.workspace.root)
    if lesson.uses_tensorflow:
        warm.preload_tensorflow()
    else:
        warm.start()
    session.grader = warm.grade
    return warm


@cli.command("continue-at")
@click.argument("lesson", required=False)
@click.pass_context
def continue_at(ctx: click.Context, lesson: str | None) -> None:
    """Continue at LESSON, skipping earlier ones (no LESSON: back to the first unpassed)."""
    from rich.text import Text

    from workbook.cli import render

    session = _session(ctx)
    item = session.course.lesson(lesson) if lesson else None
    session.continue_at(item)
    render.indented(render.console(), Text(session.why_current(item)), 0)


@cli.command()
@click.option("--limit", "-n", type=int, default=None, help="Review at most N lessons.")
@click.pass_context
def review(ctx: click.Context, limit: int | None) -> None:
    """Re-check lessons you passed, oldest first, so nothing silently rots."""
    session = _session(ctx)
    queue = session.review_queue()[:limit]
    if not queue:
        click.echo("Nothing to review yet: pass a lesson first.")
        return
    failed = 0
    for lesson, result in session.check_each(queue):
        mark = "✓" if result.passed else "✗"
        failed += not result.passed
        click.echo(f"{mark} {lesson.number:>2}. {lesson.title}: {result.headline}")
    ctx.exit(EXIT_NOT_PASSED if failed else EXIT_OK)


@cli.command()
@click.pass_context
def doctor(ctx: click.Context) -> None:
    """Print versions, paths and health checks to paste into a bug report."""
    from workbook.doctor import report
    from workbook.workspace import find_workspace

    root = ctx.obj.get("workspace")
    try:
        ws_root = root.resolve() if root else find_workspace().root
    except WorkbookError:
        ws_root = None
    progress_path = ws_root / ".workbook" / "progress.db" if ws_root else None
    rows = report(ws_root, progress_path)
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        click.echo(f"{name:<{width}}  {value}")


@cli.group("service")
def service_group() -> None:
    """The workspace's grading service (shared by check, watch and the TUI)."""


@service_group.command("status")
@json_option
@click.pass_context
def service_status(ctx: click.Context, as_json: bool) -> None:
    """Say whether this workspace's grading service runs, and what it holds."""
    from workbook.grading import service

    root = _session(ctx).workspace.root
    try:
        status = service.request(root, {"op": "status"}, timeout=5.0)
    except service.ServiceUnavailable:
        status = None
    if as_json:
        _emit_json({"running": status is not None, **(status or {})})
    elif status is None:
        click.echo("No grading service runs for this workspace; the next check starts one.")
    else:
        ahead = status.get("graded_by_prepared", 0)
        click.echo(
            f"Grading service {status['pid']} for {status['workspace']}: up "
            f"{status['uptime_s']:.0f} s, graded {status['attempts']} attempt(s) since it "
            "started (from every face, reviews included"
            + (f"; {ahead} on a judge prepared in advance)" if ahead else ")")
            + f", {status.get('prepared', 0)} judge(s) ready, preloaded "
            f"{', '.join(status['preloaded'])}; exits after {status['idle_exit_s']:.0f} s idle."
        )
    ctx.exit(EXIT_OK if status is not None else EXIT_NOT_PASSED)


@service_group.command("stop")
@click.pass_context
def service_stop(ctx: click.Context) -> None:
    """Stop this workspace's grading service (the next check starts a new one)."""
    from workbook.grading import service

    stopped = service.stop(_session(ctx).workspace.root)
    click.echo("Stopped the grading service." if stopped else "No grading service was running.")


def main() -> None:
    cli(obj={})


def warm_up() -> None:
    """Import what the commands import lazily. The grading service calls it once, at
    start-up: every command it runs is a fork, and a fork that imported rich itself
    paid 50-70 ms per `workbook check` for a module its parent could have held."""
    from workbook import progress, session  # noqa: F401
    from workbook.cli import render
    from workbook.grading import service  # noqa: F401 - the service runs as __main__

    render.warm_up()


def run_argv(argv: list[str]) -> int:
    """The CLI on `argv`, as the grading service runs it for a client (see
    `workbook.launch`): its exit status."""
    try:
        cli.main(args=argv, prog_name="workbook", obj={})
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


# Command groups defined in their own modules register themselves on `cli`
# (dev first: instructor adds `dev manifest` to it).
from workbook.cli import dev, instructor  # noqa: E402, F401
