"""Where the template comes from, and which version it is.

By default the template bundled in the package (`hardstart/_template/`, or the repository's
`copier.yml` + `template/` when running from a checkout). `--template PATH` points at another
template directory, for template development and tests.

Every generated project records where its template came from in its answers file as
`_src_path: hardstart` (TEMPLATE_ID: a name, not a place on this machine) and
`_commit: v<version>`: exactly what Copier records when it renders the tag `v<version>` of a
git repository named `hardstart`. `snapshot()` builds that repository from the template's files
(a throwaway repo, tagged), which is what `update` needs to re-render the old version; `new`
renders the plain files directly (cloning costs time) and records the same two lines.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hardstart import __version__, gitcmd
from hardstart.errors import UsageError
from hardstart.questions import CONFIG_NAME

TEMPLATE_ID: Final = "hardstart"
"""The machine-independent `_src_path` recorded in every generated project."""

_PACKAGE_DIR: Final = Path(__file__).resolve().parent

# Never part of a template snapshot, whatever .gitignore files say.
_SNAPSHOT_EXCLUDES: Final = (
    ":(exclude,glob)**/.git/**",
    ":(exclude,glob)**/node_modules/**",
    ":(exclude,glob)**/__pycache__/**",
    ":(exclude,glob)**/*.py[co]",
)

# The snapshot repository ignores the user's git configuration (hooks, signing, templates):
# it is an internal artefact. A fixed identity and date make equal files give equal commits.
_SNAPSHOT_ENV: Final = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "hardstart",
    "GIT_AUTHOR_EMAIL": "hardstart@localhost.invalid",
    "GIT_COMMITTER_NAME": "hardstart",
    "GIT_COMMITTER_EMAIL": "hardstart@localhost.invalid",
    "GIT_AUTHOR_DATE": "2000-01-01T00:00:00+0000",
    "GIT_COMMITTER_DATE": "2000-01-01T00:00:00+0000",
}


@dataclass(frozen=True)
class TemplateSource:
    """A template directory (holding `copier.yml`) and the version it is released as."""

    root: Path
    version: str = __version__

    @property
    def ref(self) -> str:
        return f"v{self.version}"


def bundled() -> TemplateSource:
    """The template shipped with hardstart."""
    for root in (_PACKAGE_DIR / "_template", _PACKAGE_DIR.parent.parent):
        if (root / CONFIG_NAME).is_file():
            return TemplateSource(root=root)
    raise UsageError("the bundled template is missing; reinstall hardstart")


def from_path(path: Path) -> TemplateSource:
    root = path.expanduser().resolve()
    if not (root / CONFIG_NAME).is_file():
        raise UsageError(f"--template {path}: no {CONFIG_NAME} there")
    return TemplateSource(root=root)


def resolve(path: Path | None) -> TemplateSource:
    return bundled() if path is None else from_path(path)


_COPY_IGNORE: Final = shutil.ignore_patterns(".git", "node_modules", "__pycache__", "*.py[co]")


@contextmanager
def plain_files(source: TemplateSource, subdirectory: str) -> Iterator[Path]:
    """Yield a directory with the template's files that is not a git repository root.

    Copier clones a template that is a git repository (with its uncommitted changes, slowly);
    a development checkout or a test fixture is therefore copied, its copier.yml and
    subdirectory only. The installed template is used in place.
    """
    if not (source.root / ".git").exists():
        yield source.root
        return
    copy = Path(tempfile.mkdtemp(prefix="hardstart-template-"))
    try:
        shutil.copy2(source.root / CONFIG_NAME, copy / CONFIG_NAME)
        if subdirectory:
            shutil.copytree(
                source.root / subdirectory, copy / subdirectory, symlinks=True, ignore=_COPY_IGNORE
            )
        else:
            shutil.copytree(
                source.root, copy, symlinks=True, ignore=_COPY_IGNORE, dirs_exist_ok=True
            )
        yield copy
    finally:
        shutil.rmtree(copy, ignore_errors=True)


@contextmanager
def snapshot(source: TemplateSource, subdirectory: str) -> Iterator[Path]:
    """Yield a throwaway git repository whose tag `source.ref` holds the template's files.

    Files are hashed straight from the template directory (`--work-tree`), not copied.
    """
    repo = Path(tempfile.mkdtemp(prefix="hardstart-template-"))
    try:
        paths = [CONFIG_NAME, subdirectory] if subdirectory else ["."]
        work = f"--work-tree={source.root}"
        gitcmd.run("init", "--quiet", cwd=repo, env=_SNAPSHOT_ENV)
        gitcmd.run(
            work, "add", "--force", "--", *paths, *_SNAPSHOT_EXCLUDES, cwd=repo, env=_SNAPSHOT_ENV
        )
        gitcmd.run(
            work,
            "commit",
            "--quiet",
            "--no-verify",
            "--allow-empty",
            "-m",
            f"template {source.ref}",
            cwd=repo,
            env=_SNAPSHOT_ENV,
        )
        gitcmd.run("tag", source.ref, cwd=repo, env=_SNAPSHOT_ENV)
        yield repo
    finally:
        shutil.rmtree(repo, ignore_errors=True)
