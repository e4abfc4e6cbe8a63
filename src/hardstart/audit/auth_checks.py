"""Authentication: JWT verification with pinned algorithms, slow password hashing."""

from __future__ import annotations

import re

from tree_sitter import Node

from hardstart.audit.model import Failure, NotApplicable, Outcome, Rule, Severity, check
from hardstart.audit.repo import Repo
from hardstart.audit.syntax import (
    Program,
    Source,
    arguments,
    base_name,
    callee_name,
    line,
    member_path,
    package_of,
    program,
    properties,
    string_value,
    text,
    unwrap,
)

JWT = Rule(
    id="D5-jwt-pinned-algorithms",
    item="D5",
    title="JWTs are verified (never only decoded) with a pinned list of algorithms",
    fix="Verify tokens with an explicit algorithm list, e.g. jwt.verify(token, key,"
    " { algorithms: ['HS256'] }) or jwtVerify(token, key, { algorithms: ['EdDSA'] }).",
    severity=Severity.HIGH,
    anchor="package.json",
)
PASSWORDS = Rule(
    id="D1-password-hashing",
    item="D1",
    title="Passwords are hashed with argon2id, bcrypt or scrypt, never a fast digest",
    fix="Hash passwords with argon2id (the argon2 package's default type) or bcrypt/scrypt;"
    " never md5/sha1/sha256 of a password.",
    severity=Severity.HIGH,
    anchor="package.json",
)

JWT_PACKAGES = ("jsonwebtoken", "jose", "express-jwt", "passport-jwt")
# (package, export) → the index of the options argument that must pin `algorithms`.
VERIFIERS = {
    ("jsonwebtoken", "verify"): 2,
    ("jose", "jwtVerify"): 2,
    ("express-jwt", "expressjwt"): 0,
    ("express-jwt", ""): 0,
    ("passport-jwt", "Strategy"): 0,
}
DECODERS = {("jsonwebtoken", "decode"), ("jose", "decodeJwt")}

SLOW_HASHES = ("argon2", "@node-rs/argon2", "bcrypt", "bcryptjs", "@node-rs/bcrypt")
FAST_DIGESTS = ("md5", "sha1", "crypto-js", "js-sha256", "js-sha512", "js-md5")
PASSWORD_NAME = re.compile(r"passw|pwd|passphrase", re.IGNORECASE)
WEAK_ARGON2 = re.compile(r"argon2(d|i)$|^[01]$")


def _pins_algorithms(code: Program, source: Source, node: Node | None) -> str | None:
    """Why these verify options do not pin algorithms, or None when they do."""
    if node is None:
        return "without options"
    options = code.resolve(source, node)[1]
    if options.type != "object":
        return None  # built elsewhere: not decidable here
    props = properties(options)
    if "algorithms" not in props:
        return "without `algorithms`"
    algorithms = code.resolve(source, props["algorithms"])[1]
    if algorithms.type == "array" and any(
        (string_value(c) or "").lower() == "none" for c in algorithms.named_children
    ):
        return "allowing `none`"
    return None


@check(JWT)
def jwt_algorithms(repo: Repo) -> Outcome:
    code = program(repo)
    if not code.depends_on(*JWT_PACKAGES):
        return NotApplicable("no JWT library (jsonwebtoken, jose, express-jwt, passport-jwt)")
    failures: list[Failure] = []
    for source, call, target in code.calls_into(JWT_PACKAGES, "jsonwebtoken", "jose", "jwt"):
        key = (package_of(target.module), target.name)
        described = text(
            call.child_by_field_name("function") or call.child_by_field_name("constructor")
        )
        if key in DECODERS:
            failures.append(
                Failure(
                    source.path, line(call), f"{described}() reads a token without verifying it"
                )
            )
        elif key in VERIFIERS:
            args = arguments(call)
            index = VERIFIERS[key]
            why = _pins_algorithms(code, source, args[index] if len(args) > index else None)
            if why is not None:
                failures.append(Failure(source.path, line(call), f"{described}() {why}"))
    return failures


def _names_password(node: Node) -> bool:
    """Whether an expression is (or reads) something named like a password."""
    node = unwrap(node)
    if node.type in {"identifier", "member_expression", "shorthand_property_identifier"}:
        return bool(PASSWORD_NAME.search(text(node)))
    if node.type == "call_expression":  # password.normalize(), String(password)
        return any(_names_password(child) for child in node.named_children)
    if node.type == "arguments":
        return any(_names_password(child) for child in node.named_children)
    return False


def _fast_digest_of_password(source: Source) -> list[Failure]:
    failures: list[Failure] = []
    digests = {n for n, b in source.bindings.items() if package_of(b.module) in FAST_DIGESTS}
    for call in source.nodes("call_expression"):
        if callee_name(call) != "update" and base_name(call) not in digests:
            continue
        function = unwrap(call.child_by_field_name("function") or call)
        path = member_path(function)
        args = arguments(call)
        if path is None or not args or not _names_password(args[0]):
            continue
        # crypto.createHash('sha256').update(password)
        if path[-1] == "update" and function.type == "member_expression":
            receiver = unwrap(function.child_by_field_name("object") or function)
            if receiver.type == "call_expression":
                made = member_path(receiver.child_by_field_name("function") or receiver)
                kind = string_value(arguments(receiver)[0]) if arguments(receiver) else None
                if made is not None and made[-1] in {"createHash", "createHmac"}:
                    failures.append(
                        Failure(
                            source.path,
                            line(call),
                            f"a password is hashed with {kind or 'a fast digest'}",
                        )
                    )
            continue
        target = source.target(call)
        if target is not None and package_of(target.module) in FAST_DIGESTS:
            failures.append(
                Failure(source.path, line(call), f"a password is hashed with {text(function)}")
            )
    return failures


@check(PASSWORDS)
def password_hashing(repo: Repo) -> Outcome:
    code = program(repo)
    failures: list[Failure] = []
    for source in code.sources("assw", "pwd", "Pwd"):
        failures += _fast_digest_of_password(source)
    slow = 0
    for source, call, target in code.calls_into(SLOW_HASHES, "argon2", "bcrypt"):
        slow += 1
        if package_of(target.module) in {"argon2", "@node-rs/argon2"} and target.name in {
            "hash",
            "",
        }:
            args = arguments(call)
            options = properties(code.resolve(source, args[1])[1]) if len(args) > 1 else {}
            kind = options.get("type") or options.get("algorithm")
            if kind is not None and WEAK_ARGON2.search(text(kind).split(".")[-1]):
                failures.append(
                    Failure(
                        source.path, line(call), f"argon2 hash with type {text(kind)}, not argon2id"
                    )
                )
    for source in code.sources("scrypt"):
        for call in source.calls():
            found = source.target(call)
            if (
                found is not None
                and package_of(found.module) == "crypto"
                and found.name.startswith("scrypt")
            ):
                slow += 1
    if failures or slow:
        return failures
    for source in code.sources("assw"):
        for node_type in ("property_identifier", "identifier", "shorthand_property_identifier"):
            for node in source.nodes(node_type):
                if PASSWORD_NAME.search(text(node)):
                    return [
                        Failure(
                            source.path,
                            line(node),
                            "passwords are handled but never hashed with argon2id, bcrypt"
                            " or scrypt",
                        )
                    ]
    return NotApplicable("no password handling")
