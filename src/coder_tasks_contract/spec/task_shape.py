"""A task body judged by the level's own document: the ``Task`` schema of ``levels.build_spec`` as a JSON Schema.

Polls during a lifecycle wait are answers like any other: each is checked against this schema as it arrives, so a
server that reports a status or state its contract does not have fails the waiting test at once (SCHEMA, STATUS,
STATE clauses) instead of at the lifecycle timeout.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from coder_tasks_contract.spec import levels


class TaskShape:
    """The ``Task`` schema of one level's document."""

    def __init__(self, level: str, document: dict[str, Any]) -> None:
        self.level = level
        # OpenAPI 3.1 schemas are JSON Schema 2020-12; "#/components/..." refs resolve against this root.
        root = {"$ref": "#/components/schemas/Task", "components": document.get("components", {})}
        self._validator = Draft202012Validator(root)

    def problems(self, task: Any, *, formats: FormatChecker | None = None) -> list[str]:
        """What in ``task`` the level's ``Task`` schema forbids, one line each (empty when it conforms); with
        ``formats``, the ``format`` keywords are checked by it (a validator only annotates them by default)."""
        validator = self._validator if formats is None else self._validator.evolve(format_checker=formats)
        found = []
        for error in sorted(validator.iter_errors(task), key=lambda e: list(map(str, e.absolute_path))):
            where = "/".join(str(part) for part in error.absolute_path) or "(the body)"
            found.append(f"{where}: {error.message}")
        return found


@lru_cache(maxsize=8)
def for_level(level: str, spec: Path | None = None) -> TaskShape:
    """The ``Task`` schema of ``level`` (the base document ``spec`` with the level's overlays), built once."""
    return TaskShape(level, levels.build_spec(level, base=spec))
