"""The offline checkers of `tests/checkers.txt`, as the tests call them.

scripts/test installs them into their own virtualenv and puts it on PATH. A missing checker fails
the test that needs it: a check that silently skips would prove nothing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

# `image:tag@sha256:<digest>` (a registry host and port allowed): how every pinned image looks.
DIGEST_PIN = re.compile(r"^[\w.-]+(?::\d+)?(?:/[\w.-]+)*:[\w.-]+@sha256:[0-9a-f]{64}$")


def tool(name: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        pytest.fail(f"{name} is not on PATH: install tests/checkers.txt (scripts/test does)")
    return exe


def run(name: str, *args: str, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool(name), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def assert_clean(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, (
        f"{result.args}\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    )
