"""`hardstart audit` as a whole: every rule over the fixtures and the generated projects, waivers,
and the README's rule list.

The code and file test modules prove their own rules; here the full audit runs, so a rule of one
kind that misfires on the other kind's fixtures is caught too.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from conftest import AUDIT_FIXTURES, REPO_ROOT, git, materialise, render_project
from hardstart.audit import checks
from hardstart.audit.model import Status
from hardstart.audit.run import audit
from hardstart.cli import app
from hardstart.errors import EXIT_AUDIT_FAILED, EXIT_USAGE
from test_audit_cli import SARIF_SCHEMA
from test_audit_code import CODE_RULES
from test_audit_code import WEAK as CODE_WEAK
from test_audit_files import WEAK as FILE_WEAK
from test_render import MATRIX, combo_id

ALL_RULES = frozenset(checks.load())
WAIVER_FILE = ".hardstart/audit.yml"


def failed(root: Path) -> dict[str, list[str]]:
    return {
        r.rule.id: [f"{f.path}:{f.line} {f.message}" for f in r.failures]
        for r in audit(root).results
        if r.status is Status.FAIL
    }


def test_good_fails_no_rule(tmp_path: Path) -> None:
    report = audit(materialise("good", tmp_path / "good"))
    assert not [r for r in report.results if r.status is Status.FAIL]
    assert report.count(Status.PASS) == len(ALL_RULES)  # the good project has every control


@pytest.mark.parametrize("name", sorted({**CODE_WEAK, **FILE_WEAK}))
def test_weak_project_fails_exactly_its_rules_and_no_other(name: str, tmp_path: Path) -> None:
    expected = {**CODE_WEAK, **FILE_WEAK}[name]
    report = audit(materialise(name, tmp_path / name))
    assert set(failed(report.root)) == expected
    if name == "gitlab":  # it passes because GitLab CI is read, not because nothing applies
        not_applicable = {r.rule.id for r in report.results if r.status is Status.NOT_APPLICABLE}
        assert {rule for rule in ALL_RULES if rule.startswith("K2-")}.isdisjoint(not_applicable)
        assert {rule for rule in ALL_RULES if rule.startswith("K1-")} <= not_applicable
    for result in report.results:
        for failure in result.failures:
            assert failure.message
            assert "\n" not in failure.message
            assert not failure.path.startswith("/")
            if result.rule.id in CODE_RULES:  # code findings name the source file and line
                assert failure.path.startswith("src/"), failure
                assert failure.line, failure


def test_every_rule_fails_on_some_weak_project() -> None:
    assert set().union(*CODE_WEAK.values(), *FILE_WEAK.values()) == ALL_RULES
    assert {p.name for p in (AUDIT_FIXTURES / "weak").iterdir()} == {*CODE_WEAK, *FILE_WEAK}


@pytest.mark.parametrize("combo", MATRIX, ids=combo_id)
def test_generated_project_passes_its_own_audit(
    combo: dict[str, Any], template_repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = render_project({"project_name": "orders-api", **combo}, template_repo, tmp_path_factory)
    report = audit(root)
    assert failed(root) == {}
    waived = {r.rule.id for r in report.results if r.status is Status.WAIVED}
    if combo["ci_provider"] == "none":
        # No pipeline is generated: the CI gates are waived with a reason, never silently passed.
        assert waived == {rule for rule in ALL_RULES if rule.startswith("K2-")}
        assert all("ci_provider=none" in r.reason for r in report.results if r.rule.id in waived)
    else:
        assert waived == set()
        assert not (root / WAIVER_FILE).exists()
    applicable = {r.rule.id for r in report.results if r.status is not Status.NOT_APPLICABLE}
    for prefix, chosen in (("J4-", combo["compose"]), ("J5-", combo["kubernetes"])):
        assert any(rule.startswith(prefix) for rule in applicable) is chosen, prefix
    assert any(rule.startswith("J6-") for rule in applicable) is combo["nginx"]
    assert any(rule.startswith("K1-") for rule in applicable) is (combo["ci_provider"] == "github")


# -- waivers ---------------------------------------------------------------------------------------


def _waive(root: Path, text: str) -> None:
    (root / ".hardstart").mkdir(exist_ok=True)
    (root / WAIVER_FILE).write_text(text, encoding="utf-8")


def test_a_waived_failure_is_reported_with_its_reason_and_does_not_fail(
    runner: CliRunner, tmp_path: Path
) -> None:
    root = materialise("unpinned-actions", tmp_path / "w")
    assert runner.invoke(app, ["audit", str(root), "-q"]).exit_code == EXIT_AUDIT_FAILED
    _waive(root, "waivers:\n  K1-actions-pinned: Pinned by the organisation's action proxy\n")

    result = runner.invoke(app, ["audit", str(root), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["summary"]["failed"] == 0
    assert data["summary"]["waived"] == 1
    (waived,) = [r for r in data["results"] if r["status"] == "waived"]
    assert waived["rule"] == "K1-actions-pinned"
    assert waived["reason"] == "Pinned by the organisation's action proxy"
    assert waived["failures"]  # the findings stay visible

    sarif = json.loads(runner.invoke(app, ["audit", str(root), "--sarif"]).stdout)
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema)(schema).validate(sarif)
    suppressed = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "K1-actions-pinned"]
    assert suppressed
    assert all(r["suppressions"][0]["kind"] == "external" for r in suppressed)

    gitlab = json.loads(runner.invoke(app, ["audit", str(root), "--gitlab"]).stdout)
    assert gitlab["vulnerabilities"] == []
    table = runner.invoke(app, ["audit", str(root)]).stdout
    assert "waived" in table
    assert "1 waived" in table


def test_a_waiver_does_not_hide_other_failures(runner: CliRunner, tmp_path: Path) -> None:
    root = materialise("committed-env", tmp_path / "e")
    _waive(root, "waivers:\n  K5-env-ignored: The .env here holds no secrets\n")
    result = runner.invoke(app, ["audit", str(root), "--json"])
    assert result.exit_code == EXIT_AUDIT_FAILED
    statuses = {r["rule"]: r["status"] for r in json.loads(result.stdout)["results"]}
    assert statuses["K5-env-ignored"] == "waived"
    assert statuses["K5-env-not-committed"] == "fail"


def test_a_broken_waiver_file_is_an_error_without_a_node_project_too(
    runner: CliRunner, tmp_path: Path
) -> None:
    _waive(tmp_path, "waivers: {unclosed\n")
    result = runner.invoke(app, ["audit", str(tmp_path)])
    assert result.exit_code == EXIT_USAGE
    assert result.stderr.startswith(f"error: {WAIVER_FILE}: not readable YAML")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("waivers:\n  K9-nothing: typo\n", "waivers.K9-nothing: no such rule"),
        ("waivers:\n  K1-actions-pinned: ''\n", "waivers.K1-actions-pinned: give the reason"),
        ("skip: [K1-actions-pinned]\n", "expected one key, `waivers`"),
        ("waivers: [K1-actions-pinned]\n", "waivers: expected a mapping"),
        ("waivers: {unclosed\n", "not readable YAML"),
    ],
)
def test_a_bad_waiver_file_is_one_line_exit_2(
    runner: CliRunner, tmp_path: Path, text: str, message: str
) -> None:
    root = materialise("good", tmp_path / "g")
    _waive(root, text)
    result = runner.invoke(app, ["audit", str(root)])
    assert result.exit_code == EXIT_USAGE
    assert result.stderr.startswith(f"error: {WAIVER_FILE}: ")
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_generated_waiver_file_names_real_rules(
    template_repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    given = {"project_name": "orders-api", "ci_provider": "none", "update_bot": "renovate"}
    root = render_project(given, template_repo, tmp_path_factory)
    waivers = yaml.safe_load((root / WAIVER_FILE).read_text(encoding="utf-8"))["waivers"]
    assert set(waivers) <= ALL_RULES


def test_the_readme_lists_every_rule() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert [rule for rule in sorted(ALL_RULES) if f"`{rule}`" not in readme] == []


# -- the fleet's audit column --------------------------------------------------------------------


def test_fleet_status_shows_each_repositorys_audit(
    runner: CliRunner,
    tmp_path: Path,
    template_repo: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    generated = render_project({"project_name": "orders-api"}, template_repo, tmp_path_factory)
    weak = materialise("cors-open", tmp_path / "hand-written")
    python = tmp_path / "tool"
    python.mkdir()
    (python / "pyproject.toml").write_text('[project]\nname = "tool"\n', encoding="utf-8")
    repos = [str(generated), str(weak), str(python)]
    args = ["fleet", "status", *repos, "--template", str(template_repo), "-j", "2"]

    rows = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    by_path = {row["path"]: row for row in rows}
    applicable = by_path[str(generated)]["audit_applicable"]
    assert by_path[str(generated)]["audit_passed"] == applicable > 0
    assert by_path[str(generated)]["audit_failed"] == []
    assert by_path[str(weak)]["state"] == "not a project"  # hand-written: audited all the same
    assert by_path[str(weak)]["audit_failed"] == ["C1-cors-allowlist"]
    assert (
        by_path[str(weak)]["audit"] == f"{len(ALL_RULES) - 1}/{len(ALL_RULES)}: C1-cors-allowlist"
    )
    assert by_path[str(python)]["audit"] == "n/a"

    report = runner.invoke(app, [*args, "--markdown"]).stdout
    assert "| repository | state | version | target | detail | audit |" in report
    assert f"| {len(ALL_RULES) - 1}/{len(ALL_RULES)}: C1-cors-allowlist |" in report

    skipped = json.loads(runner.invoke(app, [*args, "--json", "--no-audit"]).stdout)
    assert {row["audit"] for row in skipped} == {""}


def test_a_package_in_a_monorepo_is_judged_by_what_its_repository_commits(
    tmp_path: Path,
) -> None:
    mono = tmp_path / "mono"
    package = materialise("good", mono / "services" / "api")
    shutil.rmtree(package / ".git")  # one repository, at the top
    (package / ".env").write_text("JWT_SECRET=x\n", encoding="utf-8")
    git("init", "--quiet", cwd=mono)
    git("add", "--all", "--force", cwd=mono)
    git("commit", "--quiet", "--no-verify", "-m", "monorepo", cwd=mono)
    assert failed(package) == {
        "K5-env-not-committed": [".env:None .env is committed: its secrets are in the history"]
    }
    git("rm", "--cached", "--quiet", "services/api/package-lock.json", cwd=mono)
    assert set(failed(package)) == {"K5-env-not-committed", "K4-lockfile-committed"}
