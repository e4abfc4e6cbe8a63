"""`hardstart new`: answers, the destination, rendering and the first commit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hardstart import answers, presets, project, questions
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
    preset: presets.Preset | None = None,
) -> Path:
    """Answer the template's questions (asking them when `ask`), render the project into a
    temporary directory and move it to its destination as a git repository with one commit.

    A preset is validated against the template's questions first; its locked answers are not
    asked and refuse any other given answer, its defaults are the questions' defaults."""
    template = questions.load(source.root)
    if preset is not None:
        preset = presets.validate(preset, template)
        template = presets.constrain(template, preset)
    given = answers.gather(template, data or (), data_file)
    prefill = answers.resolve(template, given, complete=False)
    fixed: dict[str, Any] = {}
    if dest is not None:
        project.check_destination(dest)
        fixed = answers.name_from_destination(template, dest, given)
    fixed.update(presets.locked_values(preset))

    if ask:
        from hardstart import prompts  # questionary only when asking

        final = prompts.ask(
            template,
            {**presets.defaults(preset), **prefill},
            Output(),
            lambda a: destination(dest, a),
            fixed,
            preset,
        )
    else:
        final = answers.walk(
            template, {**fixed, **given}, prefill=presets.defaults(preset), complete=True
        )
    target = destination(dest, final)

    from hardstart import generator  # copier is slow to import

    out.progress(f"Generating {target} from template {source.ref}...")
    with project.staging(target) as staging:
        generator.copy(source, template, final, staging)
        if preset is not None:
            presets.write_record(staging, preset)
        project.init_repository(staging, f"Generate project from hardstart template {source.ref}")

    return target
