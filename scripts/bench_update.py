"""Whole-process timings of updates: `hardstart update` against a bare `copier update` of the same
project, and `hardstart fleet update` over many repositories at 1, 2 and 4 workers.

    python scripts/bench_update.py [--runs 5] [--repos 50]

The template repository holds the bundled v0.1.0 and this checkout's template as v0.2.0, served
under a URL that git maps to the local copy, so both tools clone the same two versions. Every run
gets a fresh copy of the project (not timed). Targets: hardstart update within 1.5x of copier
update; the fleet scaling with its workers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
URL = "https://templates.example.test/bench/hardstart.git"
GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@localhost",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@localhost",
}


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, check=True,  # noqa: S607
                   capture_output=True)  # fmt: skip


def _template_repo(root: Path) -> Path:
    """v0.1.0 from the bundled history, then this checkout's template as v0.2.0."""
    repo = root / "template"
    _git("clone", "--quiet", str(ROOT / "history" / "template.bundle"), str(repo), cwd=root)
    _git("checkout", "--quiet", "v0.1.0", cwd=repo)
    _git("switch", "--quiet", "-c", "main", cwd=repo)
    shutil.rmtree(repo / "template")
    shutil.copytree(
        ROOT / "template", repo / "template", ignore=shutil.ignore_patterns("node_modules")
    )
    shutil.copy(ROOT / "copier.yml", repo / "copier.yml")
    _git("add", "--all", cwd=repo)
    _git("commit", "--quiet", "-m", "v0.2.0", cwd=repo)
    _git("tag", "v0.2.0", cwd=repo)
    return repo


def _timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 3):
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--repos", type=int, default=50)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        repo = _template_repo(work)
        env = {
            **os.environ, **GIT_ENV, "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": f"url.{repo}.insteadOf", "GIT_CONFIG_VALUE_0": URL,
        }  # fmt: skip
        project = work / "project"
        subprocess.run(
            [str(BIN / "hardstart"), "new", str(project), "--defaults", "-q", "-d",
             "project_name=bench-api", "--template-url", URL, "--template-version", "0.1.0"],
            env=env, check=True,
        )  # fmt: skip

        commands = {
            "copier update": [str(BIN / "copier"), "update", "--defaults", "--quiet",
                              "--vcs-ref", "v0.2.0"],
            "hardstart update": [str(BIN / "hardstart"), "update", "--defaults", "-q",
                                 "--to", "0.2.0"],
        }  # fmt: skip
        times: dict[str, list[float]] = {name: [] for name in commands}
        for run in range(options.runs):
            for name, cmd in commands.items():  # interleaved: load drifts hit both alike
                copy = work / f"run-{run}-{name.split()[0]}"
                shutil.copytree(project, copy, symlinks=True)
                times[name].append(_timed(cmd, copy, env))
        medians = {name: statistics.median(values) for name, values in times.items()}
        for name, median in medians.items():
            print(f"{name:18} median {median:.2f} s over {options.runs} runs")
        ratio = medians["hardstart update"] / medians["copier update"]
        print(f"ratio {ratio:.2f} (target <= 1.5)")

        for workers in (1, 2, 4):
            fleet = work / f"fleet-{workers}"
            paths = []
            for index in range(options.repos):
                target = fleet / f"repo-{index:03}"
                shutil.copytree(project, target, symlinks=True)
                paths.append(str(target))
            cmd = [str(BIN / "hardstart"), "fleet", "update", *paths, "--workers", str(workers),
                   "--to", "0.2.0", "--state", str(fleet / "state.json"), "--json"]  # fmt: skip
            elapsed = _timed(cmd, work, env)
            print(
                f"fleet update, {options.repos} repositories, {workers} worker(s):"
                f" {elapsed:.1f} s ({elapsed / options.repos:.2f} s per repository)"
            )


if __name__ == "__main__":
    main()
