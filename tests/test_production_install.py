"""The image's production install path, run on this machine (there is no container engine here).

The generated Dockerfile is read, not copied by hand: its `npm ci --omit=dev` line runs with the
same flags into a fresh directory holding only what the runtime stage copies, the tree is made
read-only and owned by root, and the app starts from the Dockerfile's `CMD` as an unprivileged user
with NODE_ENV=production on a real PostgreSQL (and Redis). It must answer `/healthz` and `/readyz`,
pass the Dockerfile's own `HEALTHCHECK`, be unable to write its code, and stop cleanly on SIGTERM.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from test_generated import _fresh_database, _node_env, _required_env, _run

pytestmark = pytest.mark.slow

UNPRIVILEGED = 65534  # nobody


@dataclass(frozen=True)
class Case:
    name: str
    data: dict[str, str]
    node_major: int
    redis: bool


CASES = [
    Case("alpine-memory-node24", {}, 24, redis=False),
    Case(
        "distroless-redis-node22",
        {"container_base": "distroless", "rate_limit_store": "redis", "node_major": "22"},
        22,
        redis=True,
    ),
]


@dataclass(frozen=True)
class RuntimeStage:
    install: list[str]  # the `npm ci --omit=dev ...` command of the deps stage
    copies: list[str]  # sources the runtime stage copies from the build context or stages
    cmd: list[str]
    healthcheck: list[str]
    user: str


def read_dockerfile(path: Path) -> RuntimeStage:
    text = re.sub(r"\\\n\s*", " ", path.read_text(encoding="utf-8"))
    stages = re.split(r"^FROM ", text, flags=re.M)[1:]
    install = next(
        part.strip()
        for stage in stages
        for line in stage.splitlines()
        if line.startswith("RUN ") and "--omit=dev" in line
        for part in line.removeprefix("RUN ").split("&&")
        if part.strip().startswith("npm ci")
    )
    runtime = stages[-1]
    copies = [
        line.split()[-2]
        for line in runtime.splitlines()
        if line.startswith("COPY ") and "--from=" not in line
    ] + [
        line.split()[-2].removeprefix("/app/")
        for line in runtime.splitlines()
        if line.startswith("COPY --from=")
    ]

    def exec_form(prefix: str) -> list[str]:
        line = next(line for line in runtime.splitlines() if line.startswith(prefix))
        argv = json.loads(line[line.index("[") :])
        assert isinstance(argv, list)
        return [str(arg) for arg in argv]

    user = next(line.split()[1] for line in runtime.splitlines() if line.startswith("USER "))
    return RuntimeStage(
        install=shlex.split(install),
        copies=copies,
        cmd=exec_form("CMD "),
        healthcheck=exec_form("HEALTHCHECK "),
        user=user,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (http://127.0.0.1 only)
            return int(response.status)
    except urllib.error.HTTPError as err:
        return err.code


def _post_json(url: str, body: dict[str, str]) -> tuple[int, Any]:
    data = json.dumps(body).encode()
    headers = {"content-type": "application/json"}
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 (http://127.0.0.1 only)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 (http://127.0.0.1 only)
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.fixture
def world_readable_dir() -> Iterator[Path]:
    # pytest's tmp_path lives under a 0700 directory the unprivileged user cannot enter.
    path = Path(tempfile.mkdtemp(prefix="hs-prod-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_production_install_runs_read_only_as_an_unprivileged_user(
    case: Case, tmp_path: Path, world_readable_dir: Path
) -> None:
    if os.geteuid() != 0:
        pytest.skip(
            "needs root to switch to an unprivileged user (scripts/test runs as root in CI)"
        )
    node_bin = _required_env(f"HARDSTART_NODE{case.node_major}_BIN")
    pg_url = _required_env("HARDSTART_TEST_PG_URL")
    redis_url = _required_env("HARDSTART_TEST_REDIS_URL") if case.redis else ""

    project = tmp_path / "svc"
    args = [sys.executable, "-m", "hardstart", "new", str(project), "--defaults", "-q"]
    args += ["--data", "project_name=svc-prod"]
    for key, value in case.data.items():
        args += ["--data", f"{key}={value}"]
    _run(args, cwd=tmp_path, env=dict(os.environ))
    stage = read_dockerfile(project / "Dockerfile")
    assert stage.install[:2] == ["npm", "ci"]
    assert "--omit=dev" in stage.install
    assert stage.user.split(":")[0] not in {"0", "root"}

    # Exactly what the runtime stage receives: the deps stage's inputs, then the copied sources.
    app = world_readable_dir / "app"
    app.mkdir()
    for name in ("package.json", "package-lock.json", ".npmrc"):
        shutil.copy2(project / name, app / name)
    env = _node_env(node_bin)
    _run(stage.install, cwd=app, env=env)
    for source in stage.copies:
        if source == "node_modules":
            continue
        if (project / source).is_dir():
            shutil.copytree(project / source, app / source, dirs_exist_ok=True)
        else:
            shutil.copy2(project / source, app / source)
    installed = {p.name for p in (app / "node_modules").iterdir()} | {
        f"@{scope.name}/{p.name}"
        for scope in (app / "node_modules").glob("@*")
        for p in scope.iterdir()
    }
    dev_only = set(json.loads((project / "package.json").read_text())["devDependencies"])
    assert not dev_only & installed, (
        f"devDependencies in the production install: {dev_only & installed}"
    )

    # A node binary the unprivileged user can execute (the cached one sits under /root).
    node = world_readable_dir / "node"
    shutil.copy2(Path(node_bin) / "node", node)
    node.chmod(0o755)
    for path in [app, *app.rglob("*")]:
        os.chown(path, 0, 0, follow_symlinks=False)
        if not path.is_symlink():
            path.chmod(path.stat().st_mode & ~0o222)

    port = _free_port()
    run_env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/nonexistent",
        "NODE_ENV": "production",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "DATABASE_URL": _fresh_database(pg_url),
        "JWT_SECRET": secrets.token_urlsafe(48),
        "CORS_ORIGINS": "https://app.example.com",
        "LOG_LEVEL": "warn",
    }
    if redis_url:
        run_env["REDIS_URL"] = redis_url
    as_nobody = ["setpriv", f"--reuid={UNPRIVILEGED}", f"--regid={UNPRIVILEGED}", "--clear-groups"]

    def argv(exec_form: list[str]) -> list[str]:
        assert Path(exec_form[0]).name == "node", exec_form
        return [*as_nobody, str(node), *exec_form[1:]]

    server = subprocess.Popen(
        argv(stage.cmd),
        cwd=app,
        env=run_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _get(f"http://127.0.0.1:{port}/readyz") == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, f"the server exited:\n{server.communicate()[0]}"
            assert time.monotonic() < deadline, "the server did not become ready in 30 s"
            time.sleep(0.2)
        assert _get(f"http://127.0.0.1:{port}/healthz") == 200
        assert _get(f"http://127.0.0.1:{port}/openapi.json") == 404, "docs exposed in production"
        # The strength estimator loads on first use: registering proves the installed tree holds it.
        register = f"http://127.0.0.1:{port}/v1/auth/register"
        account = {"email": "prod-check@example.com", "displayName": "Prod Check"}
        status, body = _post_json(register, {**account, "password": "abcabcabcabcabcabc"})
        assert status == 400, body
        assert [error["code"] for error in body["errors"]] == ["weak"], body
        passphrase = f"tulip mango {secrets.token_urlsafe(9)} lantern"
        status, body = _post_json(register, {**account, "password": passphrase})
        assert status == 201, body

        check = subprocess.run(
            argv(stage.healthcheck), cwd=app, env=run_env, capture_output=True, timeout=15
        )
        assert check.returncode == 0, check

        # The app's user cannot change its own code.
        write = subprocess.run(
            [*as_nobody, str(node), "-e", "require('fs').appendFileSync('src/server.ts', '//')"],
            cwd=app,
            env=run_env,
            capture_output=True,
            text=True,
            timeout=15,
        )
        assert write.returncode != 0, write
        assert "EACCES" in write.stderr, write
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            output = server.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            server.kill()
            output = server.communicate()[0]
    assert server.returncode == 0, f"exit {server.returncode} after SIGTERM:\n{output}"

    # And the health check fails once the app is gone, so it really probes something.
    down = subprocess.run(
        argv(stage.healthcheck), cwd=app, env=run_env, capture_output=True, timeout=15
    )
    assert down.returncode != 0
