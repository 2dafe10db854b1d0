"""The kill-rate command: run the contract suite against every fault of the catalogue (and the faithful server) and
report which test caught each fault, how fast, and whether any fault survived or the faithful server failed.

    python -m coder_tasks_contract.faults.report [-n N] [--only NAME ...] [--ci] [--no-faithful] [--json PATH]

Exit code: 0 when every fault was caught by a test the catalogue names for it and the faithful server passed; 1
otherwise (a survivor, a wrong catcher, a run without a verdict, a false alarm); 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from coder_tasks_contract.faults import catalogue, get
from coder_tasks_contract.faults.base import Fault
from coder_tasks_contract.faults.runner import FAITHFUL, PROJECT_ROOT, SuiteRun, run_suite

DEFAULT_JSON = PROJECT_ROOT / "reports" / "killrate.json"


def _run(name: str) -> SuiteRun:
    """One suite run in a worker process (by name: a fault's factory is looked up there, not pickled)."""
    return run_suite(None if name == FAITHFUL else get(name))


def verdict(fault: Fault, run: SuiteRun) -> str:
    """``caught`` (first failure by one of the fault's catchers), ``wrong-catcher`` (by a test the catalogue does
    not name: not a kill, the catalogue or the suite is wrong), ``survived``, or ``broken`` (the run ended without
    a test result, e.g. the suite could not start)."""
    if run.first_failure is not None:
        failure = run.first_failure
        return "caught" if fault.caught_by(failure.test_id, failure.message) else "wrong-catcher"
    return "survived" if run.exit_code == 0 else "broken"


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render_table(rows: list[tuple[Fault, SuiteRun]]) -> str:
    """Per fault: area, verdict, seconds to the first failure (and the whole run), the test that failed first; under
    it the clause ids it breaks, the tests the catalogue expects and the failure's message."""
    header = f"{'fault':<38} {'area':<10} {'verdict':<14} {'to 1st fail':>11} {'run':>6}  first failing test"
    lines = [header, "-" * len(header)]
    for fault, run in rows:
        failure = run.first_failure
        test = failure.test_id if failure else (f"exit code {run.exit_code}" if run.exit_code else "-")
        took = f"{run.to_first_failure:.1f}s" if run.to_first_failure is not None else "-"
        lines.append(
            f"{fault.name:<38} {fault.area:<10} {verdict(fault, run):<14} {took:>11} {run.wall_seconds:>5.1f}s  "
            f"{_short(test.removeprefix('tests/'), 100)}"
        )
        lines.append(f"{'':<38}   breaks:   {', '.join(fault.clauses)}")
        lines.append(f"{'':<38}   expected: {_short(', '.join(e.removeprefix('tests/') for e in fault.expected), 140)}")
        if failure is not None:
            lines.append(f"{'':<38}   message:  {_short(failure.message, 140)}")
    return "\n".join(lines)


def summary(rows: list[tuple[Fault, SuiteRun]], faithful: SuiteRun | None, wall: float, workers: int) -> dict[str, Any]:
    """The JSON report: counts, kill rate (kills by an expected test only), false alarm, and every run with its
    fault's clause ids and description, expected catchers, actual first failure and verdict."""
    runs = [
        {"fault": fault.name, "area": fault.area, "clauses": list(fault.clauses), "clause": fault.clause,
         "expected": list(fault.expected),
         "verdict": verdict(fault, run), "known_gap": fault.known_gap, **run.to_json()}
        for fault, run in rows
    ]  # fmt: skip
    caught = [r for r in runs if r["verdict"] == "caught"]
    return {
        "faults": len(runs),
        "caught": len(caught),
        "wrong_catcher": [r["fault"] for r in runs if r["verdict"] == "wrong-catcher"],
        "survived": [r["fault"] for r in runs if r["verdict"] == "survived"],
        "broken": [r["fault"] for r in runs if r["verdict"] == "broken"],
        "kill_rate": round(len(caught) / len(runs), 4) if runs else None,
        "faithful": None if faithful is None else faithful.to_json(),
        "false_alarm": None if faithful is None else not faithful.passed,
        "wall_seconds": round(wall, 1),
        "workers": workers,
        "runs": runs,
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="coder-tasks-killrate",
        description="Run the contract suite against each broken variant of the reference server (and the faithful "
        "one) and report the kill rate.",
    )
    parser.add_argument("-n", "--workers", type=int, default=2, metavar="N", help="suite runs at a time (default 2)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these faults (default: all)")
    parser.add_argument("--ci", action="store_true", help="run only the representative CI subset of the catalogue")
    parser.add_argument("--no-faithful", action="store_true", help="skip the faithful server (false-alarm) run")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, metavar="PATH", help=f"default {DEFAULT_JSON}")
    parser.add_argument(
        "--list", action="store_true", help="list the catalogue (name, area, clause ids, description) and exit"
    )
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("-n/--workers must be at least 1")
    if args.only:
        try:
            for name in args.only:
                get(name)
        except KeyError as exc:
            parser.error(str(exc.args[0]))
    return args


def print_catalogue() -> None:
    """One line per fault: name, area, CI subset mark, clause ids, description."""
    for fault in catalogue():
        ci = "ci" if fault.ci else "  "
        print(f"{fault.name:<38} {fault.area:<10} {ci}  {' '.join(fault.clauses):<24} {fault.clause}")


def run_variants(names: list[str], workers: int) -> dict[str, SuiteRun]:
    """Run the suite against each variant (a fault name or the faithful server), ``workers`` at a time."""
    print(f"running the contract suite against {len(names)} variant(s), {workers} at a time ...", flush=True)
    results: dict[str, SuiteRun] = {}
    context = multiprocessing.get_context("spawn")  # the variants serve from threads: never fork them
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(_run, name): name for name in names}
        for future in as_completed(futures):
            run = results[futures[future]] = future.result()
            mark = "FAILED" if run.first_failure else ("passed" if run.exit_code == 0 else f"exit {run.exit_code}")
            print(f"  {run.variant}: {mark} in {run.wall_seconds:.1f}s", flush=True)
    return results


def print_outcome(rows: list[tuple[Fault, SuiteRun]], faithful: SuiteRun | None, report: dict[str, Any]) -> None:
    """The table, then the kill rate and every reason the run is not clean."""
    print()
    print(render_table(rows))
    print()
    survived = ", ".join(report["survived"]) or "none"
    print(f"kill rate: {report['caught']}/{report['faults']} caught by an expected test; survived: {survived}")
    if report["wrong_catcher"]:
        print(f"caught by a test the catalogue does not name (not counted): {', '.join(report['wrong_catcher'])}")
    for fault, _ in rows:
        if fault.name in report["survived"] and fault.known_gap:
            print(f"  known gap {fault.name}: {fault.known_gap}")
    if report["broken"]:
        print(f"no verdict (the suite did not run to a result): {', '.join(report['broken'])}")
    if faithful is not None:
        alarm = "none" if faithful.passed else f"FALSE ALARM: {faithful.first_failure or f'exit {faithful.exit_code}'}"
        print(f"faithful server: {faithful.tests} tests in {faithful.wall_seconds:.1f}s; false alarms: {alarm}")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        print_catalogue()
        return 0
    faults = [get(name) for name in args.only] if args.only else catalogue(ci_only=args.ci)
    names = ([] if args.no_faithful else [FAITHFUL]) + [fault.name for fault in faults]
    started = time.monotonic()
    results = run_variants(names, args.workers)
    wall = time.monotonic() - started
    rows = [(fault, results[fault.name]) for fault in faults]
    faithful = results.get(FAITHFUL)
    report = summary(rows, faithful, wall, args.workers)
    print_outcome(rows, faithful, report)
    print(f"wall time: {wall:.1f}s with {args.workers} worker(s)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"written: {args.json}")
    ok = not (report["survived"] or report["wrong_catcher"] or report["broken"] or report["false_alarm"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
