"""Presets through the CLI: validation, locks and defaults on `new` and `update`, the recorded
preset, what `check` and `fleet status` report, and where the preset in effect comes from."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from conftest import git
from hardstart.cli import app
from hardstart.errors import EXIT_OUTDATED, EXIT_USAGE
from releases import URL, copy_project, make_releases, serve

ACME = """\
name: acme-platform
version: 1.4.0
description: Acme's service baseline
defaults:
  author: "Acme Platform <platform@acme.example>"
locks:
  ci_provider: {value: github, reason: "All services build on GitHub Actions"}
  cors_origins:
    pattern: '^https://[a-z0-9-]+\\.acme\\.example$'
    reason: "Browsers only on acme.example"
"""
ORIGIN = "cors_origins=https://app.acme.example"
CI_REASON = "All services build on GitHub Actions"
CORS_REASON = "Browsers only on acme.example"


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def answers_of(project: Path) -> dict[str, Any]:
    data = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def record_of(project: Path) -> dict[str, Any]:
    data = yaml.safe_load((project / ".hardstart/preset.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def one_error(result: Any) -> str:
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


@pytest.fixture
def acme(tmp_path: Path) -> Path:
    return write(tmp_path / "presets" / "acme.yml", ACME)


def new(template: Path, *args: str) -> Any:
    return invoke("new", "--template", str(template), "-q", *args)


# -- validation -------------------------------------------------------------------------------

LOCK = "  ci_provider: {value: github, reason: CI}\n"
BAD_PRESETS = [
    # (file content, key named in the error, rule named in the error)
    ("name: [a\n", "", "not valid YAML"),
    ("- a list\n", "", "expected a mapping"),
    ("name: acme\nversion: 1.0.0\ncolour: blue\n", "colour", "unknown key"),
    ("version: 1.0.0\n", "name", "is required"),
    ("name: Acme Platform\nversion: 1.0.0\n", "name", "must match [a-z0-9][a-z0-9._-]*"),
    ("name: acme\n", "version", "is required"),
    ("name: acme\nversion: one.four\n", "version", "is not a version"),
    # YAML reads 1.10 as the number 1.1: refused rather than recorded as an older version.
    ("name: acme\nversion: 1.10\n", "version", "quote it, e.g. version: '1.1'"),
    ("name: acme\nversion: 1.0.0\ndefaults: [author]\n", "defaults", "must be a mapping"),
    ("name: acme\nversion: 1.0.0\ndefaults: {colour: blue}\n", "defaults.colour",
     "no such question"),
    ("name: acme\nversion: 1.0.0\nlocks:\n  colour: {value: blue, reason: x}\n",
     "locks.colour", "no such question"),
    ("name: acme\nversion: 1.0.0\nlocks:\n  service_name: {value: api, reason: x}\n",
     "locks.service_name", "is never asked"),
    ("name: acme\nversion: 1.0.0\ndefaults: {license: GPL-3.0}\n", "defaults.license",
     "must be one of MIT, Apache-2.0, proprietary"),
    ("name: acme\nversion: 1.0.0\ndefaults: {author: ' '}\n", "defaults.author",
     "must not be empty"),
    ("name: acme\nversion: 1.0.0\nlocks:\n  kubernetes: {value: maybe, reason: x}\n",
     "locks.kubernetes.value", "must be yes or no"),
    ("name: acme\nversion: 1.0.0\nlocks:\n  ci_provider: {value: gitlab, reason: GitLab}\n"
     "  update_bot: {value: dependabot, reason: bots}\n", "locks.update_bot.value",
     "Dependabot runs on GitHub only"),
    ("name: acme\nversion: 1.0.0\nlocks:\n  ci_provider: {value: github}\n",
     "locks.ci_provider.reason", "is required"),
    ("name: acme\nversion: 1.0.0\nlocks:\n  ci_provider: {value: github, reason: ''}\n",
     "locks.ci_provider.reason", "is required"),
    ("name: acme\nversion: 1.0.0\nlocks:\n  ci_provider: {value: github, pattern: g.*,"
     " reason: x}\n", "locks.ci_provider", "exactly one of value and pattern"),
    ("name: acme\nversion: 1.0.0\nlocks:\n  ci_provider: {value: github, reason: x, why: y}\n",
     "locks.ci_provider.why", "unknown key"),
    ("name: acme\nversion: 1.0.0\nlocks:\n  cors_origins: {pattern: '^https://(', reason: x}\n",
     "locks.cors_origins.pattern", "not a valid regular expression"),
    ("name: acme\nversion: 1.0.0\nlocks:\n  ci_provider: {pattern: 'jenkins|travis',"
     " reason: x}\n", "locks.ci_provider.pattern", "matches none of the choices"),
    ("name: acme\nversion: 1.0.0\nlocks:\n  nginx: {pattern: 'true', reason: x}\n",
     "locks.nginx.pattern", "applies to text answers only"),
    ("name: acme\nversion: 1.0.0\ndefaults: {ci_provider: gitlab}\nlocks:\n" + LOCK,
     "defaults.ci_provider", "breaks its own lock"),
    ("name: acme\nversion: 1.0.0\ndefaults: {cors_origins: 'https://app.example.com'}\n"
     "locks:\n  cors_origins: {pattern: 'https://[a-z]+\\.acme\\.example', reason: x}\n",
     "defaults.cors_origins", "breaks its own lock"),
]  # fmt: skip


@pytest.mark.parametrize(("content", "key", "rule"), BAD_PRESETS)
def test_a_bad_preset_is_one_line_naming_file_key_and_rule(
    tiny_template: Path, workdir: Path, tmp_path: Path, content: str, key: str, rule: str
) -> None:
    preset = write(tmp_path / "bad.yml", content)
    result = new(tiny_template, "--preset", str(preset), "-d", "project_name=svc")
    assert result.exit_code == EXIT_USAGE, result.output
    line = one_error(result)
    assert line.startswith(f"error: preset {preset}: {key + ': ' if key else ''}"), line
    assert rule in line, line
    assert list(workdir.iterdir()) == []


def test_a_missing_or_unreadable_preset_is_refused_before_anything(
    tiny_template: Path, workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nope.yml"
    for args in (["new", "svc"], ["check"], ["update"], ["fleet", "status", "."]):
        result = invoke(*args, "--preset", str(missing))
        assert result.exit_code == EXIT_USAGE, (args, result.output)
        assert one_error(result) == f"error: preset {missing}: no such file"
    monkeypatch.setenv("HARDSTART_PRESET", str(tmp_path))  # a directory
    result = new(tiny_template, "svc")
    assert result.exit_code == EXIT_USAGE
    assert "is a directory" in one_error(result)
    assert list(workdir.iterdir()) == []


# -- new: locks and defaults without a terminal ---------------------------------------------------


def test_new_applies_locks_and_defaults_and_records_the_preset(
    tiny_template: Path, workdir: Path, acme: Path
) -> None:
    result = new(tiny_template, "--preset", str(acme), "-d", ORIGIN, "svc")
    assert result.exit_code == 0, result.output
    answers = answers_of(workdir / "svc")
    assert answers["ci_provider"] == "github"
    assert answers["author"] == "Acme Platform <platform@acme.example>"
    assert answers["security_contact"] == "platform@acme.example"  # follows the preset's author
    assert record_of(workdir / "svc") == {
        "name": "acme-platform",
        "version": "1.4.0",
        "sha256": hashlib.sha256(acme.read_bytes()).hexdigest(),
    }
    assert ".hardstart/preset.yml" in git("ls-files", cwd=workdir / "svc").split()

    # A default may be changed; a locked answer given as the lock wants is accepted.
    other = new(tiny_template, "--preset", str(acme), "-d", ORIGIN, "-d", "author=Ada",
                "-d", "ci_provider=github", "svc2")  # fmt: skip
    assert other.exit_code == 0, other.output
    assert answers_of(workdir / "svc2")["author"] == "Ada"


@pytest.mark.parametrize(
    ("answers", "reason", "problem"),
    [
        ({"ci_provider": "gitlab"}, CI_REASON, "ci_provider: is locked to github"),
        ({"cors_origins": "https://app.example.com"}, CORS_REASON, "cors_origins: must match"),
        ({"cors_origins": "https://a.acme.example, https://evil.example"}, CORS_REASON,
         "cors_origins: 'https://evil.example' does not match"),
    ],
)  # fmt: skip
def test_answers_that_break_a_lock_are_refused_with_the_reason(
    tiny_template: Path, workdir: Path, tmp_path: Path, acme: Path,
    answers: dict[str, str], reason: str, problem: str,
) -> None:  # fmt: skip
    given = {"project_name": "svc", "cors_origins": "https://app.acme.example", **answers}
    data = [arg for key, value in given.items() for arg in ("-d", f"{key}={value}")]
    by_data = new(tiny_template, "--preset", str(acme), *data)
    # The same answers from a data file, e.g. another project's answers file.
    answers_file = write(tmp_path / "answers.yml", yaml.safe_dump({"_commit": "v1", **given}))
    by_file = new(tiny_template, "--preset", str(acme), "--data-file", str(answers_file))
    for result in (by_data, by_file):
        assert result.exit_code == EXIT_USAGE, result.output
        line = one_error(result)
        assert problem in line, line
        assert f"(preset acme-platform 1.4.0: {reason})" in line
    assert list(workdir.iterdir()) == []


@pytest.mark.parametrize("owners", ["", " "])
def test_an_empty_list_does_not_slip_past_a_pattern_lock(
    tiny_template: Path, workdir: Path, tmp_path: Path, owners: str
) -> None:
    preset = write(tmp_path / "owners.yml", (
        "name: acme\nversion: 1.0.0\nlocks:\n"
        "  code_owners: {pattern: '@acme/[a-z-]+', reason: The platform team reviews}\n"
    ))  # fmt: skip
    refused = new(tiny_template, "--preset", str(preset), "-d", f"code_owners={owners}", "svc")
    assert refused.exit_code == EXIT_USAGE, refused.output
    assert "code_owners: must match @acme/[a-z-]+" in one_error(refused)
    met = new(tiny_template, "--preset", str(preset), "-d", "code_owners=@acme/platform", "ok")
    assert met.exit_code == 0, met.output
    assert list(workdir.iterdir()) == [workdir / "ok"]


def test_defaults_with_a_pattern_lock_the_default_cannot_meet_is_an_error(
    tiny_template: Path, workdir: Path, acme: Path
) -> None:
    result = new(tiny_template, "--preset", str(acme), "--defaults", "svc")
    assert result.exit_code == EXIT_USAGE
    assert "cors_origins: must match" in one_error(result)
    assert CORS_REASON in one_error(result)
    assert list(workdir.iterdir()) == []


# -- where the preset in effect comes from ------------------------------------------------------


def test_env_var_and_user_config_location(
    tiny_template: Path, workdir: Path, tmp_path: Path, acme: Path,
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    user = write(isolated_home / ".config" / "hardstart" / "preset.yml",
                 ACME.replace("1.4.0", "2.0.0"))  # fmt: skip
    other = write(tmp_path / "other.yml", "name: other\nversion: 3.0.0\n")

    assert new(tiny_template, "-d", ORIGIN, "from-config").exit_code == 0
    assert record_of(workdir / "from-config")["version"] == "2.0.0"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "elsewhere"))
    assert new(tiny_template, "-d", ORIGIN, "no-config").exit_code == 0
    assert not (workdir / "no-config" / ".hardstart").exists()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(user.parent.parent))

    monkeypatch.setenv("HARDSTART_PRESET", str(acme))
    assert new(tiny_template, "-d", ORIGIN, "from-env").exit_code == 0
    assert record_of(workdir / "from-env")["version"] == "1.4.0"

    assert new(tiny_template, "--preset", str(other), "from-option").exit_code == 0
    assert record_of(workdir / "from-option")["name"] == "other"

    monkeypatch.setenv("HARDSTART_PRESET", "")  # none, even with the user's file there
    plain = new(tiny_template, "-d", "ci_provider=gitlab", "-d", "update_bot=renovate", "plain")
    assert plain.exit_code == 0, plain.output
    assert not (workdir / "plain" / ".hardstart").exists()


# -- update, check and fleet status over template releases ---------------------------------------


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_releases(tmp_path_factory.mktemp("releases") / "hardstart")


@pytest.fixture
def served(releases: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    serve(monkeypatch, releases)


def generated(dest: Path, version: str, *args: str) -> Path:
    result = invoke("new", "-q", "--template-url", URL, "--template-version", version,
                    *args, str(dest))  # fmt: skip
    assert result.exit_code == 0, result.output
    return dest


# 1.5.0 locks a question that template v2.0.0 adds, and gives another one a default.
V2_PRESET = ACME.replace("1.4.0", "1.5.0").replace("defaults:\n", "defaults:\n  greeting: hi\n") + (
    "  smoke_job: {value: true, reason: Every service runs smoke tests}\n"
)


def test_update_applies_the_preset_and_records_it(served: None, tmp_path: Path, acme: Path) -> None:
    project = generated(tmp_path / "svc", "1.0.0", "--preset", str(acme), "-d", ORIGIN)
    newer = write(tmp_path / "presets" / "acme-1.5.yml", V2_PRESET)
    plan = invoke("update", str(project), "--to", "2.0.0", "--preset", str(newer), "--plan")
    assert plan.exit_code == 0, plan.output
    assert ".hardstart/preset.yml" in plan.stdout

    result = invoke("update", str(project), "--to", "2.0.0", "--preset", str(newer), "--commit")
    assert result.exit_code == 0, result.output
    assert answers_of(project)["smoke_job"] is True  # a new question, locked: not asked
    assert answers_of(project)["greeting"] == "hi"  # a new question: the preset's default
    assert record_of(project)["version"] == "1.5.0"
    assert record_of(project)["sha256"] == hashlib.sha256(newer.read_bytes()).hexdigest()
    assert git("status", "--porcelain", cwd=project) == ""

    # A later update without a preset keeps the record, and so does plain Copier (Renovate).
    assert invoke("update", str(project), "--to", "3.0.0", "--trust", "--commit").exit_code == 0
    assert record_of(project)["version"] == "1.5.0"
    copier = Path(sys.executable).parent / "copier"
    git("reset", "--quiet", "--hard", "HEAD~1", cwd=project)
    done = subprocess.run(
        [str(copier), "update", "--skip-answered", "--defaults", "--trust",
         "--answers-file", ".copier-answers.yml", "--vcs-ref", "v3.0.0"],
        cwd=project, env=os.environ, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert answers_of(project)["_commit"] == "v3.0.0"
    assert record_of(project)["version"] == "1.5.0"


def test_update_refuses_recorded_answers_that_break_a_lock(
    served: None, tmp_path: Path, acme: Path
) -> None:
    project = generated(tmp_path / "svc", "1.0.0", "-d", "ci_provider=gitlab",
                        "-d", "update_bot=renovate", "-d", ORIGIN)  # fmt: skip
    head = git("rev-parse", "HEAD", cwd=project)
    refused = invoke("update", str(project), "--to", "2.0.0", "--preset", str(acme))
    assert refused.exit_code == EXIT_USAGE, refused.output
    line = one_error(refused)
    assert "the recorded answer ci_provider=gitlab breaks preset acme-platform 1.4.0" in line
    assert CI_REASON in line
    assert "pass --data ci_provider=github" in line
    assert git("status", "--porcelain", cwd=project) == ""
    assert git("rev-parse", "HEAD", cwd=project) == head

    # The allowed value given with --data must itself meet the lock.
    wrong = invoke("update", str(project), "--to", "2.0.0", "--preset", str(acme),
                   "-d", "ci_provider=none")  # fmt: skip
    assert wrong.exit_code == EXIT_USAGE
    assert "ci_provider: is locked to github" in one_error(wrong)

    fixed = invoke("update", str(project), "--to", "2.0.0", "--preset", str(acme),
                   "-d", "ci_provider=github", "-d", "update_bot=dependabot")  # fmt: skip
    assert fixed.exit_code == 0, fixed.output
    assert answers_of(project)["ci_provider"] == "github"
    assert record_of(project)["name"] == "acme-platform"


def test_check_reports_a_broken_lock_and_a_newer_or_changed_preset(
    served: None, tmp_path: Path, acme: Path
) -> None:
    project = generated(tmp_path / "svc", "3.0.0", "--preset", str(acme), "-d", ORIGIN)
    met = invoke("check", str(project), "--preset", str(acme))
    assert met.exit_code == 0, met.output
    assert "meets acme-platform 1.4.0" in met.stdout

    newer = write(tmp_path / "p" / "newer.yml", ACME.replace("1.4.0", "1.5.0"))
    result = invoke("check", str(project), "--preset", str(newer))
    assert result.exit_code == EXIT_OUTDATED
    assert "preset acme-platform 1.5.0 is newer than the recorded 1.4.0" in result.stdout

    changed = write(tmp_path / "p" / "changed.yml", ACME.replace("Acme's", "Our"))
    report = json.loads(invoke("check", str(project), "--preset", str(changed), "--json").stdout)
    assert report["ok"] is False
    assert report["preset"]["freshness"] == "changed"
    assert report["preset"]["recorded"]["version"] == report["preset"]["in_effect"]["version"]

    # Answers changed by hand: the project no longer satisfies its preset.
    answers_file = project / ".copier-answers.yml"
    answers_file.write_text(
        answers_file.read_text().replace("cors_origins: https://app.acme.example",
                                         "cors_origins: https://app.example.com")
    )  # fmt: skip
    broken = invoke("check", str(project), "--preset", str(acme))
    assert broken.exit_code == EXIT_OUTDATED
    assert (
        "breaks preset acme-platform 1.4.0: cors_origins: https://app.example.com must match"
        in broken.stdout
    )
    assert CORS_REASON in broken.stdout
    assert "breaks acme-platform 1.4.0: cors_origins" in broken.stderr

    # No preset in effect: nothing about presets fails (the record is only shown in JSON).
    plain = invoke("check", str(project), "--json")
    assert plain.exit_code == 0, plain.output
    assert json.loads(plain.stdout)["preset"]["in_effect"] is None


def test_check_without_any_preset_is_unchanged(served: None, tmp_path: Path) -> None:
    project = generated(tmp_path / "svc", "3.0.0")
    result = invoke("check", str(project), "--json")
    assert result.exit_code == 0, result.output
    assert "preset" not in json.loads(result.stdout)


def test_fleet_status_shows_each_repository_against_the_preset(
    served: None, tmp_path: Path, acme: Path
) -> None:
    meets = generated(tmp_path / "pristine" / "meets", "3.0.0", "--preset", str(acme), "-d", ORIGIN)
    older = write(tmp_path / "p" / "acme-1.3.yml", ACME.replace("1.4.0", "1.3.0"))
    behind = generated(tmp_path / "pristine" / "behind", "3.0.0", "--preset", str(older),
                       "-d", ORIGIN)  # fmt: skip
    breaks = generated(tmp_path / "pristine" / "breaks", "3.0.0", "-d", "ci_provider=none")
    repos = [copy_project(p, tmp_path / "repos" / p.name) for p in (meets, behind, breaks)]

    plain = invoke("fleet", "status", *map(str, repos), "--json")
    assert plain.exit_code == 0, plain.output
    assert {row["state"] for row in json.loads(plain.stdout)} == {"current"}

    status = invoke(
        "fleet", "status", *map(str, repos), "--preset", str(acme), "--workers", "2", "--json"
    )
    assert status.exit_code == EXIT_OUTDATED, status.output
    rows = {Path(row["path"]).name: row for row in json.loads(status.stdout)}
    assert {name: row["state"] for name, row in rows.items()} == {
        "meets": "current", "behind": "off preset", "breaks": "off preset",
    }  # fmt: skip
    assert rows["meets"]["preset"] == "meets acme-platform 1.4.0"
    assert rows["behind"]["preset"] == "preset acme-platform 1.4.0 is newer than the recorded 1.3.0"
    assert rows["breaks"]["preset"].startswith("breaks acme-platform 1.4.0: ci_provider, cors")
    assert rows["breaks"]["preset_ok"] is False

    markdown = invoke("fleet", "status", *map(str, repos), "--preset", str(acme), "--markdown")
    assert "| repository | state | version | target | detail | preset |" in markdown.stdout
    assert "| off preset | v3.0.0 | v3.0.0 |  | preset acme-platform 1.4.0 is newer" in (
        markdown.stdout
    )
    table = invoke("fleet", "status", *map(str, repos), "--preset", str(acme))
    assert "preset" in table.stdout.splitlines()[0]
    assert "2 off preset" in table.stdout


def test_the_readme_example_is_a_valid_preset(tmp_path: Path) -> None:
    from conftest import REPO_ROOT
    from hardstart import presets, questions

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Presets") :]
    example = section[section.index("```yaml\n") + 8 : section.index("```\n")]
    preset = presets.read(write(tmp_path / "acme.yml", example))
    checked = presets.validate(preset, questions.load(REPO_ROOT))
    assert set(checked.locks) == {"ci_provider", "container_base", "cors_origins"}


def test_help_documents_the_preset_option() -> None:
    for command in (["new"], ["update"], ["check"], ["fleet", "status"], ["fleet", "update"]):
        result = invoke(*command, "--help")
        text = " ".join(result.stdout.split())
        assert "--preset" in text, command
        assert "HARDSTART_PRESET" in text, command


def test_fleet_update_applies_and_records_the_preset_on_the_branch(
    served: None, tmp_path: Path, acme: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = generated(tmp_path / "svc", "1.0.0", "-d", ORIGIN)
    refused = generated(tmp_path / "gitlab", "1.0.0", "-d", ORIGIN, "-d", "ci_provider=gitlab",
                        "-d", "update_bot=renovate")  # fmt: skip
    monkeypatch.setenv("HARDSTART_PRESET", str(acme))  # as a CI job would set it
    result = invoke("fleet", "update", str(repo), str(refused), "--to", "2.0.0", "--json",
                    "--state", str(tmp_path / "state.json"))  # fmt: skip
    rows = {Path(row["path"]).name: row for row in json.loads(result.stdout)}
    assert rows["svc"]["state"] == "updated", rows
    record = git("show", "hardstart/update-2.0.0:.hardstart/preset.yml", cwd=repo)
    assert "version: 1.4.0" in record
    assert result.exit_code == EXIT_USAGE  # a refused repository, not an error
    assert rows["gitlab"]["state"] == "off preset"
    assert "breaks preset acme-platform 1.4.0" in rows["gitlab"]["detail"]
    assert not git("branch", "--list", "hardstart/update-2.0.0", cwd=refused).strip()
