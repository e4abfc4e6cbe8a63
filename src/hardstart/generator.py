"""Rendering with Copier: the only module that imports copier.

Every Copier failure becomes a HardstartError with a one-line message; Copier's own output is
silenced (hardstart reports progress and errors itself).
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from copier import Settings, run_copy
from copier.errors import CopierError, UnsafeTemplateError, UserMessageError
from jinja2 import TemplateError

from hardstart import template as templates
from hardstart.errors import BadAnswer, HardstartError, Untrusted, UsageError
from hardstart.questions import Template

# Copier's messages for rejected answers, e.g.
#   Validation error for question 'project_name': must be a valid npm package name ...
#   Invalid choice for 'license': 'GPL' is not in ['MIT', ...]
#   Question "project_name" is required
_ANSWER_ERRORS = (
    re.compile(r"^Validation error for question '(?P<name>[^']+)': (?P<problem>.*)$", re.S),
    re.compile(r"^Invalid choice for '(?P<name>[^']+)': (?P<problem>.*)$", re.S),
    re.compile(r'^Question "(?P<name>[^"]+)" is (?P<problem>required)$'),
)


@contextlib.contextmanager
def _copier_errors() -> Iterator[None]:
    """Translate whatever Copier raises into the hardstart error tree."""
    try:
        yield
    except UnsafeTemplateError as error:
        raise Untrusted(f"untrusted template: {error}") from error
    except UserMessageError as error:
        raise HardstartError(f"template error: {error.message}") from error
    except (CopierError, TemplateError) as error:
        raise HardstartError(f"template error: {error}") from error
    except ValueError as error:
        for pattern in _ANSWER_ERRORS:
            if match := pattern.match(str(error)):
                raise BadAnswer(match["name"], match["problem"]) from error
        raise UsageError(f"answers rejected by the template: {error}") from error
    except OSError as error:
        # Includes failed git commands run by Copier (plumbum's ProcessExecutionError).
        raise HardstartError(f"rendering failed: {error}") from error


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
    ):
        warnings.simplefilter("ignore")
        yield


def copy(
    source: templates.TemplateSource, template: Template, answers: Mapping[str, Any], dest: Path
) -> None:
    """Render `source` with complete, validated `answers` into the existing directory `dest`.

    The answers file records the source's `_commit` (its ref) and `_src_path` (its id).
    """
    with (
        templates.plain_files(source, template.subdirectory) as root,
        _copier_errors(),
        _quiet(),
    ):
        run_copy(
            str(root),
            dest,
            data=dict(answers),
            settings=Settings(),  # ignore the user's Copier settings (defaults, trust)
            defaults=True,  # never prompt: every answer is given
            overwrite=True,
            quiet=True,
            unsafe=False,
            cleanup_on_error=False,  # the caller owns (and removes) dest
        )
    _record_source(dest / template.answers_file, str(root), source.ref, source.src_path)


def _record_source(answers_file: Path, rendered_from: str, ref: str, src_path: str) -> None:
    """Record the template as Copier would for the tag `ref` of the repository `src_path`.

    Copier rendered plain files, so it wrote their (machine-specific) path and no version.
    """
    if not answers_file.is_file():
        return  # the template keeps no answers file
    text = answers_file.read_text(encoding="utf-8")
    recorded = yaml.safe_load(text)
    if not isinstance(recorded, dict) or recorded.get("_src_path") != rendered_from:
        raise HardstartError(
            f"template error: {answers_file.name} must be rendered from _copier_answers"
        )
    lines = [
        yaml.safe_dump({"_commit": ref}) + yaml.safe_dump({"_src_path": src_path}, width=1000)
        if line.startswith("_src_path:")
        else line
        for line in text.splitlines(keepends=True)
        if not line.startswith("_commit:")
    ]
    answers_file.write_text("".join(lines), encoding="utf-8")
