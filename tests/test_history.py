"""The template history hardstart carries: every release renders again, offline, and a project
made by the first release (0.1.0, commit ab87c51) updates to the installed template."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from conftest import REPO_ROOT, git
from hardstart import __version__, history
from hardstart import template as templates
from hardstart.cli import app
from hardstart.errors import EXIT_USAGE

STORE = history.History(REPO_ROOT / "history")
FIRST = ("v0.1.0", "ab87c517160333cbba5b52a92f9e9d4734d217c4")


def test_first_release_is_the_template_of_commit_ab87c51() -> None:
    release = STORE.releases[FIRST[0]]
    assert release.commit == FIRST[1]


def test_every_release_in_the_manifest_is_in_the_bundle_with_its_tree() -> None:
    listed = git("bundle", "list-heads", str(STORE.bundle), cwd=REPO_ROOT).splitlines()
    tags = {line.split()[1].removeprefix("refs/tags/") for line in listed}
    assert tags == set(STORE.releases)
    with STORE.repository() as repo:
        previous = None
        for release in sorted(STORE.releases.values(), key=lambda r: r.version):
            tree = git("rev-parse", f"{release.tag}^{{tree}}", cwd=repo).strip()
            assert tree == release.tree, release.tag
            message = git("log", "-1", "--format=%B", release.tag, cwd=repo)
            assert f"From hardstart commit {release.commit}." in message
            parents = git("log", "-1", "--format=%P", release.tag, cwd=repo).split()
            expected = [git("rev-parse", previous, cwd=repo).strip()] if previous else []
            assert parents == expected, "each release follows the previous one"
            previous = release.tag


def _source_available(commit: str) -> bool:
    probe = subprocess.run(
        ["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=REPO_ROOT, check=False
    )
    return probe.returncode == 0


@pytest.mark.parametrize("tag", sorted(STORE.releases))
def test_release_tree_matches_the_recorded_source_commit(tag: str, tmp_path: Path) -> None:
    """Rebuilt from this repository's own history, the release holds exactly those files."""
    release = STORE.releases[tag]
    if not _source_available(release.commit):
        pytest.skip(f"{release.commit} is not in this clone (shallow)")
    listed = git("ls-tree", "--name-only", release.commit, cwd=REPO_ROOT).split()
    paths = [p for p in ("copier.yml", "template", "migrations") if p in listed]
    archive = subprocess.run(
        ["git", "archive", "--format=tar", release.commit, "--", *paths],
        cwd=REPO_ROOT, capture_output=True, check=True,
    ).stdout  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tmp_path, filter="data")
    assert history.tree_of(tmp_path, "template") == release.tree


def test_this_tree_is_a_release_or_says_it_is_not() -> None:
    ref = templates.identify(REPO_ROOT)
    tree = history.tree_of(REPO_ROOT, "template")
    release = STORE.release_of_tree(tree)
    if release is not None:
        assert ref == release.tag
    else:
        assert ref == f"v{__version__}+unreleased.{tree[:12]}"


def test_a_release_renders_offline(workdir: Path) -> None:
    result = CliRunner().invoke(
        app, ["new", "-q", "--defaults", "--template-version", "0.1.0", "old"]
    )
    assert result.exit_code == 0, result.output
    recorded = yaml.safe_load((workdir / "old" / ".copier-answers.yml").read_text())
    assert recorded["_commit"] == "v0.1.0"
    unknown = CliRunner().invoke(
        app, ["new", "-q", "--defaults", "--template-version", "0.0.9", "x"]
    )
    assert unknown.exit_code == EXIT_USAGE
    assert "v0.0.9 is unknown to hardstart" in unknown.stderr
    assert not (workdir / "x").exists()


def _as_made_by_0_1_0(project: Path) -> None:
    """0.1.0 recorded `_src_path: hardstart` (no URL yet)."""
    answers = project / ".copier-answers.yml"
    text = answers.read_text().replace(
        f"_src_path: {templates.TEMPLATE_ID}", "_src_path: hardstart"
    )
    answers.write_text(text)
    git("commit", "--quiet", "--amend", "--all", "--no-edit", cwd=project)


def test_a_0_1_0_project_moved_elsewhere_updates_to_the_installed_template(
    workdir: Path, tmp_path: Path
) -> None:
    made = CliRunner().invoke(
        app, ["new", "-q", "--defaults", "--template-version", "0.1.0", "svc"]
    )
    assert made.exit_code == 0, made.output
    _as_made_by_0_1_0(workdir / "svc")
    moved = tmp_path / "elsewhere" / "svc"
    shutil.move(str(workdir / "svc"), moved)
    plan = CliRunner().invoke(app, ["update", str(moved), "--plan", "--json"])
    assert plan.exit_code == 0, plan.output
    planned = json.loads(plan.stdout)
    assert planned["from"] == "v0.1.0"
    assert planned["to"] == templates.identify(REPO_ROOT)
    result = CliRunner().invoke(app, ["update", str(moved), "--commit", "-q"])
    assert result.exit_code == 0, result.output
    recorded = yaml.safe_load((moved / ".copier-answers.yml").read_text())
    assert recorded["_src_path"] == templates.TEMPLATE_ID
    assert recorded["_commit"] == templates.identify(REPO_ROOT)
    check = CliRunner().invoke(app, ["check", str(moved)])
    assert check.exit_code == 0, check.output


def test_unreleased_projects_update_only_with_the_same_tree(
    workdir: Path, tiny_template: Path
) -> None:
    made = CliRunner().invoke(
        app, ["new", "-q", "--template", str(tiny_template), "-d", "project_name=t", "t"]
    )
    assert made.exit_code == 0, made.output
    refused = CliRunner().invoke(app, ["update", "t"])
    assert refused.exit_code == EXIT_USAGE
    assert "unreleased template" in refused.stderr
    assert "--template DIR" in refused.stderr
    same = CliRunner().invoke(app, ["update", "t", "--template", str(tiny_template)])
    assert same.exit_code == 0, same.output
    assert "Nothing to change" in same.stdout


def test_an_unreleased_project_finds_its_template_in_the_checkouts_history(
    workdir: Path, tiny_template: Path, tmp_path: Path
) -> None:
    """A team that installed hardstart from a commit between releases updates with --template
    pointing at a checkout that has that commit."""
    checkout = tmp_path / "hardstart-checkout"
    shutil.copytree(tiny_template, checkout)
    args = ["new", "-q", "--template", str(checkout), "-d", "project_name=t", "t"]
    assert CliRunner().invoke(app, args).exit_code == 0
    readme = checkout / "template" / "README.md.jinja"
    readme.write_text(readme.read_text() + "\nA newer paragraph.\n")
    git("commit", "--quiet", "--all", "-m", "newer template", cwd=checkout)
    result = CliRunner().invoke(app, ["update", "t", "--template", str(checkout), "--json"])
    assert result.exit_code == 0, result.output
    changed = {f["path"]: f["outcome"] for f in json.loads(result.stdout)["files"]}
    assert changed["README.md"] == "updated"
    assert (workdir / "t" / "README.md").read_text().endswith("\nA newer paragraph.\n")


@pytest.mark.parametrize(
    ("old", "new", "downgrade"),
    [
        ("v0.3.0", "v0.2.0", True),
        ("v0.3.0+unreleased.1ad070296442", "v0.2.0", True),
        ("v0.3.0", "v0.3.0+unreleased.000000000000", False),
        # Tree ids have no order: either direction between two unreleased trees is allowed.
        ("v0.3.0+unreleased.cf8e263beaa1", "v0.3.0+unreleased.1ad070296442", False),
        ("v0.3.0+unreleased.1ad070296442", "v0.3.0+unreleased.cf8e263beaa1", False),
        ("v0.2.0", "v0.3.0", False),
    ],
)
def test_only_an_older_public_version_is_a_downgrade(old: str, new: str, downgrade: bool) -> None:
    assert history.is_downgrade(history.parse_version(old), history.parse_version(new)) is downgrade


RELEASE_TAGS = sorted(STORE.releases, key=history.parse_version)


@pytest.mark.parametrize(
    ("tag", "without_ci"), [(tag, i % 2 == 1) for i, tag in enumerate(RELEASE_TAGS)]
)
def test_every_release_updates_to_the_installed_template_and_passes_its_audit(
    workdir: Path, tag: str, without_ci: bool
) -> None:
    """The path every team takes: a project of a real release (the GitHub and the no-CI variant
    in turn), updated with the defaults for new questions, then checked and audited."""
    variant = ["-d", "ci_provider=none", "-d", "update_bot=renovate"] if without_ci else []
    made = CliRunner().invoke(
        app, ["new", "-q", "--defaults", "--template-version", tag, *variant, "svc"]
    )
    assert made.exit_code == 0, made.output
    project = workdir / "svc"
    if tag == FIRST[0]:
        _as_made_by_0_1_0(project)
    result = CliRunner().invoke(app, ["update", str(project), "--defaults", "--commit", "-q"])
    assert result.exit_code == 0, result.output
    assert CliRunner().invoke(app, ["check", str(project)]).exit_code == 0
    audit = CliRunner().invoke(app, ["audit", str(project), "--json"])
    assert audit.exit_code == 0, audit.output
    summary = json.loads(audit.stdout)["summary"]
    assert summary["failed"] == 0
    assert summary["waived"] == (6 if without_ci else 0)
