"""What enters and leaves: strict request schemas, parameterized SQL, redacted logs."""

from __future__ import annotations

import re

from tree_sitter import Node

from hardstart.audit.model import Failure, NotApplicable, Outcome, Rule, Severity, check
from hardstart.audit.repo import Repo
from hardstart.audit.syntax import (
    Program,
    Source,
    arguments,
    callee_name,
    is_tagged_template,
    line,
    member_path,
    operands,
    package_of,
    program,
    properties,
    property_name,
    string_value,
    text,
    unwrap,
)
from hardstart.audit.wiring import NO_EXPRESS, express_program, missing

STRICT_SCHEMAS = Rule(
    id="A8-strict-request-schemas",
    item="A8",
    title="Request bodies, queries and params are validated by strict schemas",
    fix="Validate every request input with a strict schema (zod z.strictObject or .strict(),"
    " joi without .unknown(), ajv with additionalProperties: false) so unknown fields get a 400.",
    severity=Severity.MEDIUM,
    anchor="package.json",
)
SQL = Rule(
    id="F1-parameterized-sql",
    item="F1",
    title="No SQL is built from strings: every value is a query parameter",
    fix="Pass values as query parameters ($1 / ? placeholders with a values array, or a tagged"
    " sql`` template), never by template substitution or + concatenation.",
    severity=Severity.HIGH,
    anchor="package.json",
)
REDACTION = Rule(
    id="G2-log-redaction",
    item="G2",
    title="The logger redacts credentials (authorization and cookie at least)",
    fix="Configure the logger's redaction, e.g. pino({ redact: ['req.headers.authorization',"
    " 'req.headers.cookie', '*.password'] }).",
    severity=Severity.MEDIUM,
    anchor="package.json",
)

SCHEMA_PACKAGES = ("zod", "joi", "yup", "ajv", "celebrate")
REQUEST_PARTS = frozenset({"body", "query", "params"})
REQUEST_NAMES = frozenset({"req", "request", "ctx"})
PARSE_METHODS = frozenset(
    {
        "parse",
        "safeParse",
        "parseAsync",
        "safeParseAsync",
        "validate",
        "validateAsync",
        "validateSync",
    }
)
LAX_CHAIN = frozenset({"passthrough", "loose", "catchall", "nonstrict"})

DB_CLIENTS = (
    "pg",
    "postgres",
    "pg-promise",
    "mysql",
    "mysql2",
    "mariadb",
    "sqlite3",
    "better-sqlite3",
    "sqlite",
    "mssql",
    "tedious",
    "oracledb",
    "knex",
    "sequelize",
    "typeorm",
    "@prisma/client",
    "prisma",
    "@electric-sql/pglite",
    "kysely",
    "drizzle-orm",
    "slonik",
    "@neondatabase/serverless",
    "@vercel/postgres",
)
SQL_SINKS = frozenset(
    {
        "query",
        "execute",
        "raw",
        "unsafe",
        "exec",
        "prepare",
        "$queryRawUnsafe",
        "$executeRawUnsafe",
        "whereRaw",
        "orWhereRaw",
        "havingRaw",
        "orderByRaw",
        "joinRaw",
        "fromRaw",
    }
)
SQL_WORDS = re.compile(
    r"\b(select|insert\s+into|update|delete\s+from|where|values|order\s+by|group\s+by|join|from)\b",
    re.IGNORECASE,
)
LOGGERS = ("pino", "pino-http", "express-pino-logger", "winston", "bunyan")
CREDENTIAL_PATHS = ("authorization", "cookie")


# --- A8 ---------------------------------------------------------------------------------------


def _chain(
    code: Program, source: Source, node: Node, depth: int = 6
) -> tuple[Source, Node, list[str]]:
    """The base call of a method chain (`z.object({...}).extend(...).strict()`) and the methods
    called on it, following names to their declarations (in the file or a relative import)."""
    methods: list[str] = []
    source, node = code.resolve(source, node)
    while (
        depth > 0 and node.type == "call_expression" and _object_constructor(source, node) is None
    ):
        function = unwrap(node.child_by_field_name("function") or node)
        obj = function.child_by_field_name("object")
        prop = function.child_by_field_name("property")
        if function.type != "member_expression" or obj is None or prop is None:
            break
        methods.insert(0, text(prop))
        source, node = code.resolve(source, obj)
        depth -= 1
    return source, node, methods


def _object_constructor(source: Source, call: Node) -> str | None:
    """`z.object` / `z.strictObject` / `Joi.object` / `yup.object`: "<package>.<name>"."""
    if call.type != "call_expression":
        return None
    target = source.target(call)
    if target is None or package_of(target.module) not in {"zod", "joi", "yup"}:
        return None
    if target.name in {"object", "strictObject", "looseObject", "keys"}:
        return f"{package_of(target.module)}.{target.name}"
    return None


def _strictness(code: Program, source: Source, node: Node) -> bool | None:
    """True for a strict object schema, False for one that lets unknown keys through, None when
    the expression is not an object schema this check can read."""
    source, base, methods = _chain(code, source, node)
    kind = _object_constructor(source, base)
    if kind is None:
        return _json_schema_strictness(base)
    if kind == "zod.strictObject":
        return not LAX_CHAIN.intersection(methods)
    if kind in {"zod.object", "zod.looseObject"}:
        return "strict" in methods and kind == "zod.object"
    if kind.startswith("joi."):
        return "unknown" not in methods
    return "noUnknown" in methods  # yup


def _json_schema_strictness(node: Node) -> bool | None:
    if node.type != "object":
        return None
    props = properties(node)
    if string_value(props.get("type")) != "object":
        return None
    return any(
        unwrap(props[key]).type == "false"
        for key in ("additionalProperties", "unevaluatedProperties")
        if key in props
    )


def _request_schemas(code: Program) -> list[tuple[Source, Node, Node]]:
    """(file, where, schema expression) for every schema applied to a request's input."""
    found: list[tuple[Source, Node, Node]] = []
    for source in code.sources("body", "query", "params"):
        for call in source.nodes("call_expression"):
            function = unwrap(call.child_by_field_name("function") or call)
            if function.type != "member_expression":
                continue
            prop = function.child_by_field_name("property")
            obj = function.child_by_field_name("object")
            args = arguments(call)
            if prop is None or obj is None or text(prop) not in PARSE_METHODS or not args:
                continue
            subject = member_path(args[0])
            if (
                subject is not None
                and len(subject) >= 2
                and subject[-1] in REQUEST_PARTS
                and subject[-2] in REQUEST_NAMES | {"request"}
            ):
                found.append((source, call, obj))
        for pair in source.nodes("pair"):
            key = pair.child_by_field_name("key")
            value = pair.child_by_field_name("value")
            if key is None or value is None or property_name(key) not in REQUEST_PARTS:
                continue
            if _strictness(code, source, value) is not None:
                found.append((source, pair, value))
    for source in code.sources("compile"):
        for call in source.nodes("call_expression"):
            if callee_name(call) != "compile":
                continue
            path = member_path(call.child_by_field_name("function") or call)
            args = arguments(call)
            if (
                path is not None
                and len(path) > 1
                and path[-1] == "compile"
                and args
                and _json_schema_strictness(code.resolve(source, args[0])[1]) is not None
            ):
                found.append((source, call, args[0]))
    return found


@check(STRICT_SCHEMAS)
def strict_request_schemas(repo: Repo) -> Outcome:
    code = express_program(repo)
    if code is None:
        return NO_EXPRESS
    if not code.depends_on(*SCHEMA_PACKAGES):
        return missing(code, STRICT_SCHEMAS, "no schema library (zod, joi, ajv) validates requests")
    schemas = _request_schemas(code)
    if not schemas:
        return missing(
            code, STRICT_SCHEMAS, "no schema is applied to req.body, req.query or req.params"
        )
    failures: list[Failure] = []
    for source, where, schema in schemas:
        if _strictness(code, source, schema) is False:
            failures.append(
                Failure(
                    source.path,
                    line(where),
                    f"request schema `{_short(schema)}` accepts unknown fields",
                )
            )
    return failures


def _short(node: Node) -> str:
    first = text(node).split("\n", 1)[0]
    return first if len(first) <= 40 else first[:37] + "..."


# --- F1 ---------------------------------------------------------------------------------------


def _static_text(node: Node) -> str:
    """The literal pieces of a template or concatenation (what tells SQL from other strings)."""
    node = unwrap(node)
    if node.type == "template_string":
        return "".join(text(c) for c in node.named_children if c.type == "string_fragment")
    if node.type == "binary_expression":
        return " ".join(string_value(c) or "" for c in operands(node, "+"))
    return string_value(node) or ""


def _is_literal(code: Program, source: Source, node: Node, depth: int = 3) -> bool:
    """Whether an expression is made of literals only (names of literal constants included)."""
    for part in operands(node, "+"):
        if part.type == "number" or string_value(part) is not None:
            continue
        if part.type != "identifier" or depth == 0:
            return False
        _, value = code.resolve(source, part)
        if value.type == "identifier" or not _is_literal(code, source, value, depth - 1):
            return False
    return True


def _built_sql(code: Program, source: Source, node: Node, raw: bool, depth: int = 3) -> Node | None:
    """The string-built SQL expression a query argument is (or was assigned from), or None.
    Unless the sink only takes SQL (`raw`), the literal parts must read as SQL."""
    node = unwrap(node)
    if node.type == "template_string":
        built = any(c.type == "template_substitution" for c in node.named_children)
        return node if built and (raw or SQL_WORDS.search(_static_text(node))) else None
    if node.type == "binary_expression":
        operator = node.child_by_field_name("operator")
        if operator is not None and text(operator) == "+" and not _is_literal(code, source, node):
            return node if raw or SQL_WORDS.search(_static_text(node)) else None
        return None
    if node.type == "identifier" and depth > 0:
        name = text(node)
        declared = source.declarations.get(name)
        if declared is not None and (hit := _built_sql(code, source, declared, raw, depth - 1)):
            return hit
        for assignment in source.nodes("augmented_assignment_expression"):
            left = assignment.child_by_field_name("left")
            right = assignment.child_by_field_name("right")
            if (
                left is not None
                and right is not None
                and text(left) == name
                and not _is_literal(code, source, right)
            ):
                return assignment
    return None


@check(SQL)
def parameterized_sql(repo: Repo) -> Outcome:
    code = program(repo)
    if not code.depends_on(*DB_CLIENTS):
        return NotApplicable("no database client dependency")
    failures: list[Failure] = []
    for source in code.sources(*SQL_SINKS):
        for call in source.nodes("call_expression"):
            if callee_name(call) not in SQL_SINKS or is_tagged_template(call):
                continue
            function = unwrap(call.child_by_field_name("function") or call)
            path = member_path(function)
            args = arguments(call)
            if path is None or path[-1] not in SQL_SINKS or not args:
                continue
            raw = path[-1].lower().endswith(("raw", "unsafe"))
            built = _built_sql(code, source, args[0], raw)
            if built is not None:
                how = (
                    "template substitution" if built.type == "template_string" else "concatenation"
                )
                failures.append(
                    Failure(
                        source.path, line(call), f"SQL passed to {path[-1]}() is built by {how}"
                    )
                )
    return failures


# --- G2 ---------------------------------------------------------------------------------------


def _strings(code: Program, source: Source, node: Node | None) -> list[str]:
    """Every string a redact option holds (arrays, {paths: [...]}, names of constants)."""
    if node is None:
        return []
    source, node = code.resolve(source, node)
    value = string_value(node)
    if value is not None:
        return [value]
    if node.type == "array":
        return [s for child in node.named_children for s in _strings(code, source, child)]
    if node.type == "object":
        return _strings(code, source, properties(node).get("paths"))
    return []


def _mentions_credentials(source: Source) -> bool:
    literals = " ".join(
        text(n).lower()
        for kind in ("string", "regex", "template_string")
        for n in source.nodes(kind)
    )
    return all(word in literals for word in CREDENTIAL_PATHS)


@check(REDACTION)
def log_redaction(repo: Repo) -> Outcome:
    code = program(repo)
    if not code.depends_on(*LOGGERS):
        return NotApplicable("no logging library (pino, winston, bunyan)")
    failures: list[Failure] = []
    created = 0
    for source, call, target in code.calls_into(LOGGERS, "pino", "winston", "bunyan"):
        package = package_of(target.module)
        if package in {"winston", "bunyan"}:
            if target.name != "createLogger":
                continue
        elif target.path not in {(), ("pino",), ("pinoHttp",), ("default",)}:
            continue
        created += 1
        args = arguments(call)
        options = properties(code.resolve(source, args[0])[1]) if args else {}
        if package == "pino-http" and "logger" in options:
            continue  # logs through a logger made elsewhere: its redaction applies
        if "redact" in options:
            paths = " ".join(_strings(code, source, options["redact"])).lower()
            absent = [word for word in CREDENTIAL_PATHS if word not in paths]
            if absent:
                failures.append(
                    Failure(source.path, line(call), f"log redaction misses {' and '.join(absent)}")
                )
            continue
        # A hand-written redactor (a pino `formatters.log` / winston format) that names both.
        hooked = (
            package in {"winston", "bunyan"} or "formatters" in options or "serializers" in options
        )
        if not (hooked and _mentions_credentials(source)):
            failures.append(
                Failure(
                    source.path,
                    line(call),
                    f"{package} logger without redaction of authorization and cookie",
                )
            )
    if created == 0:
        return NotApplicable("no logger is created")
    return failures
