"""Whole-process timings of `hardstart audit`: on a generated project, and on a synthetic
repository of 5,000 files (a generated project plus feature modules of realistic size).

    python scripts/bench_audit.py [--runs 7] [--files 5000] [--repos 50]

Every run is a fresh interpreter (`python -m hardstart audit DIR -q --fail-on never`), pinned to
one core with `taskset -c 0` when it exists. Targets: under 2 s for the generated project, under
10 s for the 5,000-file repository. Then `hardstart fleet status` (with its audit column) over
`--repos` copies of the generated project at 1, 2 and 4 workers (not pinned: it should scale with
the cores there are).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "NO_COLOR": "1"}

ROUTES = """import {{ Router }} from 'express';
import {{ z }} from 'zod';
import {{ create{name}, find{name}, list{name}s }} from './repository.ts';

// Unknown fields are a 400, not silently dropped (A8).
const body = z.strictObject({{
  title: z.string().min(1).max(200),
  description: z.string().max(10_000).optional(),
  tags: z.array(z.string().max(40)).max(20).default([]),
}});
const params = z.strictObject({{ id: z.uuid() }});
const query = z.strictObject({{ limit: z.coerce.number().int().min(1).max(100).default(20) }});

export const {lower}Router = Router();

{lower}Router.get('/', async (req, res) => {{
  const {{ limit }} = query.parse(req.query);
  res.json({{ items: await list{name}s(res.locals.userId, limit) }});
}});

{lower}Router.get('/:id', async (req, res) => {{
  const {{ id }} = params.parse(req.params);
  const found = await find{name}(res.locals.userId, id);
  if (found === undefined) {{
    res.status(404).json({{ title: 'Not found' }});
    return;
  }}
  res.json(found);
}});

{lower}Router.post('/', async (req, res) => {{
  const input = body.parse(req.body);
  const id = await create{name}(res.locals.userId, input.title, input.description ?? '');
  res.status(201).json({{ id }});
}});
"""

REPOSITORY = """import type {{ Pool }} from 'pg';

declare const pool: Pool;

export interface {name}Row {{
  id: string;
  title: string;
  description: string;
  created_at: Date;
}}

export async function list{name}s(ownerId: string, limit: number): Promise<{name}Row[]> {{
  const {{ rows }} = await pool.query<{name}Row>(
    `SELECT id, title, description, created_at FROM {table}
     WHERE owner_id = $1 ORDER BY created_at DESC LIMIT $2`,
    [ownerId, limit],
  );
  return rows;
}}

export async function find{name}(ownerId: string, id: string): Promise<{name}Row | undefined> {{
  const {{ rows }} = await pool.query<{name}Row>(
    'SELECT id, title, description, created_at FROM {table} WHERE owner_id = $1 AND id = $2',
    [ownerId, id],
  );
  return rows[0];
}}

export async function create{name}(
  ownerId: string,
  title: string,
  description: string,
): Promise<string> {{
  const {{ rows }} = await pool.query<{{ id: string }}>(
    'INSERT INTO {table} (owner_id, title, description) VALUES ($1, $2, $3) RETURNING id',
    [ownerId, title, description],
  );
  return rows[0]!.id;
}}
"""

SERVICE = """// Business rules for {lower}: pure functions over rows, no I/O.
const MAX_TAGS = 20;

export function normalizeTags(tags) {{
  const seen = new Set();
  const out = [];
  for (const tag of tags) {{
    const clean = tag.trim().toLowerCase();
    if (clean.length === 0 || seen.has(clean)) continue;
    seen.add(clean);
    out.push(clean);
    if (out.length === MAX_TAGS) break;
  }}
  return out;
}}

export function summarize(rows) {{
  return rows.map((row) => ({{
    id: row.id,
    title: row.title.length > 80 ? `${{row.title.slice(0, 77)}}...` : row.title,
    age: Math.round((Date.now() - row.created_at.getTime()) / 86_400_000),
  }}));
}}

export function compare(a, b) {{
  if (a.created_at.getTime() !== b.created_at.getTime()) return b.created_at - a.created_at;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}}
"""

README = "# {lower}\n\nThe {lower} feature: routes, repository and rules.\n"


def synthesize(dest: Path, total: int) -> None:
    """Add feature folders (routes, repository, service, README) up to `total` files."""
    existing = sum(1 for p in dest.rglob("*") if p.is_file() and ".git" not in p.parts)
    features = max(0, (total - existing) // 4)
    for i in range(features):
        name = f"Item{i:04d}"
        lower = f"item{i:04d}"
        folder = dest / "src" / "features" / "generated" / lower
        folder.mkdir(parents=True)
        values = {"name": name, "lower": lower, "table": f"items_{i:04d}"}
        (folder / "routes.ts").write_text(ROUTES.format(**values), encoding="utf-8")
        (folder / "repository.ts").write_text(REPOSITORY.format(**values), encoding="utf-8")
        (folder / "service.js").write_text(SERVICE.format(**values), encoding="utf-8")
        (folder / "README.md").write_text(README.format(**values), encoding="utf-8")


def count_files(root: Path) -> int:
    return sum(1 for p in root.rglob("*") if p.is_file() and ".git" not in p.parts)


def timed(root: Path, runs: int) -> tuple[float, str]:
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    command = [*pin, sys.executable, "-m", "hardstart", "audit", str(root), "--fail-on", "never"]
    times: list[float] = []
    summary = ""
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, check=True, capture_output=True, text=True, env=ENV)
        times.append(time.perf_counter() - start)
        summary = done.stdout.strip().splitlines()[-1]
    return statistics.median(times), summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--repos", type=int, default=50)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "app"
        subprocess.run(
            [sys.executable, "-m", "hardstart", "new", str(project), "--defaults", "-q"],
            check=True,
            env=ENV,
        )
        large = Path(tmp) / "large"
        shutil.copytree(project, large, ignore=shutil.ignore_patterns(".git"))
        synthesize(large, options.files)
        for label, root in (("generated project", project), ("synthetic repository", large)):
            median, summary = timed(root, options.runs)
            print(
                f"{label}: {count_files(root)} files,"
                f" median of {options.runs}: {median:.2f} s ({summary})"
            )
        fleet_status(project, Path(tmp) / "fleet", options.repos)


def fleet_status(project: Path, root: Path, repos: int) -> None:
    """`fleet status` over `repos` copies of `project`, at 1, 2 and 4 workers (one run each)."""
    paths = []
    for i in range(repos):
        shutil.copytree(project, root / f"svc-{i:02d}", symlinks=True)
        paths.append(str(root / f"svc-{i:02d}"))
    for workers in (1, 2, 4):
        command = [sys.executable, "-m", "hardstart", "fleet", "status", *paths, "-j", str(workers)]
        start = time.perf_counter()
        done = subprocess.run(command, check=False, capture_output=True, text=True, env=ENV)
        elapsed = time.perf_counter() - start
        if done.returncode not in (0, 5):  # 5: some repository is not current, still a result
            raise SystemExit(f"fleet status failed ({done.returncode}): {done.stderr.strip()}")
        label = f"fleet status with audit, {repos} repositories, {workers} worker(s)"
        print(f"{label}: {elapsed:.1f} s")


if __name__ == "__main__":
    main()
