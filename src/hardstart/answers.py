"""Answers to the template's questions: from `--data`, `--data-file`, defaults; all validated."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from hardstart.errors import BadAnswer, UsageError
from hardstart.questions import MISSING, Template

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


def gather(
    template: Template, data: Iterable[str] = (), data_file: Path | None = None
) -> dict[str, Any]:
    """Raw answers given on the command line; `--data` wins over `--data-file`.

    Unknown question names are refused (Copier would silently ignore them; a typo here would
    otherwise quietly fall back to a default)."""
    provided: dict[str, Any] = {}
    if data_file is not None:
        provided.update(read_data_file(data_file))
    provided.update(parse_data(data))
    for key in provided:
        template.question(key)  # raises BadAnswer naming the unknown key
    return provided


def resolve(template: Template, provided: Mapping[str, Any], *, complete: bool) -> Answers:
    """Cast and validate `provided` answers, in question order.

    With `complete`, every question gets an answer: its default when none was provided, and
    a question without a default and without an answer is an error naming it. Without
    `complete`, only the provided answers are returned (validated).
    """
    context: dict[str, Any] = dict(provided)
    answers: Answers = {}
    for question in template:
        if not template.is_asked(question, context):
            default = template.default(question, context)
            if default is not MISSING:
                context[question.name] = default
            continue
        if question.name in provided:
            value = provided[question.name]
        elif complete:
            value = template.default(question, context)
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


def read_answers_file(project: Path, template: Template) -> dict[str, Any]:
    """The answers recorded in a generated project (including `_commit` and `_src_path`)."""
    path = project / template.answers_file
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no answers file; was this project made by hardstart?") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise UsageError(f"{path}: cannot read answers: {error}") from error
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a mapping")
    return data
