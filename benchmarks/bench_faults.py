"""Planted faults: which ones the suite finds (and how soon) and which ones the schemathesis command line finds at
the same budget, against the same broken variants of the reference server.

The suite side is the fault catalogue's own runner (``coder_tasks_contract.faults.runner.run_suite``: the whole
suite with ``-x`` in a child process, the Hypothesis ``ci`` profile), so "time to first failure" is the figure a
user of the kill-rate command sees. The command-line side is :mod:`bench_cli`, judged against the faithful
server's usual failures.
"""

from __future__ import annotations

from typing import Any

from bench_cli import CliRun, run_cli
from bench_server import counted_server


def load_catalogue() -> tuple[Any, Any, str | None]:
    """``(faults package, runner module, None)``, or ``(None, None, why)`` when the catalogue cannot be imported."""
    try:
        from coder_tasks_contract import faults
        from coder_tasks_contract.faults import runner
    except Exception as exc:  # an unfinished catalogue may fail in any way at import
        return None, None, f"the fault catalogue (coder_tasks_contract.faults) is not importable: {exc!r}"
    return faults, runner, None


def cli_baseline(runs: int, *, max_examples: int, preexisting: int) -> tuple[set[tuple[str, str]], list[CliRun]]:
    """Failure signatures the command line reports against the faithful server (union over ``runs`` runs)."""
    seen: set[tuple[str, str]] = set()
    results = []
    for _ in range(runs):
        with counted_server(preexisting_tasks=preexisting) as server:
            run = run_cli(server, max_examples=max_examples)
        seen |= run.signatures
        results.append(run)
    return seen, results


def compare(
    selected: list[Any], runner: Any, *, baseline: set[tuple[str, str]], max_examples: int, log: Any
) -> list[dict[str, Any]]:
    """For each fault: the suite's verdict and time to first failure, the command line's verdict and new failures."""
    rows = []
    for fault in selected:
        suite = runner.run_suite(fault, profile="ci")
        with counted_server(preexisting_tasks=runner.PREEXISTING_TASKS, factory=fault.factory) as server:
            cli = run_cli(server, max_examples=max_examples)
        new = sorted(" ".join(sig) for sig in cli.signatures - baseline)
        first = suite.first_failure
        row = {
            "fault": fault.name,
            "area": fault.area,
            "suite_found": bool(suite.caught),
            "suite_exit_code": suite.exit_code,
            "suite_wall_seconds": suite.wall_seconds,
            "to_first_failure_seconds": suite.to_first_failure,
            "first_failing_test": first.test_id if first else None,
            "cli_found": bool(new),
            "cli_new_failures": new,
            "cli_wall_seconds": round(cli.process.wall_seconds, 2),
            "cli_requests": cli.tally.requests,
        }
        rows.append(row)
        took = f"{suite.to_first_failure:.1f}s" if suite.to_first_failure is not None else "-"
        log(
            f"  {fault.name:<40} suite {'FOUND' if row['suite_found'] else 'missed':<6} ({took:>6})   "
            f"CLI {'FOUND' if row['cli_found'] else 'missed':<6} ({cli.process.wall_seconds:4.1f}s)"
        )
    return rows


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    suite = [r["fault"] for r in rows if r["suite_found"]]
    cli = [r["fault"] for r in rows if r["cli_found"]]
    times = sorted(r["to_first_failure_seconds"] for r in rows if r["to_first_failure_seconds"] is not None)
    return {
        "faults": len(rows),
        "suite_found": len(suite),
        "cli_found": len(cli),
        "found_ratio_suite_to_cli": round(len(suite) / len(cli), 2) if cli else None,
        "only_suite": sorted(set(suite) - set(cli)),
        "only_cli": sorted(set(cli) - set(suite)),
        "to_first_failure_median_seconds": times[len(times) // 2] if times else None,
        "to_first_failure_max_seconds": times[-1] if times else None,
    }
