"""Where a template comes from and which version it is.

Three sources, all ending as a directory of plain template files that Copier renders:
- the template bundled with hardstart (the installed package's `_template/`, or the checkout's
  `copier.yml` + `template/`) and, for updates, any release in the bundled history;
- `--template DIR`, a template directory (template development, tests);
- an organisation's own template repository, `--template-url URL` (cloned with git, at a tag).

Every generated project records `_src_path` and `_commit` in its answers file, as Copier does for
a git template. For the bundled template, `_src_path` is TEMPLATE_ID: a URL under the reserved
`.invalid` domain, which Copier reads as a git source but no one can ever serve, so a plain
`copier update` can only reach it through a local `url.<copy>.insteadOf` mapping. `_commit` is
the release tag whose files rendered the project, or an unreleased ref naming the exact tree.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from packaging.version import Version

from hardstart import __version__, gitcmd, history
from hardstart.errors import UsageError
from hardstart.questions import CONFIG_NAME, load

TEMPLATE_ID: Final = "https://hardstart.invalid/hardstart.git"
"""The machine-independent `_src_path` recorded for the bundled template."""

LEGACY_IDS: Final = frozenset({"hardstart"})
"""`_src_path` values of earlier releases that also mean the bundled template (0.1.0)."""

_PACKAGE_DIR: Final = Path(__file__).resolve().parent


@dataclass(frozen=True)
class TemplateSource:
    """A directory of template files (holding `copier.yml`), the version they are, and the
    `_src_path` a project rendered from them records."""

    root: Path
    ref: str
    src_path: str = TEMPLATE_ID
    trusted: bool = True  # its migrations may run (hardstart's own, or a directory you chose)

    @property
    def version(self) -> Version:
        return history.parse_version(self.ref)


def is_bundled_id(src_path: str) -> bool:
    return src_path == TEMPLATE_ID or src_path in LEGACY_IDS


def identify(root: Path) -> str:
    """The release whose files `root` holds, or an unreleased ref naming their tree."""
    tree = history.tree_of(root, load(root).subdirectory)
    release = history.History(history.default_location()).release_of_tree(tree)
    return release.tag if release else history.unreleased_ref(__version__, tree)


def _bundled_root() -> Path:
    for root in (_PACKAGE_DIR / "_template", _PACKAGE_DIR.parent.parent):
        if (root / CONFIG_NAME).is_file():
            return root
    raise UsageError("the bundled template is missing; reinstall hardstart")


def bundled() -> TemplateSource:
    """The template shipped with hardstart."""
    root = _bundled_root()
    return TemplateSource(root=root, ref=identify(root))


def from_path(path: Path) -> TemplateSource:
    root = path.expanduser().resolve()
    if not (root / CONFIG_NAME).is_file():
        raise UsageError(f"--template {path}: no {CONFIG_NAME} there")
    return TemplateSource(root=root, ref=identify(root))


def resolve(path: Path | None) -> TemplateSource:
    return bundled() if path is None else from_path(path)


def _unknown(ref: str, known: list[str]) -> UsageError:
    listed = ", ".join(known) or "none"
    return UsageError(
        f"template version {ref} is unknown to hardstart {__version__} (it knows {listed});"
        " install a hardstart that has it"
    )


@contextmanager
def bundled_release(ref: str, local: TemplateSource | None = None) -> Iterator[TemplateSource]:
    """The bundled template's files as of `ref`: a release from the history, or an unreleased
    tree that `local` (a `--template DIR`) holds, now or in one of its git commits."""
    if local is not None and local.ref == ref:
        yield local
        return
    tree = history.unreleased_tree(ref)
    if tree is not None:
        commit = history.commit_with_tree(local.root, tree) if local is not None else None
        if local is None or commit is None:
            raise UsageError(
                f"the project was made from an unreleased template ({ref}); pass --template DIR"
                " with that same template tree, or a git checkout of it that has the commit"
            )
        git_dir = gitcmd.run("rev-parse", "--absolute-git-dir", cwd=local.root).stdout.strip()
        with _scratch() as files:
            history.extract(Path(git_dir), commit, files)
            yield TemplateSource(root=files, ref=ref)
        return
    store = history.History(history.default_location())
    if ref not in store.releases:
        raise _unknown(ref, sorted(store.releases, key=history.parse_version))
    with store.repository() as repo, _scratch() as files:
        history.extract(repo, f"refs/tags/{ref}", files)
        yield TemplateSource(root=files, ref=ref)


@contextmanager
def _scratch() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="hardstart-template-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


_URL: Final = re.compile(r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/[^\s?#]+$")


def check_url(url: str) -> str:
    """An organisation's template repository: an https git URL (Renovate's Copier manager
    takes nothing else, and it carries no machine path)."""
    if not _URL.match(url):
        raise UsageError(
            f"--template-url {url}: expected an https git URL, e.g."
            " https://git.example.com/platform/hardstart-template.git"
        )
    return url


def remote_tags(url: str) -> list[str]:
    """The version tags of the template repository at `url`, oldest first."""
    listed = gitcmd.run("ls-remote", "--tags", "--refs", url, cwd=Path.cwd(), check=False)
    if listed.returncode != 0:
        detail = (listed.stderr.strip().splitlines() or ["unreachable"])[-1]
        raise UsageError(f"template repository {url}: {detail}")
    tags = [line.split("refs/tags/", 1)[1] for line in listed.stdout.splitlines() if line]
    versions = []
    for tag in tags:
        try:
            versions.append((history.parse_version(tag), tag))
        except UsageError:
            continue  # not a release tag
    return [tag for _, tag in sorted(versions)]


@contextmanager
def from_url(url: str, ref: str | None = None, trust: bool = False) -> Iterator[TemplateSource]:
    """The template repository at `url` (git, with the user's git configuration) as of the tag
    `ref`, or its newest version tag. Its migrations run only when `trust` is given."""
    tags = remote_tags(url)
    if not tags:
        raise UsageError(f"template repository {url}: no version tags (v<major>.<minor>...)")
    if ref is None:
        ref = tags[-1]
    elif ref not in tags:
        raise UsageError(
            f"template version {ref}: no such version in {url} (it has {', '.join(tags)})"
        )
    with _scratch() as clone:
        result = gitcmd.run(
            "clone", "--quiet", "--depth=1", f"--branch={ref}", "--", url, str(clone),
            cwd=clone.parent, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            detail = (result.stderr.strip().splitlines() or ["cannot clone"])[-1]
            raise UsageError(f"template repository {url} at {ref}: {detail}")
        if not (clone / CONFIG_NAME).is_file():
            raise UsageError(f"template repository {url} at {ref}: no {CONFIG_NAME} there")
        yield TemplateSource(root=clone, ref=ref, src_path=url, trusted=trust)


_COPY_IGNORE: Final = shutil.ignore_patterns(".git", "node_modules", "__pycache__", "*.py[co]")


@contextmanager
def plain_files(source: TemplateSource, subdirectory: str) -> Iterator[Path]:
    """Yield a directory with the template's files that is not a git repository root.

    Copier clones a template that is a git repository (with its uncommitted changes, slowly);
    a development checkout, a clone or a test fixture is therefore copied, its copier.yml and
    subdirectory only. Plain directories are used in place.
    """
    if not (source.root / ".git").exists():
        yield source.root
        return
    with _scratch() as copy:
        for name in history.template_paths(source.root, subdirectory):
            if name == ".":
                shutil.copytree(
                    source.root, copy, symlinks=True, ignore=_COPY_IGNORE, dirs_exist_ok=True
                )
            elif (source.root / name).is_dir():
                shutil.copytree(source.root / name, copy / name, symlinks=True, ignore=_COPY_IGNORE)
            else:
                shutil.copy2(source.root / name, copy / name)
        yield copy
