"""``ledger.md``: the coverage ledger as Markdown, a header with the totals and one table per operation."""

from __future__ import annotations

from collections.abc import Sequence

from coder_tasks_contract.reports.ledger.coverage import Coverage, Judged
from coder_tasks_contract.reports.ledger.model import (
    EXERCISED,
    MISSING,
    OUTSIDE_TESTS,
    STATES,
    UNREACHABLE,
    TestRef,
)
from coder_tasks_contract.reports.ledger.result import Ledger

SHOWN_TESTS = 3
#: Elements named per reason in the not-reachable list, and per criterion in the not-covered one (a narrowed run
#: leaves hundreds); ledger.json has every one.
SHOWN_ELEMENTS = 6
SHOWN_MISSING = 40


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
    if ledger.coverage is not None:
        lines += _criteria_section(ledger.coverage)
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


def _criteria_section(coverage: Coverage) -> list[str]:
    """The ten criteria: a table of totals, the elements not covered, and the not-reachable ones grouped by reason."""
    lines = ["", f"## Coverage criteria: TCL{coverage.tcl}", ""]
    lines += [
        "Test Coverage Level and the ten criteria of Martin-Lopez et al. (A-TEST 2019), of the level's document; "
        "percentages are of the reachable elements.",
        "",
        "| Criterion | Elements | Covered | Not reachable | Covered of reachable |",
        "|---|---|---|---|---|",
    ]
    for totals in coverage.totals.values():
        lines.append(
            f"| {totals.criterion} | {totals.total} | {totals.covered} | {totals.unreachable} | {totals.percent:.1f}% |"
        )
    missing = {name: coverage.missing(name) for name in coverage.totals if coverage.missing(name)}
    if missing:
        lines += ["", "**Not covered:**", ""]
    for group in missing.values():
        lines += [
            f"- {_element(judged)}" + (f" ({_cell(judged.reason)})" if judged.reason else "")
            for judged in group[:SHOWN_MISSING]
        ]
        if len(group) > SHOWN_MISSING:
            lines.append(f"- and {len(group) - SHOWN_MISSING} more {group[0].element.criterion} elements (ledger.json)")
    by_reason: dict[str, list[Judged]] = {}
    for judged in coverage.judged:
        if judged.state == UNREACHABLE:
            by_reason.setdefault(judged.reason, []).append(judged)
    if by_reason:
        lines += ["", "Not reachable, by reason:", ""]
        for reason, group in by_reason.items():
            shown = ", ".join(_element(judged) for judged in group[:SHOWN_ELEMENTS])
            more = f", and {len(group) - SHOWN_ELEMENTS} more" if len(group) > SHOWN_ELEMENTS else ""
            lines.append(f"- {_cell(reason)}: {shown}{more}")
    return lines


def _element(judged: Judged) -> str:
    element = judged.element
    where = f"{element.operation} " if element.operation else ""
    return f"{element.criterion} `{where}{element.key}`"
