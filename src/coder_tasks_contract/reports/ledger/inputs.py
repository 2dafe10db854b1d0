"""What the coverage ledger is built from, read and checked: the spec's operations and their statuses,
``tests/unreachable.yaml``, and operation-marker declarations as ``reports/files.py`` stores them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from coder_tasks_contract.reports.ledger.model import LedgerError, Operation
from coder_tasks_contract.spec.levels import BASE_OPERATIONS, BY_NAME, PAUSE_OPERATIONS, canonical_operation_id

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
LEVEL_NAMES = tuple(BY_NAME)


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


def load_unreachable(path: Path, operations: Sequence[Operation] = ()) -> dict[tuple[str, int], str]:
    """``{(operationId, status): reason}`` from ``unreachable.yaml``; no file, no entries. Checked against the spec.

    Entries name base operationIds (those of /api/experimental/tasks); an entry holds for the operation at every
    mount (``getTaskV2`` too, see :func:`unreachable_reason`). An entry for a task operation the document lacks
    (pauseTask before the newest, PAUSE-1) is left out, and so is an entry scoped with ``levels: [name, ...]`` whose
    pair this document does not have (a status only those levels answer, e.g. getTaskLogs 409 at newest); any
    other entry must be a documented pair (``selftests/test_ledger.py`` holds scoped entries to their levels)."""
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise LedgerError(f"cannot read {path}: {type(exc).__name__}: {exc}") from None
    entries = data.get("unreachable") if isinstance(data, Mapping) else None
    if not isinstance(entries, list):
        raise LedgerError(f"{path}: expected a top-level 'unreachable:' list of {{operation, status, reason}}")
    documented = {(canonical_operation_id(op.operation_id), status) for op in operations for status in op.statuses}
    served = {operation_id for operation_id, _ in documented}
    reasons: dict[tuple[str, int], str] = {}
    for number, entry in enumerate(entries, 1):
        if not (isinstance(entry, Mapping) and {"operation", "status", "reason"} <= set(entry)):
            raise LedgerError(f"{path}: entry {number} needs operation, status and reason")
        key = (str(entry["operation"]), int(entry["status"]))
        scoped = entry.get("levels")
        if scoped is not None and not (
            isinstance(scoped, list) and scoped and all(str(name) in LEVEL_NAMES for name in scoped)
        ):
            raise LedgerError(f"{path}: entry {number} levels must be a list of {', '.join(LEVEL_NAMES)}")
        if operations and key[0] not in served and key[0] in BASE_OPERATIONS + PAUSE_OPERATIONS:
            continue  # a task operation this level's document does not have
        if operations and scoped is not None and key not in documented:
            continue  # a status of the levels it names, not of this document's level
        if operations and key not in documented:
            raise LedgerError(f"{path}: entry {number} ({key[0]} {key[1]}) is not a documented status of the spec")
        reasons[key] = " ".join(str(entry["reason"]).split())
    return reasons


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
