"""Configuration files read for the audit, with the line of every value for the failures.

YAML is read as YAML 1.2 reads booleans (only `true`/`false`), as GitHub and GitLab do: `on:` stays
the key "on" instead of becoming True. Mappings and sequences remember the line of each entry.
"""

from __future__ import annotations

import json
import re
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from hardstart.audit.repo import Repo


class YamlMap(dict[Any, Any]):
    """A YAML mapping that knows the 1-based line of each key."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.lines: dict[Any, int] = {}

    def line_of(self, key: Any) -> int:
        return self.lines.get(key, self.line)


class YamlList(list[Any]):
    """A YAML sequence that knows the 1-based line of each item."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.lines: list[int] = []

    def line_of(self, index: int) -> int:
        return self.lines[index] if 0 <= index < len(self.lines) else self.line


# libyaml's parser when PyYAML was built with it (several times faster), else the pure-Python one.
_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type,misc]
    pass


# YAML 1.2 booleans: drop the implicit bool resolver (yes/no/on/off) and add back true/false only.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct(loader: _Loader, node: Node) -> Any:
    line = node.start_mark.line + 1
    if isinstance(node, MappingNode):
        loader.flatten_mapping(node)
        mapping = YamlMap(line)
        for key_node, value_node in node.value:
            key = _construct(loader, key_node)
            if isinstance(key, (dict, list)):
                key = str(key)
            mapping[key] = _construct(loader, value_node)
            mapping.lines[key] = key_node.start_mark.line + 1
        return mapping
    if isinstance(node, SequenceNode):
        sequence = YamlList(line)
        for item in node.value:
            sequence.append(_construct(loader, item))
            sequence.lines.append(item.start_mark.line + 1)
        return sequence
    assert isinstance(node, ScalarNode)  # noqa: S101 - the composer yields nothing else
    try:
        value = loader.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError:  # a custom tag (GitLab's !reference...): its text
        value = node.value
    if isinstance(value, str) and node.style in ("|", ">"):
        return BlockText(value, line + 1)
    if isinstance(value, str):
        return LineText(value, line)
    return value


class LineText(str):
    """A YAML string that knows the line it starts on."""

    line: int

    def __new__(cls, value: str, line: int) -> LineText:
        text = super().__new__(cls, value)
        text.line = line
        return text

    def line_at(self, offset: int) -> int:
        """The line of character `offset` (exact for block scalars, the start line otherwise)."""
        return self.line


class BlockText(LineText):
    """A `|` or `>` block scalar: its content starts on the line after the indicator."""

    def line_at(self, offset: int) -> int:
        return self.line + self.count("\n", 0, offset)


T = TypeVar("T")
_MEMO: weakref.WeakKeyDictionary[Repo, dict[str, Any]] = weakref.WeakKeyDictionary()


def memo(repo: Repo, key: str, compute: Callable[[], T]) -> T:
    """`compute()` once per repository and key: several rules read the same parsed files."""
    known = _MEMO.setdefault(repo, {})
    if key not in known:
        known[key] = compute()
    result: T = known[key]
    return result


def yaml_documents(repo: Repo, path: str) -> list[Any]:
    """Every document of a YAML file (with lines), or [] when it is missing or not valid YAML.

    Parsed once per audit: several rules read the same file.
    """
    return memo(repo, f"yaml:{path}", lambda: _parse(repo, path))


def _parse(repo: Repo, path: str) -> list[Any]:
    text = repo.text(path)
    if text is None:
        return []
    loader = _Loader(text)
    try:
        documents: list[Any] = []
        while loader.check_node():
            node = loader.get_node()
            documents.append(None if node is None else _construct(loader, node))
        return documents
    except yaml.YAMLError:
        return []
    finally:
        loader.dispose()


def yaml_document(repo: Repo, path: str) -> Any:
    documents = yaml_documents(repo, path)
    return documents[0] if documents else None


def items(value: Any) -> list[Any]:
    """`value` if it is a list, else nothing: a malformed file never breaks a check."""
    return value if isinstance(value, list) else []


def json_document(repo: Repo, path: str) -> Any:
    text = repo.text(path)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def line_of(text: str, pattern: str, start: int = 1) -> int | None:
    """The first 1-based line at or after `start` that matches the regular expression."""
    compiled = re.compile(pattern)
    for number, line in enumerate(text.splitlines(), start=1):
        if number >= start and compiled.search(line):
            return number
    return None


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    return []
