"""Waivers: rules a repository answers for elsewhere, each with a reason (`.hardstart/audit.yml`).

```yaml
waivers:
  K2-tests-run: "CI runs in the organisation's Jenkins; see docs/ci.md"
```

A waived rule that fails is reported as "waived" with the reason (and its findings, so nothing is
hidden) and never fails the run. The file is part of the repository, so a waiver is reviewed like
any other change. A waiver naming no rule, or without a reason, is a usage error: a typo must not
silently waive nothing.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from pathlib import Path
from typing import Final

import yaml

from hardstart.errors import UsageError

FILE: Final = ".hardstart/audit.yml"


def read(root: Path, rules: Container[str]) -> Mapping[str, str]:
    """The waivers of the repository at `root` (rule id → reason); none without the file."""
    path = root / FILE
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise UsageError(f"{FILE}: not readable YAML ({type(error).__name__})") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or set(data) - {"waivers"}:
        raise UsageError(f"{FILE}: expected one key, `waivers`: a mapping of rule id to reason")
    waivers = data.get("waivers") or {}
    if not isinstance(waivers, dict):
        raise UsageError(f"{FILE}: waivers: expected a mapping of rule id to reason")
    for rule_id, reason in waivers.items():
        if rule_id not in rules:
            raise UsageError(f"{FILE}: waivers.{rule_id}: no such rule (see `hardstart audit`)")
        if not isinstance(reason, str) or not reason.strip():
            raise UsageError(f"{FILE}: waivers.{rule_id}: give the reason as text")
    return {str(rule_id): " ".join(str(reason).split()) for rule_id, reason in waivers.items()}
