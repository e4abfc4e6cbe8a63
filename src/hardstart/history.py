"""The released template versions hardstart carries, so that any of them renders again offline.

Every release adds one commit to a git bundle committed in the repository (`history/`), tagged
`v<version>`, whose tree holds exactly the template files of that release (`copier.yml`, the
template subdirectory and `migrations/`), with the previous release as its parent. A manifest
beside it names, per tag, that tree and the hardstart commit the release was cut from. The
wheel and the sdist carry both files, so an install from either, or from a shallow clone,
renders every release without the git history of the repository it was built from.

A template directory is identified by the git tree of those files: the tree of a release is
that release; any other tree is unreleased, and recorded as such (`unreleased_ref`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from packaging.version import InvalidVersion, Version

from hardstart import gitcmd
from hardstart.errors import HardstartError, UsageError
from hardstart.questions import load

BUNDLE_NAME: Final = "template.bundle"
MANIFEST_NAME: Final = "releases.json"
MIGRATIONS_DIR: Final = "migrations"

_PACKAGE_DIR: Final = Path(__file__).resolve().parent

# Internal repositories ignore the user's git configuration (hooks, signing, templates). A fixed
# identity makes equal files and dates give equal commits.
GIT_ENV: Final = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "hardstart",
    "GIT_AUTHOR_EMAIL": "hardstart@localhost.invalid",
    "GIT_COMMITTER_NAME": "hardstart",
    "GIT_COMMITTER_EMAIL": "hardstart@localhost.invalid",
}

# Never part of a template tree, whatever .gitignore files say.
_EXCLUDES: Final = (
    ":(exclude,glob)**/.git/**",
    ":(exclude,glob)**/node_modules/**",
    ":(exclude,glob)**/__pycache__/**",
    ":(exclude,glob)**/*.py[co]",
)

_UNRELEASED: Final = re.compile(r"^v(?P<version>[^+]+)\+unreleased\.(?P<tree>[0-9a-f]{12,40})$")


@dataclass(frozen=True)
class Release:
    tag: str
    tree: str
    commit: str  # the hardstart commit the release was cut from

    @property
    def version(self) -> Version:
        return parse_version(self.tag)


def parse_version(ref: str) -> Version:
    """`v1.2.3` (or `1.2.3`, or an unreleased ref) as a PEP 440 version."""
    try:
        return Version(ref[1:] if ref.startswith("v") else ref)
    except InvalidVersion:
        raise UsageError(
            f"{ref!r} is not a template version (expected v<major>.<minor>.<patch>)"
        ) from None


def is_downgrade(old: Version, new: Version) -> bool:
    """Whether going from `old` to `new` goes back. Two unreleased trees of one version have no
    order (their local part is a tree id), so only public versions count: a checkout between
    releases may move either way."""
    return Version(new.public) < Version(old.public)


def as_ref(version: str) -> str:
    """`0.2.0` or `v0.2.0` as the tag `v0.2.0` (checked)."""
    parse_version(version)
    return version if version.startswith("v") else f"v{version}"


def unreleased_ref(version: str, tree: str) -> str:
    """What a project rendered from an unreleased template tree records as its `_commit`."""
    return f"v{version}+unreleased.{tree[:12]}"


def unreleased_tree(ref: str) -> str | None:
    """The (abbreviated) tree an unreleased ref names, or None for a release tag."""
    match = _UNRELEASED.match(ref)
    return match["tree"] if match else None


def default_location() -> Path:
    """`history/` of the installed package, or of the repository when running from a checkout."""
    for root in (_PACKAGE_DIR / "_history", _PACKAGE_DIR.parent.parent / "history"):
        if (root / MANIFEST_NAME).is_file():
            return root
    raise HardstartError("the template history is missing; reinstall hardstart")


@dataclass(frozen=True)
class History:
    """The bundle of released template trees and its manifest."""

    location: Path

    @property
    def bundle(self) -> Path:
        return self.location / BUNDLE_NAME

    @property
    def manifest(self) -> Path:
        return self.location / MANIFEST_NAME

    @property
    def releases(self) -> Mapping[str, Release]:
        return _read_manifest(self.manifest)

    def latest(self) -> Release | None:
        releases = sorted(self.releases.values(), key=lambda release: release.version)
        return releases[-1] if releases else None

    def release_of_tree(self, tree: str) -> Release | None:
        return next((r for r in self.releases.values() if r.tree == tree), None)

    @contextmanager
    def repository(self) -> Iterator[Path]:
        """A throwaway bare repository holding every release tag of the bundle."""
        repo = Path(tempfile.mkdtemp(prefix="hardstart-history-"))
        try:
            gitcmd.run("init", "--quiet", "--bare", cwd=repo, env=GIT_ENV)
            if self.bundle.is_file():
                gitcmd.run(
                    "fetch", "--quiet", str(self.bundle), "refs/tags/*:refs/tags/*",
                    cwd=repo, env=GIT_ENV,
                )  # fmt: skip
            yield repo
        finally:
            shutil.rmtree(repo, ignore_errors=True)


@cache
def _read_manifest(path: Path) -> Mapping[str, Release]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise HardstartError(f"{path}: cannot read the template history: {error}") from error
    return {
        tag: Release(tag=tag, tree=entry["tree"], commit=entry["commit"])
        for tag, entry in data["releases"].items()
    }


def write_manifest(path: Path, releases: Mapping[str, Release]) -> None:
    ordered = sorted(releases.values(), key=lambda release: release.version)
    data = {
        "releases": {r.tag: {"tree": r.tree, "commit": r.commit} for r in ordered},
    }
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    _read_manifest.cache_clear()


def template_paths(root: Path, subdirectory: str) -> list[str]:
    """The paths under `root` that make up a template version."""
    paths = ["copier.yml", subdirectory or "."]
    if subdirectory and (root / MIGRATIONS_DIR).is_dir():
        paths.append(MIGRATIONS_DIR)
    return paths


def write_tree(repo: Path, root: Path, subdirectory: str) -> str:
    """Store the template files under `root` in `repo`; return their tree id."""
    env = {**GIT_ENV, "GIT_INDEX_FILE": str(repo / "hardstart-index")}
    try:
        work = f"--work-tree={root.resolve()}"
        paths = template_paths(root, subdirectory)
        gitcmd.run(work, "add", "--force", "--", *paths, *_EXCLUDES, cwd=repo, env=env)
        return gitcmd.run("write-tree", cwd=repo, env=env).stdout.strip()
    finally:
        (repo / "hardstart-index").unlink(missing_ok=True)


def _tree_id(listing: str) -> str:
    """The id git gives a tree object holding the entries `git ls-tree` printed."""
    entries = []
    for line in listing.splitlines():
        meta, name = line.split("\t", 1)
        mode, _, sha = meta.split()
        entries.append((name + "/" if mode == "040000" else name, mode.lstrip("0"), name, sha))
    content = b"".join(
        f"{mode} {name}".encode() + b"\0" + bytes.fromhex(sha)
        for _, mode, name, sha in sorted(entries)
    )
    return hashlib.sha1(b"tree %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


def commit_with_tree(root: Path, tree: str, depth: int = 2000) -> str | None:
    """The newest of the last `depth` commits of the git checkout at `root` whose template files
    form `tree` (an abbreviated id), or None: how an unreleased project finds its template."""
    log = gitcmd.run("log", "--format=%H", f"--max-count={depth}", cwd=root, check=False)
    if log.returncode != 0:
        return None
    try:
        subdirectory = load(root).subdirectory
    except HardstartError:
        return None
    paths = ["copier.yml", subdirectory, MIGRATIONS_DIR] if subdirectory else ["."]
    for commit in log.stdout.split():
        listing = gitcmd.run("ls-tree", commit, "--", *paths, cwd=root, check=False).stdout
        if listing and _tree_id(listing).startswith(tree):
            return commit
    return None


def tree_of(root: Path, subdirectory: str) -> str:
    """The git tree id of the template files under `root` (what identifies a version)."""
    repo = Path(tempfile.mkdtemp(prefix="hardstart-tree-"))
    try:
        gitcmd.run("init", "--quiet", "--bare", cwd=repo, env=GIT_ENV)
        return write_tree(repo, root, subdirectory)
    finally:
        shutil.rmtree(repo, ignore_errors=True)


def extract(repo: Path, treeish: str, dest: Path) -> None:
    """Write the files of `treeish` (a ref, or `HEAD:sub/dir`) in the git directory `repo` into
    the directory `dest`, modes and symbolic links included."""
    index = Path(tempfile.mkstemp(prefix="hardstart-index-")[1])
    env = {**GIT_ENV, "GIT_INDEX_FILE": str(index)}
    try:
        index.unlink()  # git wants to create it
        gitcmd.run(f"--git-dir={repo}", "read-tree", treeish, cwd=dest, env=env)
        gitcmd.run(
            f"--git-dir={repo}", f"--work-tree={dest}", "-c", "core.autocrlf=false",
            "checkout-index", "--all", "--force",
            cwd=dest, env=env,
        )  # fmt: skip
    finally:
        index.unlink(missing_ok=True)
