"""Running git: the one place that starts a git process."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Container, Mapping
from functools import cache
from pathlib import Path

from hardstart.errors import HardstartError


@cache
def executable() -> str:
    found = shutil.which("git")
    if found is None:
        raise HardstartError("git is required but was not found on PATH")
    return found


def run(
    *args: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run `git ARGS` in `cwd`; on failure raise a one-line HardstartError."""
    full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})}
    result = subprocess.run(
        [executable(), *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
    )
    if check and result.returncode != 0:
        detail = (result.stderr.strip() or result.stdout.strip()).splitlines()
        reason = detail[-1] if detail else f"exit status {result.returncode}"
        raise HardstartError(f"git {args[0]} failed: {reason}")
    return result


def run_bytes(
    *args: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    ok_codes: Container[int] = (0,),
) -> bytes:
    """Run `git ARGS` for its binary output (archives, merges); on failure raise like `run`."""
    full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})}
    result = subprocess.run(
        [executable(), *args], cwd=cwd, env=full_env, capture_output=True, check=False
    )
    if result.returncode not in ok_codes:
        detail = result.stderr.decode(errors="replace").strip().splitlines()
        reason = detail[-1] if detail else f"exit status {result.returncode}"
        raise HardstartError(f"git {args[0]} failed: {reason}")
    return result.stdout
