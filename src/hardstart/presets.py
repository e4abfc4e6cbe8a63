"""Presets: an organisation's defaults and locked answers, in a YAML file it versions.

```yaml
name: acme-platform
version: 1.4.0
description: Acme's service baseline
defaults: {author: "Acme Platform <platform@acme.example>"}
locks:
  ci_provider: {value: github, reason: "All services build on GitHub Actions"}
  cors_origins: {pattern: '^https://[a-z0-9-]+\\.acme\\.example$', reason: "..."}
```

A file is read in two steps: `read` checks what needs no template (keys, name, version, lock
shapes, regular expressions) and `validate` checks the rest against a template's questions (the
questions exist and are asked, values pass their rules, every constraint can be met). Either
refuses with one line naming the file, the key and the rule (`BadPreset`, exit 2).

`constrain` gives a template whose answer checks include the locks, so the wizard, `--data`,
`--data-file` and an update's recorded answers all meet them the same way. A project records the
preset it was made or last updated with in `.hardstart/preset.yml` (a file no template renders,
so hardstart's and Copier's updates leave it alone).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml
from packaging.version import InvalidVersion, Version

from hardstart.errors import BadAnswer, UsageError
from hardstart.questions import MISSING, Question, Template

ENV_VAR: Final = "HARDSTART_PRESET"
RECORD: Final = ".hardstart/preset.yml"

_NAME: Final = re.compile(r"[a-z0-9][a-z0-9._-]*")
_KEYS: Final = ("name", "version", "description", "defaults", "locks")
_LOCK_KEYS: Final = ("value", "pattern", "reason")

# Answers that are lists in one string: a pattern lock must match each item.
_LIST_ANSWERS: Final[Mapping[str, str | None]] = {"cors_origins": ",", "code_owners": None}


class BadPreset(UsageError):
    """A preset file that cannot be used (exit 2)."""


def shown(value: Any) -> str:
    """A value as it is written in YAML and on the command line."""
    return str(value).lower() if isinstance(value, bool) else str(value)


@dataclass(frozen=True)
class Lock:
    """An answer teams may not change: a fixed value, or a pattern every answer must match."""

    question: str
    reason: str
    value: Any = MISSING
    pattern: str | None = None

    def describe(self) -> str:
        return (
            f"locked to {shown(self.value)}"
            if self.pattern is None
            else f"must match {self.pattern}"
        )

    def problem(self, answer: Any) -> str:
        """Why `answer` breaks the lock ("" when it does not)."""
        if self.pattern is None:
            return "" if answer == self.value else f"is locked to {shown(self.value)}"
        separator = _LIST_ANSWERS.get(self.question, "")
        text = str(answer)
        items = (
            [text] if separator == "" else [i.strip() for i in text.split(separator) if i.strip()]
        )
        # An empty list is judged like an empty answer: it must not slip past the lock.
        for item in items or [""]:
            if not re.fullmatch(self.pattern, item):
                what = f"'{item}' does not match" if len(items) > 1 else "must match"
                return f"{what} {self.pattern}"
        return ""


@dataclass(frozen=True)
class Preset:
    """A preset file as read (`read`), or validated against a template (`validate`)."""

    path: Path
    name: str
    version: str
    sha256: str
    description: str = ""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    locks: Mapping[str, Lock] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    def refusal(self, lock: Lock, problem: str) -> str:
        return f"{problem} (preset {self.label}: {lock.reason})"

    def record(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "sha256": self.sha256}

    def notes(self) -> list[str]:
        """One line per lock, for the wizard."""
        return [
            f"{lock.question}: {lock.describe()} ({lock.reason})" for lock in self.locks.values()
        ]


# -- where the preset comes from ------------------------------------------------------------


def default_location() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "hardstart" / "preset.yml"


def locate(option: Path | None) -> Path | None:
    """`--preset`, else `$HARDSTART_PRESET` (empty: none), else the user's preset if it exists."""
    if option is not None:
        return option
    if ENV_VAR in os.environ:
        value = os.environ[ENV_VAR]
        return Path(value) if value else None
    found = default_location()
    return found if found.is_file() else None


def in_effect(option: Path | None) -> Preset | None:
    """The preset that applies to this run, read (not yet validated against a template)."""
    path = locate(option)
    return read(path) if path is not None else None


# -- reading --------------------------------------------------------------------------------


def _fail(path: Path, key: str, rule: str) -> BadPreset:
    return BadPreset(f"preset {path}: {key}: {rule}" if key else f"preset {path}: {rule}")


def read(path: Path) -> Preset:
    """Read and check a preset file as far as no template is needed."""
    try:
        data = path.read_bytes()
        raw = yaml.safe_load(data.decode("utf-8"))
    except FileNotFoundError:
        raise _fail(path, "", "no such file") from None
    except IsADirectoryError:
        raise _fail(path, "", "is a directory, not a preset file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise _fail(path, "", f"cannot read: {error}") from error
    except yaml.YAMLError as error:
        raise _fail(path, "", f"not valid YAML: {error}") from error
    if not isinstance(raw, dict) or not all(isinstance(key, str) for key in raw):
        raise _fail(path, "", "expected a mapping with name, version, defaults and locks")
    for key in raw:
        if key not in _KEYS:
            raise _fail(path, key, f"unknown key (known: {', '.join(_KEYS)})")

    name = raw.get("name")
    if name is None:
        raise _fail(path, "name", "is required")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise _fail(path, "name", f"must match {_NAME.pattern}")
    version = raw.get("version")
    if version is None:
        raise _fail(path, "version", "is required")
    if not isinstance(version, str):
        # YAML reads an unquoted 1.10 as the number 1.1: the version would be wrong, not refused.
        raise _fail(path, "version", f"quote it, e.g. version: '{version}'")
    try:
        Version(version)
    except InvalidVersion:
        raise _fail(path, "version", f"{version!r} is not a version (e.g. 1.4.0)") from None
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise _fail(path, "description", "must be text")

    defaults = raw.get("defaults") or {}
    if not isinstance(defaults, dict) or not all(isinstance(key, str) for key in defaults):
        raise _fail(path, "defaults", "must be a mapping of question: value")
    locks = raw.get("locks") or {}
    if not isinstance(locks, dict) or not all(isinstance(key, str) for key in locks):
        raise _fail(path, "locks", "must be a mapping of question: {value or pattern, reason}")
    return Preset(
        path=path,
        name=name,
        version=str(version),
        sha256=hashlib.sha256(data).hexdigest(),
        description=description,
        defaults=dict(defaults),
        locks={question: _read_lock(path, question, spec) for question, spec in locks.items()},
    )


def _read_lock(path: Path, question: str, spec: Any) -> Lock:
    key = f"locks.{question}"
    if not isinstance(spec, dict):
        raise _fail(path, key, "must be a mapping with value or pattern, and reason")
    for sub in spec:
        if sub not in _LOCK_KEYS:
            raise _fail(path, f"{key}.{sub}", f"unknown key (known: {', '.join(_LOCK_KEYS)})")
    if ("value" in spec) == ("pattern" in spec):
        raise _fail(path, key, "needs exactly one of value and pattern")
    reason = spec.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise _fail(path, f"{key}.reason", "is required: say why the answer is locked")
    if "value" in spec:
        return Lock(question, " ".join(reason.split()), value=spec["value"])
    pattern = spec["pattern"]
    if not isinstance(pattern, str) or not pattern:
        raise _fail(path, f"{key}.pattern", "must be a regular expression")
    try:
        re.compile(pattern)
    except re.error as error:
        raise _fail(path, f"{key}.pattern", f"not a valid regular expression: {error}") from None
    return Lock(question, " ".join(reason.split()), pattern=pattern)


# -- against a template ---------------------------------------------------------------------


def _asked_question(preset: Preset, template: Template, key: str, name: str) -> Question:
    question = template.by_name.get(name)
    if question is None:
        raise _fail(
            preset.path,
            key,
            f"no such question in copier.yml (known: {', '.join(template.by_name)})",
        )
    if question.when is False or (
        isinstance(question.when, str) and question.when.strip().lower() in {"false", "no"}
    ):
        raise _fail(preset.path, key, "is never asked (computed by the template)")
    return question


def _checked(preset: Preset, template: Template, key: str, question: Question, value: Any,
             context: Mapping[str, Any]) -> Any:  # fmt: skip
    try:
        return template.check(question, value, context)
    except BadAnswer as error:
        raise _fail(preset.path, key, error.problem) from None


def validate(preset: Preset, template: Template) -> Preset:
    """The preset with typed values, or BadPreset naming the first rule it breaks."""
    for name in preset.defaults:
        _asked_question(preset, template, f"defaults.{name}", name)
    for name in preset.locks:
        _asked_question(preset, template, f"locks.{name}", name)

    # Values are checked in the context the preset itself makes: its locked values and defaults,
    # and the template's defaults for the rest.
    context: dict[str, Any] = {}
    for question in template:
        lock = preset.locks.get(question.name)
        if lock is not None and lock.pattern is None:
            context[question.name] = lock.value
        elif question.name in preset.defaults:
            context[question.name] = preset.defaults[question.name]
        else:
            try:
                default = template.default(question, context)
            except (BadAnswer, ValueError):
                default = MISSING
            if default is not MISSING:
                context[question.name] = default

    locks: dict[str, Lock] = {}
    for name, lock in preset.locks.items():
        question = template.by_name[name]
        key = f"locks.{name}"
        if lock.pattern is None:
            value = _checked(preset, template, f"{key}.value", question, lock.value, context)
            locks[name] = dataclasses.replace(lock, value=value)
            context[name] = value
            continue
        if question.type != "str":
            raise _fail(
                preset.path,
                f"{key}.pattern",
                f"applies to text answers only; {name} is {question.type}: lock a value",
            )
        if question.choices:
            allowed = template.choice_values(question)
            if not any(not lock.problem(choice) for choice in allowed):
                shown = ", ".join(str(choice) for choice in allowed)
                raise _fail(preset.path, f"{key}.pattern", f"matches none of the choices ({shown})")
        locks[name] = lock

    defaults: dict[str, Any] = {}
    for name, value in preset.defaults.items():
        question = template.by_name[name]
        key = f"defaults.{name}"
        typed = _checked(preset, template, key, question, value, context)
        if name in locks and (problem := locks[name].problem(typed)):
            raise _fail(preset.path, key, f"breaks its own lock: {problem}")
        defaults[name] = typed
    return dataclasses.replace(preset, defaults=defaults, locks=locks)


def constrain(template: Template, preset: Preset | None) -> Template:
    """`template` whose answer checks also enforce the preset's locks (with their reasons)."""
    if preset is None or not preset.locks:
        return template
    rules = dict(template.constraints)
    for name, lock in preset.locks.items():

        def rule(answer: Any, lock: Lock = lock) -> str:
            problem = lock.problem(answer)
            return preset.refusal(lock, problem) if problem else ""

        rules[name] = rule
    return dataclasses.replace(template, constraints=rules)


def locked_values(preset: Preset | None) -> dict[str, Any]:
    """The answers a preset fixes: never asked."""
    if preset is None:
        return {}
    return {n: lock.value for n, lock in preset.locks.items() if lock.pattern is None}


def defaults(preset: Preset | None) -> dict[str, Any]:
    return dict(preset.defaults) if preset is not None else {}


# -- the project's record -------------------------------------------------------------------

_RECORD_HEADER: Final = (
    "# The preset this project was made or last updated with, written by hardstart:\n"
    "# `hardstart check` compares it with the preset in effect.\n"
)


def record_text(preset: Preset) -> bytes:
    body = yaml.safe_dump(preset.record(), sort_keys=False, allow_unicode=True)
    return (_RECORD_HEADER + body).encode("utf-8")


def write_record(root: Path, preset: Preset) -> None:
    target = root / RECORD
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(record_text(preset))


def read_record(root: Path) -> dict[str, str] | None:
    """The preset a project recorded, or None when it recorded none."""
    path = root / RECORD
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise UsageError(f"{path}: cannot read the recorded preset: {error}") from error
    if not isinstance(data, dict) or not all(
        isinstance(data.get(key), str) for key in ("name", "version", "sha256")
    ):
        raise UsageError(
            f"{path}: expected the recorded preset's name, version and sha256;"
            " restore it from git history"
        )
    return {key: str(data[key]) for key in ("name", "version", "sha256")}


# -- a project against the preset in effect -------------------------------------------------


_FAILING: Final = frozenset({"newer", "changed", "other"})


@dataclass
class Standing:
    """How a project stands against the preset in effect (and the one it recorded)."""

    in_effect: dict[str, str] | None
    recorded: dict[str, str] | None
    broken: list[str] = field(default_factory=list)  # one line per lock the answers break
    freshness: str = ""  # "", "newer", "changed", "older", "other", "unrecorded"

    @property
    def ok(self) -> bool:
        return not self.broken and self.freshness not in _FAILING

    @property
    def effect(self) -> str:
        return f"{self.in_effect['name']} {self.in_effect['version']}" if self.in_effect else ""

    def freshness_note(self) -> str:
        recorded = self.recorded or {}
        return {
            "newer": f"preset {self.effect} is newer than the recorded {recorded.get('version')}",
            "changed": f"preset {self.effect} changed since it was recorded (same version,"
            " other content)",
            "other": f"made with preset {recorded.get('name')}, not {self.effect.split()[0]}"
            if self.effect
            else "",
            "older": f"preset {self.effect} is older than the recorded {recorded.get('version')}",
            "unrecorded": "no preset recorded",
        }.get(self.freshness, "")

    def findings(self) -> list[str]:
        """What `check` reports: each broken lock, and a preset newer than the recorded one."""
        lines = [f"breaks preset {self.effect}: {broken}" for broken in self.broken]
        if self.freshness in _FAILING:
            lines.append(self.freshness_note() + ": run hardstart update with it")
        return lines

    def summary(self) -> str:
        """A short phrase for a table cell or a headline."""
        if self.in_effect is None:
            recorded = self.recorded or {}
            return f"recorded {recorded.get('name')} {recorded.get('version')}"
        parts = []
        if self.broken:
            names = ", ".join(broken.split(":")[0] for broken in self.broken)
            parts.append(f"breaks {self.effect}: {names}")
        if self.freshness in _FAILING or self.freshness == "older":
            parts.append(self.freshness_note())
        return "; ".join(parts) or f"meets {self.effect}"

    def to_json(self) -> dict[str, Any]:
        return {
            "in_effect": self.in_effect,
            "recorded": self.recorded,
            "broken": self.broken,
            "freshness": self.freshness or None,
            "ok": self.ok,
        }


def standing(
    preset: Preset | None, template: Template, answers: Mapping[str, Any], root: Path
) -> Standing | None:
    """Compare a project's recorded answers and preset record with the preset in effect
    (validated against `template`, the questions the answers were given to)."""
    recorded = read_record(root)
    if preset is None:
        return Standing(None, recorded) if recorded else None
    preset = validate(preset, template)
    result = Standing(preset.record(), recorded)
    for name, lock in preset.locks.items():
        question = template.by_name[name]
        if name not in answers:
            if template.is_asked(question, answers):
                result.broken.append(f"{name}: no recorded answer ({lock.describe()})")
            continue
        try:
            answer = template.cast(question, answers[name])
        except BadAnswer:
            answer = answers[name]
        if problem := lock.problem(answer):
            result.broken.append(f"{name}: {answer} {problem} ({lock.reason})")
    if recorded is None:
        result.freshness = "unrecorded"
    elif recorded["name"] != preset.name:
        result.freshness = "other"
    else:
        ours, theirs = Version(preset.version), _version(recorded["version"])
        if theirs is None or ours > theirs:
            result.freshness = "newer"
        elif ours < theirs:
            result.freshness = "older"
        elif recorded["sha256"] != preset.sha256:
            result.freshness = "changed"
    return result


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None
