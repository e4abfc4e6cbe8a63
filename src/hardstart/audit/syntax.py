"""JavaScript and TypeScript as syntax trees: the one module that imports tree-sitter.

Checks ask questions of the repository's code as one program: which calls go into a package
(`express`, `helmet`, `jsonwebtoken`...), what an object literal passed to them holds, what a
name was bound to. Files are parsed lazily, only when a check needs them (a cheap byte test on
the words a check is about skips the rest), and each tree is parsed once per audit.
"""

from __future__ import annotations

import json
import posixpath
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, cached_property
from typing import TYPE_CHECKING

import tree_sitter_javascript
import tree_sitter_typescript
from tree_sitter import Language, Node, Parser, Query, QueryCursor

if TYPE_CHECKING:
    from hardstart.audit.repo import Repo

CODE_SUFFIXES = (".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx")
_TS_SUFFIXES = (".ts", ".mts", ".cts")

# Not the program: tests, their fixtures, benchmarks and examples run no production traffic.
TEST_DIRS = frozenset(
    {
        "test",
        "tests",
        "__tests__",
        "__mocks__",
        "spec",
        "specs",
        "e2e",
        "fixtures",
        "bench",
        "benchmarks",
        "examples",
    }
)
_TEST_MARKERS = (".test.", ".spec.", ".e2e.")
# Wrappers that change nothing about the value: `(x)`, `x as T`, `x!`, `x satisfies T`, `<T>x`.
_TRANSPARENT = frozenset(
    {
        "parenthesized_expression",
        "as_expression",
        "satisfies_expression",
        "non_null_expression",
        "type_assertion",
        "await_expression",
    }
)


def is_program_file(path: str) -> bool:
    """A code file of the program itself: not a test, a tool's config or a type declaration."""
    if not path.endswith(CODE_SUFFIXES) or path.endswith((".d.ts", ".d.mts", ".d.cts")):
        return False
    *dirs, name = path.split("/")
    if any(part in TEST_DIRS for part in dirs) or any(m in name for m in _TEST_MARKERS):
        return False
    return not (".config." in name or name.startswith((".eslintrc", ".prettierrc")))


@cache
def _language(suffix: str) -> Language:
    if suffix == ".tsx":
        return Language(tree_sitter_typescript.language_tsx())
    if suffix in _TS_SUFFIXES:
        return Language(tree_sitter_typescript.language_typescript())
    return Language(tree_sitter_javascript.language())


@cache
def _parser(suffix: str) -> Parser:
    return Parser(_language(suffix))


# Found in one pass per file (every check needs some of them); other types are looked up alone.
COMMON_TYPES = (
    "call_expression",
    "new_expression",
    "import_statement",
    "variable_declarator",
    "function_declaration",
    "generator_function_declaration",
    "pair",
    "assignment_expression",
)


@cache
def _query(suffix: str, node_type: str) -> Query:
    types = COMMON_TYPES if node_type in COMMON_TYPES else (node_type,)
    query: Query = Query(_language(suffix), " ".join(f"({t}) @{t}" for t in types))
    return query


def _grammar(path: str) -> str:
    suffix = posixpath.splitext(path)[1]
    if suffix == ".tsx":
        return ".tsx"
    return ".ts" if suffix in _TS_SUFFIXES else ".js"


def text(node: Node | None) -> str:
    return "" if node is None or node.text is None else node.text.decode("utf-8", "replace")


def line(node: Node) -> int:
    return node.start_point.row + 1


def unwrap(node: Node) -> Node:
    """The expression inside parentheses, type assertions and `await`."""
    while node.type in _TRANSPARENT and node.named_child_count:
        inner = node.named_children[0]
        if inner.type == "comment":
            break
        node = inner
    return node


def arguments(call: Node) -> list[Node]:
    """The arguments of a call or `new` (a tagged template has none)."""
    args = call.child_by_field_name("arguments")
    if args is None or args.type != "arguments":
        return []
    return [unwrap(a) for a in args.named_children if a.type != "comment"]


def is_tagged_template(call: Node) -> bool:
    args = call.child_by_field_name("arguments")
    return args is not None and args.type == "template_string"


def string_value(node: Node | None) -> str | None:
    """The value of a string literal, or of a template without substitutions."""
    if node is None:
        return None
    node = unwrap(node)
    if node.type == "string":
        return "".join(text(c) for c in node.named_children)
    if node.type == "template_string" and not any(
        c.type == "template_substitution" for c in node.named_children
    ):
        return "".join(text(c) for c in node.named_children)
    return None


def property_name(node: Node) -> str | None:
    """The key of an object property: `a`, `'a'`, `"a"` (computed keys have no static name)."""
    if node.type in {"property_identifier", "identifier", "shorthand_property_identifier"}:
        return text(node)
    return string_value(node) if node.type == "string" else None


def properties(node: Node | None) -> dict[str, Node]:
    """An object literal's properties by name (the value node; shorthand `{ a }` gives `a`)."""
    found: dict[str, Node] = {}
    if node is None or unwrap(node).type != "object":
        return found
    for child in unwrap(node).named_children:
        if child.type == "pair":
            key = child.child_by_field_name("key")
            value = child.child_by_field_name("value")
            name = property_name(key) if key is not None else None
            if name is not None and value is not None:
                found[name] = unwrap(value)
        elif child.type == "shorthand_property_identifier":
            found[text(child)] = child
        elif child.type == "method_definition":
            key = child.child_by_field_name("name")
            if key is not None and (name := property_name(key)) is not None:
                found[name] = child
    return found


def member_path(node: Node) -> list[str] | None:
    """`a.b.c` → ["a", "b", "c"]; `a['b']` counts as `a.b`; anything else → None."""
    names: list[str] = []
    node = unwrap(node)
    while node.type in {"member_expression", "subscript_expression"}:
        obj = node.child_by_field_name("object")
        if node.type == "member_expression":
            prop = node.child_by_field_name("property")
            key = text(prop) if prop is not None else None
        else:
            key = string_value(node.child_by_field_name("index"))
        if obj is None or key is None:
            return None
        names.append(key)
        node = unwrap(obj)
    if node.type not in {"identifier", "this"}:
        return None
    names.append(text(node))
    return names[::-1]


def operands(node: Node, operator: str) -> list[Node]:
    """The operands of a chain of one binary operator (`a + b + c` → a, b, c), without recursion:
    minified code nests thousands deep."""
    found: list[Node] = []
    pending = [unwrap(node)]
    while pending:
        current = pending.pop()
        op = current.child_by_field_name("operator")
        if current.type == "binary_expression" and op is not None and text(op) == operator:
            left = current.child_by_field_name("left")
            right = current.child_by_field_name("right")
            pending.extend(unwrap(c) for c in (right, left) if c is not None)
        else:
            found.append(current)
    return found


def base_name(call: Node) -> str | None:
    """The name a callee starts from: `a` for `a.b.c(...)` and `a(...)` (cheaper than a path)."""
    node = call.child_by_field_name("function") or call.child_by_field_name("constructor")
    while node is not None:
        if node.type == "identifier":
            return text(node)
        if node.type not in {"member_expression", *_TRANSPARENT}:
            return None
        node = (
            node.child_by_field_name("object")
            if node.type == "member_expression"
            else (node.named_children[0] if node.named_child_count else None)
        )
    return None


def callee_name(call: Node) -> str | None:
    """The last name of a callee: `c` for `a.b.c(...)`, `f` for `f(...)`."""
    node = call.child_by_field_name("function") or call.child_by_field_name("constructor")
    if node is None:
        return None
    node = unwrap(node)
    if node.type == "identifier":
        return text(node)
    if node.type == "member_expression":
        return text(node.child_by_field_name("property"))
    return None


@dataclass(frozen=True)
class Binding:
    """What a local name was imported as: the package and the export (`default`, `*` or a name)."""

    module: str
    export: str


@dataclass(frozen=True)
class Target:
    """Where a call goes: a package and the path below what it exports, e.g. jsonwebtoken verify."""

    module: str
    path: tuple[str, ...]  # () for the package's default/whole export called directly

    @property
    def name(self) -> str:
        return self.path[-1] if self.path else ""


class Source:
    """One parsed file."""

    def __init__(self, path: str, code: bytes) -> None:
        self.path = path
        self.code = code
        self.grammar = _grammar(path)
        self._nodes: dict[str, list[Node]] = {}

    @cached_property
    def root(self) -> Node:
        return _parser(self.grammar).parse(self.code).root_node

    def nodes(self, node_type: str) -> list[Node]:
        """Every node of this type, in source order."""
        if node_type not in self._nodes:
            captures = QueryCursor(_query(self.grammar, node_type)).captures(self.root)
            types = COMMON_TYPES if node_type in COMMON_TYPES else (node_type,)
            for found_type in types:
                found = captures.get(found_type, [])
                self._nodes[found_type] = sorted(found, key=lambda n: n.start_byte)
        return self._nodes[node_type]

    def calls(self) -> list[Node]:
        """Every call and `new` expression."""
        return sorted(
            self.nodes("call_expression") + self.nodes("new_expression"),
            key=lambda n: n.start_byte,
        )

    @cached_property
    def bindings(self) -> dict[str, Binding]:
        """Local names bound by `import` or `require()` to a module (relative modules too)."""
        found: dict[str, Binding] = {}
        for statement in self.nodes("import_statement"):
            module = string_value(statement.child_by_field_name("source"))
            clause = next((c for c in statement.named_children if c.type == "import_clause"), None)
            if module is None or clause is None:
                continue
            for part in clause.named_children:
                if part.type == "identifier":
                    found[text(part)] = Binding(module, "default")
                elif part.type == "namespace_import":
                    name = next((c for c in part.named_children if c.type == "identifier"), None)
                    if name is not None:
                        found[text(name)] = Binding(module, "*")
                elif part.type == "named_imports":
                    for spec in part.named_children:
                        if spec.type != "import_specifier":
                            continue
                        imported = spec.child_by_field_name("name")
                        alias = spec.child_by_field_name("alias") or imported
                        if imported is not None and alias is not None:
                            found[text(alias)] = Binding(module, text(imported))
        for declarator in self.nodes("variable_declarator"):
            value = declarator.child_by_field_name("value")
            name = declarator.child_by_field_name("name")
            if value is None or name is None:
                continue
            value = unwrap(value)
            suffix: list[str] = []
            while value.type == "member_expression":  # require('x').default / .Router
                prop = value.child_by_field_name("property")
                suffix.insert(0, text(prop))
                value = unwrap(value.child_by_field_name("object") or value)
            module = _required_module(value)
            if module is None:
                continue
            export = suffix[0] if suffix else "*"
            if name.type == "identifier":
                found[text(name)] = Binding(module, export)
            elif name.type == "object_pattern":
                for part in name.named_children:
                    if part.type == "shorthand_property_identifier_pattern":
                        found[text(part)] = Binding(module, text(part))
                    elif part.type == "pair_pattern":
                        key = part.child_by_field_name("key")
                        alias = part.child_by_field_name("value")
                        if key is not None and alias is not None and alias.type == "identifier":
                            found[text(alias)] = Binding(module, text(key))
        return found

    def target(self, call: Node) -> Target | None:
        """The package a call goes into, through this file's imports and requires."""
        function = call.child_by_field_name("function") or call.child_by_field_name("constructor")
        if function is None:
            return None
        path = member_path(function)
        if path is None:
            return None
        binding = self.bindings.get(path[0])
        if binding is None:
            return None
        rest = tuple(path[1:])
        if binding.export in {"default", "*"}:
            return Target(binding.module, rest)
        return Target(binding.module, (binding.export, *rest))

    @cached_property
    def declarations(self) -> dict[str, Node]:
        """Top-level and nested names declared in this file → their value or function node."""
        found: dict[str, Node] = {}
        for declarator in self.nodes("variable_declarator"):
            name = declarator.child_by_field_name("name")
            value = declarator.child_by_field_name("value")
            if name is not None and name.type == "identifier" and value is not None:
                found.setdefault(text(name), unwrap(value))
        for kind in ("function_declaration", "generator_function_declaration"):
            for function in self.nodes(kind):
                name = function.child_by_field_name("name")
                if name is not None:
                    found.setdefault(text(name), function)
        return found


def _required_module(node: Node) -> str | None:
    """`require('x')` → "x"."""
    if node.type != "call_expression":
        return None
    function = node.child_by_field_name("function")
    if function is None or text(function) != "require":
        return None
    args = arguments(node)
    return string_value(args[0]) if len(args) == 1 else None


def package_of(module: str) -> str:
    """`@scope/pkg/sub` → `@scope/pkg`; `pkg/sub` → `pkg`; `node:http` → `http`."""
    module = module.removeprefix("node:")
    parts = module.split("/")
    return "/".join(parts[:2]) if module.startswith("@") else parts[0]


class Program:
    """The repository's code as one program: every non-test JavaScript/TypeScript file."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self._sources: dict[str, Source | None] = {}

    @cached_property
    def paths(self) -> tuple[str, ...]:
        return tuple(p for p in self.repo.files if is_program_file(p))

    @cached_property
    def dependencies(self) -> frozenset[str]:
        """Every package any package.json of the repository depends on (dev ones included)."""
        found: set[str] = set()
        for path in self.repo.files:
            if posixpath.basename(path) != "package.json":
                continue
            try:
                manifest = json.loads(self.repo.text(path) or "{}")
            except ValueError:
                continue
            if not isinstance(manifest, dict):
                continue
            for key in (
                "dependencies",
                "devDependencies",
                "peerDependencies",
                "optionalDependencies",
            ):
                block = manifest.get(key)
                if isinstance(block, dict):
                    found.update(str(name) for name in block)
        return frozenset(found)

    def depends_on(self, *packages: str) -> bool:
        return any(p in self.dependencies for p in packages)

    def source(self, path: str) -> Source | None:
        if path not in self._sources:
            code = self.repo.text(path)
            self._sources[path] = None if code is None else Source(path, code.encode("utf-8"))
        return self._sources[path]

    def sources(self, *words: str) -> Iterator[Source]:
        """The program's files that mention any of `words` (all files when none is given).

        The byte test only skips files that cannot matter; what a check decides comes from the tree.
        """
        encoded = [w.encode() for w in words]
        for path in self.paths:
            source = self.source(path)
            if source is not None and (not encoded or any(w in source.code for w in encoded)):
                yield source

    def calls_into(
        self, packages: tuple[str, ...], *words: str
    ) -> Iterator[tuple[Source, Node, Target]]:
        """Every call into one of `packages` (through imports or requires)."""
        for source in self.sources(*(words or tuple(p.split("/")[-1] for p in packages))):
            names = {n for n, b in source.bindings.items() if package_of(b.module) in packages}
            if not names:
                continue
            for call in source.calls():
                if base_name(call) not in names:
                    continue
                target = source.target(call)
                if target is not None and package_of(target.module) in packages:
                    yield source, call, target

    def resolve(self, source: Source, node: Node, depth: int = 3) -> tuple[Source, Node]:
        """Follow a name to the expression it was declared with, in this file or the relative
        module it was imported from; anything else is returned as it is."""
        node = unwrap(node)
        while depth > 0 and node.type == "identifier":
            depth -= 1
            name = text(node)
            declared = source.declarations.get(name)
            if declared is not None and declared.id != node.id:
                node = declared
                continue
            binding = source.bindings.get(name)
            if binding is None or not binding.module.startswith("."):
                break
            other = self.module(source, binding.module)
            if other is None:
                break
            exported = other.declarations.get(binding.export if binding.export != "*" else name)
            if exported is None:
                break
            source, node = other, exported
        return source, unwrap(node)

    def module(self, source: Source, specifier: str) -> Source | None:
        """The file a relative import names (`./x.ts`, `./x.js` for `x.ts`, `./x`, `./x/index`)."""
        base = posixpath.normpath(posixpath.join(posixpath.dirname(source.path), specifier))
        stem, suffix = posixpath.splitext(base)
        candidates = [base] if suffix in CODE_SUFFIXES else []
        if suffix in {".js", ".mjs", ".cjs"}:
            candidates += [stem + ".ts", stem + ".mts", stem + ".cts", stem + ".tsx"]
        candidates += [base + s for s in CODE_SUFFIXES]
        candidates += [f"{base}/index{s}" for s in CODE_SUFFIXES]
        for candidate in candidates:
            if self.repo.exists(candidate):
                return self.source(candidate)
        return None

    def app_site(self) -> tuple[str, int | None] | None:
        """Where the Express app is created (`express()`): where a missing control belongs."""
        for source, call, target in self.calls_into(("express",)):
            if target.path == () and call.type == "call_expression":
                return source.path, line(call)
        return None


_PROGRAMS: weakref.WeakKeyDictionary[Repo, Program] = weakref.WeakKeyDictionary()


def program(repo: Repo) -> Program:
    """The repository's program, parsed once per audit whatever the number of checks."""
    if repo not in _PROGRAMS:
        _PROGRAMS[repo] = Program(repo)
    return _PROGRAMS[repo]
