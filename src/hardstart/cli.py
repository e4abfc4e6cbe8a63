"""The command line: parse, call the core, report. The one place errors become exit codes."""

from __future__ import annotations

import functools
import shlex
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Annotated, ParamSpec, TypeVar

import typer

from hardstart import __version__, answers, project, questions
from hardstart import template as templates
from hardstart.console import Output
from hardstart.errors import EXIT_INTERRUPTED, EXIT_UNEXPECTED, HardstartError, UsageError

EXIT_CODES = (
    "Exit codes: 0 success · 1 unexpected failure, or declined at the confirmation"
    " · 2 bad answer, option or destination · 3 conflicts left after an update"
    " · 4 untrusted template · 5 project outdated or drifted · 130 interrupted."
)

NEXT_STEPS = ("npm ci && npm run dev", "npm test")

app = typer.Typer(
    name="hardstart",
    help="Generate a hardened Express 5 + TypeScript REST API.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

P = ParamSpec("P")
R = TypeVar("R")


def boundary(command: Callable[P, R]) -> Callable[P, R]:
    """Turn every failure of `command` into one `error:` line and its exit code."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except typer.Exit:
            raise
        except HardstartError as error:
            Output().error(error.message)
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt:
            Output().error("interrupted")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except OSError as error:
            where = f": {error.filename}" if error.filename else ""
            Output().error(f"{error.strerror or error}{where}")
            raise typer.Exit(EXIT_UNEXPECTED) from None
        except Exception as error:  # noqa: BLE001 - the last resort: never a traceback
            Output().error(f"unexpected {type(error).__name__}: {error}")
            raise typer.Exit(EXIT_UNEXPECTED) from None

    return wrapper


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"hardstart {__version__}")
        raise typer.Exit


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Generate a hardened Express 5 + TypeScript REST API."""


def _is_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _destination(dest: Path | None, given: answers.Answers) -> Path:
    if dest is not None:
        return dest
    name = given.get("project_name")
    if not isinstance(name, str):
        raise UsageError("DEST is required: this template has no project_name question")
    return project.default_destination(name)


@app.command(epilog=EXIT_CODES)
@boundary
def new(
    dest: Annotated[
        Path | None,
        typer.Argument(
            metavar="DEST",
            help="Directory to create (default: the project name).",
            show_default=False,
        ),
    ] = None,
    data: Annotated[
        list[str] | None,
        typer.Option("--data", "-d", metavar="KEY=VALUE", help="Answer a question (repeatable)."),
    ] = None,
    data_file: Annotated[
        Path | None,
        typer.Option("--data-file", metavar="FILE", help="YAML file of question: answer."),
    ] = None,
    defaults: Annotated[
        bool,
        typer.Option("--defaults", help="Ask nothing: use --data, then each question's default."),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only errors (and the wizard).")
    ] = False,
    template_dir: Annotated[
        Path | None,
        typer.Option(
            "--template",
            metavar="DIR",
            help="Template directory to use instead of the bundled one (template development).",
        ),
    ] = None,
) -> None:
    """Generate a project in DEST.

    On a terminal it asks the template's questions. Otherwise, or with --defaults, it asks
    nothing: answers come from --data, --data-file and the questions' defaults.
    """
    out = Output(quiet=quiet)
    source = templates.resolve(template_dir)
    template = questions.load(source.root)
    given = answers.gather(template, data or (), data_file)
    prefill = answers.resolve(template, given, complete=False)
    if dest is not None:
        project.check_destination(dest)

    if not defaults and _is_terminal():
        from hardstart import prompts  # questionary only when asking

        final = prompts.ask(template, prefill, Output(), lambda a: _destination(dest, a))
    else:
        final = answers.resolve(template, given, complete=True)
    target = _destination(dest, final)

    from hardstart import generator  # copier is slow to import

    out.progress(f"Generating {target} from template {source.ref}...")
    with project.staging(target) as staging:
        generator.copy(source, template, final, staging)
        project.init_repository(staging, f"Generate project from hardstart template {source.ref}")

    out.result(f"Created {target} (a git repository with one commit).", style="green")
    out.result("Next steps:")
    out.result(f"  cd {shlex.quote(str(target))} && {NEXT_STEPS[0]}")
    out.result(f"  {NEXT_STEPS[1]}")


def _terminate(signum: int, frame: FrameType | None) -> None:
    # SIGTERM/SIGHUP unwind like Ctrl-C, so `finally` blocks remove partial output.
    raise KeyboardInterrupt


def main() -> None:
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _terminate)
    try:
        code = app(prog_name="hardstart", standalone_mode=False)
    except typer.TyperException as error:
        # Typer's usage errors (unknown option, missing argument): one line, like every other error.
        # With no arguments at all, Typer has printed the help already and the message is empty.
        if message := error.format_message():
            context = getattr(error, "ctx", None)
            hint = f" (see '{context.command_path} --help')" if context is not None else ""
            Output().error(f"{message.rstrip('.')}{hint}")
        sys.exit(error.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        Output().error("interrupted")
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(code if isinstance(code, int) else 0)
