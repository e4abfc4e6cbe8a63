"""Schemathesis hooks for the fuzz run of a generated project (tests/test_generated.py).

Loaded through SCHEMATHESIS_HOOKS, a file path, so this module never runs under pytest itself.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis

# Lengths are part of the document (minLength/maxLength): a 400 for them is drift, never a rule.
_STATED_IN_THE_DOCUMENT = {"too_short", "too_long"}


def _server_rule_codes(body: Any) -> list[str] | None:
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list) or not errors:
        return None
    codes = [e.get("code") if isinstance(e, dict) else None for e in errors]
    return codes if all(isinstance(c, str) for c in codes) else None


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every finding except a schema-valid request refused by a rule JSON Schema cannot state.

    Password strength (guessable, derived from the e-mail) and a wrong current password are decided
    by the server and answered with 400 and a `code` on each error; schema validation errors carry
    no `code`. Anything else, a length code included, stays a finding.
    """
    if getattr(failure, "code", None) != "ST202" or response.status_code != 400:
        return True
    try:
        body = json.loads(response.content)
    except ValueError:
        return True
    codes = _server_rule_codes(body)
    return codes is None or bool(_STATED_IN_THE_DOCUMENT.intersection(codes))
