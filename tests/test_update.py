"""`hardstart update` and `hardstart check` over synthetic releases v1 → v2 → v3 (see releases.py):
user edits kept, template changes applied, conflicts exactly where both sides changed, answers
carried, new questions defaulted, a migration applied, every refusal leaving the tree as it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from conftest import git
from hardstart import update as updates
from hardstart.cli import app
from hardstart.errors import (
    EXIT_CONFLICTS,
    EXIT_INTERRUPTED,
    EXIT_OUTDATED,
    EXIT_UNTRUSTED,
    EXIT_USAGE,
)
from releases import MARKER, URL, copy_project, make_releases, serve


@pytest.fixture(scope="session")
def releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_releases(tmp_path_factory.mktemp("releases") / "hardstart")


@pytest.fixture(autouse=True)
def served(releases: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    serve(monkeypatch, releases)


_GENERATED: dict[tuple[str, ...], Path] = {}


def generated(version: str, tmp_path_factory: pytest.TempPathFactory, *data: str) -> Path:
    """A pristine project generated at `version` (once per worker), to be copied by tests."""
    key = (version, *data)
    if key not in _GENERATED:
        dest = tmp_path_factory.mktemp("generated") / "svc"
        args = ["new", "-q", "--template-url", URL, "--template-version", version, str(dest)]
        result = CliRunner().invoke(app, [*args, *(a for d in data for a in ("-d", d))])
        assert result.exit_code == 0, result.output
        _GENERATED[key] = dest
    return _GENERATED[key]


@pytest.fixture
def v1(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(generated("1.0.0", tmp_path_factory), tmp_path / "svc")


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def commit(project: Path, message: str = "my edits") -> None:
    git("add", "--all", cwd=project)
    git("commit", "--quiet", "-m", message, cwd=project)


def edit_as_user(project: Path) -> None:
    """Edits a team makes: the same line v2 changes, another line, a new file, a dependency, the
    README's own part, a value in .env.example."""
    security = project / "src" / "security.ts"
    security.write_text(security.read_text().replace("'v1'", "'ours'"))
    server = project / "src" / "server.ts"
    server.write_text(server.read_text().replace("a = 1", "a = 100"))
    (project / "src" / "mine.ts").write_text("export const mine = true;\n")
    package = json.loads((project / "package.json").read_text())
    package["dependencies"]["left-pad"] = "1.3.0"
    (project / "package.json").write_text(json.dumps(package, indent=2) + "\n")
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\nOur runbook lives here.\n")
    (project / ".env.example").write_text("PORT=9999\n")
    commit(project)


def state(project: Path) -> dict[str, Any]:
    """Everything an update could change: files (with .git's refs and index) and git status."""
    files = {
        str(path.relative_to(project)): path.read_bytes()
        for path in sorted(project.rglob("*"))
        # git status refreshes the index's stat data; objects are content-addressed anyway.
        if path.is_file()
        and "objects" not in path.parts
        and path.name not in {"index", "ORIG_HEAD"}
    }
    status = (
        git("status", "--porcelain", "--untracked-files=all", cwd=project)
        if (project / ".git").exists()
        else ""
    )
    return {"files": files, "status": status}


def answers_of(project: Path) -> dict[str, Any]:
    data = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert isinstance(data, dict)
    return data


EXPECTED_V1_TO_V2 = {
    ".copier-answers.yml": "updated",
    ".env.example": "kept",
    "README.md": "updated",
    "package.json": "updated",
    "src/greeting.ts": "new",
    "src/legacy.ts": "deleted",
    "src/security.ts": "conflict",
    "src/server.ts": "updated",
}


# -- the upgrade path ---------------------------------------------------------------------------


def test_plan_says_what_the_update_then_does(v1: Path) -> None:
    edit_as_user(v1)
    before = state(v1)
    planned = invoke("update", str(v1), "--to", "2.0.0", "--plan", "--json")
    assert planned.exit_code == 0, planned.output
    plan = json.loads(planned.stdout)
    assert state(v1) == before, "--plan wrote something"
    outcomes = {f["path"]: f["outcome"] for f in plan["files"] if f["outcome"] != "unchanged"}
    assert outcomes == EXPECTED_V1_TO_V2
    assert plan["from"] == "v1.0.0"
    assert plan["to"] == "v2.0.0"
    assert plan["new_questions"] == {"smoke_job": False, "greeting": "hello"}
    assert plan["conflicts"] == ["src/security.ts"]

    done = invoke("update", str(v1), "--to", "2.0.0", "--json")
    assert done.exit_code == EXIT_CONFLICTS
    result = json.loads(done.stdout)
    assert result["files"] == plan["files"]
    changed = {
        line[3:]: line[:2].strip()
        for line in git("status", "--porcelain", "--untracked-files=all", cwd=v1).splitlines()
    }
    expected_status = {"updated": "M", "conflict": "M", "deleted": "D", "new": "??"}
    assert changed == {
        path: expected_status[outcome]
        for path, outcome in EXPECTED_V1_TO_V2.items()
        if outcome in expected_status
    }


def test_update_keeps_edits_applies_changes_and_marks_conflicts(v1: Path) -> None:
    edit_as_user(v1)
    result = invoke("update", str(v1), "--to", "v2.0.0")
    assert result.exit_code == EXIT_CONFLICTS, result.output
    assert "src/security.ts" in result.stderr
    assert "Traceback" not in result.output

    # The user's edit and the template's line merge cleanly elsewhere in the same file.
    assert (v1 / "src/server.ts").read_text() == (
        "export const a = 100;\nexport const b = 2;\nexport const c = 3;\nexport const d = 4;\n"
    )
    # Both changed the same line: inline markers, both versions shown, never a .rej file.
    security = (v1 / "src/security.ts").read_text()
    assert security.startswith("<<<<<<< yours\nexport const csp = 'ours';\n=======\n")
    assert "export const csp = 'v2';\n>>>>>>> template v2.0.0\n" in security
    assert not list(v1.rglob("*.rej"))
    # The user's own file, their README part and their .env.example survive.
    assert (v1 / "src/mine.ts").read_text() == "export const mine = true;\n"
    readme = (v1 / "README.md").read_text()
    assert "Template intro v2." in readme
    assert readme.endswith(f"{MARKER}\n\nOur runbook lives here.\n")
    assert (v1 / ".env.example").read_text() == "PORT=9999\n"
    # package.json merged as JSON: the template's bump and script, the user's dependency.
    package = json.loads((v1 / "package.json").read_text())
    assert package["dependencies"] == {"express": "5.3.1", "left-pad": "1.3.0"}
    assert package["scripts"] == {"test": "node --test"}
    assert list(package) == ["name", "version", "scripts", "dependencies"]
    # Deleted by the template; new file rendered with the new question's default.
    assert not (v1 / "src/legacy.ts").exists()
    assert (v1 / "src/greeting.ts").read_text() == "export const greeting = 'hello';\n"
    # Answers kept, the new ones recorded, the version moved.
    recorded = answers_of(v1)
    assert recorded["_commit"] == "v2.0.0"
    assert recorded["_src_path"] == URL
    assert recorded["project_name"] == "svc"
    assert recorded["greeting"] == "hello"
    assert recorded["smoke_job"] is False
    # Left uncommitted for review.
    assert git("log", "--format=%s", cwd=v1).splitlines()[0] == "my edits"


def test_same_update_twice_gives_the_same_result_and_then_nothing(v1: Path, tmp_path: Path) -> None:
    twin = copy_project(v1, tmp_path / "twin")
    for project in (v1, twin):
        assert invoke("update", str(project), "--to", "2.0.0", "-q").exit_code == 0
    assert state(v1)["files"].keys() == state(twin)["files"].keys()
    for path, content in state(v1)["files"].items():
        if not path.startswith(".git/"):
            assert state(twin)["files"][path] == content, path
    commit(v1, "take template v2")
    before = state(v1)
    again = invoke("update", str(v1), "--to", "2.0.0")
    assert again.exit_code == 0, again.output
    assert "Nothing to change" in again.stdout
    assert state(v1) == before


def test_commit_makes_one_commit_with_the_summary(v1: Path) -> None:
    result = invoke("update", str(v1), "--to", "2.0.0", "--commit", "-q")
    assert result.exit_code == 0, result.output
    log = git("log", "--format=%B%x00", cwd=v1).split("\0")
    assert log[0].strip().startswith("hardstart update v1.0.0 → v2.0.0\n\nupdated (")
    assert "deleted by the template (1):\n  src/legacy.ts" in log[0]
    assert "new questions:\n  smoke_job = False\n  greeting = hello" in log[0]
    assert git("status", "--porcelain", cwd=v1) == ""


def test_data_changes_an_earlier_answer_and_answers_a_new_one(v1: Path) -> None:
    result = invoke(
        "update", str(v1), "--to", "2.0.0", "-d", "rate_limit_store=redis", "-d", "smoke_job=yes"
    )
    assert result.exit_code == 0, result.output
    assert (v1 / "src/redis-store.ts").is_file()
    assert (v1 / "smoke.yml").read_text() == "smoke: true\n"
    recorded = answers_of(v1)
    assert recorded["rate_limit_store"] == "redis"
    assert recorded["smoke_job"] is True


def test_migration_carries_a_renamed_answer(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    project = copy_project(generated("2.0.0", tmp_path_factory, "greeting=hi"), tmp_path / "svc")
    before = state(project)
    untrusted = invoke("update", str(project))  # migrations run commands: a fetched template
    assert untrusted.exit_code == EXIT_UNTRUSTED  # must be trusted explicitly
    assert "--trust" in untrusted.stderr
    assert state(project) == before
    planned = json.loads(invoke("update", str(project), "--trust", "--plan", "--json").stdout)
    assert planned["to"] == "v3.0.0"  # the newest tag of the template repository
    (migration,) = planned["migrations"]
    assert migration.startswith(f"v3.0.0 (before): {sys.executable} ")
    assert migration.endswith("/migrations/rename_greeting.py")  # in the template's checkout
    assert planned["new_questions"] == {}  # salutation is the renamed greeting, not new
    result = invoke("update", str(project), "--trust")
    assert result.exit_code == 0, result.output
    recorded = answers_of(project)
    assert recorded["salutation"] == "hi"
    assert "greeting" not in recorded
    assert (project / "src/greeting.ts").read_text() == "export const greeting = 'hi';\n"


def test_v1_straight_to_v3(v1: Path) -> None:
    edit_as_user(v1)
    result = invoke("update", str(v1), "--json", "--trust")
    assert result.exit_code == EXIT_CONFLICTS
    plan = json.loads(result.stdout)
    assert plan["to"] == "v3.0.0"
    assert plan["new_questions"] == {"smoke_job": False, "salutation": "hello"}
    assert (v1 / "src/security.ts").read_text().count("<<<<<<< yours") == 1
    assert "export const v3 = 1;" in (v1 / "src/security.ts").read_text()


# -- refusals: one line, exit 2, nothing changed ------------------------------------------------


def _dirty(project: Path) -> None:
    (project / "notes.txt").write_text("wip\n")


def _modified(project: Path) -> None:
    (project / "src/server.ts").write_text("changed\n")


def _no_answers(project: Path) -> None:
    (project / ".copier-answers.yml").unlink()
    commit(project, "drop answers")


def _broken_answers(project: Path) -> None:
    (project / ".copier-answers.yml").write_text("_commit: [unclosed\n")
    commit(project, "break answers")


def _no_commit_key(project: Path) -> None:
    text = (project / ".copier-answers.yml").read_text()
    (project / ".copier-answers.yml").write_text(
        "".join(line for line in text.splitlines(True) if not line.startswith("_commit"))
    )
    commit(project, "lose version")


def _bad_recorded_answer(project: Path) -> None:
    text = (project / ".copier-answers.yml").read_text()
    (project / ".copier-answers.yml").write_text(text.replace("license: MIT", "license: WTFPL"))
    commit(project, "hand edit")


@pytest.mark.parametrize(
    ("breakage", "args", "message"),
    [
        (_dirty, [], "uncommitted changes"),
        (_modified, [], "uncommitted changes"),
        (_no_answers, [], "not a hardstart project"),
        (_broken_answers, [], "cannot read the recorded answers"),
        (_no_commit_key, [], "_commit is missing"),
        (_bad_recorded_answer, [], "license"),
        (None, ["--to", "9.9.9"], "no such version"),
        (None, ["--to", "latest"], "not a template version"),
        (None, ["--data", "nope=1"], "nope"),
        (None, ["--data", "smoke_job=maybe"], "yes or no"),
    ],
    ids=lambda v: getattr(v, "__name__", None) or None,
)
def test_update_refuses_and_changes_nothing(
    v1: Path, breakage: Any, args: list[str], message: str
) -> None:
    if breakage is not None:
        breakage(v1)
    before = state(v1)
    target = [] if "--to" in args else ["--to", "2.0.0"]
    result = invoke("update", str(v1), *target, *args)
    assert result.exit_code == EXIT_USAGE, result.output
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("error: ")
    assert message in errors[0]
    assert "Traceback" not in result.output
    assert state(v1) == before


def test_downgrade_is_refused(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    project = copy_project(generated("2.0.0", tmp_path_factory), tmp_path / "svc")
    before = state(project)
    result = invoke("update", str(project), "--to", "1.0.0")
    assert result.exit_code == EXIT_USAGE
    assert "downgrades are not supported" in result.stderr
    assert state(project) == before


def test_not_a_project_and_not_a_repository(tmp_path: Path, v1: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke("update", str(empty))
    assert result.exit_code == EXIT_USAGE
    assert "not a hardstart project" in result.stderr
    plain = tmp_path / "plain"
    plain.mkdir()
    for entry in v1.iterdir():
        if entry.name != ".git":
            (plain / entry.name).write_bytes(entry.read_bytes()) if entry.is_file() else None
    before = state(plain)
    result = invoke("update", str(plain))
    assert result.exit_code == EXIT_USAGE
    assert "not a git repository" in result.stderr
    assert state(plain) == before


def test_interrupt_halfway_leaves_the_tree_as_it_was(
    v1: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edit_as_user(v1)
    before = state(v1)
    real_write = updates._write
    calls = iter(range(100))

    def flaky(target: Path, file: updates.File) -> None:
        if next(calls) == 3:  # a few files are written already
            raise KeyboardInterrupt
        real_write(target, file)

    monkeypatch.setattr(updates, "_write", flaky)
    result = invoke("update", str(v1), "--to", "2.0.0")
    assert result.exit_code == EXIT_INTERRUPTED
    assert state(v1) == before


# -- check --------------------------------------------------------------------------------------


def test_check_reports_outdated_then_current_then_drift(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    project = copy_project(generated("2.0.0", tmp_path_factory), tmp_path / "svc")
    outdated = invoke("check", str(project), "--json", "--trust")
    assert outdated.exit_code == EXIT_OUTDATED
    report = json.loads(outdated.stdout)
    assert report["outdated"] is True
    assert report["installed"] == "v3.0.0"
    assert report["update_would_change"] is True
    assert report["drifted"] == []

    assert invoke("update", str(project), "--commit", "-q", "--trust").exit_code == 0
    current = invoke("check", str(project))
    assert current.exit_code == 0, current.output
    assert "current (v3.0.0), no drift" in current.stdout

    # The project's own parts are not drift.
    (project / ".env.example").write_text("PORT=1\n")
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\nmore notes\n")
    assert invoke("check", str(project)).exit_code == 0

    # A managed file edited by hand, and one deleted, are.
    security = project / "src/security.ts"
    security.write_text(security.read_text().replace("hsts = true", "hsts = false"))
    (project / "src/server.ts").unlink()
    drifted = invoke("check", str(project))
    assert drifted.exit_code == EXIT_OUTDATED
    assert "drifted: src/security.ts (changed)" in drifted.stdout
    assert "-export const hsts = true;" in drifted.stdout
    assert "+export const hsts = false;" in drifted.stdout
    assert "drifted: src/server.ts (missing)" in drifted.stdout
    assert "2 managed file(s) drifted" in drifted.stderr


# -- the same projects through plain Copier (what Renovate runs) ----------------------------------


def test_renovate_copier_command_updates_a_project_made_with_template_url(v1: Path) -> None:
    copier = Path(sys.executable).parent / "copier"
    command = [
        str(copier), "update", "--skip-answered", "--defaults",
        "--answers-file", ".copier-answers.yml", "--vcs-ref", "v2.0.0",
    ]  # fmt: skip
    result = subprocess.run(
        command, cwd=v1, env=os.environ, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert (v1 / "src/server.ts").read_text().endswith("export const d = 4;\n")
    assert (v1 / ".env.example").read_text() == "PORT=3000\n"  # _skip_if_exists: Copier too
    recorded = answers_of(v1)
    assert recorded["_commit"] == "v2.0.0"
    assert recorded["_src_path"] == URL


# -- usage ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["new", "x", "--template-url", "git@github.com:acme/t.git"], "expected an https git URL"),
        (["new", "x", "--template-url", URL, "--template", "."], "excludes"),
        (["new", "x", "--template-url", URL, "--template-version", "9.0.0"], "no such version"),
        (["fleet", "status"], "name the repositories"),
        (["fleet", "update", "--failed", "--state", "missing.json"], "no earlier run"),
        (["fleet", "status", "--from", "missing.txt"], "cannot read"),
    ],
)
def test_usage_errors_are_one_line(workdir: Path, args: list[str], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == EXIT_USAGE, result.output
    assert result.stderr.count("error:") == 1
    assert message in result.stderr
    assert list(workdir.iterdir()) == []


def test_a_binary_file_changed_on_both_sides_is_kept_and_reported() -> None:
    logo = updates.File(b"\x89PNG\r\n\x1a\n\0v1", 0o644)
    merged = updates._Merge(
        base={"logo.png": logo, "a.txt": updates.File(b"one\n", 0o644)},
        ours={"logo.png": updates.File(b"\x89PNG\r\n\x1a\n\0ours", 0o644),
              "a.txt": updates.File(b"one\n", 0o644)},
        theirs={"logo.png": updates.File(b"\x89PNG\r\n\x1a\n\0v2", 0o644),
                "a.txt": updates.File(b"two\n", 0o644)},
        labels=("yours", "template v1.0.0", "template v2.0.0"),
        owned=updates.pathspec.PathSpec.from_lines("gitignore", []),
        sections={},
        answers_file=".copier-answers.yml",
    )  # fmt: skip
    result = merged.run()
    assert result["logo.png"].content.endswith(b"ours")
    assert result["a.txt"].content == b"two\n"
    assert merged.outcomes["logo.png"][0].value == "kept"
    assert merged.actions == [
        "logo.png: you and the template both changed this binary file; yours is kept,"
        " compare it with template v2.0.0's"
    ]
