"""`hardstart audit`'s code checks: the hand-written good project passes them, each weak project
fails exactly its own, every generated combination passes, and a repository without a Node
project gets "not applicable" for every rule."""

# ruff: noqa: E501 - the snippets of JavaScript below read best on one line each

from __future__ import annotations

from pathlib import Path

import pytest

from hardstart.audit import checks
from hardstart.audit.model import Status
from hardstart.audit.run import NO_NODE_PROJECT, audit

FIXTURES = Path(__file__).parent / "audit_fixtures"

# The rules that read JavaScript/TypeScript code (the rest of the audit reads other files).
CODE_RULES = frozenset(
    {
        "A1-json-body-limit",
        "A8-strict-request-schemas",
        "A9-server-timeouts",
        "B1-helmet-headers",
        "C1-cors-allowlist",
        "D1-password-hashing",
        "D4-rate-limiter",
        "D5-jwt-pinned-algorithms",
        "F1-parameterized-sql",
        "G2-log-redaction",
        "H1-validated-config",
        "H2-trust-proxy-not-true",
        "I1-graceful-shutdown",
        "I3-crash-handlers",
    }
)

# Each weak project (an overlay on `good`) and the code rules it must fail, nothing else.
WEAK: dict[str, set[str]] = {
    "cors-open": {"C1-cors-allowlist"},
    "cors-reflect": {"C1-cors-allowlist"},
    "trust-proxy-true": {"H2-trust-proxy-not-true"},
    "jwt-no-algorithms": {"D5-jwt-pinned-algorithms"},
    "jwt-decode": {"D5-jwt-pinned-algorithms"},
    "no-body-limit": {"A1-json-body-limit"},
    "sql-template": {"F1-parameterized-sql"},
    "no-helmet": {"B1-helmet-headers"},
    "no-rate-limit": {"D4-rate-limiter"},
    "loose-schema": {"A8-strict-request-schemas"},
    "no-redaction": {"G2-log-redaction"},
    "fast-password-hash": {"D1-password-hashing"},
    "env-everywhere": {"H1-validated-config"},
    "no-shutdown": {"I1-graceful-shutdown"},
    "no-crash-handlers": {"I3-crash-handlers"},
    "no-timeouts": {"A9-server-timeouts"},
}


def statuses(root: Path) -> dict[str, Status]:
    return {r.rule.id: r.status for r in audit(root).results if r.rule.id in CODE_RULES}


def test_every_code_rule_is_registered() -> None:
    assert set(checks.load()) >= CODE_RULES


def test_empty_repository_is_not_applicable(tmp_path: Path) -> None:
    report = audit(tmp_path)
    assert report.results
    assert {r.status for r in report.results} == {Status.NOT_APPLICABLE}
    assert {r.reason for r in report.results} == {NO_NODE_PROJECT}


def test_python_repository_is_not_applicable(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "tool"\n', encoding="utf-8")
    (tmp_path / "tool.py").write_text("import os\nprint(os.environ['HOME'])\n", encoding="utf-8")
    (tmp_path / "node_modules" / "left-pad").mkdir(parents=True)
    (tmp_path / "node_modules" / "left-pad" / "package.json").write_text("{}", encoding="utf-8")
    report = audit(tmp_path)
    assert {r.status for r in report.results} == {Status.NOT_APPLICABLE}


def test_a_node_project_without_express_skips_the_express_rules(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"name": "cli", "dependencies": {}}', encoding="utf-8")
    (tmp_path / "index.mjs").write_text("console.log(process.argv);\n", encoding="utf-8")
    found = statuses(tmp_path)
    assert set(found.values()) == {Status.NOT_APPLICABLE}, found


def project(tmp_path: Path, dependencies: list[str], files: dict[str, str]) -> Path:
    deps = ", ".join(f'"{name}": "1.0.0"' for name in ["express", *dependencies])
    (tmp_path / "package.json").write_text(f'{{"dependencies": {{{deps}}}}}', encoding="utf-8")
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content, encoding="utf-8")
    return tmp_path


def failures_of(root: Path, rule_id: str) -> list[str]:
    result = next(r for r in audit(root).results if r.rule.id == rule_id)
    assert result.status is not Status.NOT_APPLICABLE, result.reason
    return [f"{f.path}:{f.line} {f.message}" for f in result.failures]


@pytest.mark.parametrize(
    ("name", "code", "failed"),
    [
        # CommonJS, destructured require, in a .cjs file.
        ("a.cjs", "const { verify } = require('jsonwebtoken');\nverify(t, k);\n", True),
        (
            "a.cjs",
            "const jwt = require('jsonwebtoken');\njwt.verify(t, k, { algorithms: ['RS256'] });\n",
            False,
        ),
        # Options held in a constant, in TypeScript.
        (
            "a.ts",
            "import * as jwt from 'jsonwebtoken';\nconst o = { algorithms: ['none'] };\njwt.verify(t, k, o);\n",
            True,
        ),
        (
            "a.mts",
            "import { jwtVerify } from 'jose';\nawait jwtVerify(t, key, { issuer: 'x' });\n",
            True,
        ),
        (
            "a.mjs",
            "import { jwtVerify as v } from 'jose';\nawait v(t, key, { algorithms: ['EdDSA'] });\n",
            False,
        ),
        # A method of another object named `verify` is not jsonwebtoken's.
        (
            "a.js",
            "import jwt from 'jsonwebtoken';\nhasher.verify(h, p);\njwt.sign({}, k, { algorithm: 'HS256' });\n",
            False,
        ),
    ],
)
def test_jwt_verification_across_module_kinds(
    tmp_path: Path, name: str, code: str, failed: bool
) -> None:
    root = project(tmp_path, ["jsonwebtoken", "jose"], {f"src/{name}": code})
    assert bool(failures_of(root, "D5-jwt-pinned-algorithms")) is failed


@pytest.mark.parametrize(
    ("code", "failed"),
    [
        ("db.query(`SELECT * FROM t WHERE id = ${id}`);", True),
        ("db.query('SELECT * FROM t WHERE id = ' + id);", True),
        ("let q = 'SELECT * FROM t';\nq += ' WHERE id = ' + id;\ndb.query(q);", True),
        ("const q = `SELECT * FROM t WHERE id = ${id}`;\ndb.execute(q);", True),
        ("knex.whereRaw(`name = '${name}'`);", True),
        ("db.query('SELECT * FROM t WHERE id = $1', [id]);", False),
        ("db.query(sql`SELECT * FROM t WHERE id = ${id}`);", False),
        ("const T = 'notes';\ndb.query('SELECT * FROM ' + T);", False),
        ("$('#x').query(`.item-${n}`);", False),
    ],
)
def test_sql_built_from_strings(tmp_path: Path, code: str, failed: bool) -> None:
    root = project(tmp_path, ["pg"], {"src/db.ts": code})
    assert bool(failures_of(root, "F1-parameterized-sql")) is failed


@pytest.mark.parametrize(
    ("code", "failed"),
    [
        ("import cors from 'cors';\napp.use(cors({ origin: true }));", True),
        ("import cors from 'cors';\napp.use(cors({ origin: '*' }));", True),
        (
            "const cors = require('cors');\nconst o = ['https://a.example', '*'];\napp.use(cors({ origin: o }));",
            True,
        ),
        ("res.set({ 'Access-Control-Allow-Origin': '*' });", True),
        ("res.header('access-control-allow-origin', req.get('Origin'));", True),
        ("import cors from 'cors';\napp.use(cors({ origin: ['https://a.example'] }));", False),
        ("if (allowed.has(o)) res.setHeader('Access-Control-Allow-Origin', o);", False),
    ],
)
def test_cors_allowlist(tmp_path: Path, code: str, failed: bool) -> None:
    root = project(tmp_path, ["cors"], {"src/app.js": code})
    assert bool(failures_of(root, "C1-cors-allowlist")) is failed


@pytest.mark.parametrize(
    ("code", "failed"),
    [
        ("app.enable('trust proxy');", True),
        ("const t = true;\napp.set('trust proxy', t);", True),
        ("app.set('trust proxy', 1);", False),
        ("app.set('trust proxy', ['loopback', '10.0.0.0/8']);", False),
    ],
)
def test_trust_proxy(tmp_path: Path, code: str, failed: bool) -> None:
    root = project(tmp_path, [], {"src/app.ts": code})
    assert bool(failures_of(root, "H2-trust-proxy-not-true")) is failed


@pytest.mark.parametrize(
    ("code", "failed"),
    [
        (
            "import { z } from 'zod';\nconst B = z.object({ a: z.string() });\nB.parse(req.body);",
            True,
        ),
        ("import { z } from 'zod';\nz.strictObject({}).passthrough().parse(req.query);", True),
        (
            "import Joi from 'joi';\nJoi.object({ a: Joi.string() }).unknown().validate(req.body);",
            True,
        ),
        (
            "const ajv = new Ajv();\najv.compile({ type: 'object', properties: {} });\nrouter({ body: s });",
            True,
        ),
        (
            "import { z } from 'zod';\nconst B = z.object({}).strict();\nB.parse(request.body);",
            False,
        ),
        ("import Joi from 'joi';\nJoi.object({ a: Joi.string() }).validate(req.body);", False),
        (
            "const ajv = new Ajv();\najv.compile({ type: 'object', additionalProperties: false });",
            False,
        ),
        (
            "import { z } from 'zod';\nconst out = z.object({ id: z.string() });\nres.json(out.parse(row));",
            True,
        ),
    ],
)
def test_strict_request_schemas(tmp_path: Path, code: str, failed: bool) -> None:
    root = project(tmp_path, ["zod", "joi", "ajv"], {"src/routes.ts": code})
    # (the last: a response schema only, so no request is validated at all)
    assert bool(failures_of(root, "A8-strict-request-schemas")) is failed


@pytest.mark.parametrize(
    ("code", "failed"),
    [
        (
            "import { createHash } from 'node:crypto';\nconst h = createHash('md5').update(user.password).digest('hex');",
            True,
        ),
        ("import md5 from 'md5';\nconst h = md5(password);", True),
        (
            "import argon2 from 'argon2';\nawait argon2.hash(password, { type: argon2.argon2i });",
            True,
        ),
        ("export function register(password) { return save({ password }); }", True),
        ("import bcrypt from 'bcryptjs';\nawait bcrypt.hash(password, 12);", False),
        ("import { scrypt } from 'node:crypto';\nscrypt(password, salt, 64, cb);", False),
        (
            "import { createHash } from 'node:crypto';\ncreateHash('sha256').update(refreshToken);\nimport argon2 from 'argon2';\nargon2.hash(password);",
            False,
        ),
    ],
)
def test_password_hashing(tmp_path: Path, code: str, failed: bool) -> None:
    root = project(tmp_path, ["argon2", "bcryptjs", "md5"], {"src/users.js": code})
    assert bool(failures_of(root, "D1-password-hashing")) is failed


def test_hostile_files_do_not_break_the_audit(tmp_path: Path) -> None:
    """Syntax errors, a BOM, bytes that are not UTF-8 and minified code nested thousands deep."""
    concatenated = "+".join(['"x"'] * 20_000)
    root = project(
        tmp_path,
        ["pg"],
        {
            "src/broken.js": "\ufeffimport express from 'express';\nconst app = express(;\napp.set('trust proxy', true)\n",
            "src/min.js": f"var a={concatenated};db.query('SELECT '+a+b);\n",
            "src/cycle.js": "const a = b + 'x';\nconst b = a + 'y';\ndb.query('SELECT ' + a);\n",
        },
    )
    (root / "src" / "binary.js").write_bytes(b"\xff\xfe\x00binary")
    assert failures_of(root, "H2-trust-proxy-not-true") == [
        "src/broken.js:3 'trust proxy' set to true trusts every hop"
    ]
    assert [f.split(" ")[0] for f in failures_of(root, "F1-parameterized-sql")] == [
        "src/cycle.js:3",
        "src/min.js:1",
    ]


@pytest.mark.parametrize(
    ("files", "failed"),
    [
        ({"src/a.js": "const port = process.env.PORT;", "src/b.js": "process.env.HOST;"}, True),
        ({"src/config.js": "const { PORT, HOST } = process.env;"}, True),  # no schema library
        (
            {
                "src/config.js": "import { z } from 'zod';\nz.object({}).parse({ PORT: process.env.PORT });"
            },
            False,
        ),
        (
            {
                "src/main.js": "import { load } from './cfg.js';\nload(process.env);",
                "src/cfg.js": "export const load = (env) => env;",
            },
            True,
        ),
        (
            {
                "src/main.js": "import { load } from './cfg.ts';\nload(process.env);",
                "src/cfg.ts": "import { cleanEnv } from 'envalid';\nexport const load = (env) => cleanEnv(env, {});",
            },
            False,
        ),
    ],
)
def test_configuration_read_once_through_a_schema(
    tmp_path: Path, files: dict[str, str], failed: bool
) -> None:
    root = project(tmp_path, ["zod", "envalid"], files)
    assert bool(failures_of(root, "H1-validated-config")) is failed
