"""The hardening baseline's static (ST) items, checked in the project generated for every
combination of test_render.py's pairwise matrix. Tests are named after the item they prove.
Parsing is loose (regexes over TypeScript, SQL and Markdown), but each check fails if the control
it looks for is removed from the template.
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
ARGON2_HASH = re.compile(r"\$argon2(id|i|d)\$v=\d+\$m=\d+")
ESLINT_DISABLE = re.compile(r"(?://|/\*)\s*eslint-disable[^\n]*")
ISSUE_PUBLIC_ROUTES = {
    *("GET /healthz", "GET /readyz", "GET /openapi.json"),
    *("POST /v1/auth/register", "POST /v1/auth/login", "POST /v1/auth/refresh"),
}
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
    store = project.text("src/http/rate-limit-store.ts")
    block = found(r"export const STORE_ENV = \{(.*?)\n?\};", store, re.S)[1]
    store_keys = set(re.findall(r"^\s+([A-Z][A-Z0-9_]*):", block, re.M))
    return set(schema_entries(project.text("src/config.ts"))) | store_keys


def env_example(project: Project) -> dict[str, str]:
    return dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", project.text(".env.example"), re.M))


def test_a4_prototype_keys_rejected_before_handlers(project: Project) -> None:
    body = project.text("src/http/body.ts")
    keys = found(r"FORBIDDEN_KEYS = new Set\(\[([^\]]*)\]\)", body)[1]
    assert set(re.findall(r"'([^']+)'", keys)) == {"__proto__", "constructor", "prototype"}
    walker = body[body.index("function findViolation") : body.index("const rejectPollution")]
    assert "FORBIDDEN_KEYS.has(key)" in walker
    assert walker.count("findViolation(") >= 2, "the key check must recurse into nested objects"
    found(r"new HttpError\(400", body[body.index("const rejectPollution") :])
    found(r"parseJson: \[express\.json\([^\]]*\), rejectPollution\]", body)
    chain = project.text("src/http/registry.ts").split("function chain(", 1)[1]
    order = [chain.index(step) for step in ("mw.parseJson", "validate(route)", "handle(route)")]
    assert order == sorted(order), "the key check must run before validation and the handler"


def test_a9_server_timeouts_are_explicit(project: Project) -> None:
    options = found(r"createServer\(\s*\{(.*?)\}", project.text("src/server.ts"), re.S)[1]
    schema = schema_entries(project.text("src/config.ts"))
    defaults = {}
    for option in ("headersTimeout", "requestTimeout", "keepAliveTimeout"):
        found(rf"\b{option}: config\.server\.{option}Ms\b", options)
        variable = re.sub(r"(?<!^)([A-Z])", r"_\1", option).upper() + "_SECONDS"
        bounds = found(r"wholeNumber\(([\d_]+), ([\d_]+), ([\d_]+)\)", schema[variable]).groups()
        default, minimum, maximum = (int(n.replace("_", "")) for n in bounds)
        assert 1 <= minimum <= default <= maximum, f"{variable}: 0 would disable the timeout"
        defaults[option] = default
    assert defaults["headersTimeout"] < defaults["requestTimeout"]


def test_d1_argon2id_with_owasp_parameters_and_bounded_concurrency(project: Project) -> None:
    passwords = project.text("src/features/auth/passwords.ts")
    name, options = found(r"const (\w+) = \{([^}]*\btype: argon2id\b[^}]*)\}", passwords).groups()
    params = {k: int(v.replace("_", "")) for k, v in re.findall(r"(\w+): ([\d_]+)", options)}
    assert params == {"memoryCost": 19456, "timeCost": 2, "parallelism": 1}
    found(rf"\bhash\([^;]*\b{name}\b", passwords)
    assert not re.search(r"\bargon2(i|d)\b", passwords)
    found(r"= createSemaphore\(options\.concurrency", passwords)


def test_d8_no_default_users_admins_or_secrets(project: Project) -> None:
    migrations = project.sources("src/db/migrations", suffixes=(".sql",))
    assert migrations
    for name, sql in migrations.items():
        assert not re.search(r"\b(INSERT\s+INTO|COPY)\s+(\w+\.)?\"?users\b", sql, re.I), name
        if "CREATE TABLE users" in sql:
            found(r"\brole\b[^,\n]*DEFAULT 'user'", sql)
    assert not project.grep(ARGON2_HASH.pattern, sql=True), "a stored hash"
    repository = project.text("src/features/users/repository.ts")
    inserted = re.findall(r"INSERT INTO users\s*\(([^)]*)\)", repository)
    assert inserted
    assert not [columns for columns in inserted if "role" in columns]
    promoters = set(project.grep(r"promoteToAdmin\(", "src"))
    assert promoters == {"src/features/users/service.ts", "src/features/admin/create-admin.ts"}
    scripts = project.json("package.json")["scripts"]
    assert scripts["admin:create"] == "node src/features/admin/create-admin.ts"

    config = project.text("src/config.ts")
    example = found(r"EXAMPLE_JWT_SECRET = '([^']+)'", config)[1]
    assert env_example(project)["JWT_SECRET"] == example
    refuses = found(r"function looksLikePlaceholder[^{]*\{(.*?)\n\}", config, re.S)[1]
    assert "secret === EXAMPLE_JWT_SECRET" in refuses
    found(r"!relaxed && looksLikePlaceholder\(env\.JWT_SECRET\)", config)
    found(r"relaxed = env\.NODE_ENV === 'development' \|\| env\.NODE_ENV === 'test'", config)
    assert ".default(" not in schema_entries(config)["JWT_SECRET"]
    assert not re.search(r"://[^/\s:@]+:[^/\s@]+@", project.text(".env.example")), "credentials"


def test_e1_public_routes_are_exactly_the_issue_list(project: Project) -> None:
    app_ts = project.text("src/app.ts")
    listed = found(r"PUBLIC_ROUTES: readonly string\[\] = \[(.*?)\];", app_ts, re.S)[1]
    assert set(re.findall(r"'([A-Z]+ [^']+)'", strip_comments(listed))) == ISSUE_PUBLIC_ROUTES
    found(r"access === 'public' && !PUBLIC_ROUTES\.includes\(name\)\) throw", app_ts)
    registry = project.text("src/http/registry.ts")
    assert "access: spec.access ?? 'user'" in registry, "routes must default to authenticated"
    assert "if (route.access !== 'public') handlers.push(mw.authenticate(" in registry
    public = set()
    for text in project.sources("src").values():
        for spec in text.split("defineRoute({")[1:]:
            method, path = found(r"method: '(\w+)'", spec)[1], found(r"path: '([^']+)'", spec)[1]
            if re.search(r"access: 'public'", spec.split("handler:", 1)[0]):
                public.add(f"{method.upper()} {path}")
    assert public == ISSUE_PUBLIC_ROUTES


def test_e4_public_ids_are_random_uuids(project: Project) -> None:
    migrations = project.sources("src/db/migrations", suffixes=(".sql",))
    ddl = {name: re.sub(r"--.*", "", sql) for name, sql in migrations.items()}
    table = re.compile(r"CREATE TABLE (\w+) \((.*?)\n\);", re.S)
    tables = [t for sql in ddl.values() for t in table.findall(sql)]
    assert {"users", "notes"} <= {name for name, _ in tables}
    for name, columns in tables:
        found(r"^\s*id uuid PRIMARY KEY DEFAULT gen_random_uuid\(\),", columns, re.M)
        for column, kind in re.findall(r"^\s*(\w+_id) (\w+)", columns, re.M):
            assert kind == "uuid", f"{name}.{column}"
    sequential = r"serial|\bidentity\b|\bnextval\b|\bsequence\b"
    assert not [name for name, sql in ddl.items() if re.search(sequential, sql, re.I)]
    notes = project.text("src/features/notes/schemas.ts")
    found(r"noteParams = z\.strictObject\(\{ id: z\.uuid\(", notes)


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


def test_h2_trust_proxy_never_true(project: Project) -> None:
    assert not project.grep(r"trust proxy['\"],\s*true")
    assert "app.set('trust proxy', config.trustProxy);" in project.text("src/app.ts")
    trust = schema_entries(project.text("src/config.ts"))["TRUST_PROXY"]
    assert trust.strip().rstrip(",") == "trustProxy.default(false)"


def test_h5_rate_limit_store_matches_the_choice(project: Project) -> None:
    package, lock = project.json("package.json"), project.json("package-lock.json")
    store = project.text("src/http/rate-limit-store.ts")
    choice = project.answers["rate_limit_store"]
    assert f"RATE_LIMIT_STORE: 'memory' | 'redis' = '{choice}';" in store
    for limiter in ("src/http/rate-limit.ts", "src/features/auth/throttle.ts"):
        assert "store: stores.create(" in project.text(limiter), limiter
    assert "rateLimitStores: stores" in project.text("src/server.ts")
    if project.redis:
        assert {"@redis/client", "rate-limit-redis"} <= set(package["dependencies"])
        found(r"import \{ createClient\b.*\} from '@redis/client';", store)
        found(r"from 'rate-limit-redis';", store)
        required = r"RATE_LIMIT_STORE === 'redis' && redisUrlOf\(env\) === undefined && !relaxed"
        found(required, project.text("src/config.ts"))
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
