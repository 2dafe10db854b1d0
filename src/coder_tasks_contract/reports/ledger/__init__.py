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

The ledger is split by job: ``model`` (states and data), ``inputs`` (reading the spec and ``unreachable.yaml``),
this module (deciding each pair's state), ``criteria`` and ``coverage`` (the ten coverage criteria and the TCL),
``result`` (a run's whole ledger and its JSON) and ``markdown`` (``ledger.md``). Callers import each name from the
module that defines it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from coder_tasks_contract.reports.ledger import coverage, criteria
from coder_tasks_contract.reports.ledger.inputs import ElementRule, unreachable_reason
from coder_tasks_contract.reports.ledger.model import (
    EXERCISED,
    FAILED,
    MISSING,
    NOT_RUN,
    OUTSIDE_TESTS,
    READ_ONLY,
    READ_ONLY_REASON,
    SKIPPED,
    UNREACHABLE,
    Operation,
    OperationEntry,
    PairEntry,
    RunInfo,
    TestRecord,
    TestRef,
)
from coder_tasks_contract.reports.ledger.result import Ledger
from coder_tasks_contract.transport.traffic import Exchange

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
    *,
    document: Mapping[str, Any] | None = None,
    element_rules: Sequence[ElementRule] = (),
) -> Ledger:
    """The ledger of one run (see the module docstring for how each pair's state is decided); with the level's
    ``document``, also its ten coverage criteria (``coverage.judge``, ``element_rules`` from ``unreachable.yaml``)."""
    exchanges = list(exchanges)
    built = _pairs_ledger(operations, exchanges, tests, unreachable, run)
    if document is not None:
        pairs = {(op.operation_id, pair.status): pair for op, pair in built.pairs()}
        built.coverage = coverage.judge(
            criteria.elements(document),
            operations,
            exchanges,
            pairs,
            element_rules,
            level=run.level,
            target_kind=run.target_kind,
        )
    return built


def _pairs_ledger(
    operations: Sequence[Operation],
    exchanges: Iterable[Exchange],
    tests: Iterable[TestRecord],
    unreachable: Mapping[tuple[str, int], str],
    run: RunInfo,
) -> Ledger:
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


@dataclass(frozen=True)
class _Unseen:
    """What decides the state of a pair no response showed."""

    op: Operation
    declared: list[TestRecord]
    unreachable: str | None
    run: RunInfo

    @property
    def outcomes(self) -> set[str]:
        return {record.outcome for record in self.declared}


def _not_reachable(c: _Unseen) -> tuple[str, str] | None:
    return (UNREACHABLE, c.unreachable) if c.unreachable is not None else None


def _read_only(c: _Unseen) -> tuple[str, str] | None:
    return (READ_ONLY, READ_ONLY_REASON) if c.run.read_only and c.op.method != "GET" else None


def _skipped(c: _Unseen) -> tuple[str, str] | None:
    if not c.declared or c.outcomes != {"skipped"}:
        return None
    reasons = dict.fromkeys(record.skip_reason or "skipped (no reason given)" for record in c.declared)
    return SKIPPED, "; ".join(reasons)


def _failed(c: _Unseen) -> tuple[str, str] | None:
    if "failed" not in c.outcomes:
        return None
    failed = [record.nodeid for record in c.declared if record.outcome == "failed"]
    return FAILED, f"the test(s) declaring it failed: {', '.join(failed)}"


def _claims_more(c: _Unseen) -> tuple[str, str] | None:
    if not c.declared:
        return None
    return MISSING, (
        "declared by tests that passed without this status ever being answered: "
        "the operation marker claims more than the test shows"
    )


def _not_run(c: _Unseen) -> tuple[str, str] | None:
    return (NOT_RUN, "no test selected in this narrowed run declares it") if c.run.narrowed else None


#: Rules 2 to 7 of the module docstring, in its order: the first that applies decides.
_UNSEEN_RULES: tuple[Callable[[_Unseen], tuple[str, str] | None], ...] = (
    _not_reachable,
    _read_only,
    _skipped,
    _failed,
    _claims_more,
    _not_run,
)
_NO_REASON = "no test exercises it and tests/unreachable.yaml gives no reason"


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
        pair.state, pair.reason = EXERCISED, _exercised_note(pair, unreachable, declared_refs)
        return pair
    unseen = _Unseen(op, declared, unreachable, run)
    pair.state, pair.reason = next(
        (decided for rule in _UNSEEN_RULES if (decided := rule(unseen)) is not None), (MISSING, _NO_REASON)
    )
    return pair


def _exercised_note(pair: PairEntry, unreachable: str | None, declared: list[TestRef]) -> str | None:
    if unreachable is not None:
        return "exercised although tests/unreachable.yaml lists it as not reachable: update that entry"
    only_outside = all(ref.nodeid == OUTSIDE_TESTS for ref in pair.exercised_by)
    if only_outside and not any(ref.outcome == "passed" for ref in declared):
        return "seen only in session fixtures or the cleanup, and no passing test declares it"
    return None
