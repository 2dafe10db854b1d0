"""The API coverage ledger: for every operation of the spec and each status it documents, whether the run saw it,
through which tests, and if not, why not.

A (operation, status) pair gets exactly one state, decided in this order:

1. ``exercised``: the traffic recorder saw a response with that status to that operation (any test, or a session
   fixture / the cleanup, which run outside a test).
2. ``not reachable``: ``tests/unreachable.yaml`` says why no test can provoke it on a target the suite may touch.
3. ``read-only``: the run was ``--read-only`` and the operation is not a GET.
4. ``skipped``: every test declaring the pair (``@pytest.mark.operation(op, status)``) was skipped; the reason is
   theirs (e.g. "needs --second-session-token ...").
5. ``failed``: a test declaring it ran and failed before the status was seen (the run fails anyway).
6. ``not run``: the run was narrowed (``-k``, ``-m``, a file or node id, deselection) and no selected test declares it.
7. ``MISSING``: none of the above. A passing test that declares the pair without the status being seen is MISSING
   too (its marker claims more than it shows). MISSING entries are the ledger's :attr:`Ledger.gaps`.

Pure data in, data out: ``reporting.py`` feeds it from the run and writes ``ledger.md`` and ``ledger.json``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

from coder_tasks_contract.levels import BASE_OPERATIONS, BY_NAME, PAUSE_OPERATIONS, canonical_operation_id
from coder_tasks_contract.traffic import Exchange

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

EXERCISED = "exercised"
UNREACHABLE = "not reachable"
READ_ONLY = "read-only"
SKIPPED = "skipped"
FAILED = "failed"
NOT_RUN = "not run"
MISSING = "MISSING"
STATES = (EXERCISED, UNREACHABLE, READ_ONLY, SKIPPED, FAILED, NOT_RUN, MISSING)

#: Who made a request that no test was running for: session fixtures (shared tasks) and the end-of-run cleanup.
OUTSIDE_TESTS = "(session fixture or cleanup)"
READ_ONLY_REASON = "read-only mode (--read-only): the run sends nothing but GET requests"
# schemathesis names each operation's subtest ``test_conformance[METHOD /path]``.
_SUBTEST_OPERATION = re.compile(r"\[(?P<method>[A-Z]+) (?P<path>/[^\]]*)\]$")
SHOWN_TESTS = 3
LEVEL_NAMES = tuple(BY_NAME)


class LedgerError(Exception):
    """The spec or ``unreachable.yaml`` cannot be read as the ledger needs; the message says which and why."""


@dataclass(frozen=True)
class Operation:
    """One operation of the spec and the statuses it documents."""

    operation_id: str
    method: str
    path: str
    statuses: tuple[int, ...]

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class TestRecord:
    """What the run says about one test: its outcome, why it was skipped, and the pairs it declares."""

    __test__: ClassVar[bool] = False  # not a test class, whatever pytest thinks of the name

    nodeid: str
    outcome: str  # "passed" | "failed" | "skipped"
    skip_reason: str | None = None
    #: (operationId, statuses) from each ``operation`` marker; empty statuses: the operation, no particular status.
    declares: tuple[tuple[str, tuple[int, ...]], ...] = ()


@dataclass(frozen=True)
class RunInfo:
    """What the ledger is about: target, server version, run id, mode, and how the run was narrowed (if it was)."""

    target: str = ""
    server_version: str = ""
    run_id: str = ""
    spec: str = ""
    read_only: bool = False
    #: Why not every test was selected (e.g. "-k test_list"); None for a full run.
    narrowed: str | None = None


@dataclass(frozen=True)
class TestRef:
    """A test (node id) and its outcome, as the ledger cites it."""

    __test__: ClassVar[bool] = False
    nodeid: str
    outcome: str

    def to_json(self) -> dict[str, str]:
        return {"nodeid": self.nodeid, "outcome": self.outcome}


@dataclass
class PairEntry:
    """The ledger line of one documented (operation, status) pair."""

    status: int
    state: str
    reason: str | None = None
    exercised_by: list[TestRef] = field(default_factory=list)
    declared_by: list[TestRef] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "state": self.state,
            "reason": self.reason,
            "exercised_by": [ref.to_json() for ref in self.exercised_by],
            "declared_by": [ref.to_json() for ref in self.declared_by],
        }


@dataclass
class OperationEntry:
    """An operation's pairs, plus statuses it answered that the spec does not document."""

    operation: Operation
    pairs: list[PairEntry]
    undocumented: dict[int, list[TestRef]] = field(default_factory=dict)
    tests: list[TestRef] = field(default_factory=list)

    @property
    def exercised(self) -> bool:
        return any(pair.state == EXERCISED for pair in self.pairs)

    def to_json(self) -> dict[str, Any]:
        return {
            "operation_id": self.operation.operation_id,
            "method": self.operation.method,
            "path": self.operation.path,
            "exercised": self.exercised,
            "statuses": [pair.to_json() for pair in self.pairs],
            "undocumented_statuses": [
                {"status": status, "exercised_by": [ref.to_json() for ref in refs]}
                for status, refs in sorted(self.undocumented.items())
            ],
            "tests": [ref.to_json() for ref in self.tests],
        }


@dataclass
class Ledger:
    run: RunInfo
    operations: list[OperationEntry]

    def pairs(self) -> Iterable[tuple[Operation, PairEntry]]:
        for entry in self.operations:
            for pair in entry.pairs:
                yield entry.operation, pair

    def count(self, state: str) -> int:
        return sum(1 for _, pair in self.pairs() if pair.state == state)

    @property
    def total_pairs(self) -> int:
        return sum(len(entry.pairs) for entry in self.operations)

    @property
    def operations_exercised(self) -> int:
        return sum(1 for entry in self.operations if entry.exercised)

    @property
    def gaps(self) -> list[str]:
        """``operationId status`` of every pair that nothing exercised and nothing explains."""
        return [f"{op.operation_id} {pair.status}" for op, pair in self.pairs() if pair.state == MISSING]

    def totals(self) -> dict[str, int]:
        counts = {state: self.count(state) for state in STATES}
        return {
            "operations": len(self.operations),
            "operations_exercised": self.operations_exercised,
            "statuses": self.total_pairs,
            **{f"statuses_{state.lower().replace(' ', '_').replace('-', '_')}": n for state, n in counts.items()},
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "coder-tasks-contract ledger 1",
            "run": {
                "target": self.run.target,
                "server_version": self.run.server_version,
                "run_id": self.run.run_id,
                "spec": self.run.spec,
                "read_only": self.run.read_only,
                "narrowed": self.run.narrowed,
            },
            "totals": self.totals(),
            "gaps": self.gaps,
            "operations": [entry.to_json() for entry in self.operations],
        }


# -- inputs -------------------------------------------------------------------------------------------------------
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
    (pauseTask before the newest level, §8) is left out, and so is an entry scoped with ``levels: [name, ...]`` whose
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
    (an entry for ``getTask`` explains ``getTaskV2`` too: the same handler at another mount, §8)."""
    own = unreachable.get((operation_id, status))
    return own if own is not None else unreachable.get((canonical_operation_id(operation_id), status))


def parse_declaration(value: str) -> tuple[str, tuple[int, ...]]:
    """``"listTasks 200 400"`` (as ``reporting.py`` stores a marker) back into ``("listTasks", (200, 400))``."""
    operation_id, *codes = value.split()
    return operation_id, tuple(int(code) for code in codes)


def format_declaration(operation_id: str, statuses: Iterable[int]) -> str:
    return " ".join([operation_id, *(str(status) for status in statuses)])


# -- building -----------------------------------------------------------------------------------------------------
def _ref(nodeid: str | None, outcomes: Mapping[str, str]) -> TestRef:
    if nodeid is None:
        return TestRef(OUTSIDE_TESTS, "n/a")
    return TestRef(nodeid, outcomes.get(nodeid, "unknown"))


def _unique(refs: Iterable[TestRef]) -> list[TestRef]:
    return list(dict.fromkeys(refs))


def build(
    operations: Sequence[Operation],
    exchanges: Iterable[Exchange],
    tests: Iterable[TestRecord],
    unreachable: Mapping[tuple[str, int], str],
    run: RunInfo,
) -> Ledger:
    """The ledger of one run (see the module docstring for how each pair's state is decided)."""
    records = list(tests)
    outcomes = {record.nodeid: record.outcome for record in records}
    by_route = {(op.method, op.path): op for op in operations}
    seen: dict[tuple[str, int], list[TestRef]] = {}
    for exchange in exchanges:
        op = by_route.get((exchange.method, exchange.route))
        if op is not None:
            seen.setdefault((op.operation_id, exchange.status), []).append(_ref(exchange.nodeid, outcomes))
    declared: dict[tuple[str, int], list[TestRecord]] = {}
    touching: dict[str, list[TestRef]] = {}
    for record in records:
        for operation_id, statuses in _declarations(record, by_route):
            touching.setdefault(operation_id, []).append(TestRef(record.nodeid, record.outcome))
            for status in statuses:
                declared.setdefault((operation_id, status), []).append(record)
    entries: list[OperationEntry] = []
    for op in operations:
        pairs = []
        for status in op.statuses:
            key = (op.operation_id, status)
            reason = unreachable_reason(unreachable, op.operation_id, status)
            pair = _decide(op, status, seen.get(key, []), declared.get(key, []), reason, run)
            pairs.append(pair)
        undocumented = {
            status: _unique(refs)
            for (operation_id, status), refs in seen.items()
            if operation_id == op.operation_id and status not in op.statuses
        }
        entries.append(OperationEntry(op, pairs, undocumented, _unique(touching.get(op.operation_id, []))))
    return Ledger(run, entries)


def subtest_route(nodeid: str) -> tuple[str, str] | None:
    """(METHOD, path) of a schemathesis subtest node id ``test_conformance[METHOD /path]``, else None."""
    found = _SUBTEST_OPERATION.search(nodeid)
    return (found.group("method"), found.group("path")) if found else None


def _declarations(
    record: TestRecord, by_route: Mapping[tuple[str, str], Operation]
) -> list[tuple[str, tuple[int, ...]]]:
    found = list(record.declares)
    route = subtest_route(record.nodeid)
    op = by_route.get(route) if route is not None else None
    if op is not None:
        found.append((op.operation_id, ()))
    return found


def _decide(
    op: Operation,
    status: int,
    seen: list[TestRef],
    declared: list[TestRecord],
    unreachable: str | None,
    run: RunInfo,
) -> PairEntry:
    declared_refs = _unique(TestRef(record.nodeid, record.outcome) for record in declared)
    # Tests that declare the pair are its assertions: list them first, responses outside any test last.
    claimed = {ref.nodeid for ref in declared_refs}
    exercised = sorted(_unique(seen), key=lambda ref: (ref.nodeid not in claimed, ref.nodeid == OUTSIDE_TESTS))
    pair = PairEntry(status, MISSING, exercised_by=exercised, declared_by=declared_refs)
    if seen:
        pair.state = EXERCISED
        if unreachable is not None:
            pair.reason = "exercised although tests/unreachable.yaml lists it as not reachable: update that entry"
        elif all(ref.nodeid == OUTSIDE_TESTS for ref in pair.exercised_by) and not any(
            ref.outcome == "passed" for ref in declared_refs
        ):
            pair.reason = "seen only in session fixtures or the cleanup, and no passing test declares it"
        return pair
    outcomes = {record.outcome for record in declared}
    if unreachable is not None:
        pair.state, pair.reason = UNREACHABLE, unreachable
    elif run.read_only and op.method != "GET":
        pair.state, pair.reason = READ_ONLY, READ_ONLY_REASON
    elif declared and outcomes == {"skipped"}:
        reasons = dict.fromkeys(record.skip_reason or "skipped (no reason given)" for record in declared)
        pair.state, pair.reason = SKIPPED, "; ".join(reasons)
    elif "failed" in outcomes:
        failed = [record.nodeid for record in declared if record.outcome == "failed"]
        pair.state, pair.reason = FAILED, f"the test(s) declaring it failed: {', '.join(failed)}"
    elif declared:
        pair.reason = (
            "declared by tests that passed without this status ever being answered: "
            "the operation marker claims more than the test shows"
        )
    elif run.narrowed:
        pair.state, pair.reason = NOT_RUN, "no test selected in this narrowed run declares it"
    else:
        pair.reason = "no test exercises it and tests/unreachable.yaml gives no reason"
    return pair


# -- rendering ----------------------------------------------------------------------------------------------------
def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _tests_cell(refs: Sequence[TestRef]) -> str:
    shown = [
        (ref.nodeid if ref.nodeid == OUTSIDE_TESTS else f"`{ref.nodeid}`")
        + ("" if ref.outcome in ("passed", "n/a") else f" ({ref.outcome})")
        for ref in refs
    ]
    more = len(shown) - SHOWN_TESTS
    text = ", ".join(shown[:SHOWN_TESTS]) + (f", and {more} more" if more > 0 else "")
    return _cell(text)


def render_markdown(ledger: Ledger) -> str:
    """``ledger.md``: a header with the totals, then one table per operation (readable in a CI log or PR comment)."""
    run = ledger.run
    lines = ["# API coverage ledger", ""]
    if run.target:
        version = f", server version {run.server_version}" if run.server_version else ""
        lines.append(f"Target: {run.target}{version}. Run `{run.run_id}`; spec `{run.spec}`.")
    mode = "read-only" if run.read_only else "read-write"
    scope = f"narrowed ({run.narrowed})" if run.narrowed else "full suite"
    lines.append(f"Mode: {mode}; scope: {scope}.")
    lines.append("")
    lines.append(
        f"**Operations exercised: {ledger.operations_exercised}/{len(ledger.operations)}; "
        f"statuses exercised: {ledger.count(EXERCISED)}/{ledger.total_pairs}.**"
    )
    others = [f"{state}: {ledger.count(state)}" for state in STATES[1:] if ledger.count(state)]
    if others:
        lines.append("Not exercised: " + "; ".join(others) + ".")
    gaps = ledger.gaps
    if gaps:
        lines.append("")
        lines.append(f"**MISSING (nothing exercises and nothing explains): {', '.join(gaps)}.**")
    for entry in ledger.operations:
        op = entry.operation
        exercised = sum(1 for pair in entry.pairs if pair.state == EXERCISED)
        lines += ["", f"## {op.operation_id}: `{op.label}` ({exercised}/{len(entry.pairs)} statuses exercised)", ""]
        lines += ["| Status | State | Exercised by / reason |", "|---|---|---|"]
        for pair in entry.pairs:
            state = f"**{pair.state}**" if pair.state == MISSING else pair.state
            if pair.state == EXERCISED:
                detail = _tests_cell(pair.exercised_by) + (f" ({_cell(pair.reason)})" if pair.reason else "")
            else:
                detail = _cell(pair.reason or "")
            lines.append(f"| {pair.status} | {state} | {detail} |")
        for status, refs in sorted(entry.undocumented.items()):
            lines.append(f"| {status} | not in the spec | answered to {_tests_cell(refs)} |")
    lines.append("")
    lines.append(
        "States: exercised (a response with that status was seen), not reachable (tests/unreachable.yaml), "
        "read-only, skipped (the declaring tests' skip reason), failed, not run (narrowed run), "
        "MISSING (a gap in the suite)."
    )
    return "\n".join(lines) + "\n"
