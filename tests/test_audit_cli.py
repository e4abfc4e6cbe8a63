"""`hardstart audit` through the command line: formats, --output, --fail-on and exit codes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from conftest import AUDIT_FIXTURES, materialise
from hardstart.cli import app
from hardstart.errors import EXIT_AUDIT_FAILED, EXIT_USAGE

SARIF_SCHEMA = Path(__file__).parent / "schemas" / "sarif-2.1.0.json"
GITLAB_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")


def run(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(app, ["audit", *args])


def sarif_of(runner: CliRunner, root: Path) -> dict[str, Any]:
    result = run(runner, str(root), "--sarif", "--fail-on", "never")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_table_lists_every_rule_and_a_summary(runner: CliRunner, tmp_path: Path) -> None:
    result = run(runner, str(materialise("cors-open", tmp_path / "cors-open")))
    assert result.exit_code == EXIT_AUDIT_FAILED
    assert "C1-cors-allowlist" in result.stdout
    assert "src/http/cors.mjs:3" in result.stdout
    assert re.search(r"^\d+ passed, \d+ failed, \d+ not applicable$", result.stdout, re.MULTILINE)


def test_json_has_stable_keys(runner: CliRunner, tmp_path: Path) -> None:
    result = run(
        runner, str(materialise("trust-proxy-true", tmp_path / "trust-proxy-true")), "--json"
    )
    assert result.exit_code == EXIT_AUDIT_FAILED
    data = json.loads(result.stdout)
    assert set(data) == {"root", "summary", "results"}
    assert set(data["summary"]) == {"passed", "failed", "waived", "not_applicable"}
    keys = {"rule", "item", "title", "severity", "status", "reason", "fix", "failures"}
    assert all(set(r) == keys for r in data["results"])
    failed = next(r for r in data["results"] if r["rule"] == "H2-trust-proxy-not-true")
    assert failed["status"] == "fail"
    assert failed["failures"] == [
        {
            "path": "src/app.js",
            "line": 14,
            "message": "'trust proxy' set to true trusts every hop",
        }
    ]


def test_sarif_is_valid_and_complete(runner: CliRunner, tmp_path: Path) -> None:
    data = sarif_of(runner, materialise("sql-template", tmp_path / "sql-template"))
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema)(schema).validate(data)
    (sarif_run,) = data["runs"]
    rules = sarif_run["tool"]["driver"]["rules"]
    for rule in rules:
        assert rule["shortDescription"]["text"]
        assert rule["fullDescription"]["text"]
        assert rule["help"]["text"]
        assert "security" in rule["properties"]["tags"]
        assert float(rule["properties"]["security-severity"]) > 0
    results = sarif_run["results"]
    assert {r["ruleId"] for r in results} == {"F1-parameterized-sql"}
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == "src/notes/repository.ts"
        assert location["region"]["startLine"] >= 1
        assert result["partialFingerprints"]


def fingerprints(data: dict[str, Any]) -> list[str]:
    return sorted(
        value for r in data["runs"][0]["results"] for value in r["partialFingerprints"].values()
    )


def test_sarif_fingerprints_survive_reruns_and_line_moves(
    runner: CliRunner, tmp_path: Path
) -> None:
    root = materialise("sql-template", tmp_path / "sql-template")
    first = sarif_of(runner, root)
    assert fingerprints(first) == fingerprints(sarif_of(runner, root))
    assert len(set(fingerprints(first))) == len(fingerprints(first)) == 2
    repository = root / "src" / "notes" / "repository.ts"
    repository.write_text("// moved\n\n" + repository.read_text(encoding="utf-8"), encoding="utf-8")
    moved = sarif_of(runner, root)
    assert fingerprints(moved) == fingerprints(first)
    lines = [
        r["locations"][0]["physicalLocation"]["region"]["startLine"]
        for data in (first, moved)
        for r in data["runs"][0]["results"]
    ]
    assert lines[2:] == [n + 2 for n in lines[:2]]


def test_a_missing_control_points_at_where_express_is_made(
    runner: CliRunner, tmp_path: Path
) -> None:
    root = materialise("no-rate-limit", tmp_path / "no-rate-limit")
    data = sarif_of(runner, root)
    (result,) = [r for r in data["runs"][0]["results"] if r["ruleId"] == "D4-rate-limiter"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "src/app.js"  # where express() is called
    assert location["region"]["startLine"] == 12


def test_a_missing_file_points_at_its_anchor_with_line_one(
    runner: CliRunner, tmp_path: Path
) -> None:
    root = materialise("undocumented", tmp_path / "undocumented")  # no SECURITY.md
    data = sarif_of(runner, root)
    (result,) = [r for r in data["runs"][0]["results"] if r["ruleId"] == "K6-security-policy"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "SECURITY.md"
    assert location["region"]["startLine"] == 1
    gitlab = json.loads(run(runner, str(root), "--gitlab", "--fail-on", "never").stdout)
    (finding,) = [v for v in gitlab["vulnerabilities"] if v["name"].startswith("SECURITY.md")]
    assert finding["location"] == {"file": "SECURITY.md", "start_line": 1}


def test_sarif_uris_are_encoded(runner: CliRunner, tmp_path: Path) -> None:
    root = materialise("sql-template", tmp_path / "sql")
    odd = root / "src" / "my notes#1"
    odd.mkdir()
    (root / "src" / "notes" / "repository.ts").rename(odd / "repository.ts")
    data = sarif_of(runner, root)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in data["runs"][0]["results"]
        if r["ruleId"] == "F1-parameterized-sql"
    }
    assert uris == {"src/my%20notes%231/repository.ts"}


def test_gitlab_report_shape(runner: CliRunner, tmp_path: Path) -> None:
    result = run(
        runner, str(materialise("jwt-no-algorithms", tmp_path / "jwt-no-algorithms")), "--gitlab"
    )
    assert result.exit_code == EXIT_AUDIT_FAILED
    data = json.loads(result.stdout)
    assert data["version"].startswith("15.")
    scan = data["scan"]
    assert scan["type"] == "sast"
    assert scan["status"] == "success"
    assert GITLAB_TIME.match(scan["start_time"])
    assert GITLAB_TIME.match(scan["end_time"])
    for part in ("analyzer", "scanner"):
        assert {"id", "name", "version", "vendor"} <= set(scan[part])
    (vulnerability,) = [
        v
        for v in data["vulnerabilities"]
        if v["identifiers"][0]["value"] == "D5-jwt-pinned-algorithms"
    ]
    assert vulnerability["severity"] == "High"
    assert vulnerability["location"] == {"file": "src/auth/tokens.ts", "start_line": 5}
    assert {"id", "name", "description", "identifiers"} <= set(vulnerability)


@pytest.mark.parametrize("form", ["--json", "--sarif", "--gitlab", None])
def test_output_writes_the_report_to_a_file(
    runner: CliRunner, tmp_path: Path, form: str | None
) -> None:
    target = tmp_path / "report.out"
    args = [str(AUDIT_FIXTURES / "good"), "--output", str(target)] + ([form] if form else [])
    result = run(runner, *args)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    written = target.read_text(encoding="utf-8")
    if form is None:
        assert "C1-cors-allowlist" in written
    else:
        json.loads(written)


@pytest.mark.parametrize(
    ("fixture", "level", "code"),
    [
        ("no-timeouts", None, EXIT_AUDIT_FAILED),  # default: low, any failure
        ("no-timeouts", "low", EXIT_AUDIT_FAILED),
        ("no-timeouts", "medium", 0),
        ("no-timeouts", "never", 0),
        ("no-helmet", "medium", EXIT_AUDIT_FAILED),
        ("no-helmet", "high", 0),
        ("cors-open", "high", EXIT_AUDIT_FAILED),
        ("cors-open", "HIGH", EXIT_AUDIT_FAILED),
        ("cors-open", "never", 0),
    ],
)
def test_fail_on_levels(
    runner: CliRunner, tmp_path: Path, fixture: str, level: str | None, code: int
) -> None:
    args = [str(materialise(fixture, tmp_path / fixture)), "-q"] + (
        ["--fail-on", level] if level else []
    )
    result = run(runner, *args)
    assert result.exit_code == code, result.output


def test_good_exits_zero_quietly(runner: CliRunner) -> None:
    result = run(runner, str(AUDIT_FIXTURES / "good"), "-q")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/nonexistent/dir"], "error: not a directory: /nonexistent/dir"),
        ([".", "--json", "--sarif"], "error: choose one of --json, --sarif, --gitlab"),
        ([".", "--fail-on", "severe"], "error: Invalid value for '--fail-on'"),
    ],
)
def test_usage_errors_are_one_line_exit_2(args: list[str], message: str) -> None:
    command = [sys.executable, "-m", "hardstart", "audit", *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == EXIT_USAGE
    assert result.stderr.startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stdout == ""


def test_help_documents_the_options(runner: CliRunner) -> None:
    result = runner.invoke(app, ["audit", "--help"])
    assert result.exit_code == 0
    for option in ("--json", "--sarif", "--gitlab", "--output", "--fail-on", "--quiet"):
        assert option in result.stdout, option
    assert "6 audit" in " ".join(result.stdout.split())


def test_a_check_that_raises_is_one_error_line(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hardstart.audit import checks
    from hardstart.audit.model import REGISTRY, Outcome
    from hardstart.audit.repo import Repo

    checks.load()
    rule, _ = REGISTRY["H2-trust-proxy-not-true"]

    def broken(repo: Repo) -> Outcome:
        raise ValueError("boom")

    monkeypatch.setitem(REGISTRY, rule.id, (rule, broken))
    result = run(runner, str(AUDIT_FIXTURES / "good"))
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: unexpected ValueError: boom"
