"""`hardstart fleet status` and `fleet update` over 21 repositories of every kind: outdated,
current, dirty, drifted, with a conflict, not a git repository, not a project."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import git
from hardstart.cli import app
from hardstart.errors import EXIT_OUTDATED, EXIT_USAGE
from releases import URL, copy_project, make_releases, serve

BRANCH = "hardstart/update-3.0.0"

KINDS = {
    "outdated": 6,  # v1, clean: updated on the branch
    "current": 4,  # v3: nothing to do
    "dirty": 3,  # v1 with an untracked file: refused, untouched
    "drifted": 3,  # v3 with a managed file edited and committed: reported, nothing to update
    "conflict": 2,  # v1 with an edit on the line v3 changes: committed with markers for review
    "nogit": 2,  # the files of a project without its repository
    "empty": 1,  # not a project at all
}


def _generate(version: str, dest: Path) -> Path:
    args = ["new", "-q", "--template-url", URL, "--template-version", version, str(dest)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return dest


def _commit(repo: Path, message: str) -> None:
    git("add", "--all", cwd=repo)
    git("commit", "--quiet", "-m", message, cwd=repo)


@pytest.fixture
def fleet_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict[str, str]]:
    """The repositories under one directory, and the kind of each."""
    releases = make_releases(tmp_path / "template")
    serve(monkeypatch, releases)
    v1 = _generate("1.0.0", tmp_path / "pristine" / "v1")
    v3 = _generate("3.0.0", tmp_path / "pristine" / "v3")
    root = tmp_path / "repos"
    kinds: dict[str, str] = {}
    for kind, count in KINDS.items():
        for index in range(count):
            repo = root / f"{kind}-{index}"
            kinds[str(repo)] = kind
            if kind == "empty":
                repo.mkdir(parents=True)
                continue
            copy_project(v3 if kind in {"current", "drifted"} else v1, repo)
            if kind == "dirty":
                (repo / "scratch.txt").write_text("work in progress\n")
            elif kind == "drifted":
                (repo / "src/security.ts").write_text("export const csp = 'off';\n")
                _commit(repo, "relax the policy")
            elif kind == "conflict":
                security = repo / "src/security.ts"
                security.write_text(security.read_text().replace("'v1'", "'ours'"))
                _commit(repo, "our policy")
            elif kind == "nogit":
                shutil.rmtree(repo / ".git")
    return root, kinds


def _run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def _snapshot(repo: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(repo)): p.read_bytes()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and ".git" not in p.parts
    }


def test_fleet_status_and_update(fleet_dir: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    _, kinds = fleet_dir
    listing = tmp_path / "repos.txt"
    listing.write_text("# the fleet\n" + "\n".join(kinds) + "\n")
    before = {repo: _snapshot(Path(repo)) for repo in kinds}
    heads = {
        repo: git("rev-parse", "HEAD", cwd=Path(repo)).strip()
        for repo, kind in kinds.items()
        if kind not in {"nogit", "empty"}
    }

    # -- status ---------------------------------------------------------------------------------
    status = _run("fleet", "status", "--from", str(listing), "--workers", "2", "--json")
    assert status.exit_code == EXIT_OUTDATED, status.output
    rows = {row["path"]: row for row in json.loads(status.stdout)}
    expected_status = {
        "outdated": "outdated",
        "current": "current",
        "dirty": "dirty",
        "drifted": "drifted",
        "conflict": "outdated",
        "nogit": "not a git repository",
        "empty": "not a project",
    }
    assert {repo: row["state"] for repo, row in rows.items()} == {
        repo: expected_status[kind] for repo, kind in kinds.items()
    }
    for repo, kind in kinds.items():
        if kind in {"outdated", "conflict", "dirty"}:
            assert rows[repo]["version"] == "v1.0.0"
            assert rows[repo]["target"] == "v3.0.0"
        if kind == "drifted":
            assert rows[repo]["drifted"] == ["src/security.ts"]
        if kind == "nogit":
            assert "not a git repository" in rows[repo]["detail"]

    markdown = _run("fleet", "status", *kinds, "--markdown")
    assert markdown.stdout.startswith("### hardstart fleet status\n\n| repository | state |")
    assert markdown.stdout.count("\n| ") == len(kinds) + 1

    # -- update ---------------------------------------------------------------------------------
    state = tmp_path / "last-run.json"
    update = _run(
        "fleet", "update", *kinds, "--workers", "2", "--trust", "--state", str(state), "--json"
    )
    assert update.exit_code == EXIT_USAGE, update.output  # some repositories were refused
    outcomes = {row["path"]: row for row in json.loads(update.stdout)}
    expected_update = {
        "outdated": "updated",
        "current": "current",
        "dirty": "dirty",
        "drifted": "current",
        "conflict": "conflict",
        "nogit": "not a git repository",
        "empty": "not a project",
    }
    assert {repo: row["state"] for repo, row in outcomes.items()} == {
        repo: expected_update[kind] for repo, kind in kinds.items()
    }
    for repo, kind in kinds.items():
        path = Path(repo)
        # No checkout is touched: same files, same HEAD, still on main.
        assert _snapshot(path) == before[repo], repo
        if repo not in heads:
            continue
        assert git("rev-parse", "HEAD", cwd=path).strip() == heads[repo]
        assert git("branch", "--show-current", cwd=path).strip() == "main"
        assert not git("worktree", "list", "--porcelain", cwd=path).count("worktree ") > 1
        branches = git("branch", "--list", BRANCH, cwd=path).strip()
        if kind in {"outdated", "conflict"}:
            assert branches, repo
            log = git("log", "--format=%s", f"{heads[repo]}..{BRANCH}", cwd=path).splitlines()
            assert log == ["hardstart update v1.0.0 → v3.0.0"]
            answers = git("show", f"{BRANCH}:.copier-answers.yml", cwd=path)
            assert "_commit: v3.0.0" in answers
            security = git("show", f"{BRANCH}:src/security.ts", cwd=path)
            assert ("<<<<<<< yours" in security) == (kind == "conflict")
            if kind == "conflict":
                body = git("log", "-1", "--format=%B", BRANCH, cwd=path)
                assert "conflicts (inline markers) (1):\n  src/security.ts" in body
                assert outcomes[repo]["conflicts"] == ["src/security.ts"]
        else:
            assert not branches, repo

    # -- re-running reuses the branches and changes nothing -------------------------------------
    tips = {
        repo: git("rev-parse", BRANCH, cwd=Path(repo)).strip()
        for repo, kind in kinds.items()
        if kind in {"outdated", "conflict"}
    }
    again = _run("fleet", "update", *kinds, "--trust", "--state", str(state), "--json")
    rerun = {row["path"]: row for row in json.loads(again.stdout)}
    for repo, tip in tips.items():
        if kinds[repo] == "conflict":  # the markers are still on the branch: still needs a person
            assert rerun[repo]["state"] == "conflict"
            assert rerun[repo]["conflicts"] == ["src/security.ts"]
        else:
            assert rerun[repo]["state"] == "current"
            assert rerun[repo]["detail"] == f"already on {BRANCH}"
        assert git("rev-parse", BRANCH, cwd=Path(repo)).strip() == tip

    # -- --failed retries only what needed attention ----------------------------------------------
    for repo, kind in kinds.items():
        if kind == "dirty":
            (Path(repo) / "scratch.txt").unlink()
    retry = _run("fleet", "update", "--failed", "--trust", "--state", str(state), "--json")
    retried = {row["path"]: row["state"] for row in json.loads(retry.stdout)}
    assert set(retried) == {
        repo for repo, kind in kinds.items() if kind in {"dirty", "nogit", "empty", "conflict"}
    }
    assert {retried[r] for r, k in kinds.items() if k == "dirty"} == {"updated"}
