"""Repository checks (baseline K4-K7): lockfile and installs, dependency pins, .npmrc, engines,
.env handling, pre-commit secret scanning, SECURITY.md, LICENSE, the README's security section."""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import PurePosixPath
from typing import Any

import pathspec

from hardstart.audit.dockerfiles import (
    SUPPORTED_NODE_MAJORS,
    dockerfiles,
    is_npm_install,
    runs,
)
from hardstart.audit.documents import items, json_document, line_of, yaml_document
from hardstart.audit.model import Failure, NotApplicable, Outcome, Rule, Severity, check
from hardstart.audit.pipelines import pipelines, shell_commands
from hardstart.audit.repo import Repo

LOCKFILES = ("package-lock.json", "npm-shrinkwrap.json", "pnpm-lock.yaml", "yarn.lock")


def _package(repo: Repo) -> tuple[dict[str, Any], NotApplicable | None]:
    package = json_document(repo, "package.json")
    if not isinstance(package, dict):
        return {}, NotApplicable("no package.json at the repository root")
    return package, None


def _k(item: str, name: str, title: str, fix: str, severity: Severity, anchor: str) -> Rule:
    return Rule(
        id=f"{item}-{name}", item=item, title=title, fix=fix, severity=severity, anchor=anchor
    )


@check(
    _k(
        "K4",
        "lockfile-committed",
        "A lockfile is committed",
        "Run `npm install` once locally and commit package-lock.json.",
        Severity.HIGH,
        "package-lock.json",
    )
)
def lockfile_committed(repo: Repo) -> Outcome:
    _, na = _package(repo)
    if na:
        return na
    present = [name for name in LOCKFILES if repo.exists(name)]
    if not present:
        return [Failure("package-lock.json", None, "no lockfile: every install resolves anew")]
    if repo.is_git and not any(name in repo.tracked for name in present):
        return [Failure(present[0], None, f"{present[0]} is not committed")]
    return []


def _install_problem(words: tuple[str, ...]) -> str | None:
    if is_npm_install(words) and not {"-g", "--global"} & set(words):
        # Global installs set up a tool, not the project's dependencies: npm ci cannot do them.
        return "`npm install` resolves versions instead of installing the lockfile (`npm ci`)"
    tool = PurePosixPath(words[0]).name if words else ""
    rest = [w for w in words[1:] if not w.startswith("-")]
    if (
        tool == "yarn"
        and rest[:1] in ([], ["install"])
        and not ({"--frozen-lockfile", "--immutable"} & set(words))
    ):
        return "`yarn install` without --immutable/--frozen-lockfile"
    if tool == "pnpm" and rest[:1] in (["install"], ["i"]) and "--frozen-lockfile" not in words:
        return "`pnpm install` without --frozen-lockfile"
    return None


@check(
    _k(
        "K4",
        "npm-ci-only",
        "Every install (Dockerfile, CI, scripts) installs the lockfile with npm ci",
        "Replace `npm install` with `npm ci` in Dockerfiles, CI jobs and scripts.",
        Severity.MEDIUM,
        "package.json",
    )
)
def npm_ci_only(repo: Repo) -> Outcome:
    package, na = _package(repo)
    if na:
        return na
    failures: list[Failure] = []
    for dockerfile in dockerfiles(repo):
        instructions = [i for s in dockerfile.stages for i in s.instructions]
        for instruction, words in runs(instructions):
            problem = _install_problem(words)
            if problem:
                failures.append(Failure(dockerfile.path, instruction.line, problem))
    for command in pipelines(repo).commands:
        for shell in shell_commands(command.text):
            problem = _install_problem(shell.words)
            if problem:
                failures.append(Failure(command.path, command.line + shell.line, problem))
    scripts = package.get("scripts")
    text = repo.text("package.json") or ""
    for name, script in scripts.items() if isinstance(scripts, dict) else []:
        if not isinstance(script, str):
            continue
        for shell in shell_commands(script):
            problem = _install_problem(shell.words)
            if problem:
                line = line_of(text, rf'"{re.escape(name)}"\s*:')
                failures.append(Failure("package.json", line, f"script {name}: {problem}"))
    for path in repo.matching(".sh"):
        for shell in shell_commands(repo.text(path) or ""):
            problem = _install_problem(shell.words)
            if problem:
                failures.append(Failure(path, shell.line + 1, problem))
    return failures


# An exact version (with optional prerelease/build), an alias to one, a local path, a git commit.
_EXACT = re.compile(
    r"^(npm:(@?[^@\s]+)@)?v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"
    r"|^(file|link|workspace|portal):"
    r"|#[0-9a-f]{40}$"
)


@check(
    _k(
        "K4",
        "dependencies-pinned",
        "Dependencies are pinned to exact versions",
        "Write exact versions in package.json (`npm config set save-exact true`, then reinstall).",
        Severity.MEDIUM,
        "package.json",
    )
)
def dependencies_pinned(repo: Repo) -> Outcome:
    package, na = _package(repo)
    if na:
        return na
    text = repo.text("package.json") or ""
    failures: list[Failure] = []
    for section in ("dependencies", "devDependencies"):
        entries = package.get(section)
        if not isinstance(entries, dict):
            continue
        start = line_of(text, rf'"{section}"\s*:') or 1
        for name, version in entries.items():
            if isinstance(version, str) and _EXACT.search(version.strip()):
                continue
            line = line_of(text, rf'"{re.escape(name)}"\s*:', start)
            failures.append(Failure("package.json", line, f"{section}: {name} {version!s}"))
    return failures


@check(
    _k(
        "K4",
        "npmrc-policy",
        ".npmrc enforces engines and turns dependencies' install scripts off",
        "Commit an .npmrc with `engine-strict=true` and `ignore-scripts=true`.",
        Severity.MEDIUM,
        ".npmrc",
    )
)
def npmrc_policy(repo: Repo) -> Outcome:
    _, na = _package(repo)
    if na:
        return na
    text = repo.text(".npmrc")
    if text is None:
        return [Failure(".npmrc", None, "no .npmrc: install scripts run and engines are advisory")]
    settings: dict[str, tuple[str, int]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")) or "=" not in line:
            continue
        key, _, value = line.partition("=")
        settings[key.strip().lower()] = (value.strip().strip("\"'").lower(), number)
    failures: list[Failure] = []
    for key in ("engine-strict", "ignore-scripts"):
        value, number = settings.get(key, ("", 0))
        if value != "true":
            failures.append(
                Failure(
                    ".npmrc", number or None, f"{key}={value}" if number else f"{key} is not set"
                )
            )
    return failures


# --- engines.node ---

_PARTIAL = re.compile(
    r"^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:[-+][0-9A-Za-z.+-]*)?$"
)

Version = tuple[int, int, int]
Comparator = tuple[str, Version]


def _partial(text: str) -> tuple[int | None, int | None, int | None] | None:
    match = _PARTIAL.match(text)
    if not match:
        return None
    parts = [None if g is None or g in "xX*" else int(g) for g in match.groups()]
    # A wildcard makes every later part a wildcard too.
    for index, part in enumerate(parts):
        if part is None:
            parts[index + 1 :] = [None] * (2 - index)
            break
    return parts[0], parts[1], parts[2]


def _bounds(
    major: int | None, minor: int | None, patch: int | None
) -> tuple[Version, Version | None]:
    """The [low, high) interval of a partial version (high None: unbounded)."""
    if major is None:
        return (0, 0, 0), None
    if minor is None:
        return (major, 0, 0), (major + 1, 0, 0)
    if patch is None:
        return (major, minor, 0), (major, minor + 1, 0)
    return (major, minor, patch), (major, minor, patch + 1)


def _comparators(part: str) -> list[Comparator] | None:
    """One `||` alternative of an npm range as comparators (None when it cannot be read)."""
    part = part.strip()
    hyphen = re.match(r"^(\S+)\s+-\s+(\S+)$", part)
    if hyphen:
        low, high = _partial(hyphen.group(1)), _partial(hyphen.group(2))
        if low is None or high is None:
            return None
        result: list[Comparator] = [(">=", _bounds(*low)[0])]
        upper = _bounds(*high)[1]
        return result + ([("<", upper)] if upper else [])
    comparators: list[Comparator] = []
    for token in re.findall(r"(?:[<>]=?|=|\^|~>?)?\s*[^\s<>=^~]+", part):
        op_match = re.match(r"^([<>]=?|=|\^|~>?)?\s*(.+)$", token)
        if op_match is None:
            return None
        op, rest = op_match.group(1) or "", op_match.group(2)
        version = _partial(rest)
        if version is None:
            return None
        major, minor, patch = version
        low, high = _bounds(major, minor, patch)
        if op in ("", "="):
            comparators.append((">=", low))
            if high:
                comparators.append(("<", high))
        elif op == "^":
            comparators.append((">=", low))
            if major is not None:
                if major > 0 or minor is None:
                    comparators.append(("<", (major + 1, 0, 0)))
                else:
                    comparators.append(("<", (0, minor + 1, 0)))
        elif op in ("~", "~>"):
            comparators.append((">=", low))
            if major is not None:
                comparators.append(
                    ("<", (major, (minor or 0) + 1, 0) if minor is not None else (major + 1, 0, 0))
                )
        elif op == ">=":
            comparators.append((">=", low))
        elif op == ">":
            comparators.append((">=", high) if high else ("<", (0, 0, 0)))
        elif op == "<":
            comparators.append(("<", low))
        elif op == "<=":
            comparators.append(("<", high) if high else (">=", (0, 0, 0)))
    return comparators


def range_majors(spec: str, ceiling: int = 40) -> set[int] | None:
    """The Node majors (up to `ceiling`) an npm semver range admits, or None when unreadable."""
    majors: set[int] = set()
    for alternative in spec.split("||"):
        comparators = _comparators(alternative)
        if comparators is None:
            return None
        low: Version = (0, 0, 0)
        high: Version = (ceiling + 1, 0, 0)
        for op, version in comparators:
            if op == ">=":
                low = max(low, version)
            else:
                high = min(high, version)
        for major in range(ceiling + 1):
            if max(low, (major, 0, 0)) < min(high, (major + 1, 0, 0)):
                majors.add(major)
    return majors


@check(
    _k(
        "K4",
        "engines-node-lts",
        "engines.node starts at a supported LTS major",
        'Set `"engines": {"node": ">=24"}` (or `^22.12.0 || >=24`): no end-of-life major.',
        Severity.LOW,
        "package.json",
    )
)
def engines_node_lts(repo: Repo) -> Outcome:
    package, na = _package(repo)
    if na:
        return na
    text = repo.text("package.json") or ""
    engines = package.get("engines")
    spec = engines.get("node") if isinstance(engines, dict) else None
    if not isinstance(spec, str) or not spec.strip():
        return [Failure("package.json", line_of(text, r'"engines"\s*:'), "engines.node is not set")]
    line = line_of(text, r'"node"\s*:', line_of(text, r'"engines"\s*:') or 1)
    majors = range_majors(spec)
    if majors is None:
        return [Failure("package.json", line, f"engines.node {spec!r} is not a readable range")]
    if not majors:
        return [Failure("package.json", line, f"engines.node {spec!r} admits no version")]
    # The range's floor decides: the oldest Node it lets the project run on must still be in LTS
    # support. Majors after it (odd releases, majors to come) are not judged.
    oldest = min(majors)
    if oldest not in SUPPORTED_NODE_MAJORS:
        return [
            Failure(
                "package.json",
                line,
                f"engines.node {spec!r} admits Node {oldest}, which is not a supported LTS",
            )
        ]
    return []


# --- K5: .env and pre-commit ---

_ENV_TEMPLATES = frozenset(
    {".env.example", ".env.sample", ".env.template", ".env.dist", ".env.defaults"}
)


def _is_env_file(path: str) -> bool:
    name = PurePosixPath(path).name
    return (name == ".env" or name.startswith(".env.")) and name not in _ENV_TEMPLATES


@check(
    _k(
        "K5",
        "env-ignored",
        ".env files are ignored by git",
        "Add `.env` and `.env.*` (with `!.env.example`) to .gitignore.",
        Severity.HIGH,
        ".gitignore",
    )
)
def env_ignored(repo: Repo) -> Outcome:
    _, na = _package(repo)
    if na:
        return na
    text = repo.text(".gitignore")
    if text is None:
        return [Failure(".gitignore", None, "no .gitignore: .env would be committed")]
    spec = pathspec.PathSpec.from_lines("gitignore", text.splitlines())
    if not spec.match_file(".env"):
        return [Failure(".gitignore", None, ".env is not ignored")]
    return []


@check(
    _k(
        "K5",
        "env-not-committed",
        "No .env file is committed",
        "Remove the file from git (`git rm --cached`), rotate every secret it held, and ignore it.",
        Severity.HIGH,
        ".gitignore",
    )
)
def env_not_committed(repo: Repo) -> Outcome:
    _, na = _package(repo)
    if na:
        return na
    if not repo.is_git:
        return NotApplicable("not a git repository: nothing is committed")
    return [
        Failure(path, None, f"{path} is committed: its secrets are in the history")
        for path in sorted(repo.tracked)
        if _is_env_file(path)
    ]


_PLACEHOLDER = re.compile(
    r"change|example|placeholder|dummy|sample|fake|your|replace|development|dev-only|do-not-use"
    r"|not-a-secret|insecure|xxx|todo|local|test|secret-here|redacted",
    re.IGNORECASE,
)
_KNOWN_SECRET = re.compile(
    r"AKIA[0-9A-Z]{16}|gh[pousr]_[0-9A-Za-z]{30,}|github_pat_\w{30,}|sk_live_\w+|xox[abpr]-[\w-]+"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY|glpat-[\w-]{20,}|npm_[0-9A-Za-z]{30,}"
)


def _entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def looks_secret(value: str) -> bool:
    """A value that looks like a real credential rather than a placeholder."""
    value = value.strip().strip("\"'")
    if _KNOWN_SECRET.search(value):
        return True
    credentials = re.match(r"^[a-z][\w+.-]*://[^:/@\s]*:([^@\s]+)@", value)
    if credentials:
        value = credentials.group(1)
    elif "://" in value:
        return False  # an address without credentials
    if len(value) < 16 or _PLACEHOLDER.search(value) or "${" in value:
        return False
    if re.fullmatch(r"[a-z]+([-_.][a-z0-9]+)+", value):  # words joined by dashes: a phrase
        return False
    classes = sum(bool(re.search(p, value)) for p in (r"[a-z]", r"[A-Z]", r"\d"))
    return classes >= 2 and _entropy(value) >= 3.5


@check(
    _k(
        "K5",
        "env-example-no-secrets",
        ".env.example holds placeholders, not real-looking secrets",
        "Use a placeholder such as `change-me` instead, and rotate the secret if it was real.",
        Severity.HIGH,
        ".env.example",
    )
)
def env_example_no_secrets(repo: Repo) -> Outcome:
    _, na = _package(repo)
    if na:
        return na
    examples = [f for f in repo.files if PurePosixPath(f).name in _ENV_TEMPLATES]
    if not examples:
        return NotApplicable("no .env.example")
    failures: list[Failure] = []
    for path in examples:
        for number, line in enumerate((repo.text(path) or "").splitlines(), start=1):
            name, sep, value = line.strip().removeprefix("export ").partition("=")
            if not value.lstrip().startswith(("'", '"')):
                value = re.split(r"\s#", value, maxsplit=1)[0]  # an inline comment
            if sep and not name.startswith("#") and looks_secret(value):
                failures.append(Failure(path, number, f"{name.strip()} has a real-looking value"))
    return failures


_SECRET_SCANNERS = re.compile(
    r"detect-secrets|gitleaks|trufflehog|ggshield|secretlint|talisman|git-secrets", re.IGNORECASE
)


@check(
    _k(
        "K5",
        "pre-commit-secret-scan",
        "A pre-commit hook scans commits for secrets",
        "Add a .pre-commit-config.yaml with a detect-secrets or gitleaks hook.",
        Severity.LOW,
        ".pre-commit-config.yaml",
    )
)
def pre_commit_secret_scan(repo: Repo) -> Outcome:
    _, na = _package(repo)
    if na:
        return na
    config = yaml_document(repo, ".pre-commit-config.yaml")
    if isinstance(config, dict):
        for hook_repo in items(config.get("repos")):
            if not isinstance(hook_repo, dict):
                continue
            for hook in items(hook_repo.get("hooks")):
                if isinstance(hook, dict) and _SECRET_SCANNERS.search(
                    f"{hook_repo.get('repo', '')} {hook.get('id', '')} {hook.get('entry', '')}"
                ):
                    return []
        return [Failure(".pre-commit-config.yaml", None, "no secret-scanning hook")]
    for hook in (".husky/pre-commit", "lefthook.yml", ".lefthook.yml"):
        text = repo.text(hook)
        if text is not None and _SECRET_SCANNERS.search(text):
            return []
    return [Failure(".pre-commit-config.yaml", None, "no pre-commit hook scans for secrets")]


# --- K6, K7 ---

_CONTACT = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+|https?://\S+")
_TIMELINE = re.compile(r"\b\d+\s*(business\s+|working\s+|calendar\s+)?days?\b", re.IGNORECASE)


@check(
    _k(
        "K6",
        "security-policy",
        "SECURITY.md says how to report a vulnerability and when it will be handled",
        "Add SECURITY.md with a private reporting contact (e-mail or URL) and a disclosure "
        "timeline in days.",
        Severity.LOW,
        "SECURITY.md",
    )
)
def security_policy(repo: Repo) -> Outcome:
    _, na = _package(repo)
    if na:
        return na
    candidates = [
        f
        for f in repo.files
        if PurePosixPath(f).name.lower() == "security.md"
        and str(PurePosixPath(f).parent) in {".", ".github", "docs"}
    ]
    if not candidates:
        return [Failure("SECURITY.md", None, "no SECURITY.md")]
    path = candidates[0]
    text = repo.text(path) or ""
    missing = [
        what
        for what, pattern in (("reporting contact", _CONTACT), ("disclosure timeline", _TIMELINE))
        if not pattern.search(text)
    ]
    return [Failure(path, None, f"no {' or '.join(missing)}")] if missing else []


@check(
    _k(
        "K6",
        "license",
        "The repository has a LICENSE file",
        "Add a LICENSE file (for closed source, a short proprietary notice).",
        Severity.LOW,
        "LICENSE",
    )
)
def license_file(repo: Repo) -> Outcome:
    _, na = _package(repo)
    if na:
        return na
    names = {f.lower() for f in repo.files if "/" not in f}
    if any(n.startswith(("license", "licence", "copying")) for n in names):
        return []
    return [Failure("LICENSE", None, "no LICENSE file")]


_SECURITY_HEADING = re.compile(
    r"^(#{1,6}\s*.*\b(security|threat model)\b.*"  # a Markdown ATX heading
    r"|.*\b(security|threat model)\b.*\n[=\-~^]{3,})\s*$",  # Markdown setext or reStructuredText
    re.IGNORECASE | re.MULTILINE,
)


@check(
    _k(
        "K7",
        "readme-security-section",
        "The README has a security or threat-model section",
        "Add a `## Security` section to the README mapping each threat to its control and test.",
        Severity.LOW,
        "README.md",
    )
)
def readme_security_section(repo: Repo) -> Outcome:
    _, na = _package(repo)
    if na:
        return na
    readmes = [f for f in repo.files if "/" not in f and f.lower().startswith("readme")]
    if not readmes:
        return [Failure("README.md", None, "no README")]
    for path in readmes:
        if _SECURITY_HEADING.search(repo.text(path) or ""):
            return []
    return [Failure(readmes[0], None, "no security or threat-model section")]
