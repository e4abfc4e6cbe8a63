"""What the code checks share: when a rule applies, where a missing control belongs, and how far
a handler's body reaches (through the functions it calls by name)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from tree_sitter import Node

from hardstart.audit.model import Failure, NotApplicable, Rule
from hardstart.audit.repo import Repo
from hardstart.audit.syntax import (
    Program,
    Source,
    callee_name,
    member_path,
    program,
    string_value,
    text,
    unwrap,
)

NO_EXPRESS = NotApplicable("no express dependency")
SIGNAL_METHODS = frozenset({"on", "once", "addListener", "prependListener", "prependOnceListener"})


def express_program(repo: Repo) -> Program | None:
    """The program, when it is an Express application (the Express wiring rules apply)."""
    code = program(repo)
    return code if code.depends_on("express") else None


def listen_site(code: Program) -> tuple[str, int] | None:
    """Where the server starts listening (`….listen(…)`)."""
    for source in code.sources("listen"):
        for call in source.nodes("call_expression"):
            if callee_name(call) != "listen":
                continue
            path = member_path(call.child_by_field_name("function") or call)
            if path is not None and len(path) > 1 and path[-1] == "listen":
                return source.path, call.start_point.row + 1
    return None


def missing(code: Program, rule: Rule, message: str, *, at_listen: bool = False) -> list[Failure]:
    """A control that is nowhere: reported where the app is created (or starts listening)."""
    site = (listen_site(code) or code.app_site()) if at_listen else code.app_site()
    if site is None:
        site = listen_site(code)
    path, line = site if site is not None else (rule.anchor, None)
    return [Failure(path, line, message)]


def within(source: Source, node_type: str, scope: Node) -> Iterator[Node]:
    """Nodes of a type inside `scope`."""
    for node in source.nodes(node_type):
        if node.start_byte >= scope.start_byte and node.end_byte <= scope.end_byte:
            yield node


def reaches(
    code: Program, source: Source, body: Node, found: Callable[[Source, Node], bool], depth: int = 4
) -> bool:
    """Whether `body`, or a function it calls by name (in its file or a relative import), has a
    node for which `found` holds. Calls are followed `depth` levels deep."""
    seen: set[tuple[str, int]] = set()
    pending = [(source, body, depth)]
    while pending:
        current, scope, left = pending.pop()
        if (current.path, scope.id) in seen:
            continue
        seen.add((current.path, scope.id))
        if found(current, scope):
            return True
        if left == 0:
            continue
        for call in within(current, "call_expression", scope):
            function = call.child_by_field_name("function")
            if function is None or unwrap(function).type != "identifier":
                continue
            target_source, target = code.resolve(current, function)
            if target.type in {
                "arrow_function",
                "function_expression",
                "function",
                "function_declaration",
                "generator_function_declaration",
            }:
                pending.append((target_source, target, left - 1))
    return False


def event_handlers(code: Program, event: str) -> Iterator[tuple[Source, Node, Node]]:
    """`process.on(event, handler)` (or once/addListener…), also when the event comes from a
    `for (const s of ['SIGTERM', …])` loop: (file, call, handler expression)."""
    for source in code.sources(event):
        for call in source.nodes("call_expression"):
            if callee_name(call) not in SIGNAL_METHODS:
                continue
            path = member_path(call.child_by_field_name("function") or call)
            if path is None or path[:1] != ["process"] or path[-1] not in SIGNAL_METHODS:
                continue
            args_node = call.child_by_field_name("arguments")
            args = [
                a for a in (args_node.named_children if args_node else []) if a.type != "comment"
            ]
            if len(args) < 2 or event not in _event_names(source, call, args[0]):
                continue
            handler = unwrap(args[1])
            _, resolved = code.resolve(source, handler)
            yield source, call, resolved


def _event_names(source: Source, call: Node, node: Node) -> set[str]:
    node = unwrap(node)
    value = string_value(node)
    if value is not None:
        return {value}
    if node.type != "identifier":
        return set()
    name = text(node)
    parent = call.parent
    while parent is not None:
        if parent.type == "for_in_statement":
            left = parent.child_by_field_name("left")
            right = parent.child_by_field_name("right")
            if left is not None and right is not None and text(left) == name:
                items = unwrap(right)
                if items.type == "array":
                    return {v for c in items.named_children if (v := string_value(c)) is not None}
        parent = parent.parent
    return set()
