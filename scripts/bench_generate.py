"""Whole-process timing of `hardstart new --defaults` against a bare `copier copy` of one template.

    python scripts/bench_generate.py [--runs 10]

Both commands start a fresh interpreter and write a new project, as a user's shell would. The target
is hardstart within 1.5x of copier: validation, the temporary directory, the git repository and its
first commit must stay cheap next to rendering.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _time(cmd: list[str], dest: Path) -> float:
    shutil.rmtree(dest, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs

    with tempfile.TemporaryDirectory() as tmp:
        # A clean, tagged copy of the template, so both tools read the same files from git.
        template = Path(tmp) / "template"
        shutil.copytree(ROOT / "template", template / "template")
        shutil.copy(ROOT / "copier.yml", template / "copier.yml")
        git = ["git", "-C", str(template)]
        subprocess.run([*git, "init", "-q"], check=True)
        subprocess.run([*git, "add", "-A"], check=True)
        subprocess.run(
            [
                *git,
                "-c",
                "user.name=bench",
                "-c",
                "user.email=bench@localhost",
                "commit",
                "-qm",
                "template",
            ],
            check=True,
        )
        subprocess.run([*git, "tag", "v0.1.0"], check=True)

        dest = Path(tmp) / "out"
        data = ["--data", "project_name=bench-api"]
        commands = {
            "copier copy": [
                str(BIN / "copier"),
                "copy",
                "--defaults",
                "--quiet",
                *data,
                str(template),
                str(dest),
            ],
            "hardstart new": [
                str(BIN / "hardstart"),
                "new",
                str(dest),
                "--defaults",
                "-q",
                *data,
                "--template",
                str(template),
            ],
        }
        timings: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):  # interleaved, so drift on the machine hits both alike
            for name, cmd in commands.items():
                timings[name].append(_time(cmd, dest))

    medians = {name: statistics.median(values) for name, values in timings.items()}
    print(f"| command | median of {runs} (s) | min (s) | max (s) |")
    print("|---|---|---|---|")
    for name, values in timings.items():
        print(f"| `{name}` | {medians[name]:.3f} | {min(values):.3f} | {max(values):.3f} |")
    ratio = medians["hardstart new"] / medians["copier copy"]
    verdict = "PASS" if ratio <= 1.5 else "MISS"
    print(f"\nhardstart / copier = {ratio:.2f} (target <= 1.50): {verdict}")


if __name__ == "__main__":
    main()
