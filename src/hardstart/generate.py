"""`hardstart new`: answers, the destination, rendering and the first commit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hardstart import answers, project, questions
from hardstart import template as templates
from hardstart.console import Output
from hardstart.errors import UsageError


def destination(dest: Path | None, given: answers.Answers) -> Path:
    if dest is not None:
        return dest
    name = given.get("project_name")
    if not isinstance(name, str):
        raise UsageError("DEST is required: this template has no project_name question")
    return project.default_destination(name)


def generate(
    out: Output,
    source: templates.TemplateSource,
    dest: Path | None,
    data: list[str] | None,
    data_file: Path | None,
    *,
    ask: bool,
) -> Path:
    """Answer the template's questions (asking them when `ask`), render the project into a
    temporary directory and move it to its destination as a git repository with one commit."""
    template = questions.load(source.root)
    given = answers.gather(template, data or (), data_file)
    prefill = answers.resolve(template, given, complete=False)
    fixed: dict[str, Any] = {}
    if dest is not None:
        project.check_destination(dest)
        fixed = answers.name_from_destination(template, dest, given)

    if ask:
        from hardstart import prompts  # questionary only when asking

        final = prompts.ask(template, prefill, Output(), lambda a: destination(dest, a), fixed)
    else:
        final = answers.resolve(template, {**fixed, **given}, complete=True)
    target = destination(dest, final)

    from hardstart import generator  # copier is slow to import

    out.progress(f"Generating {target} from template {source.ref}...")
    with project.staging(target) as staging:
        generator.copy(source, template, final, staging)
        project.init_repository(staging, f"Generate project from hardstart template {source.ref}")

    return target
