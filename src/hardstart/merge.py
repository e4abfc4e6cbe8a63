"""Three-way merges of one file: base (the old template's render), ours (the project), theirs
(the new template's render). Text goes through `git merge-file`; `package.json` is merged as
JSON, key by key; a README keeps the project's part below its marker; a lockfile is never merged
line by line (see `lockfile_matches`).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from hardstart import gitcmd

CONFLICT_START: Final = b"<<<<<<< "


@dataclass(frozen=True)
class Merged:
    content: bytes
    conflict: bool


def text(base: bytes, ours: bytes, theirs: bytes, labels: tuple[str, str, str]) -> Merged:
    """`git merge-file`: the user's edits and the template's changes, inline markers where both
    changed the same lines."""
    with tempfile.TemporaryDirectory(prefix="hardstart-merge-") as scratch:
        paths = []
        for name, content in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(scratch, name)
            path.write_bytes(content)
            paths.append(str(path))
        result = gitcmd.run_bytes(
            "merge-file", "--stdout", "-L", labels[0], "-L", labels[1], "-L", labels[2], *paths,
            cwd=Path(scratch), ok_codes=range(0, 128),
        )  # fmt: skip
    return Merged(content=result, conflict=has_conflict(result))


def is_binary(content: bytes) -> bool:
    """Git's test: a NUL byte in the first 8000 bytes."""
    return b"\0" in content[:8000]


def has_conflict(content: bytes) -> bool:
    return any(line.startswith(CONFLICT_START) for line in content.splitlines())


class _Conflict(Exception):
    pass


def _merge_values(base: Any, ours: Any, theirs: Any) -> Any:
    if ours == theirs or theirs == base:
        return ours
    if ours == base:
        return theirs
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return _merge_objects(base if isinstance(base, dict) else {}, ours, theirs)
    raise _Conflict


_ABSENT: Final = object()


def _key_order(ours: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """The project's key order, with each key the template added placed after the key that
    precedes it in the template (so a new script lands among the scripts, not at the end)."""
    order = list(ours)
    previous: str | None = None
    for key in theirs:
        if key not in order:
            order.insert(order.index(previous) + 1 if previous in order else 0, key)
        previous = key
    return order


def _merge_objects(base: dict[str, Any], ours: dict[str, Any], theirs: dict[str, Any]) -> Any:
    merged: dict[str, Any] = {}
    for key in _key_order(ours, theirs):
        value = _merge_values(
            base.get(key, _ABSENT), ours.get(key, _ABSENT), theirs.get(key, _ABSENT)
        )
        if value is not _ABSENT:
            merged[key] = value
    return merged


def package_json(base: bytes, ours: bytes, theirs: bytes, labels: tuple[str, str, str]) -> Merged:
    """Merge `package.json` as JSON: a dependency the user added and one the template bumped
    merge cleanly, wherever they sit in the file. Where both changed the same value, or a
    side is not JSON, it falls back to the text merge (and its markers)."""
    try:
        values = [json.loads(side) for side in (base, ours, theirs)]
        if not all(isinstance(value, dict) for value in values):
            raise _Conflict
        merged = _merge_objects(*values)
    except (ValueError, _Conflict):
        return text(base, ours, theirs, labels)
    return Merged(
        content=(json.dumps(merged, indent=2, ensure_ascii=False) + "\n").encode(), conflict=False
    )


def below_marker(ours: bytes, merged: bytes, marker: str) -> bytes:
    """`merged` up to its marker line, then the project's own text after the marker."""
    token = marker.encode()
    head, found, _ = merged.partition(token)
    _, mine, tail = ours.partition(token)
    if not found or not mine:
        return merged  # no marker on one side: nothing is set apart
    return head + token + tail


def above_marker(content: bytes, marker: str) -> bytes:
    """The part of a file the template owns (everything when there is no marker)."""
    return content.partition(marker.encode())[0]


_DEPENDENCY_FIELDS: Final = (
    "dependencies",
    "devDependencies",
    "optionalDependencies",
    "peerDependencies",
)


def lockfile_matches(package: bytes, lock: bytes) -> bool:
    """Whether `npm ci` accepts `lock` for `package`: the lock's root entry declares exactly the
    dependency ranges of package.json (what npm checks before installing)."""
    try:
        manifest = json.loads(package)
        root = json.loads(lock)["packages"][""]
    except (ValueError, KeyError, TypeError):
        return False
    return all(
        (manifest.get(field) or {}) == (root.get(field) or {}) for field in _DEPENDENCY_FIELDS
    )
