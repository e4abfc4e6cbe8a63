"""The interactive wizard, driven through a real pseudo-terminal (the real `hardstart` process)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect
import pytest
import yaml

from conftest import git
from hardstart.template import TEMPLATE_ID, identify

pytestmark = pytest.mark.tty

DOWN = "\x1b[B"
ENTER = "\r"
CLEAR_LINE = "\x15"  # Ctrl-U: delete the pre-filled default
CTRL_C = "\x03"


def spawn(template: Path, cwd: Path, *args: str) -> pexpect.spawn:
    hardstart = str(Path(sys.executable).parent / "hardstart")
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "NO_COLOR": "1",
        "PROMPT_TOOLKIT_NO_CPR": "1",  # nobody answers cursor-position requests here
        "COLUMNS": "160",
        "LINES": "50",
    }
    return pexpect.spawn(
        hardstart,
        ["new", "--template", str(template), *args],
        cwd=str(cwd),
        env=env,
        encoding="utf-8",
        timeout=20,
        dimensions=(50, 160),
    )


def finish(child: pexpect.spawn) -> tuple[int, str]:
    child.expect(pexpect.EOF)
    output = child.before or ""
    child.close()
    assert child.exitstatus is not None, "killed by a signal"
    return child.exitstatus, output


def test_wizard_asks_validates_summarises_and_generates(tiny_template: Path, workdir: Path) -> None:
    child = spawn(tiny_template, workdir)
    child.expect("Project")
    child.expect("a valid npm package name")
    child.send("My API" + ENTER)
    child.expect("must be a valid npm package name")  # shown inline; asked again
    child.send(CLEAR_LINE + "my-api" + ENTER)
    child.expect("One-line description")
    child.send(ENTER)  # keep the default
    child.expect("Author or owning team")
    child.send(CLEAR_LINE + "Ada Team" + ENTER)
    child.expect("License of the generated project")
    child.send(DOWN + ENTER)  # MIT -> Apache-2.0
    child.expect("Where to report vulnerabilities")
    child.send(CLEAR_LINE + "http://insecure.example" + ENTER)
    child.expect("must be an e-mail address or an https:// URL")
    child.send(CLEAR_LINE + "psirt@ada.example" + ENTER)
    child.expect("Code owners")
    child.send(ENTER)  # none
    child.expect("Runtime")
    child.expect("Node.js LTS major version")
    child.send(DOWN + ENTER)  # 24 -> 22
    child.expect("HTTP boundary")
    child.expect("Browser origins allowed")
    child.send(CLEAR_LINE + "http://evil.example" + ENTER)
    child.expect("is not an exact origin")
    child.send(CLEAR_LINE + "https://a.example, http://localhost:3000" + ENTER)
    child.expect("Where rate-limit counters live")
    child.send(DOWN + ENTER)  # memory -> redis
    child.expect("Delivery")
    child.expect("CI pipeline")
    child.send(DOWN + ENTER)  # GitHub Actions -> GitLab CI
    child.expect("Dependency update bot")
    child.send(ENTER)  # the default follows the CI choice: Renovate
    child.expect("weekly CI job that runs hardstart update")
    child.send("y")
    child.expect("audits the repository against the hardening baseline")
    child.send("y")
    child.expect("Base of the runtime image")
    child.send(ENTER)
    child.expect("compose.yaml")
    child.send(ENTER)
    child.expect("Kubernetes manifests")
    child.send("y")
    child.expect("nginx")
    child.send(ENTER)
    child.expect("Summary")
    child.expect("destination")
    child.expect("Generate the project in my-api")
    child.send("y")
    status, output = finish(child)

    assert status == 0, output
    assert "Traceback" not in output
    assert "cd my-api && npm ci && npm run dev" in output
    dest = workdir / "my-api"
    recorded = yaml.safe_load((dest / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert recorded == {
        "_commit": identify(tiny_template),
        "_src_path": TEMPLATE_ID,
        "project_name": "my-api",
        "description": "A hardened REST API",
        "author": "Ada Team",
        "license": "Apache-2.0",
        "node_major": 22,
        "cors_origins": "https://a.example, http://localhost:3000",
        "rate_limit_store": "redis",
        "security_contact": "psirt@ada.example",
        "code_owners": "",
        "ci_provider": "gitlab",
        "update_bot": "renovate",
        "scheduled_update": True,
        "audit_job": True,
        "container_base": "alpine",
        "compose": True,
        "kubernetes": True,
        "nginx": False,
    }
    assert (dest / "src" / "redis-store.ts").is_file()
    assert git("rev-list", "--count", "HEAD", cwd=dest).strip() == "1"


def test_wizard_is_prefilled_from_data(tiny_template: Path, workdir: Path) -> None:
    child = spawn(tiny_template, workdir, "-d", "project_name=pre-filled", "svc")
    child.expect("a valid npm package name")
    child.send(ENTER)  # the --data answer is the default
    for _ in range(6 + 10):  # the other questions, defaults kept
        child.send(ENTER)
    child.expect("Generate the project in svc")
    child.send("y")
    status, output = finish(child)
    assert status == 0, output
    recorded = yaml.safe_load((workdir / "svc" / ".copier-answers.yml").read_text())
    assert recorded["project_name"] == "pre-filled"


def test_ctrl_c_mid_way_leaves_nothing(tiny_template: Path, workdir: Path) -> None:
    child = spawn(tiny_template, workdir)
    child.expect("a valid npm package name")
    child.send("my-api" + ENTER)
    child.expect("One-line description")
    child.send(CTRL_C)
    status, output = finish(child)
    assert status == 130
    assert "error: interrupted" in output
    assert "Traceback" not in output
    assert list(workdir.iterdir()) == []


def test_declining_the_summary_writes_nothing(tiny_template: Path, workdir: Path) -> None:
    child = spawn(tiny_template, workdir, "-d", "project_name=my-api")
    child.expect("a valid npm package name")
    for _ in range(7 + 10):
        child.send(ENTER)
    child.expect("Generate the project in my-api")
    child.send("n")
    status, output = finish(child)
    assert status == 1
    assert "nothing was written" in output
    assert list(workdir.iterdir()) == []


def test_defaults_on_a_terminal_asks_nothing(tiny_template: Path, workdir: Path) -> None:
    child = spawn(tiny_template, workdir, "--defaults", "-d", "project_name=quiet-one")
    status, output = finish(child)
    assert status == 0, output
    assert "a valid npm package name" not in output
    assert (workdir / "quiet-one" / "package.json").is_file()


def test_update_asks_only_the_new_questions(
    workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from hardstart.cli import app
    from releases import URL, make_releases, serve

    serve(monkeypatch, make_releases(tmp_path / "template"))
    made = CliRunner().invoke(
        app, ["new", "-q", "--template-url", URL, "--template-version", "1.0.0", "svc"]
    )
    assert made.exit_code == 0, made.output
    hardstart = str(Path(sys.executable).parent / "hardstart")
    env = {**os.environ, "TERM": "xterm-256color", "NO_COLOR": "1", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(
        hardstart, ["update", "svc", "--to", "2.0.0"], cwd=str(workdir), env=env,
        encoding="utf-8", timeout=20, dimensions=(50, 160),
    )  # fmt: skip
    child.expect("New questions in this template version")
    child.expect("Add a smoke-test job")
    child.send("y")
    child.expect("How the API greets")
    child.send(CLEAR_LINE + "hey" + ENTER)
    status, output = finish(child)
    assert status == 0, output
    assert "valid npm package name" not in output  # recorded answers are not asked again
    recorded = yaml.safe_load((workdir / "svc" / ".copier-answers.yml").read_text())
    assert recorded["smoke_job"] is True
    assert recorded["greeting"] == "hey"
    assert recorded["project_name"] == "svc"
    assert (workdir / "svc" / "smoke.yml").is_file()


PRESET = """\
name: acme-platform
version: 1.4.0
defaults:
  author: "Acme Platform <platform@acme.example>"
  cors_origins: "https://app.acme.example"
locks:
  ci_provider: {value: github, reason: "All services build on GitHub Actions"}
  cors_origins: {pattern: '^https://[a-z0-9-]+\\.acme\\.example$', reason: "Only acme.example"}
"""


def test_wizard_with_a_preset_skips_locked_and_prefills_defaults(
    tiny_template: Path, workdir: Path, tmp_path: Path
) -> None:
    preset = tmp_path / "acme.yml"
    preset.write_text(PRESET, encoding="utf-8")
    child = spawn(tiny_template, workdir, "--preset", str(preset), "svc")
    child.expect("Preset acme-platform 1.4.0")
    child.expect("ci_provider: locked to github \\(All services build on GitHub Actions\\)")
    child.expect("One-line description")  # the name comes from the destination
    child.send(ENTER)
    child.expect("Author or owning team")
    child.expect("Acme Platform <platform@acme.example>")  # pre-filled from the preset
    child.send(CLEAR_LINE + "Ada Team <ada@acme.example>" + ENTER)  # and it can be changed
    for _ in range(4):  # license, security contact (follows the new author), owners, Node
        child.send(ENTER)
    child.expect("Browser origins allowed")
    child.expect("https://app.acme.example")
    child.send(CLEAR_LINE + "https://app.example.com" + ENTER)
    child.expect("must match")
    child.expect("Only acme.example")  # the lock's reason, inline; asked again
    child.send(CLEAR_LINE + "https://shop.acme.example" + ENTER)
    child.expect("Where rate-limit counters live")
    child.send(ENTER)
    child.expect("Dependency update bot")  # the CI question is not asked
    for _ in range(7):  # bot, scheduled job, audit job, base image, compose, kubernetes, nginx
        child.send(ENTER)
    child.expect("Generate the project in svc")
    child.send("y")
    status, output = finish(child)
    assert status == 0, output
    assert "CI pipeline" not in output
    recorded = yaml.safe_load((workdir / "svc" / ".copier-answers.yml").read_text())
    assert recorded["ci_provider"] == "github"
    assert recorded["author"] == "Ada Team <ada@acme.example>"
    assert recorded["security_contact"] == "ada@acme.example"
    assert recorded["cors_origins"] == "https://shop.acme.example"
    record = yaml.safe_load((workdir / "svc" / ".hardstart" / "preset.yml").read_text())
    assert record["name"] == "acme-platform"
