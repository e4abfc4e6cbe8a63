"""Synthetic template releases for upgrade-path tests: a git repository of the real questions over a
small template, tagged v1.0.0 → v2.0.0 → v3.0.0, published under a URL that git maps to the
local copy (`url.<copy>.insteadOf`), as an organisation's template repository would be.

v2 changes a line users edit too (a conflict), adds a line elsewhere, bumps a dependency, rewrites
the README above its marker and `.env.example` (owned by the project), deletes a file and asks two
new questions. v3 renames one of them (`greeting` → `salutation`) with a `before` migration.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import REPO_ROOT, git

URL = "https://templates.example.test/platform/hardstart.git"
MARKER = "<!-- hardstart: your notes below this line are kept on update -->"

V1: dict[str, str | None] = {
    "{{ _copier_conf.answers_file }}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n",
    "package.json.jinja": (
        '{\n  "name": "{{ project_name }}",\n  "version": "1.0.0",\n'
        '  "dependencies": {\n    "express": "5.3.0"\n  }\n}\n'
    ),
    "README.md.jinja": f"# {{{{ project_name }}}}\n\nTemplate intro v1.\n\n{MARKER}\n",
    ".env.example": "PORT=3000\n",
    "src/server.ts": "export const a = 1;\nexport const b = 2;\nexport const c = 3;\n",
    "src/security.ts": "export const csp = 'v1';\nexport const hsts = true;\n",
    "src/legacy.ts": "export {};\n",
    "src/{% if rate_limit_store == 'redis' %}redis-store.ts{% endif %}": "export {};\n",
}

V2: dict[str, str | None] = {
    "package.json.jinja": (
        '{\n  "name": "{{ project_name }}",\n  "version": "1.0.0",\n'
        '  "scripts": {\n    "test": "node --test"\n  },\n'
        '  "dependencies": {\n    "express": "5.3.1"\n  }\n}\n'
    ),
    "README.md.jinja": f"# {{{{ project_name }}}}\n\nTemplate intro v2.\n\n{MARKER}\n",
    ".env.example": "PORT=8080\n",
    "src/server.ts": (
        "export const a = 1;\nexport const b = 2;\nexport const c = 3;\nexport const d = 4;\n"
    ),
    "src/security.ts": "export const csp = 'v2';\nexport const hsts = true;\n",
    "src/legacy.ts": None,
    "{% if smoke_job %}smoke.yml{% endif %}": "smoke: true\n",
    "src/greeting.ts.jinja": "export const greeting = '{{ greeting }}';\n",
}
V2_QUESTIONS = """
smoke_job:
  type: bool
  help: "Add a smoke-test job"
  default: false

greeting:
  type: str
  help: "How the API greets"
  default: hello
"""

V3: dict[str, str | None] = {
    "src/greeting.ts.jinja": "export const greeting = '{{ salutation }}';\n",
    "src/security.ts": (
        "export const csp = 'v2';\nexport const hsts = true;\nexport const v3 = 1;\n"
    ),
}
V3_QUESTIONS = """
smoke_job:
  type: bool
  help: "Add a smoke-test job"
  default: false

salutation:
  type: str
  help: "How the API greets"
  default: hello

_migrations:
  - version: v3.0.0
    when: "{{ _stage == 'before' }}"
    command: ["{{ _copier_python }}", "{{ _copier_conf.src_path }}/migrations/rename_greeting.py"]
"""
RENAME = """\
import sys
from pathlib import Path

import yaml

path = Path(".copier-answers.yml")
answers = yaml.safe_load(path.read_text())
if "greeting" in answers:
    answers["salutation"] = answers.pop("greeting")
path.write_text(yaml.safe_dump(answers, sort_keys=True))
sys.exit(0)
"""


def _apply(root: Path, files: dict[str, str | None]) -> None:
    for name, content in files.items():
        path = root / "template" / name
        if content is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")


def make_releases(root: Path) -> Path:
    """The template repository with tags v1.0.0, v2.0.0 and v3.0.0 (one commit each)."""
    root.mkdir(parents=True)
    questions = (REPO_ROOT / "copier.yml").read_text(encoding="utf-8")
    git("init", "--quiet", cwd=root)
    steps = [(V1, ""), (V2, V2_QUESTIONS), (V3, V3_QUESTIONS)]
    for number, (files, extra) in enumerate(steps, start=1):
        (root / "copier.yml").write_text(questions + extra, encoding="utf-8")
        _apply(root, files)
        if number == 3:
            (root / "migrations").mkdir()
            (root / "migrations" / "rename_greeting.py").write_text(RENAME, encoding="utf-8")
        git("add", "--all", "--force", cwd=root)
        git("commit", "--quiet", "-m", f"release {number}", cwd=root)
        git("tag", f"v{number}.0.0", cwd=root)
    return root


def serve(monkeypatch: pytest.MonkeyPatch, local: Path, url: str = URL) -> None:
    """Make git (hardstart's and Copier's) fetch `url` from the local repository `local`."""
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", f"url.{local}.insteadOf")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", url)


def copy_project(project: Path, dest: Path) -> Path:
    shutil.copytree(project, dest, symlinks=True)
    return dest
