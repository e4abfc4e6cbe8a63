"""The interactive wizard over the template's questions: the only module importing questionary.

Questions come grouped as in copier.yml, each with its one-line help, a default that passes
validation, a list where there are choices, and the same validation as non-interactive runs
(an invalid entry shows the rule inline and is asked again). A summary is confirmed before
anything is written. Ctrl-C raises KeyboardInterrupt, which the CLI reports (exit 130).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import questionary

from hardstart.answers import Answers, Asker, walk
from hardstart.console import Output
from hardstart.errors import Aborted, BadAnswer
from hardstart.questions import MISSING, Question, Template

if TYPE_CHECKING:
    from hardstart.presets import Preset


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


class Wizard:
    """Asks questions one by one, under their group headings (an `answers.Asker`)."""

    def __init__(self, template: Template, out: Output) -> None:
        self.template = template
        self.out = out
        self.group: str | None = None

    def __call__(self, question: Question, default: Any, context: Mapping[str, Any]) -> Any:
        if question.group != self.group:
            self.group = question.group
            if self.group:
                self.out.heading(self.group)
        return _ask_one(self.template, question, default, context)


def confirm(answers: Answers, out: Output, dest: Path | None, action: str) -> None:
    """Show the answers and ask to go on; declining raises Aborted (nothing written)."""
    rows = [(name, _display(value)) for name, value in answers.items()]
    if dest is not None:
        rows.append(("destination", str(dest)))
    out.heading("Summary")
    out.table(rows)
    if not questionary.confirm(f"{action}?", default=True).unsafe_ask():
        raise Aborted("aborted at the confirmation; nothing was written")


def ask(
    template: Template,
    provided: Mapping[str, Any],
    out: Output,
    destination: Callable[[Answers], Path],
    fixed: Mapping[str, Any] | None = None,
    preset: Preset | None = None,
) -> Answers:
    """Ask every question not `fixed` (pre-filled from `provided`), show a summary, confirm.

    A preset's locks are shown first, one line each with the reason; locked values are not
    asked (they are in `fixed`)."""
    if preset is not None and preset.locks:
        out.heading(f"Preset {preset.label}")
        for note in preset.notes():
            out.result(f"locked: {note}")
    answers = walk(template, fixed or {}, ask=Wizard(template, out), prefill=provided)
    dest = destination(answers)
    confirm(answers, out, dest, f"Generate the project in {dest}")
    return answers


def update_wizard(out: Output) -> Callable[[Template], Asker]:
    """The wizard for an update's new questions, under a heading of their own."""

    def start(template: Template) -> Asker:
        wizard = Wizard(template, out)

        def ask(question: Question, default: Any, context: Mapping[str, Any]) -> Any:
            if wizard.group is None:
                out.heading("New questions in this template version")
            return wizard(question, default, context)

        return ask

    return start
