"""copier.yml ⇔ hardstart's validation (wizard, --data, --data-file) ⇔ Copier itself.

One table of answers runs through hardstart's checks (the function the wizard and the
non-interactive path share), through the CLI (--data and --data-file) and through Copier; they
must agree on every row, and on the message where a validator wrote one.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from copier import Settings, run_copy
from copier.errors import CopierError
from typer.testing import CliRunner

from conftest import REPO_ROOT
from hardstart import answers, questions
from hardstart.cli import app
from hardstart.errors import EXIT_USAGE, BadAnswer

NAME = {"project_name": "my-api"}
NAME_ARG = ["-d", "project_name=my-api"]

# (question, answer as it would appear in a YAML data file)
BAD: list[tuple[str, Any]] = [
    ("project_name", "My API"),
    ("project_name", "-x"),
    ("project_name", ""),
    ("project_name", "_private"),
    ("project_name", "a" * 215),
    ("project_name", "@Scope/x"),
    ("description", 'say "hi"'),
    ("description", "two\nlines"),
    ("description", "x" * 201),
    ("author", "   "),
    ("author", "back\\slash"),
    ("license", "GPL-3.0"),
    ("license", "mit"),
    ("node_major", 18),
    ("node_major", 20),
    ("node_major", "lts"),
    ("node_major", "24.5"),
    ("cors_origins", "*"),
    ("cors_origins", "http://evil.example"),
    ("cors_origins", "https://a.example/path"),
    ("cors_origins", "https://a.example/"),
    ("cors_origins", "https://*.example.com"),
    ("cors_origins", "https://a.example, http://evil.example"),
    ("cors_origins", "null"),
    ("cors_origins", " , "),
    ("cors_origins", "https://app.example.com:443"),
    ("cors_origins", "http://localhost:80"),
    ("cors_origins", "https://app.example.com:99999"),
    ("cors_origins", "https://app.example.com:0"),
    ("rate_limit_store", "memcached"),
    ("security_contact", "not an address"),
    ("security_contact", "http://example.com/security"),
    ("code_owners", "acme"),
    ("code_owners", "@acme/platform bad!"),
    ("ci_provider", "jenkins"),
    ("update_bot", "snyk"),
    ("container_base", "ubuntu"),
    ("kubernetes", True),  # with the default memory store: replicas would not share limits
]

GOOD: list[tuple[str, Any]] = [
    ("project_name", "my-api"),
    ("project_name", "@acme/orders-api"),
    ("project_name", "a.b_c~d9"),
    ("description", "Orders, payments & refunds (v2)"),
    ("author", "Platform Team <platform@example.com>"),
    ("author", "O'Brien"),
    ("license", "Apache-2.0"),
    ("license", "proprietary"),
    ("node_major", 22),
    ("node_major", "24"),
    ("cors_origins", "https://app.example.com"),
    ("cors_origins", "https://a.example:8443, http://localhost:3000"),
    ("cors_origins", "http://127.0.0.1:8080,https://b.example"),
    ("cors_origins", "https://a.example:65535,http://localhost:443"),
    ("rate_limit_store", "redis"),
    ("security_contact", "https://example.com/.well-known/security.txt"),
    ("security_contact", "psirt@acme.example"),
    ("code_owners", "@acme/platform ops@acme.example @jdoe"),
    ("ci_provider", "gitlab"),
    ("ci_provider", "none"),
    ("update_bot", "renovate"),
    ("container_base", "distroless"),
    ("compose", False),
    ("nginx", True),
]

# Rules that involve two answers: (answers, the question rejected or None when accepted).
COMBINATIONS: list[tuple[dict[str, Any], str | None]] = [
    ({"ci_provider": "gitlab", "update_bot": "dependabot"}, "update_bot"),
    ({"ci_provider": "none", "update_bot": "dependabot"}, None),
    ({"rate_limit_store": "redis", "kubernetes": True}, None),
    ({"rate_limit_store": "memory", "kubernetes": True}, "kubernetes"),
]

CLI_ONLY_BAD: list[tuple[str, Any]] = [
    # Copier ignores answers to unknown questions; hardstart refuses them (a typo would
    # otherwise silently fall back to the default).
    ("licence", "MIT"),
    ("_commit", "v9"),
]


def row_id(row: tuple[str, Any]) -> str:
    key, value = row
    text = repr(value)
    return f"{key}={text[:24]}"


@pytest.fixture(scope="module")
def template() -> questions.Template:
    return questions.load(REPO_ROOT)


@pytest.fixture(scope="module")
def questions_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real copier.yml over an empty template: Copier validates without rendering."""
    root = tmp_path_factory.mktemp("questions-only")
    shutil.copy2(REPO_ROOT / "copier.yml", root / "copier.yml")
    (root / "template").mkdir()
    return root


def hardstart_check(template: questions.Template, key: str, value: Any) -> str | None:
    """None when accepted, else the problem hardstart reports."""
    try:
        answers.resolve(template, {**NAME, key: value}, complete=True)
    except BadAnswer as error:
        rejected = error
    else:
        return None
    assert rejected.question == key
    return rejected.problem


def copier_check(root: Path, tmp_path: Path, key: str, value: Any) -> str | None:
    """None when Copier accepts, else its message."""
    try:
        run_copy(
            str(root),
            tmp_path / "out",
            data={**NAME, key: value},
            defaults=True,
            pretend=True,
            quiet=True,
            settings=Settings(),
        )
    except (ValueError, CopierError) as error:
        return str(error)
    return None


@pytest.mark.parametrize("row", BAD, ids=row_id)
def test_bad_answers_are_rejected_by_both(
    template: questions.Template, questions_only: Path, tmp_path: Path, row: tuple[str, Any]
) -> None:
    key, value = row
    ours = hardstart_check(template, key, value)
    theirs = copier_check(questions_only, tmp_path, key, value)
    assert ours is not None, "hardstart accepted it"
    assert theirs is not None, "Copier accepted it"
    if match := re.match(r"Validation error for question '(\w+)': (.*)$", theirs, re.S):
        assert match[1] == key
        assert " ".join(match[2].split()) == ours  # the very same rule text


@pytest.mark.parametrize("row", GOOD, ids=row_id)
def test_good_answers_are_accepted_by_both(
    template: questions.Template, questions_only: Path, tmp_path: Path, row: tuple[str, Any]
) -> None:
    key, value = row
    assert hardstart_check(template, key, value) is None
    assert copier_check(questions_only, tmp_path, key, value) is None


@pytest.mark.parametrize(("given", "rejected"), COMBINATIONS)
def test_rules_across_answers_agree_with_copier(
    template: questions.Template,
    questions_only: Path,
    tmp_path: Path,
    given: dict[str, Any],
    rejected: str | None,
) -> None:
    try:
        answers.resolve(template, {**NAME, **given}, complete=True)
        ours = None
    except BadAnswer as error:
        ours = error.question
    try:
        run_copy(
            str(questions_only),
            tmp_path / "out",
            data={**NAME, **given},
            defaults=True,
            pretend=True,
            quiet=True,
            settings=Settings(),
        )
        theirs = None
    except ValueError as error:
        theirs = str(error)
    assert ours == rejected
    assert (theirs is None) == (rejected is None), theirs
    if rejected is not None:
        assert f"'{rejected}'" in str(theirs)


@pytest.mark.parametrize("row", BAD + CLI_ONLY_BAD, ids=row_id)
@pytest.mark.parametrize("via", ["--data", "--data-file"])
def test_cli_rejects_with_one_line_naming_the_question(
    tiny_template: Path, workdir: Path, row: tuple[str, Any], via: str
) -> None:
    key, value = row
    if via == "--data":
        if "\n" in str(value):
            pytest.skip("a newline cannot be typed into --data")
        extra = (
            ["-d", f"{key}={value}"]
            if key == "project_name"
            else [*NAME_ARG, "-d", f"{key}={value}"]
        )
    else:
        if key.startswith("_"):
            pytest.skip("metadata keys in a data file are ignored (answers files can be reused)")
        data_file = workdir.parent / "answers.yml"
        data_file.write_text(yaml.safe_dump({**NAME, key: value}), encoding="utf-8")
        extra = ["--data-file", str(data_file)]
    result = CliRunner().invoke(app, ["new", "--template", str(tiny_template), *extra])
    assert result.exit_code == EXIT_USAGE, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert errors[0].startswith(f"error: {key}: ")
    assert "Traceback" not in result.output
    assert list(workdir.iterdir()) == []


def test_copier_ignores_unknown_answers_so_hardstart_must_refuse_them(
    questions_only: Path, tmp_path: Path, template: questions.Template
) -> None:
    assert copier_check(questions_only, tmp_path, "licence", "MIT") is None
    with pytest.raises(BadAnswer, match="licence: no such question"):
        answers.gather(template, ["licence=MIT"])


# -- what the wizard is built from ------------------------------------------------------------


def test_questions_are_read_in_order_with_groups_help_and_choices(
    template: questions.Template,
) -> None:
    names = [q.name for q in template]
    assert names == [
        "project_name",
        "service_name",
        "description",
        "author",
        "license",
        "security_contact",
        "code_owners",
        "node_major",
        "cors_origins",
        "rate_limit_store",
        "ci_provider",
        "update_bot",
        "scheduled_update",
        "audit_job",
        "container_base",
        "compose",
        "kubernetes",
        "nginx",
    ]
    groups = {q.name: q.group for q in template}
    assert groups["project_name"] == groups["license"] == "Project"
    assert groups["node_major"] == "Runtime"
    assert groups["cors_origins"] == groups["rate_limit_store"] == "HTTP boundary"
    assert groups["ci_provider"] == groups["nginx"] == "Delivery"
    assert all(q.help and "\n" not in q.help for q in template)
    assert template.choice_values(template.question("license")) == [
        "MIT",
        "Apache-2.0",
        "proprietary",
    ]
    assert template.choice_values(template.question("node_major")) == [24, 22]
    assert template.question("project_name").required
    assert template.subdirectory == "template"
    assert template.answers_file == ".copier-answers.yml"


def test_every_default_passes_its_own_validation(template: questions.Template) -> None:
    context: dict[str, Any] = dict(NAME)
    for question in template:
        default = template.default(question, context)
        if default is questions.MISSING:
            assert question.name == "project_name"
            continue
        assert template.check(question, default, context) == default
        context[question.name] = default  # later defaults may derive from earlier answers


def test_defaults_match_what_copier_records(
    template: questions.Template, questions_only: Path, tmp_path: Path
) -> None:
    ours = answers.resolve(template, NAME, complete=True)
    worker = run_copy(
        str(questions_only),
        tmp_path / "out",
        data=dict(NAME),
        defaults=True,
        pretend=True,
        quiet=True,
        settings=Settings(),
    )
    theirs = {k: v for k, v in worker.answers.combined.items() if k in ours}
    assert ours == theirs


def test_data_values_are_cast_to_the_question_type(template: questions.Template) -> None:
    given = answers.gather(template, ["project_name=x", "node_major=22"])
    assert given["node_major"] == "22"
    resolved = answers.resolve(template, given, complete=True)
    assert resolved["node_major"] == 22
    assert isinstance(resolved["node_major"], int)
