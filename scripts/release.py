"""Release a template version: add the template of a commit to the history that hardstart carries.

    python scripts/release.py 0.2.0            # the template as committed at HEAD
    python scripts/release.py 0.1.0 ab87c51    # the template as of an earlier commit

Takes `copier.yml`, `template/` and `migrations/` from the commit (never the work tree), adds one
commit holding exactly those files to `history/template.bundle` (its parent is the previous
release), tags it `v<version>`, and records the tag, its tree and the source commit in
`history/releases.json`. Commit both files. A released tag is never rewritten.
"""

from __future__ import annotations

import argparse
import io
import sys
import tarfile
import tempfile
from pathlib import Path

from hardstart import gitcmd, history

ROOT = Path(__file__).resolve().parent.parent


def _git(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    return gitcmd.run(*args, cwd=cwd, env={**history.GIT_ENV, **(env or {})}).stdout.strip()


def _export(commit: str, dest: Path) -> None:
    """The template files of `commit` in this repository, written into `dest`."""
    listed = _git("ls-tree", "--name-only", commit, cwd=ROOT).splitlines()
    paths = [p for p in ("copier.yml", "template", history.MIGRATIONS_DIR) if p in listed]
    archive = gitcmd.run_bytes("archive", "--format=tar", commit, "--", *paths, cwd=ROOT)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")


def release(version: str, commit: str) -> history.Release:
    tag = f"v{version}"
    history.parse_version(tag)
    store = history.History(ROOT / "history")
    releases = dict(store.releases) if store.manifest.is_file() else {}
    if tag in releases:
        raise SystemExit(f"{tag} is already released; a released tag is never rewritten")
    source = _git("rev-parse", "--verify", f"{commit}^{{commit}}", cwd=ROOT)
    date = _git("show", "-s", "--format=%cI", source, cwd=ROOT)
    previous = store.latest() if releases else None
    with store.repository() as repo, tempfile.TemporaryDirectory() as files:
        _export(source, Path(files))
        tree = history.write_tree(repo, Path(files), "template")
        parent = ["-p", f"refs/tags/{previous.tag}"] if previous else []
        message = f"hardstart template {tag}\n\nFrom hardstart commit {source}.\n"
        dated = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
        snapshot = _git("commit-tree", tree, *parent, "-m", message, cwd=repo, env=dated)
        _git("tag", tag, snapshot, cwd=repo)
        store.location.mkdir(exist_ok=True)
        _git("bundle", "create", "--quiet", str(store.bundle), "--tags", cwd=repo)
    releases[tag] = history.Release(tag=tag, tree=tree, commit=source)
    history.write_manifest(store.manifest, releases)
    return releases[tag]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version", help="the version to release, e.g. 0.2.0")
    parser.add_argument("commit", nargs="?", default="HEAD", help="source commit (default HEAD)")
    args = parser.parse_args()
    made = release(args.version, args.commit)
    size = (ROOT / "history" / history.BUNDLE_NAME).stat().st_size
    print(f"released {made.tag}: tree {made.tree} from {made.commit} (bundle {size} bytes)")


if __name__ == "__main__":
    sys.exit(main())
