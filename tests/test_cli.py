"""The CLI's mechanics: help, version, exit codes, one-line errors, atomic output, git, answers."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from conftest import REPO_ROOT, VERSION_TAG, git, make_template_repo
from hardstart import __version__, generator, project
from hardstart import template as templates
from hardstart.cli import app
from hardstart.errors import EXIT_INTERRUPTED, EXIT_UNEXPECTED, EXIT_UNTRUSTED, EXIT_USAGE

GOOD = ["--data", "project_name=my-api"]


def new(runner: CliRunner, template: Path, *args: str) -> Any:
    return runner.invoke(app, ["new", "--template", str(template), *args])


def assert_one_error_line(result: Any, fragment: str) -> None:
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert fragment in errors[0]
    # Besides the error, at most the progress note (and never anything on stdout).
    assert len(result.stderr.strip().splitlines()) <= 2, result.stderr
    assert result.stdout == ""


def leftovers(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


# -- help and version ---------------------------------------------------------------------------


def test_help_lists_the_command_and_the_exit_codes(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "new" in result.stdout
    for code in (
        "0 success",
        "2 bad answer",
        "3 conflicts",
        "4 untrusted",
        "5 project",
        "6 audit",
        "130",
    ):
        assert code in " ".join(result.stdout.split()), code


def test_new_help_documents_every_option(runner: CliRunner) -> None:
    result = runner.invoke(app, ["new", "--help"])
    assert result.exit_code == 0
    for option in ("--data", "-d", "--data-file", "--defaults", "--quiet", "-q", "--template"):
        assert option in result.stdout, option
    assert "130" in result.stdout


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"hardstart {__version__}"


def test_python_dash_m_and_console_script() -> None:
    for command in (
        [sys.executable, "-m", "hardstart", "--version"],
        [str(Path(sys.executable).parent / "hardstart"), "--version"],
    ):
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"hardstart {__version__}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["new", "--bogus"], "error: No such option: --bogus (see 'hardstart new --help')"),
        (["nope"], "error: No such command 'nope' (see 'hardstart --help')"),
        (["new", "--data"], "error: Option '--data' requires an argument"),
    ],
)
def test_usage_errors_are_one_line_with_exit_2(args: list[str], message: str) -> None:
    command = [sys.executable, "-m", "hardstart", *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == EXIT_USAGE
    assert result.stderr.strip() == message
    assert result.stdout == ""


# -- generating -----------------------------------------------------------------------------------


def test_generates_a_project_with_one_commit(
    runner: CliRunner, tiny_template: Path, workdir: Path
) -> None:
    result = new(runner, tiny_template, *GOOD)
    assert result.exit_code == 0, result.output
    dest = workdir / "my-api"
    assert leftovers(workdir) == ["my-api"]  # no temporary directory left next to it
    assert "cd my-api && npm ci && npm run dev" in result.stdout
    assert "npm test" in result.stdout

    assert git("rev-list", "--count", "HEAD", cwd=dest).strip() == "1"
    assert git("status", "--porcelain", cwd=dest) == ""
    tracked = set(git("ls-files", cwd=dest).split())
    assert {".copier-answers.yml", "package.json", "README.md", "src/server.ts"} <= tracked
    assert "src/redis-store.ts" not in tracked
    # No identity configured in the isolated home: the fallback identity is used.
    author = git("log", "-1", "--format=%an <%ae>", cwd=dest).strip()
    assert author == f"{project.FALLBACK_NAME} <{project.FALLBACK_EMAIL}>"


def test_uses_the_users_git_identity_when_configured(
    runner: CliRunner, tiny_template: Path, workdir: Path, isolated_home: Path
) -> None:
    (isolated_home / ".gitconfig").write_text(
        "[user]\n\tname = Ada\n\temail = ada@example.com\n", encoding="utf-8"
    )
    result = new(runner, tiny_template, *GOOD)
    assert result.exit_code == 0, result.output
    author = git("log", "-1", "--format=%an <%ae>", cwd=workdir / "my-api").strip()
    assert author == "Ada <ada@example.com>"


def test_answers_file_records_the_version_and_no_local_path(
    runner: CliRunner, tiny_template: Path, workdir: Path, tmp_path: Path
) -> None:
    result = new(runner, tiny_template, *GOOD, "--data", "rate_limit_store=redis")
    assert result.exit_code == 0, result.output
    text = (workdir / "my-api" / ".copier-answers.yml").read_text(encoding="utf-8")
    recorded = yaml.safe_load(text)
    # The tiny template is no release: the recorded ref names its exact tree.
    assert recorded["_commit"] == templates.identify(tiny_template)
    assert recorded["_commit"].startswith(f"{VERSION_TAG}+unreleased.")
    assert (
        recorded["_src_path"] == templates.TEMPLATE_ID == "https://hardstart.invalid/hardstart.git"
    )
    assert recorded["rate_limit_store"] == "redis"
    assert recorded["node_major"] == 24
    assert str(tmp_path) not in text
    assert not any(str(value).startswith(("/", "~")) for value in recorded.values())
    assert (workdir / "my-api" / "src" / "redis-store.ts").is_file()


def test_answers_file_equals_what_copier_records_from_the_tagged_snapshot(
    runner: CliRunner, tiny_template: Path, workdir: Path
) -> None:
    """hardstart renders plain files; Copier rendering the tagged repository records the same
    answers (plain Copier and Renovate update from that file)."""
    from copier import run_copy

    assert new(runner, tiny_template, *GOOD).exit_code == 0
    ours = yaml.safe_load((workdir / "my-api" / ".copier-answers.yml").read_text())
    run_copy(
        str(tiny_template),
        workdir / "copier",
        data={"project_name": "my-api"},
        defaults=True,
        quiet=True,
        vcs_ref=VERSION_TAG,
    )
    theirs = yaml.safe_load((workdir / "copier" / ".copier-answers.yml").read_text())
    assert theirs.pop("_src_path") == str(tiny_template)
    assert theirs.pop("_commit") == VERSION_TAG
    assert ours.pop("_src_path") == templates.TEMPLATE_ID
    assert ours.pop("_commit") == templates.identify(tiny_template)
    assert ours == theirs


def test_quiet_prints_nothing(runner: CliRunner, tiny_template: Path, workdir: Path) -> None:
    result = new(runner, tiny_template, *GOOD, "-q")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == ""
    assert (workdir / "my-api" / "package.json").is_file()


def test_data_file_and_data_precedence(
    runner: CliRunner, tiny_template: Path, workdir: Path
) -> None:
    answers = workdir.parent / "answers.yml"
    answers.write_text(
        "_commit: v0.0.1\nproject_name: from-file\nlicense: Apache-2.0\nnode_major: 22\n",
        encoding="utf-8",
    )
    result = new(runner, tiny_template, "--data-file", str(answers), "-d", "license=MIT", "out")
    assert result.exit_code == 0, result.output
    recorded = yaml.safe_load((workdir / "out" / ".copier-answers.yml").read_text())
    assert recorded["project_name"] == "from-file"
    assert recorded["license"] == "MIT"
    assert recorded["node_major"] == 22
    assert recorded["_commit"] == templates.identify(tiny_template)


def test_scoped_name_defaults_to_the_bare_directory(
    runner: CliRunner, tiny_template: Path, workdir: Path
) -> None:
    result = new(runner, tiny_template, "-d", "project_name=@acme/orders-api")
    assert result.exit_code == 0, result.output
    assert leftovers(workdir) == ["orders-api"]


def test_an_existing_empty_destination_is_used(
    runner: CliRunner, tiny_template: Path, workdir: Path
) -> None:
    (workdir / "empty").mkdir()
    result = new(runner, tiny_template, *GOOD, "empty")
    assert result.exit_code == 0, result.output
    assert (workdir / "empty" / "package.json").is_file()


def test_current_directory_as_destination_is_filled_in_place(
    runner: CliRunner, tiny_template: Path, workdir: Path
) -> None:
    inode = workdir.stat().st_ino
    result = new(runner, tiny_template, *GOOD, ".")
    assert result.exit_code == 0, result.output
    assert workdir.stat().st_ino == inode  # the same directory, not a replacement
    assert (workdir / "package.json").is_file()
    assert git("rev-list", "--count", "HEAD", cwd=workdir).strip() == "1"
    assert not any(p.name.startswith(".work.hardstart-") for p in workdir.parent.iterdir())


def test_no_color_is_honoured(tiny_template: Path, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "hardstart", "new", "--template", str(tiny_template)]
    colored = {**os.environ, "FORCE_COLOR": "1"}
    colored.pop("NO_COLOR", None)
    with_color = subprocess.run(command, cwd=tmp_path, env=colored, capture_output=True, text=True)
    assert "\x1b[1;31m" in with_color.stderr  # a red "error:" when colour is forced
    plain = subprocess.run(
        command, cwd=tmp_path, env={**colored, "NO_COLOR": "1"}, capture_output=True, text=True
    )
    assert plain.returncode == with_color.returncode == EXIT_USAGE
    assert "31m" not in plain.stderr


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["-d", "project_name=My API"], EXIT_USAGE, "project_name: must be a valid npm package"),
        ([], EXIT_USAGE, "project_name: an answer is required"),
        ([*GOOD, "-d", "cors_origins=*"], EXIT_USAGE, "cors_origins: '*' is not an exact origin"),
        ([*GOOD, "-d", "node_major=18"], EXIT_USAGE, "node_major: must be one of 24, 22"),
        ([*GOOD, "-d", "node_major=lts"], EXIT_USAGE, "node_major: must be an integer"),
        ([*GOOD, "-d", "licence=MIT"], EXIT_USAGE, "licence: no such question"),
        ([*GOOD, "-d", "license"], EXIT_USAGE, "expected key=value"),
        ([*GOOD, "--data-file", "missing.yml"], EXIT_USAGE, "no such file"),
        ([*GOOD, "--data-file", "list.yml"], EXIT_USAGE, "expected a mapping"),
        ([*GOOD, "--data-file", "broken.yml"], EXIT_USAGE, "not valid YAML"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    runner: CliRunner,
    tiny_template: Path,
    workdir: Path,
    args: list[str],
    code: int,
    fragment: str,
) -> None:
    (workdir.parent / "list.yml").write_text("- project_name\n", encoding="utf-8")
    (workdir.parent / "broken.yml").write_text("project_name: [\n", encoding="utf-8")
    args = [a if not a.endswith(".yml") else str(workdir.parent / a) for a in args]
    result = new(runner, tiny_template, *args)
    assert result.exit_code == code, result.output
    assert_one_error_line(result, fragment)
    assert leftovers(workdir) == []


def test_missing_template_directory(runner: CliRunner, workdir: Path) -> None:
    result = new(runner, workdir / "nowhere", *GOOD)
    assert result.exit_code == EXIT_USAGE
    assert_one_error_line(result, "no copier.yml")


def test_broken_template_is_a_one_line_template_error(
    runner: CliRunner, tmp_path: Path, workdir: Path
) -> None:
    files = {"package.json.jinja": "{% include 'nothing-here' %}\n"}
    broken = make_template_repo(tmp_path / "broken", files)
    result = new(runner, broken, *GOOD)
    assert result.exit_code == EXIT_UNEXPECTED
    assert_one_error_line(result, "template error")
    assert leftovers(workdir) == []


def test_template_with_tasks_is_untrusted(runner: CliRunner, tmp_path: Path, workdir: Path) -> None:
    repo = make_template_repo(tmp_path / "tasks", {"a.txt": "a\n"})
    with (repo / "copier.yml").open("a", encoding="utf-8") as config:
        config.write("\n_tasks:\n  - touch pwned\n")
    result = new(runner, repo, *GOOD)
    assert result.exit_code == EXIT_UNTRUSTED
    assert_one_error_line(result, "untrusted template")
    assert leftovers(workdir) == []


@pytest.mark.parametrize("kind", ["file", "non-empty directory"])
def test_existing_destination_is_refused_and_untouched(
    runner: CliRunner, tiny_template: Path, workdir: Path, kind: str
) -> None:
    dest = workdir / "taken"
    if kind == "file":
        dest.write_text("mine\n", encoding="utf-8")
    else:
        dest.mkdir()
        (dest / "notes.txt").write_text("mine\n", encoding="utf-8")
    before = sorted(p.relative_to(workdir) for p in workdir.rglob("*"))
    result = new(runner, tiny_template, *GOOD, "taken")
    assert result.exit_code == EXIT_USAGE
    assert_one_error_line(result, "taken")
    assert sorted(p.relative_to(workdir) for p in workdir.rglob("*")) == before


def _fail_after_rendering(exc: BaseException) -> Any:
    real = generator.run_copy

    def fake(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)
        assert any(Path(args[1]).iterdir()), "files were rendered before the failure"
        raise exc

    return fake


@pytest.mark.parametrize(
    ("exc", "code", "fragment"),
    [
        (RuntimeError("disk on fire"), EXIT_UNEXPECTED, "unexpected RuntimeError: disk on fire"),
        (KeyboardInterrupt(), EXIT_INTERRUPTED, "interrupted"),
    ],
)
def test_failure_inside_rendering_leaves_nothing(
    runner: CliRunner,
    tiny_template: Path,
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    exc: BaseException,
    code: int,
    fragment: str,
) -> None:
    monkeypatch.setattr(generator, "run_copy", _fail_after_rendering(exc))
    result = new(runner, tiny_template, *GOOD, "deep/er/project")
    assert result.exit_code == code, result.output
    assert_one_error_line(result, fragment)
    assert leftovers(workdir) == []  # neither the destination, its parents, nor a temp dir


def test_interrupt_during_git_commit_leaves_nothing(
    runner: CliRunner, tiny_template: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(repo: Path, message: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(project, "init_repository", interrupted)
    result = new(runner, tiny_template, *GOOD)
    assert result.exit_code == EXIT_INTERRUPTED
    assert_one_error_line(result, "interrupted")
    assert leftovers(workdir) == []


def test_real_process_reports_one_line_without_traceback(
    tiny_template: Path, tmp_path: Path
) -> None:
    command = [sys.executable, "-m", "hardstart", "new", "--template", str(tiny_template)]
    result = subprocess.run(
        [*command, "-d", "project_name=-x"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == EXIT_USAGE
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "error: project_name: must be a valid npm package name: lowercase letters, digits, "
        "'-', '.', '_' and '~', starting with a letter or digit"
    ]


def test_sigterm_unwinds_and_leaves_nothing(tiny_template: Path, tmp_path: Path) -> None:
    """SIGTERM while generating: the process exits 130 and removes its partial output."""
    script = (
        "import os, signal, sys\n"
        "from hardstart import generator, cli\n"
        "real = generator.run_copy\n"
        "def slow(*a, **k):\n"
        "    real(*a, **k)\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "generator.run_copy = slow\n"
        "sys.argv = ['hardstart', 'new', '--template', sys.argv[1], '-d', 'project_name=x']\n"
        "cli.main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tiny_template)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == EXIT_INTERRUPTED, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "error: interrupted"
    assert "Traceback" not in result.stderr
    assert leftovers(tmp_path) == []


# -- the wheel ------------------------------------------------------------------------------------


def test_wheel_bundles_the_template_and_works_without_the_repository(tmp_path: Path) -> None:
    hatchling = Path(sys.executable).parent / "hatchling"
    build = subprocess.run(
        [str(hatchling), "build", "--target", "wheel", "--directory", str(tmp_path / "dist")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = (tmp_path / "dist").glob("hardstart-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "hardstart/_template/copier.yml" in names
    bundled = {n for n in names if n.startswith("hardstart/_template/template/")}
    in_repo = {
        "hardstart/_template/" + p.relative_to(REPO_ROOT).as_posix()
        for p in (REPO_ROOT / "template").rglob("*")
        if p.is_file() and "node_modules" not in p.parts
    }
    assert in_repo <= bundled

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)  # noqa: S202 - the wheel we just built
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run(
        [sys.executable, "-m", "hardstart", "new", "--defaults", "-q", "-d", "project_name=w"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    located = subprocess.run(
        [sys.executable, "-c", "from hardstart import template; print(template.bundled().root)"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(located.stdout.strip()).is_relative_to(site)
    recorded = yaml.safe_load((work / "w" / ".copier-answers.yml").read_text())
    assert recorded["_src_path"] == templates.TEMPLATE_ID
    assert recorded["_commit"] == templates.identify(REPO_ROOT)

    # The release history travels in the wheel: an earlier version renders with no repository.
    assert {"hardstart/_history/template.bundle", "hardstart/_history/releases.json"} <= set(names)
    old = subprocess.run(
        [sys.executable, "-m", "hardstart", "new", "--defaults", "-q", "--template-version",
         "0.1.0", "old"],
        cwd=work, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert old.returncode == 0, old.stderr
    assert yaml.safe_load((work / "old" / ".copier-answers.yml").read_text())["_commit"] == "v0.1.0"


def test_sdist_carries_the_template_history(tmp_path: Path) -> None:
    hatchling = Path(sys.executable).parent / "hatchling"
    build = subprocess.run(
        [str(hatchling), "build", "--target", "sdist", "--directory", str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    (sdist,) = tmp_path.glob("hardstart-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"history/template.bundle", "history/releases.json", "copier.yml"} <= names


# -- answers: yes/no words, the name from the destination ----------------------------------------


@pytest.mark.parametrize("word", ["nope", "flase", "2", "yess", ""])
def test_a_yes_no_answer_takes_only_yes_no_words(
    runner: CliRunner, tiny_template: Path, workdir: Path, word: str
) -> None:
    result = new(runner, tiny_template, *GOOD, "-d", f"compose={word}")
    assert result.exit_code == EXIT_USAGE
    assert_one_error_line(result, "compose: must be yes or no")
    assert leftovers(workdir) == []


@pytest.mark.parametrize(
    ("word", "value"),
    [("true", True), ("YES", True), ("On", True), ("1", True), ("False", False), ("no", False),
     ("OFF", False), ("0", False)],
)  # fmt: skip
def test_yes_no_words_in_any_case(
    runner: CliRunner, tiny_template: Path, workdir: Path, word: str, value: bool
) -> None:
    result = new(runner, tiny_template, *GOOD, "-d", f"compose={word}", "-q")
    assert result.exit_code == 0, result.output
    assert (
        yaml.safe_load((workdir / "my-api" / ".copier-answers.yml").read_text())["compose"] is value
    )


def test_project_name_comes_from_the_destination(
    runner: CliRunner, tiny_template: Path, workdir: Path
) -> None:
    result = new(runner, tiny_template, "--defaults", "-q", "orders-api")
    assert result.exit_code == 0, result.output
    recorded = yaml.safe_load((workdir / "orders-api" / ".copier-answers.yml").read_text())
    assert recorded["project_name"] == "orders-api"
    # Not a valid npm name: the question is required again.
    bad = new(runner, tiny_template, "--defaults", "-q", "Orders API")
    assert bad.exit_code == EXIT_USAGE
    assert "project_name: an answer is required" in bad.stderr


def test_the_command_line_starts_without_loading_copier() -> None:
    """`--version`, `--help` and the wizard's first question must not wait for Copier's import."""
    probe = (
        "import sys, hardstart.cli; print(sorted(m for m in sys.modules if m.startswith('copier')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
