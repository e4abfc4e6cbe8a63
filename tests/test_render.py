"""Rendering the real template over a pairwise matrix of the answers.

For each combination: exactly the expected files (conditional files present or absent, plain
files copied byte for byte), no Jinja left, every JSON/YAML file parses, the answers file
records the answers and the template version.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from allpairspy import AllPairs
from typer.testing import CliRunner

from conftest import REPO_ROOT
from hardstart import answers, questions
from hardstart import template as templates
from hardstart.cli import app

DIMENSIONS: dict[str, list[Any]] = {
    "license": ["MIT", "Apache-2.0", "proprietary"],
    "node_major": [24, 22],
    "rate_limit_store": ["memory", "redis"],
    "cors_origins": [
        "https://app.example.com",
        "https://a.example:8443, http://localhost:3000,https://b.example",
    ],
    "description": ["A hardened REST API", "Orders & refunds <v2>, 'beta'"],
    "ci_provider": ["github", "gitlab", "none"],
    "update_bot": ["dependabot", "renovate"],
    "container_base": ["alpine", "distroless"],
    "compose": [True, False],
    "kubernetes": [False, True],
    "nginx": [False, True],
    "code_owners": ["", "@acme/platform ops@acme.example"],
    "scheduled_update": [False, True],
    "audit_job": [False, True],
}


def _allowed(values: list[Any]) -> bool:
    """The combinations copier.yml accepts (AllPairs passes partial rows, in DIMENSIONS order)."""
    row = dict(zip(DIMENSIONS, values, strict=False))
    if row.get("update_bot") == "dependabot" and row.get("ci_provider") == "gitlab":
        return False
    return not (row.get("kubernetes") is True and row.get("rate_limit_store") == "memory")


MATRIX = [
    dict(zip(DIMENSIONS, values, strict=True))
    for values in AllPairs(list(DIMENSIONS.values()), filter_func=_allowed)
]

LEFTOVER_JINJA = re.compile(r"(?<!\$)\{\{|\{%|%\}|\{#-?\s")
JSONC_NAMES = re.compile(r"^(tsconfig.*|jsconfig)\.json$")  # tsc reads these with comments


def combo_id(combo: dict[str, Any]) -> str:
    return "-".join(str(combo[key]).split(",")[0].split(":")[0][:12] for key in DIMENSIONS)


def expected_files(template_dir: Path, context: dict[str, Any]) -> dict[Path, Path]:
    """Rendered path → source path, rendering each path part as Copier does."""
    config = questions.load(template_dir.parent)
    context = {**context, "_copier_conf": {"answers_file": config.answers_file}}
    result: dict[Path, Path] = {}
    for source in sorted(p for p in template_dir.rglob("*") if p.is_file()):
        parts = [
            str(config.render(part, context)) for part in source.relative_to(template_dir).parts
        ]
        parts[-1] = parts[-1].removesuffix(".jinja")
        if not all(parts):
            continue  # a conditional part rendered empty: not generated
        result[Path(*parts)] = source
    return result


def generated_files(dest: Path) -> set[Path]:
    return {
        p.relative_to(dest)
        for p in dest.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(dest).parts
    }


def strip_json_comments(text: str) -> str:
    return re.sub(r"^\s*//.*$|/\*.*?\*/", "", text, flags=re.M | re.S)


def check_project(dest: Path, template_dir: Path, given: dict[str, Any]) -> None:
    config = questions.load(template_dir.parent)
    full = answers.resolve(config, given, complete=True)

    expected = expected_files(template_dir, full)
    assert generated_files(dest) == set(expected)
    for rendered, source in expected.items():
        if not source.name.endswith(".jinja"):
            assert (dest / rendered).read_bytes() == source.read_bytes(), rendered

    for path in generated_files(dest):
        data = (dest / path).read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if path.name.endswith(".jinja") or any(".jinja" in part for part in path.parts):
            pytest.fail(f"{path}: template suffix left in a file name")
        leftover = LEFTOVER_JINJA.search(text)
        assert leftover is None, (
            f"{path}: Jinja left: {text[max(0, leftover.start() - 40) : leftover.end() + 40]!r}"
        )
        if path.suffix == ".json":
            json.loads(strip_json_comments(text) if JSONC_NAMES.match(path.name) else text)
        elif path.suffix in {".yml", ".yaml"}:
            list(yaml.safe_load_all(text))

    package = json.loads((dest / "package.json").read_text(encoding="utf-8"))
    assert package["name"] == full["project_name"]
    assert package.get("description", full["description"]) == full["description"]
    dependencies = set(package.get("dependencies", {}))
    uses_redis = any("redis" in name for name in dependencies)
    assert uses_redis == (full["rate_limit_store"] == "redis"), sorted(dependencies)

    recorded = yaml.safe_load((dest / config.answers_file).read_text(encoding="utf-8"))
    ref = templates.identify(template_dir.parent)
    assert recorded == {"_commit": ref, "_src_path": templates.TEMPLATE_ID, **full}


@pytest.mark.parametrize("combo", MATRIX, ids=combo_id)
def test_pairwise_render(template_repo: Path, workdir: Path, combo: dict[str, Any]) -> None:
    given = {"project_name": "orders-api", **combo}
    args = [arg for key, value in given.items() for arg in ("-d", f"{key}={value}")]
    result = CliRunner().invoke(app, ["new", "--template", str(template_repo), "-q", *args, "out"])
    assert result.exit_code == 0, result.output
    check_project(workdir / "out", template_repo / "template", given)


def test_bundled_template_renders_with_defaults(workdir: Path) -> None:
    """No --template: the template bundled with hardstart (this checkout's when developing)."""
    assert templates.bundled().root in {REPO_ROOT, Path(templates.__file__).parent / "_template"}
    result = CliRunner().invoke(app, ["new", "--defaults", "-q", "-d", "project_name=@acme/svc"])
    assert result.exit_code == 0, result.output
    check_project(
        workdir / "svc", templates.bundled().root / "template", {"project_name": "@acme/svc"}
    )


def test_matrix_covers_every_value() -> None:
    for key, values in DIMENSIONS.items():
        assert {combo[key] for combo in MATRIX} == set(values), key
