"""The hardening baseline's static (ST) items, checked in the project generated for every
combination of test_render.py's pairwise matrix. Tests are named after the item they prove.
What the code does is proved by the generated project's own suite (run by test_generated.py); here
are the files that never run (manifests, lockfiles, .env.example, README, .gitignore) and static
analyses of the source (string-built SQL, unexplained lint disables), each with planted inputs.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from conftest import render_project
from test_render import LEFTOVER_JINJA, MATRIX, combo_id

EXACT_VERSION = re.compile(r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")
# Paths of the generating machine (its checkout, home or temporary directories); a container's own
# /tmp is fine.
MACHINE_PATH = re.compile(r"/(work|root)/|/tmp/(tmp|pytest|copier)")
STRING = re.compile(r"'(?:\\.|[^'\\\n])*'|\"(?:\\.|[^\"\\\n])*\"|`(?:\\.|[^`\\])*`", re.S)
SQL_CALL = re.compile(r"\.(?:query|exec)\s*(?:<[^()]*?>)?\s*\(")
SQL_WORD = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|FROM|WHERE|VALUES|SET|ORDER BY|LIMIT)\b")
ESLINT_DISABLE = re.compile(r"(?://|/\*)\s*eslint-disable[^\n]*")
CODE = ("src", "test", "bench")


@dataclass(frozen=True)
class Project:
    root: Path
    answers: dict[str, Any]

    @property
    def redis(self) -> bool:
        return bool(self.answers["rate_limit_store"] == "redis")

    def text(self, name: str) -> str:
        return (self.root / name).read_text(encoding="utf-8")

    def json(self, name: str) -> Any:
        return json.loads(self.text(name))

    def sources(self, *dirs: str, suffixes: tuple[str, ...] = (".ts", ".js")) -> dict[str, str]:
        """Relative path → text of every file with one of `suffixes` under `dirs`."""
        return {
            path.relative_to(self.root).as_posix(): path.read_text(encoding="utf-8")
            for top in dirs
            for path in sorted((self.root / top).rglob("*"))
            if path.suffix in suffixes
        }

    def grep(self, pattern: str, *dirs: str, sql: bool = False) -> list[str]:
        """Source files (.sql too if `sql`) under `dirs` (default: CODE) matching `pattern`."""
        files = self.sources(*(dirs or CODE), suffixes=(".ts", ".js", ".sql")[: 3 if sql else 2])
        return [name for name, text in files.items() if re.search(pattern, text)]


def generated_project(
    index: int, template_repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> Project:
    """The project generated for combination `index` of MATRIX."""
    given = {"project_name": "orders-api", **MATRIX[index]}
    return Project(render_project(given, template_repo, tmp_path_factory), given)


@pytest.fixture(params=range(len(MATRIX)), ids=[combo_id(combo) for combo in MATRIX])
def project(
    request: pytest.FixtureRequest, template_repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> Project:
    """The project generated for one combination (rendered inside the test's isolated HOME)."""
    return generated_project(request.param, template_repo, tmp_path_factory)


def found(pattern: str, text: str, flags: int = 0) -> re.Match[str]:
    match = re.search(pattern, text, flags)
    assert match, f"not found: {pattern}"
    return match


def strip_comments(source: str) -> str:
    return re.sub(r"(?m)(^|\s)//.*$", r"\1", re.sub(r"/\*.*?\*/", "", source, flags=re.S))


def first_argument(source: str, start: int) -> str:
    """The text of a call's first argument, `start` being just after its opening parenthesis."""
    depth, i = 0, start
    while i < len(source):
        if literal := STRING.match(source, i):
            i = literal.end()
            continue
        if source[i] in "([{":
            depth += 1
        elif source[i] in ")]}" and depth > 0:
            depth -= 1
        elif source[i] in ",)]}":
            break
        i += 1
    return source[start:i].strip()


def string_built_sql(source: str) -> list[str]:
    """SQL given to .query()/.exec(), or written anywhere, as interpolated or concatenated text."""
    code = strip_comments(source)
    hits = []
    for call in SQL_CALL.finditer(code):
        argument = first_argument(code, call.end())
        if ("`" in argument and "${" in argument) or "+" in STRING.sub("''", argument):
            hits.append(argument)
    for literal in STRING.finditer(code):
        text, before = literal.group(), code[: literal.start()].rstrip()
        interpolated = text.startswith("`") and "${" in text
        joined = before.endswith(("+", "+=")) or code[literal.end() :].lstrip().startswith("+")
        if SQL_WORD.search(text) and (interpolated or joined):
            hits.append(text)
    return hits


def unexplained_disables(source: str) -> list[str]:
    comments = (m.group() for m in ESLINT_DISABLE.finditer(source))
    return [comment for comment in comments if not re.search(r"--\s+\S", comment)]


def schema_entries(config_ts: str) -> dict[str, str]:
    """Variable → its zod expression, from `export const configSchema = z.object({...})`."""
    start = config_ts.index(".object({", config_ts.index("export const configSchema"))
    block = config_ts[start : config_ts.index("\n  })", start)]
    keys = list(re.finditer(r"^\s+([A-Z][A-Z0-9_]*):", block, re.M))
    ends = [k.start() for k in keys[1:]] + [len(block)]
    return {k.group(1): block[k.end() : end] for k, end in zip(keys, ends, strict=True)}


def config_variables(project: Project) -> set[str]:
    """Every variable the configuration reads: config.ts's schema plus the store's STORE_ENV."""
    store = project.text("src/rate-limit-choice.ts")
    block = found(r"export const STORE_ENV = \{(.*?)\n?\};", store, re.S)[1]
    store_keys = set(re.findall(r"^\s+([A-Z][A-Z0-9_]*):", block, re.M))
    return set(schema_entries(project.text("src/config.ts"))) | store_keys


def env_example(project: Project) -> dict[str, str]:
    return dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", project.text(".env.example"), re.M))


def test_d8_no_default_admin_or_shipped_credentials(project: Project) -> None:
    # Proved by running: test/e-authorization.test.ts (D8, no account after migrating) and
    # test/d-authentication.test.ts (D7, the .env.example secret is refused in production).
    scripts = project.json("package.json")["scripts"]
    assert scripts["admin:create"] == "node src/features/admin/create-admin.ts"
    assert not re.search(r"://[^/\s:@]+:[^/\s@]+@", project.text(".env.example")), "credentials"


def test_f1_no_string_built_sql(project: Project) -> None:
    files = project.sources("src")
    assert not {name: hits for name, text in files.items() if (hits := string_built_sql(text))}


@pytest.mark.parametrize(
    "source",
    [
        "await db.query(`SELECT * FROM notes WHERE id = ${id}`);",
        "await db.query<NoteRow>(\n  `SELECT id FROM notes WHERE owner_id = '${ownerId}'`, []);",
        "await tx.exec('DELETE FROM notes WHERE id = ' + id);",
        "const sql = `UPDATE users SET role = '${role}'`;\nawait db.query(sql);",
        "let sql = 'SELECT id FROM users';\nsql += ' WHERE email = ' + email;",
        "await db.query('SELECT ' + columns.join(', ') + ' FROM users', []);",
    ],
)
def test_f1_check_catches_planted_string_built_sql(source: str) -> None:
    assert string_built_sql(source)


def test_f2_security_lint_on_without_unexplained_disables(project: Project) -> None:
    raw = project.text("eslint.config.js")
    config = strip_comments(raw)
    plugin = found(r"^import (\w+) from 'eslint-plugin-security';", config, re.M)[1]
    found(rf"^\s*{plugin}\.configs\.recommended,", config, re.M)
    lines = raw.splitlines()
    for before, line in pairwise(lines):
        if re.search(r"'security/[\w-]+': ('off'|0)", line):
            assert before.strip().startswith("//"), f"turned off without a reason: {line}"
    package = project.json("package.json")
    found(r"^eslint \.( .*)? --max-warnings 0( |$)", package["scripts"]["lint"])
    assert "eslint-plugin-security" in package["devDependencies"]
    files = project.sources(*CODE) | {"eslint.config.js": raw}
    assert not {name: bad for name, text in files.items() if (bad := unexplained_disables(text))}


def test_f2_disable_check_catches_unexplained_disables() -> None:
    assert unexplained_disables("// eslint-disable-next-line security/detect-eval-with-expression")
    assert unexplained_disables("/* eslint-disable */")
    assert not unexplained_disables("// eslint-disable-next-line x -- a constant path")


def test_h5_rate_limit_store_matches_the_choice(project: Project) -> None:
    # Which store really holds the counters is proved by running test/h5-redis-store.test.ts.
    package, lock = project.json("package.json"), project.json("package-lock.json")
    if project.redis:
        assert {"@redis/client", "rate-limit-redis"} <= set(package["dependencies"])
    else:
        assert not [n for n in [*package["dependencies"], *lock["packages"]] if "redis" in n]
        assert not project.grep(r"""(from|import\(|require\()\s*['"][^'"]*redis""")
        assert not [p for p in project.root.rglob("*redis*") if ".git" not in p.parts]
        found(r"run one instance", project.text("README.md"), re.I)


def test_k4_dependencies_pinned_exactly(project: Project) -> None:
    package = project.json("package.json")
    for group in ("dependencies", "devDependencies"):
        assert not {n: v for n, v in package[group].items() if not EXACT_VERSION.match(v)}, group


def test_k4_engines_and_npmrc_match_node_major(project: Project) -> None:
    major = project.answers["node_major"]
    engines = project.json("package.json")["engines"]["node"]
    assert int(found(r"^>=(\d+)\.\d+\.\d+$", engines)[1]) == major
    assert project.text(".nvmrc").strip() == str(major)
    npmrc = set(project.text(".npmrc").split())
    assert {"engine-strict=true", "ignore-scripts=true", "save-exact=true"} <= npmrc


def test_k4_lockfile_matches_package_json(project: Project) -> None:
    package, lock = project.json("package.json"), project.json("package-lock.json")
    root = lock["packages"][""]
    assert lock["name"] == root["name"] == package["name"]
    for key in ("version", "dependencies", "devDependencies", "engines"):
        assert root.get(key) == package.get(key), key
    for name, version in {**package["dependencies"], **package["devDependencies"]}.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, name
    entries = [e for name, e in lock["packages"].items() if name]
    assert all({"resolved", "integrity"} <= set(entry) for entry in entries)


def test_k5_gitignore_ignores_env_and_node_modules(project: Project) -> None:
    ignored = [".env", ".env.local", ".env.production", "node_modules/x/index.js"]
    kept = [".env.example", "src/app.ts", "package-lock.json"]

    def git(*args: str) -> set[str]:
        run = subprocess.run(["git", *args], cwd=project.root, capture_output=True, text=True)
        assert run.returncode in {0, 1}, run.stderr
        return set(run.stdout.split())

    assert git("check-ignore", "--no-index", *ignored, *kept) == set(ignored)
    assert ".env.example" in git("ls-files")


def test_h1_env_example_documents_every_config_variable(project: Project) -> None:
    schema = config_variables(project)
    assert ("REDIS_URL" in schema) == project.redis
    assert {"NODE_ENV", "JWT_SECRET", "SHUTDOWN_GRACE_SECONDS"} <= schema, "schema not parsed"
    assert set(env_example(project)) == schema


def test_h1_readme_configuration_table_lists_every_variable(project: Project) -> None:
    schema = config_variables(project)
    section = project.text("README.md").split("## Configuration", 1)[1].split("\n## ", 1)[0]
    assert set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", section, re.M)) == schema


def test_h1_environment_is_read_only_through_the_config_schema(project: Project) -> None:
    assert not project.grep(r"process\.env(\.|\[)", "src")


def test_no_machine_paths_or_leftover_jinja(project: Project) -> None:
    for path in sorted(project.root.rglob("*")):
        name = path.relative_to(project.root)
        if path.is_file() and ".git" not in name.parts:
            text = path.read_text(encoding="utf-8", errors="replace")
            assert not MACHINE_PATH.search(text), f"{name}: {MACHINE_PATH.search(text)}"
            assert not LEFTOVER_JINJA.search(text), name
