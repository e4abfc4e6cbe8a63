"""Finding the checks: every module of this package whose name ends in `_checks` registers its
rules with `@check` when imported, so adding a module is all it takes to add checks."""

from __future__ import annotations

import importlib
import pkgutil

import hardstart.audit
from hardstart.audit.model import REGISTRY, CheckFunction, Rule


def load() -> dict[str, tuple[Rule, CheckFunction]]:
    """Import every `*_checks` module (once) and return the registry, by rule id."""
    for module in pkgutil.iter_modules(hardstart.audit.__path__):
        if module.name.endswith("_checks"):
            importlib.import_module(f"hardstart.audit.{module.name}")
    return REGISTRY
