"""The interactive wizard over the template's questions: the only module importing questionary.

Questions come grouped as in copier.yml, each with its one-line help, a default that passes
validation, a list where there are choices, and the same validation as non-interactive runs
(an invalid entry shows the rule inline and is asked again). A summary is confirmed before
anything is written. Ctrl-C raises KeyboardInterrupt, which the CLI reports (exit 130).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import questionary

from hardstart.answers import Answers
from hardstart.console import Output
from hardstart.errors import Aborted, BadAnswer
from hardstart.questions import MISSING, Question, Template


def _valid_default(
    template: Template, question: Question, candidate: Any, context: Mapping[str, Any]
) -> Any:
    if candidate is MISSING:
        return MISSING
    try:
        return template.check(question, candidate, context)
    except BadAnswer:
        return MISSING  # never offer a default that would be refused


def _display(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _ask_one(
    template: Template, question: Question, default: Any, context: Mapping[str, Any]
) -> Any:
    message = question.help or question.name
    if question.choices:
        choices = [
            questionary.Choice(title=choice.label, value=template.cast(question, choice.value))
            for choice in question.choices
        ]
        selected = next((c for c in choices if c.value == default), None)
        raw = questionary.select(message, choices=choices, default=selected).unsafe_ask()
    elif question.type == "bool":
        raw = questionary.confirm(
            message, default=bool(default) if default is not MISSING else False
        ).unsafe_ask()
    else:

        def validate(text: str) -> bool | str:
            try:
                template.check(question, text, context)
            except BadAnswer as error:
                return error.problem
            return True

        raw = questionary.text(
            message,
            default="" if default is MISSING else _display(default),
            validate=validate,
            placeholder=question.placeholder or None,
        ).unsafe_ask()
    return template.check(question, raw, context)


def ask(
    template: Template,
    provided: Mapping[str, Any],
    out: Output,
    destination: Callable[[Answers], Path],
) -> Answers:
    """Ask every question (pre-filled from `provided`), show a summary, confirm."""
    context: dict[str, Any] = dict(provided)
    answers: Answers = {}
    group: str | None = None
    for question in template:
        if not template.is_asked(question, context):
            default = template.default(question, context)
            if default is not MISSING:
                context[question.name] = default
            continue
        if question.group != group:
            group = question.group
            if group:
                out.heading(group)
        candidate = provided.get(question.name, MISSING)
        if candidate is MISSING:
            candidate = template.default(question, context)
        default = _valid_default(template, question, candidate, context)
        answers[question.name] = context[question.name] = _ask_one(
            template, question, default, context
        )

    dest = destination(answers)
    rows = [(name, _display(value)) for name, value in answers.items()]
    rows.append(("destination", str(dest)))
    out.heading("Summary")
    out.table(rows)
    if not questionary.confirm(f"Generate the project in {dest}?", default=True).unsafe_ask():
        raise Aborted("aborted at the confirmation; nothing was written")
    return answers
