"""End to end: generate real projects and run their own checks on real Node.

Each case generates a project with the CLI, installs it with `npm ci` from the shipped lockfile,
and runs its lint, type-check and test suite: on embedded PGlite, on a real PostgreSQL and, for the
redis store, against a real Redis. The defaults case then runs in production and is fuzzed from its
own OpenAPI document. `scripts/test` installs Node and starts the services, and passes them in
through HARDSTART_* variables.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from checkers import tool

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Case:
    name: str
    data: dict[str, str]
    node_major: int
    postgres: bool
    redis: bool


CASES = [
    Case("defaults", {}, 24, postgres=True, redis=False),
    Case(
        "redis-apache",
        {"rate_limit_store": "redis", "license": "Apache-2.0"},
        24,
        postgres=True,
        redis=True,
    ),
    Case(
        "node22-proprietary",
        {
            "node_major": "22",
            "license": "proprietary",
            "cors_origins": "https://app.example.com,http://localhost:5173",
        },
        22,
        postgres=False,
        redis=False,
    ),
]


def _required_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not set: run the suite through scripts/test")
        pytest.skip(f"{name} is not set: run the suite through scripts/test")
    return value


def _run(
    args: list[str], cwd: Path, env: dict[str, str], timeout: int = 900
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert proc.returncode == 0, (
        f"{' '.join(args)} exited {proc.returncode}\n"
        f"--- stdout ---\n{proc.stdout[-8000:]}\n--- stderr ---\n{proc.stderr[-8000:]}"
    )
    return proc


def _node_env(node_bin: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("npm_")}
    env["PATH"] = f"{node_bin}{os.pathsep}{env.get('PATH', '')}"
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.pop("NODE_ENV", None)
    env.update(extra)
    return env


def _fresh_database(admin_url: str) -> str:
    """A new, empty database on the throwaway server, so every case starts clean."""
    name = f"hs_{uuid.uuid4().hex[:12]}"
    subprocess.run(
        ["psql", admin_url, "-v", "ON_ERROR_STOP=1", "-qc", f"CREATE DATABASE {name}"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def _assert_suite_passed(output: str) -> None:
    """node:test's summary: some tests passed and none failed or were cancelled."""
    counts = dict(re.findall(r"^\S+ (pass|fail|cancelled) (\d+)$", output, re.M))
    assert counts.get("fail") == "0", output[-6000:]
    assert counts.get("cancelled") == "0", output[-6000:]
    assert int(counts.get("pass", "0")) > 0, "the generated suite ran no test"


def _assert_lint_refuses_import_cycles(dest: Path, env: dict[str, str]) -> None:
    """Two modules that import each other fail `npm run lint`, and the report names the rule."""
    planted = {
        dest / "src" / f"cycle-{me}.ts": (
            f"import {{ {other} }} from './cycle-{other}.ts';\n"
            f"export const {me} = (): number => {other}() + 1;\n"
        )
        for me, other in (("a", "b"), ("b", "a"))
    }
    for path, text in planted.items():
        path.write_text(text, encoding="utf-8")
    try:
        lint = subprocess.run(
            ["npm", "run", "lint"],
            cwd=dest,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        for path in planted:
            path.unlink()
    assert lint.returncode != 0, lint.stdout[-4000:]
    for name in planted:
        assert str(name) in lint.stdout, lint.stdout[-4000:]
        block = lint.stdout.split(str(name), 1)[1].split("\n\n", 1)[0]
        assert re.search(r"error\s+Dependency cycle detected\s+import-x/no-cycle", block), block


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _call(url: str, body: dict[str, str] | None = None) -> tuple[int, dict[str, object]]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310 (http://127.0.0.1 only)
            return int(response.status), json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, {}


def _fuzz_openapi(dest: Path, node_bin: str, pg_url: str, scratch: Path) -> None:
    """Schemathesis, every check on, against the production server: any finding fails.

    The document must allow only what the server accepts, and every response must match it. An
    admin token reaches every route. Password strength and a wrong current password are refused
    with 400 for reasons no JSON Schema can state; tests/schemathesis_hooks.py lets exactly those
    through (each error carries a `code`), nothing else.
    """
    port = _free_port()
    env = _node_env(
        node_bin,
        NODE_ENV="production",
        DATABASE_URL=_fresh_database(pg_url),
        JWT_SECRET=secrets.token_urlsafe(48),
        OPENAPI_ENABLED="true",
        HOST="127.0.0.1",
        PORT=str(port),
        LOG_LEVEL="warn",
        # About 1,300 requests from one address in under a minute: the default limits would answer
        # most of them 429 and leave validation untested. The limits have their own tests (D4, H5).
        RATE_LIMIT_GLOBAL_MAX="1000000",
        RATE_LIMIT_AUTH_MAX="1000000",
        LOGIN_FAILURES_MAX="1000",
    )
    base = f"http://127.0.0.1:{port}"
    log = (scratch / "server.log").open("w")
    server = subprocess.Popen(
        ["node", "src/server.ts"], cwd=dest, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        while not _ready(base):
            assert server.poll() is None, (scratch / "server.log").read_text()
            assert time.monotonic() < deadline, "the server did not become ready"
            time.sleep(0.2)
        account = {"email": "fuzz@example.com", "password": secrets.token_urlsafe(24)}
        status, _ = _call(f"{base}/v1/auth/register", {**account, "displayName": "Fuzz"})
        assert status == 201, status
        _run(["npm", "run", "-s", "admin:create", "--", account["email"]], cwd=dest, env=env)
        status, tokens = _call(f"{base}/v1/auth/login", account)
        assert status == 200, status
        # Schemathesis writes its caches into the working directory: keep them out of the project.
        fuzz_dir = scratch / "schemathesis"
        fuzz_dir.mkdir()
        fuzz_env = {
            **os.environ,
            "SCHEMATHESIS_HOOKS": str(ROOT / "tests" / "schemathesis_hooks.py"),
        }
        args = [
            tool("schemathesis"),
            "run",
            f"{base}/openapi.json",
            "--checks",
            "all",
            "--header",
            f"Authorization: Bearer {tokens['accessToken']}",
            "--max-examples",
            "50",
            "--request-timeout",
            "10",
            "--no-color",
        ]
        proc = subprocess.run(
            args,
            cwd=fuzz_dir,
            env=fuzz_env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        output = proc.stdout + proc.stderr
        assert proc.returncode == 0, output[-12000:]
        generated = re.search(r"(\d+) generated", output)
        assert generated is not None, output[-3000:]
        assert int(generated.group(1)) >= 500, output[-3000:]
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _ready(base: str) -> bool:
    try:
        return _call(f"{base}/readyz")[0] == 200
    except OSError:  # not listening yet
        return False


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_generated_project_passes_its_own_checks(case: Case, tmp_path: Path) -> None:
    node_bin = _required_env(f"HARDSTART_NODE{case.node_major}_BIN")
    pg_url = _required_env("HARDSTART_TEST_PG_URL") if case.postgres else ""
    redis_url = _required_env("HARDSTART_TEST_REDIS_URL") if case.redis else ""

    dest = tmp_path / f"svc-{case.name}"
    args = [sys.executable, "-m", "hardstart", "new", str(dest), "--defaults", "-q"]
    args += ["--data", f"project_name=svc-{case.name}"]
    for key, value in case.data.items():
        args += ["--data", f"{key}={value}"]
    _run(args, cwd=tmp_path, env=dict(os.environ))

    base = {"REDIS_URL": redis_url} if redis_url else {}
    env = _node_env(node_bin, **base)
    version = _run(["node", "--version"], cwd=dest, env=env).stdout
    assert version.startswith(f"v{case.node_major}."), version

    _run(["npm", "ci", "--no-audit", "--no-fund"], cwd=dest, env=env)
    _run(["npm", "run", "lint"], cwd=dest, env=env)
    _assert_lint_refuses_import_cycles(dest, env)
    _run(["npm", "run", "typecheck"], cwd=dest, env=env)

    # Embedded PGlite: the default for development and tests.
    _assert_suite_passed(_run(["npm", "test"], cwd=dest, env=env).stdout)

    if case.postgres:
        pg_env = _node_env(node_bin, DATABASE_URL=_fresh_database(pg_url), **base)
        _assert_suite_passed(_run(["npm", "test"], cwd=dest, env=pg_env).stdout)

    if case.name == "defaults":
        _fuzz_openapi(dest, node_bin, pg_url, tmp_path)
        # The generated pre-commit hooks install from the package index alone and pass on the
        # fresh project (secret scan, eslint, tsc, hadolint, actionlint, zizmor).
        hooks_env = {**env, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit")}
        _run([sys.executable, "-m", "pre_commit", "run", "--all-files"], cwd=dest, env=hooks_env)

    # The generated .gitignore covers everything that installing and testing leaves behind.
    status = _run(["git", "status", "--porcelain"], cwd=dest, env=env).stdout
    assert status == "", f"files left untracked or modified:\n{status}"
