"""The command line: parse, call the core, report. The one place errors become exit codes."""

from __future__ import annotations

import functools
import shlex
import signal
import sys
from collections.abc import Callable
from contextlib import ExitStack
from enum import Enum
from pathlib import Path
from types import FrameType
from typing import Annotated, ParamSpec, TypeVar

import typer

from hardstart import __version__, answers, generate, history, presets, reports
from hardstart import template as templates
from hardstart.console import Output
from hardstart.errors import (
    EXIT_AUDIT_FAILED,
    EXIT_CONFLICTS,
    EXIT_INTERRUPTED,
    EXIT_OUTDATED,
    EXIT_UNEXPECTED,
    EXIT_USAGE,
    Conflicts,
    HardstartError,
    Outdated,
    UsageError,
)

EXIT_CODES = (
    "Exit codes: 0 success · 1 unexpected failure, or declined at the confirmation"
    " · 2 bad answer, option or destination · 3 conflicts left after an update"
    " · 4 untrusted template · 5 project outdated, drifted or off its preset"
    " · 6 audit failures at or above --fail-on · 130 interrupted."
)

NEXT_STEPS = ("npm ci && npm run dev", "npm test")

app = typer.Typer(
    name="hardstart",
    help="Generate a hardened Express 5 + TypeScript REST API and keep generated projects current.",
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


# Options shared by the commands that take answers or a template.
DataOption = Annotated[
    list[str] | None,
    typer.Option("--data", "-d", metavar="KEY=VALUE", help="Answer a question (repeatable)."),
]
DataFileOption = Annotated[
    Path | None,
    typer.Option("--data-file", metavar="FILE", help="YAML file of question: answer."),
]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print only errors (and the wizard).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
TemplateOption = Annotated[
    Path | None,
    typer.Option(
        "--template",
        metavar="DIR",
        help="Template directory to use instead of the bundled one (template development).",
    ),
]
ToOption = Annotated[
    str | None,
    typer.Option(
        "--to", metavar="VERSION", help="Template version to reach (default: this hardstart's)."
    ),
]
TrustOption = Annotated[
    bool, typer.Option("--trust", help="Run the migrations of a template fetched by URL.")
]
PresetOption = Annotated[
    Path | None,
    typer.Option(
        "--preset",
        metavar="FILE",
        help="Your organisation's preset: locked answers and defaults (default:"
        " $HARDSTART_PRESET, else ~/.config/hardstart/preset.yml if it exists;"
        " HARDSTART_PRESET='' for none).",
        show_default=False,
    ),
]
ProjectArgument = Annotated[
    Path,
    typer.Argument(
        metavar="DIR", help="The generated project (default: here).", show_default=False
    ),
]


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
    data: DataOption = None,
    data_file: DataFileOption = None,
    defaults: Annotated[
        bool,
        typer.Option("--defaults", help="Ask nothing: use --data, then each question's default."),
    ] = False,
    quiet: QuietOption = False,
    template_dir: TemplateOption = None,
    template_url: Annotated[
        str | None,
        typer.Option(
            "--template-url",
            metavar="URL",
            help="Your organisation's template repository (https git URL), at its newest tag;"
            " recorded so that plain Copier and Renovate can update the project too.",
        ),
    ] = None,
    template_version: Annotated[
        str | None,
        typer.Option(
            "--template-version",
            metavar="VERSION",
            help="An earlier released template version (of the bundled history, or of"
            " --template-url) instead of the newest.",
        ),
    ] = None,
    preset_file: PresetOption = None,
) -> None:
    """Generate a project in DEST.

    On a terminal it asks the template's questions. Otherwise, or with --defaults, it asks
    nothing: answers come from --data, --data-file and the questions' defaults. With a preset,
    its locked answers are not asked and no other answer is accepted for them; its defaults
    are the questions' defaults.
    """
    out = Output(quiet=quiet)
    if template_dir is not None and (template_url or template_version):
        raise UsageError("--template excludes --template-url and --template-version")
    preset = presets.in_effect(preset_file)
    ref = history.as_ref(template_version) if template_version else None
    with ExitStack() as stack:
        if template_url is not None:
            url = templates.check_url(template_url)
            source = stack.enter_context(templates.from_url(url, ref))
        elif ref is not None:
            source = stack.enter_context(templates.bundled_release(ref))
        else:
            source = templates.resolve(template_dir)
        target = generate.generate(
            out, source, dest, data, data_file, ask=not defaults and _is_terminal(), preset=preset
        )

    out.result(f"Created {target} (a git repository with one commit).", style="green")
    out.result("Next steps:")
    out.result(f"  cd {shlex.quote(str(target))} && {NEXT_STEPS[0]}")
    out.result(f"  {NEXT_STEPS[1]}")


@app.command(epilog=EXIT_CODES)
@boundary
def update(
    dest: ProjectArgument = Path(),
    to: ToOption = None,
    data: DataOption = None,
    data_file: DataFileOption = None,
    defaults: Annotated[
        bool,
        typer.Option("--defaults", help="Ask nothing: new questions take --data or their default."),
    ] = False,
    plan_only: Annotated[
        bool, typer.Option("--plan", help="Only say what the update would do; write nothing.")
    ] = False,
    as_json: JsonOption = False,
    commit: Annotated[
        bool, typer.Option("--commit", help="Commit the result (not when conflicts are left).")
    ] = False,
    trust: TrustOption = False,
    quiet: QuietOption = False,
    template_dir: TemplateOption = None,
    preset_file: PresetOption = None,
) -> None:
    """Re-apply the template to a project generated earlier, keeping your changes.

    Three-way merge from the recorded template version to this hardstart's (or --to): your
    edits stay, template changes arrive, and where both touched the same lines the file gets
    conflict markers (exit 3). The result is left uncommitted for review unless --commit.
    With a preset, the answers must meet its locks (a recorded answer that breaks one is
    refused: change it with --data), and the project records the preset.
    """
    from hardstart import update as updates  # copier is slow to import

    out = Output(quiet=quiet or as_json)
    preset = presets.in_effect(preset_file)
    given = answers.gather_raw(data or (), data_file)
    ask = None
    if not (defaults or plan_only or as_json) and _is_terminal():
        from hardstart import prompts

        ask = prompts.update_wizard(Output())
    request = updates.Request(
        to=to, template_dir=template_dir, data=given, ask=ask, trust=trust, preset=preset
    )
    with updates.prepare(dest, request) as prepared:
        plan = prepared.plan
        if not plan_only and plan.changes:
            updates.apply(prepared)
            if commit and not plan.conflicts:
                updates.commit(prepared, plan.commit_message())
    reports.plan(out, plan, as_json=as_json, applied=not plan_only, committed=commit)
    if plan.conflicts and not plan_only:
        raise Conflicts(
            f"conflicts left in {len(plan.conflicts)} file(s): {', '.join(plan.conflicts)};"
            " resolve the markers, then commit"
        )


@app.command(epilog=EXIT_CODES)
@boundary
def check(
    dest: ProjectArgument = Path(),
    as_json: JsonOption = False,
    trust: TrustOption = False,
    quiet: QuietOption = False,
    template_dir: TemplateOption = None,
    preset_file: PresetOption = None,
) -> None:
    """Exit 0 when the project is at this hardstart's template version and every file the
    template manages is as that version renders it; otherwise exit 5 with a report.

    With a preset in effect, also exit 5 when the recorded answers break one of its locks, or
    when it is newer than (or, at the same version, differs from) the preset the project
    recorded."""
    from hardstart import checks

    preset = presets.in_effect(preset_file)
    result = checks.check(dest, template_dir, trust=trust, preset=preset)
    reports.check(Output(quiet=quiet), result, as_json=as_json)
    if not result.ok:
        raise Outdated(result.headline(), exit_code=EXIT_OUTDATED)


class Format(str, Enum):
    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"
    GITLAB = "gitlab"


class FailOn(str, Enum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    NEVER = "never"


@app.command(epilog=EXIT_CODES)
@boundary
def audit(
    dest: Annotated[
        Path,
        typer.Argument(
            metavar="DIR", help="The repository to audit (default: here).", show_default=False
        ),
    ] = Path(),
    as_json: JsonOption = False,
    as_sarif: Annotated[
        bool, typer.Option("--sarif", help="Print SARIF 2.1.0 (GitHub code scanning).")
    ] = False,
    as_gitlab: Annotated[
        bool, typer.Option("--gitlab", help="Print a GitLab SAST report (schema 15).")
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write the report to FILE instead."),
    ] = None,
    fail_on: Annotated[
        FailOn,
        typer.Option(
            "--fail-on",
            metavar="LEVEL",
            help="Exit 6 when a rule of this severity or above fails: high, medium, low, never.",
            case_sensitive=False,
        ),
    ] = FailOn.LOW,
    quiet: QuietOption = False,
) -> None:
    """Check any repository against the hardening baseline, one rule per decidable control.

    Exit 0 when no rule at or above --fail-on failed; otherwise 6.
    """
    chosen = [
        f
        for f, on in ((Format.JSON, as_json), (Format.SARIF, as_sarif), (Format.GITLAB, as_gitlab))
        if on
    ]
    if len(chosen) > 1:
        raise UsageError("choose one of --json, --sarif, --gitlab")
    if not dest.is_dir():
        raise UsageError(f"not a directory: {dest}")
    from hardstart.audit.model import Severity
    from hardstart.audit.run import audit as run_audit

    report = run_audit(dest.resolve())
    reports.audit(Output(quiet=quiet), report, (chosen or [Format.TABLE])[0].value, output)
    level = None if fail_on is FailOn.NEVER else Severity(fail_on.value)
    if report.fails_at(level):
        raise typer.Exit(EXIT_AUDIT_FAILED)


fleet_app = typer.Typer(
    help="Many generated repositories at once: status table, updates on branches.",
    no_args_is_help=True,
    epilog=EXIT_CODES,
)
app.add_typer(fleet_app, name="fleet")

PathsArgument = Annotated[
    list[Path] | None,
    typer.Argument(metavar="PATH...", help="Repository directories.", show_default=False),
]
FromOption = Annotated[
    Path | None,
    typer.Option("--from", metavar="FILE", help="File listing repository directories, one a line."),
]
WorkersOption = Annotated[
    int, typer.Option("--workers", "-j", min=1, max=64, help="Repositories handled in parallel.")
]
MarkdownOption = Annotated[
    bool, typer.Option("--markdown", help="Print a Markdown table (for a pull-request comment).")
]


def _fleet_paths(paths: list[Path] | None, from_file: Path | None) -> list[Path]:
    from hardstart import fleet

    listed = list(paths or []) + (fleet.read_list(from_file) if from_file else [])
    if not listed:
        raise UsageError("name the repositories: PATH... or --from FILE")
    return listed


@fleet_app.command("status", epilog=EXIT_CODES)
@boundary
def fleet_status(
    paths: PathsArgument = None,
    from_file: FromOption = None,
    workers: WorkersOption = 1,
    as_json: JsonOption = False,
    as_markdown: MarkdownOption = False,
    template_dir: TemplateOption = None,
    preset_file: PresetOption = None,
    with_audit: Annotated[
        bool,
        typer.Option(
            "--audit/--no-audit",
            help="Audit each repository against the hardening baseline (the audit column).",
        ),
    ] = True,
) -> None:
    """One row per repository: recorded version, outdated, drifted, off preset, dirty, not a
    project, error (and, with a preset in effect, how each stands against it), and the baseline
    audit: rules passed / rules that apply, and the failed ones.

    Exit 0 when every repository is current, clean, without drift and meets the preset;
    otherwise 5.
    """
    from hardstart import fleet

    preset = presets.in_effect(preset_file)
    listed = _fleet_paths(paths, from_file)
    rows = fleet.run_all(fleet.status_one, listed, workers, template_dir, preset, with_audit)
    reports.fleet(
        Output(), rows, "hardstart fleet status", as_json=as_json, as_markdown=as_markdown
    )
    if any(row.state is not fleet.State.CURRENT for row in rows):
        raise typer.Exit(EXIT_OUTDATED)


@fleet_app.command("update", epilog=EXIT_CODES)
@boundary
def fleet_update(
    paths: PathsArgument = None,
    from_file: FromOption = None,
    workers: WorkersOption = 1,
    branch: Annotated[
        str,
        typer.Option(
            "--branch", metavar="NAME", help="Branch to commit on; {version} is the target."
        ),
    ] = "hardstart/update-{version}",
    to: ToOption = None,
    data: DataOption = None,
    data_file: DataFileOption = None,
    failed: Annotated[
        bool,
        typer.Option("--failed", help="Retry only the repositories the last run left unfinished."),
    ] = False,
    state: Annotated[
        Path,
        typer.Option("--state", metavar="FILE", help="Where the last run's outcomes are kept."),
    ] = Path(".hardstart-fleet.json"),
    trust: TrustOption = False,
    as_json: JsonOption = False,
    as_markdown: MarkdownOption = False,
    template_dir: TemplateOption = None,
    preset_file: PresetOption = None,
) -> None:
    """Update each repository on its own branch, with one commit listing the change.

    The checkouts are not touched (the work happens in a temporary git worktree). Exit 0 when
    every repository was updated cleanly or already current; 3 when conflicts were committed
    for review; 2 when a repository was refused (dirty, not a project, not in git, or its
    answers break a preset lock); 1 on other errors.
    """
    from hardstart import fleet

    preset = presets.in_effect(preset_file)
    if failed:
        retry = fleet.failed_last_time(state)
        listed = (
            [p for p in _fleet_paths(paths, from_file) if str(p) in {str(r) for r in retry}]
            if (paths or from_file)
            else retry
        )
    else:
        listed = _fleet_paths(paths, from_file)
    options = fleet.UpdateOptions(
        to=to,
        template_dir=template_dir,
        data=answers.gather_raw(data or (), data_file),
        branch=branch,
        trust=trust,
        preset=preset,
    )
    rows = fleet.run_all(fleet.update_one, listed, workers, options)
    fleet.save_state(state, rows)
    reports.fleet(
        Output(), rows, "hardstart fleet update", as_json=as_json, as_markdown=as_markdown
    )
    states = {row.state for row in rows}
    if states <= fleet.GOOD_UPDATES:
        return
    if fleet.State.ERROR in states:
        raise typer.Exit(EXIT_UNEXPECTED)
    refused = {
        fleet.State.DIRTY,
        fleet.State.NOT_A_PROJECT,
        fleet.State.NOT_GIT,
        fleet.State.OFF_PRESET,
    }
    if states & refused:
        raise typer.Exit(EXIT_USAGE)
    raise typer.Exit(EXIT_CONFLICTS)


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
