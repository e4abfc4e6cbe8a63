"""Answers to the template's questions: from `--data`, `--data-file`, defaults; all validated."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from hardstart.errors import BadAnswer, UsageError
from hardstart.questions import MISSING, Question, Template

Answers = dict[str, Any]


def parse_data(items: Iterable[str]) -> dict[str, str]:
    """Parse repeated `--data key=value` options."""
    result: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--data {item!r}: expected key=value")
        result[key] = value
    return result


def read_data_file(path: Path) -> dict[str, Any]:
    """Read a YAML mapping of answers. Keys starting with `_` (an answers file's metadata,
    such as `_commit`) are ignored, so a project's `.copier-answers.yml` can be reused."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--data-file {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"--data-file {path}: cannot read: {error}") from error
    except yaml.YAMLError as error:
        raise UsageError(f"--data-file {path}: not valid YAML: {error}") from error
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(key, str) for key in data):
        raise UsageError(f"--data-file {path}: expected a mapping of question: answer")
    return {key: value for key, value in data.items() if not key.startswith("_")}


def gather_raw(data: Iterable[str] = (), data_file: Path | None = None) -> dict[str, Any]:
    """Raw answers given on the command line; `--data` wins over `--data-file`."""
    provided: dict[str, Any] = {}
    if data_file is not None:
        provided.update(read_data_file(data_file))
    provided.update(parse_data(data))
    return provided


def gather(
    template: Template, data: Iterable[str] = (), data_file: Path | None = None
) -> dict[str, Any]:
    """Raw answers given on the command line, for `template`.

    Unknown question names are refused (Copier would silently ignore them; a typo here would
    otherwise quietly fall back to a default)."""
    provided = gather_raw(data, data_file)
    for key in provided:
        template.question(key)  # raises BadAnswer naming the unknown key
    return provided


Asker = Callable[[Question, Any, Mapping[str, Any]], Any]
"""Asks one question: (question, its valid default or MISSING, the answers so far) → raw answer."""


def _valid_default(
    template: Template, question: Question, candidate: Any, context: Mapping[str, Any]
) -> Any:
    if candidate is MISSING:
        return MISSING
    try:
        return template.check(question, candidate, context)
    except BadAnswer:
        return MISSING  # never offer a default that would be refused


def walk(
    template: Template,
    given: Mapping[str, Any],
    *,
    ask: Asker | None = None,
    prefill: Mapping[str, Any] | None = None,
    complete: bool = True,
) -> Answers:
    """The one walk through the questions, in order, shared by the wizard, the flags and update.

    A question in `given` is answered by it (validated, never asked). Any other question that
    its `when` asks is put to `ask` with its default (from `prefill`, else the question's own),
    or, without `ask`, takes that default when `complete` (a question without one is an
    error naming it) and is left out otherwise. Skipped questions still feed their defaults to
    later validators, as in Copier.
    """
    context: dict[str, Any] = dict(given)
    answers: Answers = {}
    for question in template:
        if not template.is_asked(question, context):
            default = template.default(question, context)
            if default is not MISSING:
                context[question.name] = default
            continue
        candidate = (prefill or {}).get(question.name, MISSING)
        if question.name in given:
            value = given[question.name]
        elif ask is not None:
            if candidate is MISSING:
                candidate = template.default(question, context)
            value = ask(question, _valid_default(template, question, candidate, context), context)
        elif complete:
            value = candidate if candidate is not MISSING else template.default(question, context)
            if value is MISSING:
                raise BadAnswer(
                    question.name,
                    f"an answer is required (pass --data {question.name}=VALUE)",
                )
        else:
            default = template.default(question, context)
            if default is not MISSING:
                context[question.name] = default
            continue
        answers[question.name] = context[question.name] = template.check(question, value, context)
    return answers


def resolve(template: Template, provided: Mapping[str, Any], *, complete: bool) -> Answers:
    """Cast and validate `provided` answers without asking (see `walk`)."""
    return walk(template, provided, complete=complete)


def name_from_destination(
    template: Template, dest: Path, given: Mapping[str, Any]
) -> dict[str, Any]:
    """`hardstart new my-api`: the destination's name answers `project_name` when it is a valid
    answer and none was given; otherwise nothing is taken from it."""
    name = dest.absolute().name
    if "project_name" in given or "project_name" not in template.by_name:
        return {}
    try:
        template.check(template.question("project_name"), name, given)
    except BadAnswer:
        return {}
    return {"project_name": name}
