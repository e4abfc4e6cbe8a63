"""How results are shown: tables and lines for people, JSON for programs, Markdown for pull
requests. Commands build result objects; this module only renders them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from hardstart.console import Output
from hardstart.plan import Outcome, Plan

if TYPE_CHECKING:  # importing these at run time would load Copier before any command needs it
    from hardstart.audit.run import Report
    from hardstart.checks import CheckResult
    from hardstart.fleet import Row

_TAIL_SECTIONS = ("new questions:", "migrations:")


def plan(out: Output, result: Plan, *, as_json: bool, applied: bool, committed: bool) -> None:
    if as_json:
        out.json({**result.to_json(), "applied": applied and bool(result.changes)})
        return
    rows = [
        (change.path, change.outcome.value, change.note)
        for change in result.files
        if change.outcome is not Outcome.UNCHANGED
    ]
    lines = result.summary()
    out.result(lines[0], style="bold")
    if not result.changes:
        out.result(lines[1])
    if rows:
        out.grid(("file", "outcome", "note"), rows)
    unchanged = len(result.having(Outcome.UNCHANGED))
    out.result(f"{unchanged} template file(s) unchanged.")
    # The file sections are the table above; the questions and migrations follow as they are.
    start = next((i for i, line in enumerate(lines) if line in _TAIL_SECTIONS), len(lines))
    for line in lines[start:]:
        out.result(line)
    for action in result.actions:
        out.result(f"to do: {action}", style="yellow")
    if not applied:
        out.result("Plan only: nothing was written.")
    elif result.changes:
        first = "Resolve the conflict markers, review" if result.conflicts else "Review"
        out.result(
            "Committed."
            if committed and not result.conflicts
            else f"{first} with `git diff`, run `npm ci && npm test`, then commit."
        )


def check(out: Output, result: CheckResult, *, as_json: bool) -> None:
    if as_json:
        out.json(result.to_json())
        return
    standing = result.preset
    if result.ok:
        met = f", {standing.summary()}" if standing and standing.in_effect else ""
        out.result(f"{result.project}: current ({result.recorded}), no drift{met}.", style="green")
        return
    if result.outdated:
        change = {None: "", True: "; updating changes files", False: "; updating changes no file"}
        out.result(f"outdated: {result.recorded} → {result.installed}{change[result.would_change]}")
    for drift in result.drifted:
        out.result(f"drifted: {drift.path} ({drift.state})", style="yellow")
        if drift.diff:
            out.result(drift.diff)
    for finding in standing.findings() if standing else []:
        out.result(finding, style="yellow")


def fleet(out: Output, rows: list[Row], title: str, *, as_json: bool, as_markdown: bool) -> None:
    if as_json:
        out.json([row.to_json() for row in rows])
        return
    if as_markdown:
        from hardstart.fleet import markdown

        out.raw(markdown(rows, title))
        return
    from hardstart.fleet import cells_of, columns

    headers = columns(rows)
    out.grid(headers, [cells_of(row, headers) for row in rows])
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.state.value] = counts.get(row.state.value, 0) + 1
    out.result(", ".join(f"{n} {state}" for state, n in sorted(counts.items())))


def audit(out: Output, report: Report, form: str, output: Path | None) -> None:
    """The audit in one format ("table", "json", "sarif", "gitlab"), on stdout or in `output`."""
    from hardstart.audit.model import Status

    if form == "table":
        rows = []
        for result in report.results:
            rule = result.rule
            if result.status is Status.FAIL:
                for failure in result.failures:
                    where = f"{failure.path}:{failure.line}" if failure.line else failure.path
                    rows.append(
                        (rule.id, rule.item, "FAIL", where, f"{failure.message}; fix: {rule.fix}")
                    )
            elif result.status is Status.PASS:
                rows.append((rule.id, rule.item, "pass", "", rule.title))
            elif result.status is Status.WAIVED:
                rows.append((rule.id, rule.item, "waived", "", result.reason))
            else:
                rows.append((rule.id, rule.item, "n/a", "", result.reason))
        headers = ("rule", "item", "status", "where", "message / fix")
        if output is None:
            out.grid(headers, rows)
            out.result(report.summary(), style="bold")
            return
        lines = ["\t".join(headers), *("\t".join(row) for row in rows), report.summary()]
        output.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return
    if form == "json":
        data = report.to_json()
    elif form == "sarif":
        from hardstart.audit import sarif

        data = sarif.render(report)
    else:
        from hardstart.audit import gitlab

        data = gitlab.render(report)
    if output is None:
        out.json(data)
    else:
        output.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
