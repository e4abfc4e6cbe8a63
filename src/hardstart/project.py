"""A destination directory and the project in it: preconditions, atomic creation, git."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from hardstart import gitcmd
from hardstart.errors import NotAProject, NotARepository, UsageError
from hardstart.questions import DEFAULT_ANSWERS_FILE

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


def _identity(repo: Path) -> list[str]:
    if _has_identity(repo):
        return []
    return ["-c", f"user.name={FALLBACK_NAME}", "-c", f"user.email={FALLBACK_EMAIL}"]


def _commit(repo: Path, message: str) -> None:
    gitcmd.run(
        *_identity(repo),
        # A signing prompt or a failing hook must not stop a commit made for the user.
        "-c",
        "commit.gpgsign=false",
        "commit",
        "--quiet",
        "--no-verify",
        "-m",
        message,
        cwd=repo,
    )


def init_repository(repo: Path, message: str) -> None:
    """Make `repo` a git repository with one commit holding every file in it."""
    gitcmd.run("-c", "init.defaultBranch=main", "init", "--quiet", cwd=repo)
    gitcmd.run("add", "--all", cwd=repo)
    _commit(repo, message)


def commit_all(repo: Path, paths: list[str], message: str) -> None:
    """One commit of `paths` (written or removed) in the repository at `repo`."""
    if paths:
        gitcmd.run("add", "--all", "--", *paths, cwd=repo)
    _commit(repo, message)


# -- a generated project -----------------------------------------------------------------------


@dataclass(frozen=True)
class Generated:
    """A project hardstart generated: where it is in its git repository and what it recorded."""

    root: Path
    git_dir: Path
    prefix: str  # the project's directory inside its repository ("" at the top)
    answers_file: str
    recorded: Mapping[str, Any]

    @property
    def ref(self) -> str:
        return str(self.recorded["_commit"])

    @property
    def src_path(self) -> str:
        return str(self.recorded["_src_path"])

    @property
    def answers(self) -> dict[str, Any]:
        return {k: v for k, v in self.recorded.items() if not k.startswith("_")}

    @property
    def head_tree(self) -> str:
        return f"HEAD:{self.prefix}"

    def dirty(self) -> list[str]:
        """Changed, staged and untracked paths (an untracked file could be overwritten)."""
        status = gitcmd.run(
            "status", "--porcelain", "--untracked-files=all", "--", ".", cwd=self.root
        )
        return [line[3:] for line in status.stdout.splitlines() if line]


def read_recorded(root: Path, answers_file: str = DEFAULT_ANSWERS_FILE) -> dict[str, Any]:
    """The answers file of a generated project; exit 2 when it is missing or broken."""
    path = root / answers_file
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotAProject(f"{root}: not a hardstart project (no {answers_file})") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        reason = " ".join(str(error).split())
        raise UsageError(
            f"{path}: cannot read the recorded answers ({reason}); restore it from git history"
        ) from error
    if not isinstance(data, dict) or not all(isinstance(key, str) for key in data):
        raise UsageError(f"{path}: not a mapping of answers; restore it from git history")
    for key in ("_commit", "_src_path"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise UsageError(
                f"{path}: {key} is missing; it records which template version made the project"
                " (restore it from git history)"
            )
    return data


def open_generated(path: Path, answers_file: str = DEFAULT_ANSWERS_FILE) -> Generated:
    """A generated project at `path`, or exit 2 saying why it is not one."""
    root = path.absolute()
    if not root.is_dir():
        raise UsageError(f"{path}: no such directory")
    recorded = read_recorded(root, answers_file)
    inside = gitcmd.run("rev-parse", "--absolute-git-dir", "--show-prefix", cwd=root, check=False)
    if inside.returncode != 0:
        raise NotARepository(
            f"{path}: not a git repository; updates are merged into git-tracked files so you"
            " can review them (run git init and commit first)"
        )
    git_dir, prefix = [*inside.stdout.splitlines(), ""][:2]
    if gitcmd.run("rev-parse", "--verify", "--quiet", "HEAD", cwd=root, check=False).returncode:
        raise UsageError(f"{path}: the repository has no commit yet; commit the project first")
    return Generated(
        root=root,
        git_dir=Path(git_dir),
        prefix=prefix,
        answers_file=answers_file,
        recorded=recorded,
    )
