"""CI and supply-chain checks (baseline K1-K3): GitHub Actions workflows, GitLab CI, and the
dependency update bot. A Node project without any CI fails them: the baseline requires CI."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath
from typing import Any

from hardstart.audit.dockerfiles import dockerfiles
from hardstart.audit.documents import LineText, YamlMap, items, json_document, yaml_document
from hardstart.audit.model import Failure, NotApplicable, Outcome, Rule, Severity, check
from hardstart.audit.pipelines import (
    DEFAULT_WORKFLOW,
    Action,
    Command,
    Pipelines,
    guarded,
    pipelines,
    shell_commands,
)
from hardstart.audit.repo import Repo

_NO_CI = "no CI pipeline (.github/workflows/*.yml or .gitlab-ci.yml)"


def _missing_ci() -> list[Failure]:
    return [Failure(DEFAULT_WORKFLOW, None, _NO_CI)]


def _github(repo: Repo) -> tuple[Pipelines, Outcome | None]:
    """The pipelines, or the outcome of a GitHub-only rule when there are no workflows: a workflow
    rule has nothing to harden then (a missing pipeline is the K2 rules' failure, reported once
    per gate rather than once more per workflow rule)."""
    found = pipelines(repo)
    if found.workflows:
        return found, None
    if found.gitlab:
        return found, NotApplicable("no GitHub Actions workflows (GitLab CI only)")
    return found, NotApplicable("no GitHub Actions workflows")


def _k1(name: str, title: str, fix: str, severity: Severity) -> Rule:
    return Rule(
        id=f"K1-{name}",
        item="K1",
        title=title,
        fix=fix,
        severity=severity,
        anchor=DEFAULT_WORKFLOW,
    )


@check(
    _k1(
        "workflow-permissions",
        "Every workflow sets a read-only top-level token (at most contents: read)",
        "Add top-level `permissions: {contents: read}`; grant writes in the jobs that need them.",
        Severity.MEDIUM,
    )
)
def workflow_permissions(repo: Repo) -> Outcome:
    found, outcome = _github(repo)
    if outcome is not None:
        return outcome
    failures: list[Failure] = []
    for path in found.workflows:
        workflow = yaml_document(repo, path)
        if not isinstance(workflow, YamlMap):
            failures.append(Failure(path, None, "not a readable workflow (invalid YAML)"))
            continue
        if "permissions" not in workflow:
            failures.append(
                Failure(path, None, "no top-level permissions: the token's defaults apply")
            )
            continue
        line = workflow.line_of("permissions")
        permissions = workflow["permissions"]
        if isinstance(permissions, str):
            failures.append(Failure(path, line, f"top-level permissions: {permissions}"))
        elif isinstance(permissions, dict):
            wider = [
                f"{scope}: {level}"
                for scope, level in permissions.items()
                if level != "none" and not (scope == "contents" and level == "read")
            ]
            if wider:
                failures.append(
                    Failure(path, line, f"top-level permissions grant {', '.join(wider)}")
                )
    return failures


_SHA_PINNED = re.compile(r"^[^@\s]+@[0-9a-f]{40}$")


@check(
    _k1(
        "actions-pinned",
        "Every action is pinned to a full commit SHA",
        "Pin each `uses:` to a 40-character commit SHA with the version in a comment "
        "(`uses: owner/action@<sha> # v1.2.3`).",
        Severity.HIGH,
    )
)
def actions_pinned(repo: Repo) -> Outcome:
    found, outcome = _github(repo)
    if outcome is not None:
        return outcome
    failures: list[Failure] = []
    for action in found.actions:
        uses = action.uses
        if uses.startswith("./"):
            continue
        if uses.startswith("docker://"):
            if not re.search(r"@sha256:[0-9a-f]{64}$", uses):
                failures.append(
                    Failure(action.path, action.line, f"{uses} is not pinned by digest")
                )
        elif not _SHA_PINNED.match(uses):
            failures.append(
                Failure(action.path, action.line, f"{uses} is not pinned to a commit SHA")
            )
    return failures


def _is_checkout(action: Action) -> bool:
    return action.uses.split("@")[0].lower() == "actions/checkout"


@check(
    _k1(
        "checkout-no-credentials",
        "actions/checkout does not leave the token in .git/config",
        "Add `with: {persist-credentials: false}` to every actions/checkout step.",
        Severity.MEDIUM,
    )
)
def checkout_no_credentials(repo: Repo) -> Outcome:
    found, outcome = _github(repo)
    if outcome is not None:
        return outcome
    return [
        Failure(action.path, action.line, "actions/checkout without persist-credentials: false")
        for action in found.actions
        if _is_checkout(action) and action.inputs.get("persist-credentials") not in (False, "false")
    ]


def _triggers(workflow: YamlMap) -> set[str]:
    on = workflow.get("on", workflow.get(True))
    if isinstance(on, str):
        return {on}
    if isinstance(on, (list, dict)):
        return {str(t) for t in on}
    return set()


_PR_HEAD = re.compile(
    r"github\.event\.pull_request\.head\.(sha|ref)|github\.head_ref|refs/pull/", re.IGNORECASE
)


@check(
    _k1(
        "no-pull-request-target-checkout",
        "No pull_request_target workflow checks out the pull request's code",
        "Use `pull_request` for anything that runs the contributor's code; keep "
        "pull_request_target for labelling without checkout.",
        Severity.HIGH,
    )
)
def no_pull_request_target_checkout(repo: Repo) -> Outcome:
    found, outcome = _github(repo)
    if outcome is not None:
        return outcome
    failures: list[Failure] = []
    for path in found.workflows:
        workflow = yaml_document(repo, path)
        if not isinstance(workflow, YamlMap) or "pull_request_target" not in _triggers(workflow):
            continue
        for action in found.actions:
            if action.path == path and _is_checkout(action):
                ref = str(action.inputs.get("ref", ""))
                repository = str(action.inputs.get("repository", ""))
                if _PR_HEAD.search(ref) or "pull_request.head.repo" in repository:
                    failures.append(
                        Failure(
                            path,
                            action.line,
                            "pull_request_target checks out the pull request's head",
                        )
                    )
        for command in found.commands:
            if command.path == path and re.search(
                r"\b(gh pr checkout|git fetch\b.*pull/)", command.text
            ):
                failures.append(
                    Failure(
                        path, command.line, "pull_request_target fetches the pull request's code"
                    )
                )
    return failures


_UNTRUSTED = re.compile(
    r"\$\{\{[^}]*\b(github\.event\.[\w.*\[\]'\"-]+|github\.head_ref)[^}]*\}\}", re.IGNORECASE
)


@check(
    _k1(
        "no-untrusted-expressions-in-run",
        "No event data is expanded into run: scripts or github-script code",
        "Pass event data through `env:` (e.g. `TITLE: ${{ github.event.pull_request.title }}`) "
        'and use "$TITLE" in the script.',
        Severity.HIGH,
    )
)
def no_untrusted_expressions(repo: Repo) -> Outcome:
    found, outcome = _github(repo)
    if outcome is not None:
        return outcome
    # Shell scripts, and the JavaScript of actions/github-script, which is code the same way.
    scripts: list[tuple[str, int, str, str]] = [
        (c.path, c.line, c.text, "a shell script")
        for c in found.commands
        if c.path.startswith(".github/")
    ]
    scripts.extend(
        (a.path, a.line, a.inputs["script"], "a github-script")
        for a in found.actions
        if _action_name(a) == "actions/github-script" and isinstance(a.inputs.get("script"), str)
    )
    failures: list[Failure] = []
    for path, line, text, kind in scripts:
        for match in _UNTRUSTED.finditer(text):
            where = text.line_at(match.start()) if isinstance(text, LineText) else line
            failures.append(Failure(path, where, f"`{match.group(1)}` is expanded into {kind}"))
    return failures


# --- K2 gates ---


def _k2(name: str, title: str, fix: str, severity: Severity = Severity.MEDIUM) -> Rule:
    return Rule(
        id=f"K2-{name}",
        item="K2",
        title=title,
        fix=fix,
        severity=severity,
        anchor=DEFAULT_WORKFLOW,
    )


# A gate found in CI: its file, its line, and "" when it is wired to fail (else why it is not).
Gate = tuple[str, int, str]


def _line(command: Command, offset: int) -> int:
    text = command.text
    return text.line_at(offset) if isinstance(text, LineText) else command.line


def _words_with_offsets(command: Command) -> Iterator[tuple[tuple[str, ...], int, str]]:
    """Each simple command of a script, with the offset of its line and the operator after it."""
    lines = command.text.split("\n")
    for shell in shell_commands(command.text):
        offset = sum(len(line) + 1 for line in lines[: shell.line])
        yield shell.words, offset, shell.then


def _gate(
    repo: Repo,
    found_in: Callable[[Pipelines], list[Gate]],
    missing: str,
) -> Outcome:
    found = pipelines(repo)
    if not found.any:
        return _missing_ci()
    candidates = found_in(found)
    if any(problem == "" for _, _, problem in candidates):
        return []
    if candidates:
        return [Failure(path, line, problem) for path, line, problem in candidates]
    return [Failure(found.main_file, None, missing)]


def _command_gates(found: Pipelines, match: Callable[[tuple[str, ...]], str | None]) -> list[Gate]:
    """Commands `match` recognises (it returns "" when wired, a reason when not, None otherwise)."""
    results: list[Gate] = []
    for command in found.commands:
        for words, offset, then in _words_with_offsets(command):
            problem = match(words)
            if problem is None:
                continue
            if not problem and (then == "||" or guarded(command.text, offset)):
                problem = f"`{' '.join(words[:3])}` has its failure swallowed by `||`"
            if not problem and command.soft:
                problem = f"job {command.job} may fail without failing the pipeline"
            results.append((command.path, _line(command, offset), problem))
    return results


def _action_gates(found: Pipelines, match: Callable[[Action], str | None]) -> list[Gate]:
    results: list[Gate] = []
    for action in found.actions:
        problem = match(action)
        if problem is None:
            continue
        if not problem and action.soft:
            problem = f"job {action.job} may fail without failing the pipeline"
        results.append((action.path, action.line, problem))
    return results


def _include_gates(found: Pipelines, pattern: str) -> list[Gate]:
    return [
        (include.path, include.line, "")
        for include in found.includes
        if re.search(pattern, include.template, re.IGNORECASE)
    ]


def _action_name(action: Action) -> str:
    return action.uses.split("@")[0].lower()


def _npm_audit(words: tuple[str, ...]) -> str | None:
    tool = PurePosixPath(words[0]).name if words else ""
    if tool not in {"npm", "pnpm"} or "audit" not in words[1:3]:
        return None
    if "signatures" in words:
        return None
    level = re.search(r"--audit-level[= ](\w+)", " ".join(words))
    if level is None and "--audit-level" not in words:
        return "npm audit without --audit-level=high"
    value = level.group(1) if level else ""
    return (
        ""
        if value in {"high", "critical", "moderate", "low", "info"}
        else (f"npm audit --audit-level={value}")
    )


@check(
    _k2(
        "dependency-audit-gate",
        "CI fails on known high or critical vulnerabilities in dependencies",
        "Add a CI step `npm audit --omit=dev --audit-level=high` whose failure nothing swallows.",
    )
)
def dependency_audit_gate(repo: Repo) -> Outcome:
    return _gate(
        repo,
        lambda found: (
            _command_gates(found, _npm_audit)
            + _action_gates(
                found,
                lambda a: "" if _action_name(a) == "actions/dependency-review-action" else None,
            )
            + _include_gates(found, r"Dependency-Scanning")
        ),
        "no dependency audit (`npm audit --audit-level=high`) in CI",
    )


def _sbom_command(words: tuple[str, ...]) -> str | None:
    text = " ".join(words).lower()
    if "cyclonedx" in text or "cdxgen" in text:
        return ""
    return None


@check(
    _k2(
        "sbom",
        "CI produces a CycloneDX SBOM",
        "Add a CI step `npx --yes @cyclonedx/cyclonedx-npm@<version> --omit dev --output-file "
        "sbom.cdx.json` and keep the file as an artifact.",
    )
)
def sbom(repo: Repo) -> Outcome:
    return _gate(
        repo,
        lambda found: (
            _command_gates(found, _sbom_command)
            + _action_gates(
                found,
                lambda a: (
                    ""
                    if "cyclonedx" in _action_name(a)
                    or "cyclonedx" in json.dumps(a.inputs, default=str).lower()
                    else None
                ),
            )
        ),
        "no CycloneDX SBOM generated in CI",
    )


def _secret_command(words: tuple[str, ...]) -> str | None:
    text = " ".join(words)
    if not words:
        return None
    for index, word in enumerate(words):
        name = PurePosixPath(word.split(":")[0].split("@")[0]).name
        if name == "gitleaks" or "/gitleaks" in word:
            if re.search(r"--exit-code[= ]0\b", text):
                return "gitleaks with --exit-code 0 never fails"
            return (
                ""
                if any(w in {"detect", "git", "dir", "protect"} for w in words[index:])
                else (None)
            )
        if name == "trufflehog" or "/trufflehog" in word:
            return "" if "--fail" in words else "trufflehog without --fail never fails"
    return None


@check(
    _k2(
        "secret-scan",
        "CI scans the repository for committed secrets and fails on a finding",
        "Add a CI job running gitleaks (`gitleaks git --exit-code 1`) over the full history.",
    )
)
def secret_scan(repo: Repo) -> Outcome:
    return _gate(
        repo,
        lambda found: (
            _command_gates(found, _secret_command)
            + _action_gates(
                found,
                lambda a: (
                    ""
                    if _action_name(a).startswith(("gitleaks/", "trufflesecurity/trufflehog"))
                    else None
                ),
            )
            + _include_gates(found, r"Secret-Detection")
        ),
        "no secret scanning (gitleaks, trufflehog) in CI",
    )


_SEVERITIES = ("UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL")


def _image_scan_command(words: tuple[str, ...]) -> str | None:
    if not words:
        return None
    tool = PurePosixPath(words[0]).name
    text = " ".join(words)
    if tool == "trivy" and any(w in {"image", "i"} for w in words[1:3]):
        exit_code = re.search(r"--exit-code[= ](\d+)", text)
        if not exit_code or exit_code.group(1) == "0":
            return "trivy image without a non-zero --exit-code"
        severity = re.search(r"--severity[= ](\S+)", text)
        if severity and "HIGH" not in severity.group(1).upper():
            return f"trivy image --severity {severity.group(1)} lets HIGH pass"
        return ""
    if tool == "grype":
        fail_on = re.search(r"(?:--fail-on|-f)[= ](\w+)", text)
        if not fail_on:
            return "grype without --fail-on high"
        return (
            ""
            if fail_on.group(1).lower() in {"negligible", "low", "medium", "high"}
            else (f"grype --fail-on {fail_on.group(1)} lets HIGH pass")
        )
    return None


def _image_scan_action(action: Action) -> str | None:
    name = _action_name(action)
    inputs = action.inputs
    if name == "aquasecurity/trivy-action":
        if str(inputs.get("exit-code", "0")) == "0":
            return "trivy-action without a non-zero exit-code"
        severity = str(inputs.get("severity", "HIGH"))
        return (
            "" if "HIGH" in severity.upper() else f"trivy-action severity {severity} lets HIGH pass"
        )
    if name == "anchore/scan-action":
        if inputs.get("fail-build") in (False, "false"):
            return "anchore/scan-action with fail-build: false"
        cutoff = str(inputs.get("severity-cutoff", "medium")).lower()
        return (
            ""
            if cutoff in {"negligible", "low", "medium", "high"}
            else (f"anchore/scan-action severity-cutoff {cutoff} lets HIGH pass")
        )
    return None


@check(
    _k2(
        "image-scan-gate",
        "CI scans the built image and fails on HIGH or CRITICAL vulnerabilities",
        "Build the image in CI and scan it with trivy (`--exit-code 1 --severity HIGH,CRITICAL`) "
        "or grype (`--fail-on high`).",
    )
)
def image_scan_gate(repo: Repo) -> Outcome:
    if not dockerfiles(repo):
        return NotApplicable("no Dockerfile")
    return _gate(
        repo,
        lambda found: (
            _command_gates(found, _image_scan_command) + _action_gates(found, _image_scan_action)
        ),
        "no image scan failing on HIGH/CRITICAL in CI",
    )


def _sast_command(words: tuple[str, ...]) -> str | None:
    tool = PurePosixPath(words[0]).name if words else ""
    return "" if tool in {"semgrep", "njsscan", "codeql"} else None


@check(
    _k2(
        "sast",
        "CI runs static application security testing (CodeQL, Semgrep or GitLab SAST)",
        "Add a CodeQL job (github/codeql-action init + analyze) or include GitLab's "
        "`Jobs/SAST.gitlab-ci.yml` template.",
    )
)
def sast(repo: Repo) -> Outcome:
    return _gate(
        repo,
        lambda found: (
            _command_gates(found, _sast_command)
            + _action_gates(
                found,
                lambda a: (
                    ""
                    if _action_name(a) in {"github/codeql-action/analyze", "semgrep/semgrep-action"}
                    else None
                ),
            )
            + _include_gates(found, r"(^|/)SAST(\.latest)?\.gitlab-ci\.yml$")
        ),
        "no SAST (CodeQL, Semgrep, GitLab SAST) in CI",
    )


def _test_command(words: tuple[str, ...]) -> str | None:
    tool = PurePosixPath(words[0]).name if words else ""
    rest = [w for w in words[1:] if not w.startswith("-")]
    if tool in {"npm", "pnpm", "yarn", "bun"} and (
        rest[:1] in (["test"], ["t"], ["tst"]) or rest[:2] == ["run", "test"]
    ):
        return ""
    if tool == "node" and "--test" in words:
        return ""
    if tool == "npx" and rest[:1] and rest[0] in {"vitest", "jest", "mocha", "ava", "tap"}:
        return ""
    return None


@check(
    _k2(
        "tests-run",
        "CI runs the test suite",
        "Add a CI job that runs `npm test` on every change.",
    )
)
def tests_run(repo: Repo) -> Outcome:
    return _gate(
        repo,
        lambda found: _command_gates(found, _test_command),
        "no CI step runs the tests (`npm test`)",
    )


# --- K3 update bot ---

_RENOVATE_FILES = (
    "renovate.json",
    "renovate.json5",
    ".renovaterc",
    ".renovaterc.json",
    ".renovaterc.json5",
    ".github/renovate.json",
    ".github/renovate.json5",
    ".gitlab/renovate.json",
    ".gitlab/renovate.json5",
)
_DEPENDABOT_FILES = (".github/dependabot.yml", ".github/dependabot.yaml")


def _renovate_config(repo: Repo) -> tuple[str, Any] | None:
    for path in _RENOVATE_FILES:
        text = repo.text(path)
        if text is None:
            continue
        config = json_document(repo, path)
        if config is None:  # JSON5: read what matters, the managers it restricts itself to
            managers = re.search(r"enabledManagers\s*['\"]?\s*:\s*\[([^\]]*)\]", text)
            config = (
                {"enabledManagers": re.findall(r"['\"]([\w-]+)['\"]", managers.group(1))}
                if managers
                else {}
            )
        return path, config
    package = json_document(repo, "package.json")
    if isinstance(package, dict) and isinstance(package.get("renovate"), dict):
        return "package.json", package["renovate"]
    return None


@check(
    Rule(
        id="K3-update-bot",
        item="K3",
        title="Dependabot or Renovate updates npm packages, the CI's actions and the base image",
        fix="Add .github/dependabot.yml (or a Renovate config) with the npm, github-actions and "
        "docker ecosystems.",
        severity=Severity.MEDIUM,
        anchor=".github/dependabot.yml",
    )
)
def update_bot(repo: Repo) -> Outcome:
    needed = {"npm": "npm packages"}
    if pipelines(repo).workflows:
        needed["github-actions"] = "GitHub Actions"
    if dockerfiles(repo):
        needed["docker"] = "the Dockerfile's base image"
    covered: set[str] = set()
    path = ""
    for candidate in _DEPENDABOT_FILES:
        config = yaml_document(repo, candidate)
        if isinstance(config, dict):
            path = candidate
            for update in items(config.get("updates")):
                if isinstance(update, dict):
                    covered.add(str(update.get("package-ecosystem")))
    renovate = _renovate_config(repo)
    if renovate is not None:
        path = path or renovate[0]
        config = renovate[1] if isinstance(renovate[1], dict) else {}
        managers = config.get("enabledManagers")
        renovate_names = {"npm": "npm", "github-actions": "github-actions", "docker": "dockerfile"}
        for ecosystem, manager in renovate_names.items():
            disabled = (
                isinstance(config.get(manager), dict) and config[manager].get("enabled") is False
            )
            if (not isinstance(managers, list) or manager in managers) and not disabled:
                covered.add(ecosystem)
    if not path:
        return [Failure(".github/dependabot.yml", None, "no Dependabot or Renovate configuration")]
    missing = [what for ecosystem, what in needed.items() if ecosystem not in covered]
    if missing:
        return [Failure(path, None, f"does not update {', '.join(missing)}")]
    return []
