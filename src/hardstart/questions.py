"""The template's questions, read from its `copier.yml` (the single source of truth).

Answers are cast, checked against choices and validated the way Copier does it: the same
type casts, and each `validator` rendered by a sandboxed Jinja environment configured like
Copier's (the `jinja2_ansible_filters` extension that provides `regex_search`, the template's
`_envops` and `_jinja_extensions`). A validator that renders to text rejects the answer with
that text. `tests/test_questions.py` runs one table of answers through both to keep them equal.
"""

from __future__ import annotations

import json
import re
from collections import ChainMap
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import Any, Final

import pathspec
import yaml
from jinja2 import StrictUndefined, TemplateError, Undefined
from jinja2.sandbox import SandboxedEnvironment

from hardstart.errors import BadAnswer, HardstartError

CONFIG_NAME: Final = "copier.yml"
DEFAULT_ANSWERS_FILE: Final = ".copier-answers.yml"

# Copier's own environment always loads this extension; validators rely on its filters.
_COPIER_EXTENSIONS: Final = ("jinja2_ansible_filters.AnsibleCoreFiltersExtension",)

# Question keys hardstart understands. Anything else in copier.yml is refused at load time,
# so a new question feature cannot silently behave differently here and in Copier.
_KNOWN_KEYS: Final = frozenset(
    {"type", "help", "default", "choices", "validator", "placeholder", "when", "qmark"}
)


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()
"""Marks a question without a default."""


def _cast_str(value: Any) -> str:
    # Mirrors copier._tools.cast_to_str.
    if isinstance(value, str):
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, (float, int, Decimal)):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return value.decode()
    raise ValueError(f"could not convert {value!r} to a string")


_YES: Final = frozenset({"true", "yes", "on", "1"})
_NO: Final = frozenset({"false", "no", "off", "0"})


def _cast_bool(value: Any) -> bool:
    # Stricter than Copier, which reads any unknown word as true: `-d kubernetes=nope` must not
    # switch an option on. Only yes/no words (any case) and the booleans 0/1 are answers.
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lower = value.strip().lower()
        if lower in _YES:
            return True
        if lower in _NO:
            return False
    raise ValueError(f"not a yes/no answer: {value!r}")


def is_true(value: Any) -> bool:
    """Copier's truthiness of a rendered `when` condition (mirrors copier._tools.cast_to_bool)."""
    try:
        return bool(float(value))
    except (TypeError, ValueError):
        pass
    if isinstance(value, str):
        lower = value.strip().lower()
        if not lower or lower in {"n", "no", "f", "false", "off", "~", "null", "none"}:
            return False
        if lower in {"y", "yes", "t", "true", "on"}:
            return True
    return bool(value)


def _cast_yaml(value: Any) -> Any:
    return yaml.safe_load(value)


_CASTS: Final[Mapping[str, Any]] = {
    "bool": _cast_bool,
    "float": float,
    "int": int,
    "json": json.loads,
    "str": _cast_str,
    "yaml": _cast_yaml,
    "path": str,
}

_TYPE_WORDS: Final = {
    "int": "an integer",
    "float": "a number",
    "bool": "yes or no (true/false, yes/no, on/off, 1/0)",
    "json": "JSON",
    "yaml": "YAML",
    "str": "text",
    "path": "a path",
}


@dataclass(frozen=True)
class Choice:
    label: str
    value: Any


@dataclass(frozen=True)
class Question:
    name: str
    type: str
    help: str = ""
    default: Any = MISSING
    choices: tuple[Choice, ...] = ()
    validator: str = ""
    placeholder: str = ""
    when: str | bool = True
    group: str = ""

    @property
    def required(self) -> bool:
        return self.default is MISSING


@dataclass(frozen=True)
class Template:
    """A template's settings (`_`-prefixed keys) and questions, in file order."""

    path: Path
    settings: Mapping[str, Any]
    questions: tuple[Question, ...]
    _env: SandboxedEnvironment = field(repr=False, compare=False)
    # Extra rules per question (a preset's locks): answer → problem, "" when allowed.
    constraints: Mapping[str, Callable[[Any], str]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def subdirectory(self) -> str:
        return str(self.settings.get("subdirectory", "") or "")

    @property
    def answers_file(self) -> str:
        return str(self.settings.get("answers_file", DEFAULT_ANSWERS_FILE))

    @cached_property
    def owned(self) -> pathspec.PathSpec[Any]:
        """Files the project owns once generated (`_skip_if_exists`, matched as Copier does)."""
        return pathspec.PathSpec.from_lines("gitignore", self.settings.get("skip_if_exists") or [])

    @property
    def user_sections(self) -> Mapping[str, str]:
        """File → marker line below which the text is the project's (`_hardstart_user_sections`)."""
        return dict(self.settings.get("hardstart_user_sections") or {})

    @cached_property
    def by_name(self) -> Mapping[str, Question]:
        return {q.name: q for q in self.questions}

    def __iter__(self) -> Iterator[Question]:
        return iter(self.questions)

    def question(self, name: str) -> Question:
        try:
            return self.by_name[name]
        except KeyError:
            known = ", ".join(self.by_name)
            raise BadAnswer(name, f"no such question (known: {known})") from None

    # -- rendering ----------------------------------------------------------------------

    def render(self, source: Any, context: Mapping[str, Any]) -> Any:
        """Render a templated value as Copier does; non-strings pass through."""
        if isinstance(source, list):
            return [self.render(item, context) for item in source]
        if not isinstance(source, str):
            return source
        return self._env.from_string(source).render(dict(context))

    # -- answers ------------------------------------------------------------------------

    def cast(self, question: Question, value: Any) -> Any:
        """Cast a raw answer (a string from the command line, or a YAML value) to its type."""
        if value is None and question.type not in {"json", "yaml"}:
            raise BadAnswer(question.name, f"must be {_TYPE_WORDS[question.type]}, not empty")
        try:
            return _CASTS[question.type](value)
        except (TypeError, AttributeError) as error:
            if question.type in {"json", "yaml"}:
                return value
            raise BadAnswer(question.name, f"must be {_TYPE_WORDS[question.type]}") from error
        except (ValueError, yaml.YAMLError) as error:
            raise BadAnswer(
                question.name, f"must be {_TYPE_WORDS[question.type]}, got {value!r}"
            ) from error

    def choice_values(self, question: Question) -> list[Any]:
        return [self.cast(question, choice.value) for choice in question.choices]

    def check(self, question: Question, value: Any, context: Mapping[str, Any]) -> Any:
        """Cast and validate one answer; return the typed value or raise BadAnswer.

        `context` holds the other answers (validators may refer to them).
        """
        answer = self.cast(question, value)
        if question.choices:
            allowed = self.choice_values(question)
            if answer not in allowed:
                shown = ", ".join(str(v) for v in allowed)
                raise BadAnswer(question.name, f"must be one of {shown}, got {answer!r}")
        if question.validator:
            try:
                message = str(
                    self.render(question.validator, {**context, question.name: answer})
                ).strip()
            except TemplateError as error:
                message = str(error)
            if message:
                raise BadAnswer(question.name, message)
        if (rule := self.constraints.get(question.name)) and (problem := rule(answer)):
            raise BadAnswer(question.name, problem)
        return answer

    def is_asked(self, question: Question, context: Mapping[str, Any]) -> bool:
        """Copier's `when`: a question whose condition is false is skipped."""
        return is_true(self.render(question.when, context))

    def default(self, question: Question, context: Mapping[str, Any]) -> Any:
        """The question's default, rendered and cast, or MISSING. Not validated."""
        if question.default is MISSING:
            return MISSING
        return self.cast(question, self.render(question.default, context))


# -- loading ------------------------------------------------------------------------------

_BANNER_RULE = re.compile(r"^#\s*[-=#]{3,}\s*$")
_TOP_LEVEL_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\s*:")


def _groups_from_banners(text: str) -> dict[str, str]:
    """Map each top-level key to the title of the banner comment above it.

    A banner is a comment line between two rule lines, e.g.
    `# ----` / `# Runtime` / `# ----`.
    """
    lines = text.splitlines()
    groups: dict[str, str] = {}
    current = ""
    for index, line in enumerate(lines):
        if (
            line.startswith("#")
            and not _BANNER_RULE.match(line)
            and 0 < index < len(lines) - 1
            and _BANNER_RULE.match(lines[index - 1])
            and _BANNER_RULE.match(lines[index + 1])
        ):
            current = line.lstrip("#").strip()
        elif match := _TOP_LEVEL_KEY.match(line):
            groups[match.group(1)] = current
    return groups


def _question_type(name: str, spec: Mapping[str, Any]) -> str:
    declared = spec.get("type")
    if declared is None:
        # Copier infers the type from the default's Python type, else YAML.
        default_type = type(spec.get("default")).__name__
        declared = default_type if default_type in _CASTS else "yaml"
    if declared not in _CASTS:
        raise HardstartError(f"{CONFIG_NAME}: question {name!r} has unsupported type {declared!r}")
    return str(declared)


def _choices(name: str, raw: Any) -> tuple[Choice, ...]:
    if raw is None or raw == []:
        return ()
    if isinstance(raw, dict):
        items = list(raw.items())
    elif isinstance(raw, list):
        items = [tuple(item) if isinstance(item, list) else (item, item) for item in raw]
    else:
        raise HardstartError(
            f"{CONFIG_NAME}: question {name!r}: templated choices are not supported"
        )
    result = []
    for label, value in items:
        if isinstance(value, dict):
            raise HardstartError(
                f"{CONFIG_NAME}: question {name!r}: choice validators are not supported"
            )
        result.append(Choice(label=str(label), value=value))
    return tuple(result)


def load(template_root: Path) -> Template:
    """Read `copier.yml` in `template_root`."""
    path = template_root / CONFIG_NAME
    try:
        text = path.read_text(encoding="utf-8")
        documents = [doc for doc in yaml.safe_load_all(text) if doc]
    except FileNotFoundError:
        raise HardstartError(f"{path}: template configuration not found") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise HardstartError(f"{path}: cannot read template configuration: {error}") from error
    if not all(isinstance(doc, dict) for doc in documents):
        raise HardstartError(f"{path}: expected a mapping of questions")
    raw: dict[str, Any] = dict(ChainMap(*reversed(documents)))

    settings = {key[1:]: value for key, value in raw.items() if key.startswith("_")}
    groups = _groups_from_banners(text)
    questions = []
    for name, spec in raw.items():
        if name.startswith("_"):
            continue
        if not isinstance(spec, dict):
            spec = {"default": spec}  # Copier's short form: `name: default`
        unknown = set(spec) - _KNOWN_KEYS
        if unknown:
            raise HardstartError(
                f"{CONFIG_NAME}: question {name!r} uses {', '.join(sorted(unknown))}, "
                "which hardstart does not support yet"
            )
        questions.append(
            Question(
                name=name,
                type=_question_type(name, spec),
                help=str(spec.get("help", "") or ""),
                default=spec.get("default", MISSING),
                choices=_choices(name, spec.get("choices")),
                validator=str(spec.get("validator", "") or ""),
                placeholder=str(spec.get("placeholder", "") or ""),
                when=spec.get("when", True),
                group=groups.get(name, ""),
            )
        )

    envops = dict(settings.get("envops") or {})
    envops.setdefault("keep_trailing_newline", True)
    if "undefined" in envops:  # Copier accepts these two names only
        undefined = {"jinja2.Undefined": Undefined, "jinja2.StrictUndefined": StrictUndefined}
        if envops["undefined"] not in undefined:
            raise HardstartError(f"{path}: unsupported _envops.undefined {envops['undefined']!r}")
        envops["undefined"] = undefined[envops["undefined"]]
    extensions = [*_COPIER_EXTENSIONS, *(settings.get("jinja_extensions") or [])]
    try:
        env = SandboxedEnvironment(extensions=extensions, **envops)
    except (ImportError, TypeError) as error:
        raise HardstartError(f"{path}: cannot configure Jinja: {error}") from error
    return Template(path=path, settings=settings, questions=tuple(questions), _env=env)
