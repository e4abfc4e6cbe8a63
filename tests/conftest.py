"""Shared fixtures: an isolated home and git configuration, and template copies.

Every test runs with HOME, XDG dirs and the global git config pointing into its own temporary
directory, so the developer's git identity, hooks, signing or Copier settings never leak in.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hardstart import __version__
from hardstart.cli import app

REPO_ROOT = Path(__file__).resolve().parent.parent
VERSION_TAG = f"v{__version__}"

# Environment variables that would let the developer's setup leak into a test.
_LEAKY = (
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "EMAIL",
    "COPIER_SETTINGS_PATH",
    "FORCE_COLOR",
    "HARDSTART_PRESET",  # a developer's organisation preset would change every answer
)

_GIT_FIXTURE_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "fixture",
    "GIT_AUTHOR_EMAIL": "fixture@example.invalid",
    "GIT_COMMITTER_NAME": "fixture",
    "GIT_COMMITTER_EMAIL": "fixture@example.invalid",
}

# A tiny template over the real copier.yml: enough files to test the CLI's mechanics
# (answers file, a file that varies, a file present only with the redis store).
TINY_FILES = {
    "{{ _copier_conf.answers_file }}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n",
    "package.json.jinja": (
        '{"name": "{{ project_name }}", "license": "{{ license }}",'
        ' "engines": {"node": ">={{ node_major }}"}}\n'
    ),
    "README.md.jinja": "# {{ project_name }}\n\n{{ description }}\n",
    "src/server.ts": "export {};\n",
    "src/{% if rate_limit_store == 'redis' %}redis-store.ts{% endif %}": "export {};\n",
}


def git(*args: str, cwd: Path) -> str:
    env = {**os.environ, **_GIT_FIXTURE_ENV}
    result = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout


def make_template_repo(root: Path, files: dict[str, str] | None = None) -> Path:
    """A git repository holding copier.yml and template/ (the real one, or `files`), tagged."""
    root.mkdir(parents=True)
    shutil.copy2(REPO_ROOT / "copier.yml", root / "copier.yml")
    if files is None:
        shutil.copytree(
            REPO_ROOT / "template",
            root / "template",
            symlinks=True,
            ignore=shutil.ignore_patterns("node_modules", "__pycache__"),
        )
    else:
        for name, content in files.items():
            path = root / "template" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
    git("init", "--quiet", cwd=root)
    git("add", "--all", "--force", cwd=root)
    git("commit", "--quiet", "-m", "template", cwd=root)
    git("tag", VERSION_TAG, cwd=root)
    return root


@pytest.fixture(autouse=True)
def isolated_home(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """A fresh HOME and global git config per test.

    Tests marked `slow` keep the real HOME (npm's download cache lives there) but still get an
    empty global git config.
    """
    home = tmp_path_factory.mktemp("home")
    (home / ".gitconfig").write_text("", encoding="utf-8")
    for name in _LEAKY:
        monkeypatch.delenv(name, raising=False)
    if request.node.get_closest_marker("slow") is None:
        monkeypatch.setenv("HOME", str(home))
        monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
        monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    else:  # the real HOME may hold the developer's ~/.config/hardstart/preset.yml
        monkeypatch.setenv("HARDSTART_PRESET", "")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    return home


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real template (copier.yml + template/), as a git repository tagged v<version>."""
    return make_template_repo(tmp_path_factory.mktemp("templates") / "real")


@pytest.fixture(scope="session")
def tiny_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real questions over a tiny template/, as a git repository tagged v<version>."""
    return make_template_repo(tmp_path_factory.mktemp("templates") / "tiny", TINY_FILES)


_RENDERED: dict[tuple[tuple[str, str], ...], Path] = {}


def render_project(
    given: dict[str, Any], template_repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """`hardstart new` with these answers, rendered once per worker and answers (call it from a
    function-scoped test, so that it runs inside that test's isolated HOME)."""
    key = tuple(sorted((name, str(value)) for name, value in given.items()))
    if key not in _RENDERED:
        dest = tmp_path_factory.mktemp("project") / "out"
        args = [arg for name, value in given.items() for arg in ("-d", f"{name}={value}")]
        result = CliRunner().invoke(
            app, ["new", "--template", str(template_repo), "-q", *args, str(dest)]
        )
        assert result.exit_code == 0, result.output
        _RENDERED[key] = dest
    return _RENDERED[key]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty current directory for a test that generates projects."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


# -- audit fixtures ------------------------------------------------------------------------------

AUDIT_FIXTURES = Path(__file__).parent / "audit_fixtures"


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base


def materialise(name: str, dest: Path) -> Path:
    """The good fixture with the weak fixture `name` laid over it, committed to a new git repo.

    An overlay holds the files that differ; `REMOVE` lists paths to delete; `package.json.merge`
    is merged into package.json (so the overlay does not replace the code's own manifest).
    """
    shutil.copytree(AUDIT_FIXTURES / "good", dest)
    if name != "good":
        overlay = AUDIT_FIXTURES / "weak" / name
        remove = overlay / "REMOVE"
        listed = remove.read_text(encoding="utf-8").split() if remove.exists() else []
        for line in listed:
            target = dest / line
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink()
        for source in sorted(overlay.rglob("*")):
            relative = source.relative_to(overlay)
            if source.is_dir() or relative.as_posix() == "REMOVE":
                continue
            if source.name == "package.json.merge":
                manifest = dest / relative.parent / "package.json"
                merged = _merge(
                    json.loads(manifest.read_text(encoding="utf-8")),
                    json.loads(source.read_text(encoding="utf-8")),
                )
                manifest.write_text(json.dumps(merged, indent=2) + "\n", encoding="utf-8")
                continue
            target = dest / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git("init", "--quiet", "--initial-branch=main", cwd=dest)
    git("add", "--all", cwd=dest)
    git("commit", "--quiet", "--no-verify", "-m", "fixture", cwd=dest)
    return dest
