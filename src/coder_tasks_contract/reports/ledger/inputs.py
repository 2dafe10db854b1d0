"""What the coverage ledger is built from, read and checked: the spec's operations and their statuses,
``tests/unreachable.yaml``, and operation-marker declarations as ``reports/files.py`` stores them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from coder_tasks_contract.reports.ledger.criteria import CRITERIA, HTTP_METHODS
from coder_tasks_contract.reports.ledger.model import LedgerError, Operation
from coder_tasks_contract.spec.levels import BY_NAME
from coder_tasks_contract.spec.vocabulary import BASE_OPERATIONS, PAUSE_OPERATIONS, canonical_operation_id

LEVEL_NAMES = tuple(BY_NAME)
#: The kinds of target an ``elements:`` entry can be scoped to: the embedded reference server, or a deployment.
TARGET_KINDS = ("reference", "deployment")


def load_operations(spec: Path | Mapping[str, Any]) -> list[Operation]:
    """Every operation of an OpenAPI document with its numeric response statuses, in document order."""
    if isinstance(spec, Path):
        try:
            document = yaml.safe_load(spec.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise LedgerError(f"cannot read the spec {spec}: {type(exc).__name__}: {exc}") from None
    else:
        document = spec
    paths = document.get("paths") if isinstance(document, Mapping) else None
    if not isinstance(paths, Mapping):
        raise LedgerError(f"the spec {spec if isinstance(spec, Path) else '(document)'} has no 'paths' object")
    operations: list[Operation] = []
    for path, item in paths.items():
        for method in HTTP_METHODS:
            operation = item.get(method) if isinstance(item, Mapping) else None
            if not isinstance(operation, Mapping):
                continue
            if not operation.get("operationId"):
                raise LedgerError(f"{method.upper()} {path} has no operationId: the ledger names operations by it")
            # "default" and ranges like "4XX" promise no particular status, so there is nothing to exercise.
            statuses = tuple(sorted(int(code) for code in operation.get("responses", {}) if str(code).isdigit()))
            operations.append(Operation(str(operation["operationId"]), method.upper(), str(path), statuses))
    return operations


#: The shape of ``tests/unreachable.yaml`` (checked with jsonschema; what a schema cannot say, such as "a documented
#: pair of this level", :func:`load_unreachable` checks against the spec).
UNREACHABLE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["unreachable"],
    "additionalProperties": False,
    "properties": {
        "unreachable": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["operation", "status", "reason"],
                "additionalProperties": False,
                "properties": {
                    "operation": {"type": "string", "minLength": 1},
                    "status": {"type": "integer", "minimum": 100, "maximum": 599},
                    "levels": {"type": "array", "minItems": 1, "items": {"enum": list(LEVEL_NAMES)}},
                    "reason": {"type": "string", "minLength": 20},
                },
            },
        },
        "elements": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["criterion", "keys", "reason"],
                "additionalProperties": False,
                "properties": {
                    "criterion": {"enum": list(CRITERIA)},
                    "operations": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
                    "keys": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
                    "levels": {"type": "array", "minItems": 1, "items": {"enum": list(LEVEL_NAMES)}},
                    "targets": {"type": "array", "minItems": 1, "items": {"enum": list(TARGET_KINDS)}},
                    "reason": {"type": "string", "minLength": 20},
                },
            },
        },
    },
}


@dataclass(frozen=True)
class ElementRule:
    """An ``elements:`` entry: criterion elements (operationId and key ``fnmatch`` patterns) not reachable on the
    levels and kinds of target it names (all when it names none), and why."""

    criterion: str
    operations: tuple[str, ...]
    keys: tuple[str, ...]
    levels: tuple[str, ...]
    targets: tuple[str, ...]
    reason: str

    def matches(self, criterion: str, operation: str, key: str, level: str, target_kind: str) -> bool:
        return (
            criterion == self.criterion
            and (not self.levels or level in self.levels)
            and (not self.targets or target_kind in self.targets)
            and any(fnmatchcase(operation, pattern) for pattern in self.operations)
            and any(fnmatchcase(key, pattern) for pattern in self.keys)
        )


def read_unreachable(path: Path) -> dict[str, Any]:
    """``unreachable.yaml`` as data, checked against :data:`UNREACHABLE_SCHEMA`; no file: no entries."""
    if not path.is_file():
        return {"unreachable": []}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise LedgerError(f"cannot read {path}: {type(exc).__name__}: {exc}") from None
    problem = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(UNREACHABLE_SCHEMA).iter_errors(data))
    if problem is not None:
        where = "/".join(str(part) for part in problem.absolute_path) or "(top)"
        raise LedgerError(f"{path}: {where}: {problem.message}")
    return dict(data)


def load_unreachable(
    path: Path, operations: Sequence[Operation] = (), level: str | None = None
) -> dict[tuple[str, int], str]:
    """``{(operationId, status): reason}`` from ``unreachable.yaml``; no file, no entries. Checked against the spec.

    Entries name base operationIds (those of /api/experimental/tasks); an entry holds for the operation at every
    mount (``getTaskV2`` too, see :func:`unreachable_reason`). An entry for a task operation the document lacks
    (pauseTask before the newest, PAUSE-1) is left out, and so is an entry scoped with ``levels: [name, ...]`` whose
    pair this document does not have (a status only those levels answer, e.g. getTaskLogs 409 at newest); any
    other entry must be a documented pair (``selftests/test_ledger.py`` holds scoped entries to their levels). With
    the run's ``level``, a scoped entry holds only at the levels it names (a pair documented at every level but
    reachable at some only, e.g. getTaskLogs 400, which newest answers 409 or 404 instead)."""
    documented = {(canonical_operation_id(op.operation_id), status) for op in operations for status in op.statuses}
    served = {operation_id for operation_id, _ in documented}
    reasons: dict[tuple[str, int], str] = {}
    for number, entry in enumerate(read_unreachable(path)["unreachable"], 1):
        key = (str(entry["operation"]), int(entry["status"]))
        if level is not None and level not in entry.get("levels", (level,)):
            continue  # scoped to other levels
        if operations and key not in documented:
            if key[0] not in served and key[0] in BASE_OPERATIONS + PAUSE_OPERATIONS:
                continue  # a task operation this level's document does not have
            if "levels" in entry:
                continue  # a status of the levels it names, not of this document's level
            raise LedgerError(f"{path}: entry {number} ({key[0]} {key[1]}) is not a documented status of the spec")
        reasons[key] = " ".join(str(entry["reason"]).split())
    return reasons


def load_element_rules(path: Path) -> list[ElementRule]:
    """The ``elements:`` entries of ``unreachable.yaml`` (criterion elements that cannot be reached, and why)."""
    return [
        ElementRule(
            criterion=str(entry["criterion"]),
            operations=tuple(entry.get("operations", ["*"])),
            keys=tuple(entry["keys"]),
            levels=tuple(entry.get("levels", ())),
            targets=tuple(entry.get("targets", ())),
            reason=" ".join(str(entry["reason"]).split()),
        )
        for entry in read_unreachable(path).get("elements", ())
    ]


def rule_reason(
    rules: Sequence[ElementRule], criterion: str, operation: str, key: str, level: str, target_kind: str
) -> str | None:
    """The reason of the first rule matching an element, else None."""
    for rule in rules:
        if rule.matches(criterion, operation, key, level, target_kind):
            return rule.reason
    return None


def unreachable_reason(unreachable: Mapping[tuple[str, int], str], operation_id: str, status: int) -> str | None:
    """The reason ``unreachable.yaml`` gives for a pair, looked up by the operation's own id, then by its base id
    (an entry for ``getTask`` explains ``getTaskV2`` too: the same handler at another mount, ROUTE-1)."""
    own = unreachable.get((operation_id, status))
    return own if own is not None else unreachable.get((canonical_operation_id(operation_id), status))


def parse_declaration(value: str) -> tuple[str, tuple[int, ...]]:
    """``"listTasks 200 400"`` (as ``reports/files.py`` stores a marker) back into ``("listTasks", (200, 400))``."""
    operation_id, *codes = value.split()
    return operation_id, tuple(int(code) for code in codes)


def format_declaration(operation_id: str, statuses: Iterable[int]) -> str:
    return " ".join([operation_id, *(str(status) for status in statuses)])
