"""A destination directory and the project in it: preconditions, atomic creation, git."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Final

from hardstart import gitcmd
from hardstart.errors import UsageError

# Used only when the user has no git identity configured.
FALLBACK_NAME: Final = "hardstart"
FALLBACK_EMAIL: Final = "hardstart@localhost.invalid"


def default_destination(project_name: str) -> Path:
    """`@scope/name` → `name`; any other npm name is already a directory name."""
    return Path(project_name.rsplit("/", 1)[-1])


def check_destination(dest: Path) -> None:
    """Refuse a destination that is a file or a non-empty directory (exit 2)."""
    if dest.is_symlink() and not dest.exists():
        raise UsageError(f"{dest}: is a dangling symbolic link")
    if dest.exists():
        if not dest.is_dir():
            raise UsageError(f"{dest}: exists and is not a directory")
        if any(dest.iterdir()):
            raise UsageError(f"{dest}: exists and is not empty; choose another destination")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _move_into(source: Path, dest: Path) -> None:
    """Move the entries of `source` into the existing empty `dest`, or none of them."""
    moved: list[Path] = []
    try:
        for entry in source.iterdir():
            target = dest / entry.name
            entry.rename(target)
            moved.append(target)
    except BaseException:
        for target in moved:
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)
        raise


@contextmanager
def staging(dest: Path) -> Iterator[Path]:
    """Yield an empty temporary directory next to `dest`; on success move it to `dest`.

    The temporary directory is on the same filesystem, so the final move is a rename: `dest`
    either does not exist or holds the complete project. (An existing empty `dest` is kept, as
    it may be a shell's working directory; the entries are renamed into it.) On any failure or
    interrupt, everything created here, missing parent directories included, is removed.
    """
    dest = dest.absolute()
    check_destination(dest)
    created: list[Path] = []
    parent = dest.parent
    while not parent.exists():
        created.append(parent)
        parent = parent.parent
    try:
        try:
            for directory in reversed(created):
                directory.mkdir()
            temp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.hardstart-", dir=dest.parent))
        except OSError as error:
            raise UsageError(f"{dest}: cannot create: {error.strerror}") from error
        try:
            yield temp
            check_destination(dest)  # it may have appeared meanwhile
            try:
                if dest.is_dir():
                    _move_into(temp, dest)
                else:
                    temp.chmod(0o777 & ~_umask())
                    temp.rename(dest)
            except OSError as error:
                raise UsageError(f"{dest}: cannot create: {error.strerror}") from error
        finally:
            shutil.rmtree(temp, ignore_errors=True)
    except BaseException:
        for directory in created:
            with suppress(OSError):
                directory.rmdir()
        raise


def _has_identity(repo: Path) -> bool:
    result = gitcmd.run("config", "--get", "user.email", cwd=repo, check=False)
    return result.returncode == 0 and bool(result.stdout.strip())


def init_repository(repo: Path, message: str) -> None:
    """Make `repo` a git repository with one commit holding every file in it."""
    gitcmd.run("-c", "init.defaultBranch=main", "init", "--quiet", cwd=repo)
    identity: list[str] = []
    if not _has_identity(repo):
        identity = ["-c", f"user.name={FALLBACK_NAME}", "-c", f"user.email={FALLBACK_EMAIL}"]
    gitcmd.run("add", "--all", cwd=repo)
    gitcmd.run(
        *identity,
        # A signing prompt or a failing hook must not stop the very first commit.
        "-c",
        "commit.gpgsign=false",
        "commit",
        "--quiet",
        "--no-verify",
        "-m",
        message,
        cwd=repo,
    )
