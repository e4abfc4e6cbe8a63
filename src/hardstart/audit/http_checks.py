"""Express wiring: security headers, CORS, trust proxy, body limits, rate limiting, timeouts."""

from __future__ import annotations

from tree_sitter import Node

from hardstart.audit.model import Failure, Outcome, Rule, Severity, check
from hardstart.audit.repo import Repo
from hardstart.audit.syntax import (
    Program,
    Source,
    arguments,
    callee_name,
    line,
    member_path,
    operands,
    properties,
    property_name,
    string_value,
    text,
    unwrap,
)
from hardstart.audit.wiring import NO_EXPRESS, express_program, listen_site, missing

HELMET = Rule(
    id="B1-helmet-headers",
    item="B1",
    title="helmet sets the security headers, none of HSTS and nosniff turned off",
    fix="Mount helmet() before the routes (app.use(helmet())) and keep strictTransportSecurity"
    " and xContentTypeOptions on.",
    severity=Severity.MEDIUM,
    anchor="package.json",
)
CORS = Rule(
    id="C1-cors-allowlist",
    item="C1",
    title="CORS answers only origins on an explicit allowlist",
    fix="Pass cors() an explicit list of trusted origins (cors({ origin: ['https://app.example.com']"
    " })), never true, '*' or the request's own Origin.",
    severity=Severity.HIGH,
    anchor="package.json",
)
TRUST_PROXY = Rule(
    id="H2-trust-proxy-not-true",
    item="H2",
    title="`trust proxy` is a hop count or address list, never true",
    fix="Set app.set('trust proxy', N) to the number of proxies in front of the app (or their"
    " addresses), from configuration, never true.",
    severity=Severity.MEDIUM,
    anchor="package.json",
)
BODY_LIMIT = Rule(
    id="A1-json-body-limit",
    item="A1",
    title="Every body parser has an explicit size limit",
    fix="Give every body parser an explicit limit, e.g. express.json({ limit: '100kb' }).",
    severity=Severity.MEDIUM,
    anchor="package.json",
)
RATE_LIMIT = Rule(
    id="D4-rate-limiter",
    item="D4",
    title="A rate limiter is wired into the app (D4, I4)",
    fix="Mount a rate limiter (express-rate-limit or rate-limiter-flexible) on the app, and a"
    " stricter one on the credential routes.",
    severity=Severity.MEDIUM,
    anchor="package.json",
)
TIMEOUTS = Rule(
    id="A9-server-timeouts",
    item="A9",
    title="The HTTP server sets headersTimeout, requestTimeout and keepAliveTimeout",
    fix="Set headersTimeout, requestTimeout and keepAliveTimeout on the server (createServer"
    " options or server.headersTimeout = …) from configuration.",
    severity=Severity.LOW,
    anchor="package.json",
)

BODY_PARSERS = frozenset({"json", "urlencoded", "text", "raw"})
RATE_LIMITERS = ("express-rate-limit", "rate-limiter-flexible", "express-slow-down")
SERVER_TIMEOUTS = ("headersTimeout", "requestTimeout", "keepAliveTimeout")
ALLOW_ORIGIN = "access-control-allow-origin"
HEADER_SETTERS = frozenset({"setHeader", "header", "set", "append"})


def _is_false(node: Node | None) -> bool:
    return node is not None and unwrap(node).type == "false"


@check(HELMET)
def helmet_applied(repo: Repo) -> Outcome:
    code = express_program(repo)
    if code is None:
        return NO_EXPRESS
    calls = [(s, c) for s, c, t in code.calls_into(("helmet",)) if t.path == ()]
    if not calls:
        return missing(code, HELMET, "helmet is never called: the security headers are not set")
    failures: list[Failure] = []
    for source, call in calls:
        args = arguments(call)
        options = properties(code.resolve(source, args[0])[1]) if args else {}
        for key, header in (
            ("strictTransportSecurity", "Strict-Transport-Security"),
            ("hsts", "Strict-Transport-Security"),
            ("xContentTypeOptions", "X-Content-Type-Options"),
            ("noSniff", "X-Content-Type-Options"),
        ):
            if _is_false(options.get(key)):
                failures.append(
                    Failure(source.path, line(call), f"helmet({key}: false) drops {header}")
                )
    return failures


def _origin_is_open(code: Program, source: Source, node: Node) -> str | None:
    """Why a cors `origin` value lets any origin in, or None."""
    _, value = code.resolve(source, node)
    if value.type == "true":
        return "origin: true reflects any origin"
    if string_value(value) == "*":
        return "origin: '*' allows any origin"
    if value.type == "array" and any(string_value(c) == "*" for c in value.named_children):
        return "an origin list containing '*' allows any origin"
    if _is_request_origin(value):
        return "the request's own Origin is reflected"
    return None


def _alternatives(node: Node) -> list[Node]:
    """The values an expression may take: both sides of `??` / `||`, both branches of `?:`."""
    found: list[Node] = []
    pending = [unwrap(node)]
    while pending:
        current = pending.pop()
        if current.type == "ternary_expression":
            branches = [current.child_by_field_name(f) for f in ("consequence", "alternative")]
            pending.extend(unwrap(b) for b in branches if b is not None)
            continue
        parts = operands(current, "??")
        if len(parts) == 1:
            parts = operands(current, "||")
        if len(parts) == 1:
            found.append(current)
        else:
            pending.extend(parts)
    return found


def _is_request_origin(node: Node) -> bool:
    """`req.headers.origin`, `req.get('origin')`, `req.header('Origin')`."""
    node = unwrap(node)
    path = member_path(node)
    if path is not None and len(path) >= 3 and path[-2:] == ["headers", "origin"]:
        return True
    if node.type == "call_expression":
        function = member_path(node.child_by_field_name("function") or node)
        args = arguments(node)
        return (
            function is not None
            and function[-1] in {"get", "header"}
            and len(args) == 1
            and (string_value(args[0]) or "").lower() == "origin"
        )
    return False


@check(CORS)
def cors_allowlist(repo: Repo) -> Outcome:
    code = express_program(repo)
    if code is None:
        return NO_EXPRESS
    failures: list[Failure] = []
    for source, call, target in code.calls_into(("cors",)):
        if target.path != ():
            continue
        args = arguments(call)
        if not args:
            failures.append(
                Failure(source.path, line(call), "cors() without options allows any origin")
            )
            continue
        options = properties(code.resolve(source, args[0])[1])
        if "origin" not in options:
            failures.append(
                Failure(source.path, line(call), "cors() without an `origin` allows any origin")
            )
        elif (why := _origin_is_open(code, source, options["origin"])) is not None:
            failures.append(Failure(source.path, line(call), f"cors(): {why}"))
    for source in code.sources("ccess-Control-Allow-Origin", "ccess-control-allow-origin"):
        for call in source.nodes("call_expression"):
            if callee_name(call) not in HEADER_SETTERS:
                continue
            function = member_path(call.child_by_field_name("function") or call)
            if function is None or len(function) < 2 or function[-1] not in HEADER_SETTERS:
                continue
            args = arguments(call)
            pairs: list[tuple[str | None, Node]] = []
            if len(args) >= 2:
                pairs.append((string_value(args[0]), args[1]))
            elif len(args) == 1 and args[0].type == "object":
                pairs.extend((name, value) for name, value in properties(args[0]).items())
            for name, value in pairs:
                if (name or "").lower() != ALLOW_ORIGIN:
                    continue
                values = _alternatives(value)
                if any(string_value(v) == "*" or _is_request_origin(v) for v in values):
                    star = any(string_value(v) == "*" for v in values)
                    what = "'*'" if star else "the request's own Origin"
                    failures.append(
                        Failure(
                            source.path, line(call), f"Access-Control-Allow-Origin set to {what}"
                        )
                    )
    return failures


@check(TRUST_PROXY)
def trust_proxy(repo: Repo) -> Outcome:
    code = express_program(repo)
    if code is None:
        return NO_EXPRESS
    failures: list[Failure] = []
    for source in code.sources("trust proxy"):
        for call in source.nodes("call_expression"):
            if callee_name(call) not in {"set", "enable"}:
                continue
            function = member_path(call.child_by_field_name("function") or call)
            args = arguments(call)
            if function is None or len(function) < 2 or not args:
                continue
            if string_value(args[0]) != "trust proxy":
                continue
            if function[-1] == "enable":
                failures.append(
                    Failure(source.path, line(call), "app.enable('trust proxy') trusts every hop")
                )
            elif (
                function[-1] == "set"
                and len(args) > 1
                and code.resolve(source, args[1])[1].type == "true"
            ):
                failures.append(
                    Failure(source.path, line(call), "'trust proxy' set to true trusts every hop")
                )
    return failures


@check(BODY_LIMIT)
def body_limit(repo: Repo) -> Outcome:
    code = express_program(repo)
    if code is None:
        return NO_EXPRESS
    failures: list[Failure] = []
    for source, call, target in code.calls_into(("express", "body-parser")):
        if len(target.path) != 1 or target.name not in BODY_PARSERS:
            continue
        args = arguments(call)
        described = f"{text(call.child_by_field_name('function'))}()"
        if not args:
            failures.append(Failure(source.path, line(call), f"{described} without a `limit`"))
            continue
        options = code.resolve(source, args[0])[1]
        if options.type != "object":
            continue  # built elsewhere: not decidable here
        spread = any(c.type == "spread_element" for c in options.named_children)
        if "limit" not in properties(options) and not spread:
            failures.append(Failure(source.path, line(call), f"{described} without a `limit`"))
    return failures


@check(RATE_LIMIT)
def rate_limiter(repo: Repo) -> Outcome:
    code = express_program(repo)
    if code is None:
        return NO_EXPRESS
    for _ in code.calls_into(RATE_LIMITERS, "rate", "limit", "slow"):
        return []
    return missing(
        code, RATE_LIMIT, "no rate limiter is created (express-rate-limit, rate-limiter-flexible)"
    )


def _timeouts_set(code: Program) -> set[str]:
    found: set[str] = set()
    for source in code.sources(*SERVER_TIMEOUTS):
        for assignment in source.nodes("assignment_expression"):
            left = assignment.child_by_field_name("left")
            path = member_path(left) if left is not None else None
            if path is not None and len(path) > 1 and path[-1] in SERVER_TIMEOUTS:
                found.add(path[-1])
        for call in source.nodes("call_expression"):
            if callee_name(call) != "createServer":
                continue
            function = member_path(call.child_by_field_name("function") or call)
            if function is None or function[-1] != "createServer":
                continue
            for arg in arguments(call):
                options = code.resolve(source, arg)[1]
                for child in options.named_children if options.type == "object" else []:
                    key = child.child_by_field_name("key") if child.type == "pair" else child
                    name = property_name(key) if key is not None else None
                    if name in SERVER_TIMEOUTS:
                        found.add(name)
    return found


@check(TIMEOUTS)
def server_timeouts(repo: Repo) -> Outcome:
    code = express_program(repo)
    if code is None:
        return NO_EXPRESS
    absent = [name for name in SERVER_TIMEOUTS if name not in _timeouts_set(code)]
    if not absent:
        return []
    site = listen_site(code)
    message = f"server timeouts left at Node's defaults: {', '.join(absent)}"
    if site is not None:
        return [Failure(site[0], site[1], message)]
    return missing(code, TIMEOUTS, message)
