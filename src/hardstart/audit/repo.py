"""The repository under audit: which files it has, their text, and which of them git tracks."""

from __future__ import annotations

import os
import shutil
from functools import cached_property
from pathlib import Path

from hardstart import gitcmd

# Never audited: dependencies, build output and VCS internals (they are not the project's code).
SKIPPED_DIRS = frozenset(
    {".git", "node_modules", "dist", "build", "coverage", ".next", ".turbo", "vendor", ".venv"}
)
# Larger files are generated or data, not configuration or hand-written code.
MAX_BYTES = 1_000_000


class Repo:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._texts: dict[str, str | None] = {}

    @cached_property
    def files(self) -> tuple[str, ...]:
        """Every file of the working tree (relative POSIX paths, sorted), skipped dirs excluded."""
        found: list[str] = []
        for directory, dirs, names in os.walk(self.root):
            dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
            base = Path(directory).relative_to(self.root)
            found.extend((base / name).as_posix() for name in names)
        return tuple(sorted(found))

    @cached_property
    def _git_listing(self) -> frozenset[str] | None:
        """The files git tracks below the root (the root may be a subdirectory of a repository,
        as a package of a monorepo is), or None when git cannot say: not a work tree, no git,
        or a repository git refuses to read (another user's, without safe.directory)."""
        if shutil.which("git") is None:
            return None
        listed = gitcmd.run("ls-files", "-z", cwd=self.root, check=False)
        if listed.returncode != 0:
            return None
        return frozenset(name for name in listed.stdout.split("\0") if name)

    @property
    def is_git(self) -> bool:
        """Whether git could say which files are committed (rules about that apply only then)."""
        return self._git_listing is not None

    @property
    def tracked(self) -> frozenset[str]:
        """Files git tracks, relative to the root (empty when git cannot say)."""
        return self._git_listing or frozenset()

    def exists(self, path: str) -> bool:
        return (self.root / path).is_file()

    def text(self, path: str) -> str | None:
        """The file's text, or None when it is missing, too large or not UTF-8."""
        if path not in self._texts:
            file = self.root / path
            try:
                self._texts[path] = (
                    file.read_text(encoding="utf-8") if file.stat().st_size <= MAX_BYTES else None
                )
            except (OSError, UnicodeDecodeError):
                self._texts[path] = None
        return self._texts[path]

    def matching(self, *suffixes: str) -> list[str]:
        return [f for f in self.files if f.endswith(suffixes)]
