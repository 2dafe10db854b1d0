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

Pure data in, data out: ``reports/files.py`` feeds it from the run and writes ``ledger.md`` and ``ledger.json``.

The ledger is split by job: ``ledger_model`` (states and data), ``ledger_inputs`` (reading the spec and
``unreachable.yaml``), this module (deciding each pair's state) and ``ledger_markdown`` (``ledger.md``); every name
stays importable from here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from coder_tasks_contract.reports.ledger.inputs import (
    HTTP_METHODS,
    LEVEL_NAMES,
    format_declaration,
    load_operations,
    load_unreachable,
    parse_declaration,
    unreachable_reason,
)
from coder_tasks_contract.reports.ledger.markdown import SHOWN_TESTS, render_markdown
from coder_tasks_contract.reports.ledger.model import (
    EXERCISED,
    FAILED,
    MISSING,
    NOT_RUN,
    OUTSIDE_TESTS,
    READ_ONLY,
    READ_ONLY_REASON,
    SKIPPED,
    STATES,
    UNREACHABLE,
    Ledger,
    LedgerError,
    Operation,
    OperationEntry,
    PairEntry,
    RunInfo,
    TestRecord,
    TestRef,
)
from coder_tasks_contract.transport.traffic import Exchange

# Callers use ``ledger.<name>`` for everything the ledger modules define.
__all__ = [
    "EXERCISED",
    "FAILED",
    "HTTP_METHODS",
    "LEVEL_NAMES",
    "MISSING",
    "NOT_RUN",
    "OUTSIDE_TESTS",
    "READ_ONLY",
    "READ_ONLY_REASON",
    "SHOWN_TESTS",
    "SKIPPED",
    "STATES",
    "UNREACHABLE",
    "Ledger",
    "LedgerError",
    "Operation",
    "OperationEntry",
    "PairEntry",
    "RunInfo",
    "TestRecord",
    "TestRef",
    "build",
    "format_declaration",
    "load_operations",
    "load_unreachable",
    "parse_declaration",
    "render_markdown",
    "subtest_route",
    "unreachable_reason",
]

# schemathesis names each operation's subtest ``test_conformance[METHOD /path]``.
_SUBTEST_OPERATION = re.compile(r"\[(?P<method>[A-Z]+) (?P<path>/[^\]]*)\]$")


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
