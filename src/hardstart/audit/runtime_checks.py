"""Runtime: configuration validated once, graceful shutdown, crash handlers."""

from __future__ import annotations

from tree_sitter import Node

from hardstart.audit.model import Failure, NotApplicable, Outcome, Rule, Severity, check
from hardstart.audit.repo import Repo
from hardstart.audit.syntax import (
    Program,
    Source,
    arguments,
    base_name,
    line,
    member_path,
    package_of,
    program,
    string_value,
    text,
    unwrap,
)
from hardstart.audit.wiring import (
    NO_EXPRESS,
    event_handlers,
    express_program,
    missing,
    reaches,
    within,
)

CONFIG = Rule(
    id="H1-validated-config",
    item="H1",
    title="The environment is read in one configuration module, through a schema",
    fix="Read process.env in one config module that validates it with a schema (zod, envalid,"
    " joi) at startup, and pass the typed result everywhere else.",
    severity=Severity.LOW,
    anchor="package.json",
)
SHUTDOWN = Rule(
    id="I1-graceful-shutdown",
    item="I1",
    title="SIGTERM closes the server gracefully",
    fix="Handle SIGTERM with process.on('SIGTERM', …) that calls server.close() and then closes"
    " the database pool (or use close-with-grace / @godaddy/terminus).",
    severity=Severity.LOW,
    anchor="package.json",
)
CRASHES = Rule(
    id="I3-crash-handlers",
    item="I3",
    title="Uncaught exceptions and unhandled rejections are logged and end the process",
    fix="Register process.on('uncaughtException') and process.on('unhandledRejection') handlers"
    " that log the error as fatal and exit with a non-zero code.",
    severity=Severity.LOW,
    anchor="package.json",
)

VALIDATORS = (
    "zod",
    "envalid",
    "joi",
    "env-var",
    "@t3-oss/env-core",
    "@t3-oss/env-nextjs",
    "convict",
    "ajv",
    "yup",
    "valibot",
    "@sinclair/typebox",
    "arktype",
)
SHUTDOWN_LIBRARIES = ("close-with-grace", "@godaddy/terminus", "lightship")
CLOSERS = frozenset({"close", "closeAllConnections", "terminate", "stop"})


def _env_reads(source: Source) -> list[tuple[Node, str]]:
    """`process.env.X`, `process.env['X']` and `const { X } = process.env`: (node, name)."""
    reads: list[tuple[Node, str]] = []
    for kind in ("member_expression", "subscript_expression"):
        for node in source.nodes(kind):
            path = member_path(node)
            if path is not None and len(path) == 3 and path[:2] == ["process", "env"]:
                reads.append((node, path[2]))
    for declarator in source.nodes("variable_declarator"):
        name = declarator.child_by_field_name("name")
        value = declarator.child_by_field_name("value")
        if (
            name is not None
            and value is not None
            and name.type == "object_pattern"
            and member_path(value) == ["process", "env"]
        ):
            reads.append((declarator, ", ".join(text(c) for c in name.named_children)))
    return reads


def _validates(source: Source) -> bool:
    return any(package_of(b.module) in VALIDATORS for b in source.bindings.values())


def _handed_to_unvalidated(code: Program, source: Source) -> list[Failure]:
    """`loadConfig(process.env)` where loadConfig comes from a module of the project that
    imports no schema library (a loader defined in the same file is not followed)."""
    failures: list[Failure] = []
    for call in source.nodes("call_expression"):
        if not any(member_path(arg) == ["process", "env"] for arg in arguments(call)):
            continue
        name = base_name(call)
        binding = source.bindings.get(name or "")
        if binding is None or not binding.module.startswith("."):
            continue
        loader = code.module(source, binding.module)
        if loader is not None and not _validates(loader):
            failures.append(
                Failure(
                    source.path,
                    line(call),
                    f"process.env is handed to {name}() from {loader.path}, which imports no"
                    " schema library",
                )
            )
    return failures


@check(CONFIG)
def validated_config(repo: Repo) -> Outcome:
    code = program(repo)
    by_file: dict[str, list[tuple[Node, str]]] = {}
    mentioned = False
    sources: dict[str, Source] = {}
    handed: list[Failure] = []
    for source in code.sources("process.env", "process"):
        if any(member_path(n) == ["process", "env"] for n in source.nodes("member_expression")):
            mentioned = True
        reads = _env_reads(source)
        if reads:
            by_file[source.path] = reads
            sources[source.path] = source
        handed += _handed_to_unvalidated(code, source)
    if not mentioned:
        return NotApplicable("the code does not read process.env")
    if not by_file:
        return handed  # the environment is handed over whole (to the config loader)
    home = max(by_file, key=lambda path: (len(by_file[path]), -len(path)))
    failures = handed + [
        Failure(path, line(node), f"process.env.{name} read outside the config module ({home})")
        for path, reads in sorted(by_file.items())
        if path != home
        for node, name in reads
    ]
    if not _validates(sources[home]):
        node, _name = by_file[home][0]
        failures.insert(
            0,
            Failure(
                home, line(node), "process.env is read without a schema (zod, envalid, joi...)"
            ),
        )
    return failures


def _closes_server(code: Program, source: Source, handler: Node) -> bool:
    def found(current: Source, scope: Node) -> bool:
        for call in within(current, "call_expression", scope):
            path = member_path(call.child_by_field_name("function") or call)
            if path is not None and len(path) > 1 and path[-1] in CLOSERS:
                return True
        return False

    return reaches(code, source, handler, found)


@check(SHUTDOWN)
def graceful_shutdown(repo: Repo) -> Outcome:
    code = express_program(repo)
    if code is None:
        return NO_EXPRESS
    for _ in code.calls_into(SHUTDOWN_LIBRARIES, "grace", "terminus", "lightship"):
        return []
    handlers = list(event_handlers(code, "SIGTERM"))
    if not handlers:
        return missing(
            code, SHUTDOWN, "no SIGTERM handler: the server stops mid-request", at_listen=True
        )
    if any(_closes_server(code, source, handler) for source, _, handler in handlers):
        return []
    source, call, _ = handlers[0]
    return [Failure(source.path, line(call), "the SIGTERM handler never closes the server")]


def _exits_non_zero(code: Program, source: Source, handler: Node) -> bool:
    def found(current: Source, scope: Node) -> bool:
        if any(True for _ in within(current, "throw_statement", scope)):
            return True
        for assignment in within(current, "assignment_expression", scope):
            left = assignment.child_by_field_name("left")
            if left is not None and member_path(left) == ["process", "exitCode"]:
                return True
        for call in within(current, "call_expression", scope):
            if member_path(call.child_by_field_name("function") or call) == ["process", "exit"]:
                args = arguments(call)
                if args and string_value(args[0]) is None and text(unwrap(args[0])) != "0":
                    return True
        return False

    return reaches(code, source, handler, found)


@check(CRASHES)
def crash_handlers(repo: Repo) -> Outcome:
    code = express_program(repo)
    if code is None:
        return NO_EXPRESS
    failures: list[Failure] = []
    for event in ("uncaughtException", "unhandledRejection"):
        handlers = list(event_handlers(code, event))
        if not handlers:
            failures += missing(code, CRASHES, f"no '{event}' handler", at_listen=True)
        elif not any(_exits_non_zero(code, source, handler) for source, _, handler in handlers):
            source, call, _ = handlers[0]
            failures.append(
                Failure(source.path, line(call), f"the '{event}' handler never exits non-zero")
            )
    return failures
