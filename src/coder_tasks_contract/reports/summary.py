"""The run summary printed at the end of a contract run's terminal output (format: docs/reports.md).

Target and server version, coverage from the ledger (operations and documented statuses exercised, the rest by
state, MISSING pairs by name; the ten coverage criteria and the TCL; the coverage gate), tasks created and the
cleanup's outcome, failures by operation, where the reports are.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from coder_tasks_contract.plugin import verdicts
from coder_tasks_contract.plugin.runstate import run_state
from coder_tasks_contract.reports.files import Reports, redactor, relative, reports, safe_url
from coder_tasks_contract.reports.ledger import subtest_route
from coder_tasks_contract.reports.ledger.model import EXERCISED, MISSING, STATES
from coder_tasks_contract.reports.ledger.result import Ledger
from coder_tasks_contract.transport import paths
from coder_tasks_contract.transport.traffic import Exchange

SUMMARY_GAPS = 6  # MISSING pairs named in the terminal summary; ledger.md lists them all


Line = tuple[str, bool]


def summary_lines(config: pytest.Config) -> list[Line]:
    """The run summary as (line, is_bad); see docs/exit-codes.md for how to read it."""
    state = reports(config)
    run = run_state(config)
    lines = [_target_line(run)]
    lines += _coverage_lines(state)
    lines.append((_tasks_line(run.traffic.exchanges), False))
    lines += _cleanup_lines(run)
    lines += _clause_lines(config)
    failures = _failures_by_operation(state, state.built)
    if failures:
        lines.append((f"failures by operation: {', '.join(f'{n} {c}' for n, c in failures.most_common())}", True))
    else:
        lines.append(("failures: none", False))
    files = [path for path in (state.junit, state.html) if path is not None] + state.written
    if files:
        shown = ", ".join(dict.fromkeys(relative(path, config.invocation_params.dir) for path in files))
        lines.append((f"reports: {shown}", False))
    return lines


def _target_line(run: Any) -> Line:
    target = run.target
    if target is None:
        return f"target: {run.target_error or 'not resolved (no test needed it)'}", run.target_error is not None
    kind = " (embedded reference server)" if target.embedded else ""
    return f"target: {safe_url(target.base_url)}{kind}, server version {target.server_version}", False


def _coverage_lines(state: Reports) -> list[Line]:
    """Operations and statuses exercised (the rest by state, MISSING by name); the criteria and TCL; the gate."""
    built = state.built
    lines: list[Line] = []
    if built is not None:
        gaps = built.gaps
        counts = [f"{s} {built.count(s)}" for s in STATES[1:] if built.count(s) and s != MISSING]
        if gaps:
            more = f", and {len(gaps) - SUMMARY_GAPS} more" if len(gaps) > SUMMARY_GAPS else ""
            counts.append(f"MISSING {len(gaps)}: {', '.join(gaps[:SUMMARY_GAPS])}{more}")
        rest = f" (not exercised: {'; '.join(counts)})" if counts else ""
        lines.append(
            (
                f"coverage: operations {built.operations_exercised}/{len(built.operations)}, "
                f"statuses {built.count(EXERCISED)}/{built.total_pairs}{rest}",
                bool(gaps),
            )
        )
        if built.coverage is not None:
            lines.append((f"coverage criteria: {built.coverage.summary()}", False))
    elif state.problem:
        lines.append((state.problem, True))
    if state.gate:
        lines.append((state.gate, True))
    return lines


def _cleanup_lines(run: Any) -> list[Line]:
    cleanup = [run.cleanup_summary] if run.cleanup_summary else []
    cleanup += [f"[{r.get('worker')}] {r['summary']}" for r in run.worker_reports if r.get("summary")]
    return [(line, "FAILED" in line or "INTERRUPTED" in line or "contract failure" in line) for line in cleanup]


def _clause_lines(config: pytest.Config) -> list[Line]:
    clause_book = verdicts.book(config)
    lines: list[Line] = []
    if clause_book.outcomes:
        lines.append((clause_book.summary_line(), verdicts.FAILED in clause_book.verdicts().values()))
    lines += [(f"contract warning: {nodeid}: {reason}", True) for nodeid, reason in clause_book.warnings]
    return lines


def _tasks_line(exchanges: list[Exchange]) -> str:
    created = sum(
        1
        for e in exchanges
        if e.method == "POST" and paths.canonical_template(e.route) == paths.ROUTE_USER_TASKS and e.status == 201
    )  # at either mount (ROUTE-1)
    if not created:
        return "tasks: none created by this run"
    return f"tasks: {created} created by this run; those still there at the end are deleted by the cleanup:"


def _failures_by_operation(state: Reports, built: Ledger | None) -> Counter[str]:
    operations = built.operations if built is not None else []
    by_route = {(e.operation.method, e.operation.path): e.operation.operation_id for e in operations}
    failed = {nodeid: test for nodeid, test in state.tests.items() if test.outcome == "failed"}
    counts: Counter[str] = Counter()
    for nodeid, test in failed.items():
        if any(other.startswith(nodeid + "[") for other in failed if other != nodeid):
            continue  # the parent of failed subtests: each subtest is counted under its own operation
        names = {operation_id for operation_id, _ in test.declares.values()}
        subtest = subtest_route(nodeid)
        if subtest in by_route:
            names.add(by_route[subtest])
        for name in names or {"(no operation marker)"}:
            counts[name] += 1
    return counts


def terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Print the cleanup outcome, and for a contract run the whole summary, at the end of the terminal output."""
    run = run_state(config)
    if not reports(config).enabled or hasattr(config, "workerinput"):
        cleanup = [run.cleanup_summary] if run.cleanup_summary else []
        cleanup += [f"[{r.get('worker')}] {r['summary']}" for r in run.worker_reports if r.get("summary")]
        for line in cleanup:
            bad = "FAILED" in line or "INTERRUPTED" in line
            terminalreporter.write_line(line, red=bad, bold=bad, green=not bad)
        return
    redact = redactor(run)
    terminalreporter.write_sep("=", "coder tasks contract: run summary")
    for line, bad in summary_lines(config):
        terminalreporter.write_line(redact(line), red=bad, bold=bad)
