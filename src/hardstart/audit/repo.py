"""The repository under audit: which files it has, their text, and which of them git tracks."""

from __future__ import annotations

import os
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
    def is_git(self) -> bool:
        return (self.root / ".git").exists()

    @cached_property
    def tracked(self) -> frozenset[str]:
        """Files git tracks (empty outside git)."""
        if not self.is_git:
            return frozenset()
        listed = gitcmd.run("ls-files", "-z", cwd=self.root, check=False).stdout
        return frozenset(name for name in listed.split("\0") if name)

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
