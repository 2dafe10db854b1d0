"""How fast the contract suite checks a deployment, and how its cost grows.

    .venv/bin/python benchmarks/bench.py [--quick] [--json PATH] [--faults ci|all|none]

Every suite run is a child ``python -m pytest`` process aimed at a reference server this script serves behind a
counting middleware (``bench_server``), except the profile runs, which use the suite's own embedded server exactly
as ``pytest`` alone does. Prints a table per section and the targets (PASS/MISS), and writes everything, with the
machine it ran on, to reports/benchmark.json. Timings are for reading, never asserted by a test.
``--quick`` runs a small subset (tiny budgets, one growth point) in about a minute.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench_faults import cli_baseline, compare, load_catalogue, summarise
from bench_report import evaluate_targets, machine_info, render_table
from bench_run import BENCH_DIR, PROJECT_ROOT, ProcessRun, clean_env, run_process, run_suite
from bench_server import CountedServer, Tally, counted_server

from coder_tasks_contract.plugin import profiles

DEFAULT_JSON = PROJECT_ROOT / "reports" / "benchmark.json"
CONFORMANCE = "tests/test_conformance.py"


@dataclass(frozen=True)
class Plan:
    """What one mode measures."""

    mode: str
    suite_paths: tuple[str, ...]  # the suite (or the part of it) the throughput, data and profile runs use
    data_points: tuple[int, ...]  # pre-existing tasks of user A
    profile_runs: tuple[tuple[str, int | None], ...]  # (Hypothesis profile, xdist workers)
    example_points: tuple[int, ...]  # max_examples for the budget growth of test_conformance.py
    cli_budget: int  # max_examples of the command line: the ci profile's
    cli_baseline_runs: int


FULL = Plan(
    mode="full",
    suite_paths=("tests",),
    data_points=(10, 100, 1000),
    profile_runs=(("default", None), ("ci", None), ("ci", 2)),
    example_points=(25, 50, 100, 200),
    cli_budget=profiles.BUDGETS["ci"].max_examples,
    cli_baseline_runs=2,
)
QUICK = Plan(
    mode="quick",
    suite_paths=("tests/test_status_codes.py", "tests/test_list.py"),
    data_points=(10,),
    profile_runs=(("ci", None),),
    example_points=(2,),
    cli_budget=2,
    cli_baseline_runs=1,
)


def log(line: str = "") -> None:
    print(line, flush=True)


def ceiling(server: CountedServer, requests: int) -> dict[str, Any]:
    """The plain httpx loop (``bench_ceiling.py``) in a child process, ``requests`` requests long."""
    token = server.tokens()["CODER_SESSION_TOKEN"]
    env = clean_env({"CTC_BENCH_URL": server.url, "CTC_BENCH_TOKEN": token, "CTC_BENCH_REQUESTS": str(requests)})
    server.counter.reset()
    run = run_process(
        [sys.executable, str(BENCH_DIR / "bench_ceiling.py")], env=env, cwd=PROJECT_ROOT, timeout=600, secrets=[token]
    )
    if run.exit_code != 0:
        raise RuntimeError(f"the plain httpx loop failed (exit {run.exit_code}):\n{run.output_tail}")
    result: dict[str, Any] = json.loads(run.output_tail.strip().splitlines()[-1])
    tally = server.counter.snapshot()
    result["server_requests"] = tally.requests
    listing = tally.group("list")
    result["list_bytes_per_request"] = listing.body_bytes // max(listing.requests, 1)
    return result


def tally_summary(tally: Tally) -> dict[str, Any]:
    listing = tally.group("list")
    return {
        **tally.to_json(),
        "list_requests": listing.requests,
        "other_requests": tally.requests - listing.requests,
        "list_body_bytes": listing.body_bytes,
        "list_server_seconds": round(listing.seconds, 3),
    }


def rates(tally: Tally, process: ProcessRun) -> dict[str, Any]:
    """Where a run's wall time went, seen from the server, and its request rate over each part."""
    busy = tally.active_seconds - tally.idle_seconds

    def rate(seconds: float) -> float | None:
        return round(tally.requests / seconds, 1) if seconds > 0 else None

    return {
        # Process start to the first request: interpreter, plugins, preflight (collection comes after it).
        "startup_seconds": round(tally.first - process.started, 2) if tally.first is not None else None,
        "teardown_seconds": round(process.ended - tally.last, 2) if tally.last is not None else None,
        "active_seconds": round(tally.active_seconds, 2),
        "idle_in_active_seconds": round(tally.idle_seconds, 2),
        "busy_seconds": round(busy, 2),
        "rps_wall": rate(process.wall_seconds),
        "rps_active": rate(tally.active_seconds),
        "rps_busy": rate(busy),
    }


# The plain loop's length after the first data point, which only needs the list latency at that size.
LATENCY_PROBE_REQUESTS = 60


def measure_data(plan: Plan) -> list[dict[str, Any]]:
    """The suite (ci profile) and the ceiling against servers holding more and more tasks the run does not own.

    The first point is the throughput figure: the plain loop then sends as many requests as the suite did.
    """
    rows = []
    for index, count in enumerate(plan.data_points):
        with counted_server(preexisting_tasks=count) as server:
            server.counter.reset()
            suite = run_suite(
                list(plan.suite_paths), profile="ci", suite_args=server.suite_args(), tokens=server.tokens()
            )
            tally = server.counter.snapshot()
            limit = ceiling(server, max(tally.requests, 30) if index == 0 else LATENCY_PROBE_REQUESTS)
        row = {
            "preexisting_tasks": count,
            "suite": suite.to_json(),
            "server": tally_summary(tally),
            "time": rates(tally, suite.process),
            "suite_rps": rates(tally, suite.process)["rps_wall"],
            "ceiling": limit,
        }
        rows.append(row)
        log(
            f"  {count:>5} pre-existing tasks: suite {suite.process.wall_seconds:6.1f}s, {tally.requests} requests "
            f"({tally.group('list').requests} lists), slept {suite.sleeps.get('poll_sleep_seconds')}s in polls, "
            f"exit {suite.process.exit_code}; ceiling {limit['rps']} req/s"
        )
    return rows


def measure_profiles(plan: Plan) -> list[dict[str, Any]]:
    """Wall time, CPU and peak memory of each Hypothesis profile (and xdist) against the embedded server."""
    rows = []
    for profile, workers in plan.profile_runs:
        suite = run_suite(list(plan.suite_paths), profile=profile, workers=workers)
        label = f"{profile}" + (f" -n {workers}" if workers else "")
        rows.append({"run": label, "profile": profile, "workers": workers or 0, **suite.to_json()})
        log(
            f"  {label:<10} {suite.process.wall_seconds:6.1f}s wall, {suite.process.cpu_seconds:6.1f}s CPU, "
            f"{suite.process.peak_rss_mb:6.1f} MB peak, {suite.recorded_requests} requests, "
            f"exit {suite.process.exit_code}"
        )
    return rows


def measure_examples(plan: Plan) -> list[dict[str, Any]]:
    """test_conformance.py (the part max_examples scales) as the fuzzing budget doubles."""
    rows: list[dict[str, Any]] = []
    for examples in plan.example_points:
        with counted_server(preexisting_tasks=plan.data_points[0]) as server:
            server.counter.reset()
            suite = run_suite(
                [CONFORMANCE],
                profile="ci",
                suite_args=server.suite_args(),
                tokens=server.tokens(),
                max_examples=examples,
            )
            tally = server.counter.snapshot()
        rows.append({"max_examples": examples, "suite": suite.to_json(), "server": tally_summary(tally)})
        log(
            f"  max_examples {examples:>4}: {suite.process.wall_seconds:6.1f}s, {tally.requests} requests, "
            f"exit {suite.process.exit_code}"
        )
    for previous, row in itertools.pairwise(rows):
        if previous["suite"]["exit_code"] or row["suite"]["exit_code"]:
            continue  # a failed run's figures are not comparable
        row["wall_ratio_to_previous"] = round(row["suite"]["wall_seconds"] / previous["suite"]["wall_seconds"], 2)
        row["requests_ratio_to_previous"] = round(row["server"]["requests"] / max(previous["server"]["requests"], 1), 2)
    return rows


def measure_startup(plan: Plan) -> list[dict[str, Any]]:
    """The fixed cost of one pytest process: collecting the suite (imports, assertion rewriting), no requests.

    With ``PYTHONDONTWRITEBYTECODE`` set (``machine.pythondontwritebytecode``; many container images set it) pytest
    cannot write the modules it rewrites (the suite's tests and plugins, and all of schemathesis, a pytest plugin)
    to its cache, so each process, and each xdist worker, may recompile them; it still reads a cache an earlier
    run without the variable left. So this figure depends on the tree's history: it is reported, not judged.
    """
    args = [sys.executable, "-m", "pytest", *plan.suite_paths, "--collect-only", "-q", "-p", "no:cacheprovider"]
    run = run_process(args, env=clean_env(), cwd=PROJECT_ROOT, timeout=300, secrets=[])
    log(f"  collect-only: {run.wall_seconds:5.1f}s wall, {run.cpu_seconds:5.1f}s CPU, {run.peak_rss_mb:6.1f} MB")
    return [{"run": "pytest --collect-only", **run.to_json()}]


def measure_cli_and_faults(plan: Plan, which: str, data: list[dict[str, Any]] | None) -> dict[str, Any]:
    """The schemathesis command line against the faithful server and the planted faults, next to the suite."""
    faults, runner, why = load_catalogue()
    preexisting = runner.PREEXISTING_TASKS if runner is not None else plan.data_points[0]
    baseline, runs = cli_baseline(plan.cli_baseline_runs, max_examples=plan.cli_budget, preexisting=preexisting)
    cli = runs[0]
    result: dict[str, Any] = {
        "budget_max_examples": plan.cli_budget,
        "command": "schemathesis run spec/coder-tasks.yaml --url URL -H 'Coder-Session-Token: ****' --checks all "
        f"--phases examples,coverage,fuzzing,stateful --max-examples {plan.cli_budget} --seed N --workers 1 "
        "--generation-database none --generation-with-security-parameters false --generation-allow-x00 false",
        "cli_faithful": [run.to_json() for run in runs],
        "cli_faithful_signatures": sorted(" ".join(sig) for sig in baseline),
        "cli_rps": round(cli.tally.requests / cli.process.wall_seconds, 1),
        "cli_cpu_seconds": round(cli.process.cpu_seconds, 2),
    }
    if data:
        # The suite's side: its first data point (ci profile, the same budget), run in the data section.
        suite = data[0]
        result.update(
            suite_wall_seconds=suite["suite"]["wall_seconds"],
            suite_cpu_seconds=suite["suite"]["cpu_seconds"],
            suite_requests=suite["server"]["requests"],
            suite_rps=suite["suite_rps"],
            wall_ratio_suite_to_cli=round(suite["suite"]["wall_seconds"] / cli.process.wall_seconds, 2),
            requests_ratio_suite_to_cli=round(suite["server"]["requests"] / max(cli.tally.requests, 1), 2),
        )
    log(
        f"  CLI on the faithful server: {cli.process.wall_seconds:.1f}s, {cli.tally.requests} requests, "
        f"{len(baseline)} failure signature(s) already (its noise)"
    )
    if which == "none":
        result["faults"] = {"skipped": "--faults none"}
        return result
    if why is not None:
        log(f"  SKIP faults: {why}")
        result["faults"] = {"skipped": why}
        return result
    selected = faults.catalogue(ci_only=which == "ci")
    if plan.mode == "quick":
        selected = selected[:1]
    log(f"  {len(selected)} planted fault(s) ({which}), suite with -x vs CLI:")
    rows = compare(selected, runner, baseline=baseline, max_examples=plan.cli_budget, log=log)
    result["faults"] = {"selection": which, "summary": summarise(rows), "rows": rows}
    return result


SECTIONS = ("startup", "data", "profiles", "examples", "cli")


def _sections(raw: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in raw.split(",") if name.strip())
    unknown = [name for name in names if name not in SECTIONS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown section(s) {', '.join(unknown)}; use some of: {', '.join(SECTIONS)}")
    return names


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="small subset, tiny budgets, one growth point (~1 min)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, metavar="PATH", help=f"default {DEFAULT_JSON}")
    parser.add_argument(
        "--only",
        type=_sections,
        metavar="SECTION[,SECTION]",
        help=f"run only these sections, of: {', '.join(SECTIONS)} (default: all)",
    )
    parser.add_argument(
        "--faults",
        choices=("ci", "all", "none"),
        default="ci",
        help="planted faults to compare: the catalogue's CI subset (default), all of it, or none",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    plan = QUICK if args.quick else FULL
    started = time.monotonic()
    report: dict[str, Any] = {
        "format": "coder-tasks-contract benchmark v1",
        "mode": plan.mode,
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "plan": {
            "suite_paths": list(plan.suite_paths),
            "data_points": list(plan.data_points),
            "example_points": list(plan.example_points),
            "cli_budget": plan.cli_budget,
        },
    }
    log(f"benchmark ({plan.mode}) on {report['machine']['cpu_model']}, {report['machine']['cores']} cores")
    chosen = args.only or SECTIONS
    report["sections"] = list(chosen)
    if "startup" in chosen:
        log("startup (pytest --collect-only):")
        report["startup"] = measure_startup(plan)
    if "data" in chosen:
        log("throughput and growth with pre-existing tasks (ci profile):")
        report["data_growth"] = measure_data(plan)
    if "profiles" in chosen:
        log("Hypothesis profiles against the embedded server:")
        report["profiles"] = measure_profiles(plan)
    if "examples" in chosen:
        log("growth with max_examples (test_conformance.py, ci profile):")
        report["example_growth"] = measure_examples(plan)
    if "cli" in chosen:
        log("schemathesis command line and planted faults:")
        report["cli"] = measure_cli_and_faults(plan, args.faults, report.get("data_growth"))
    report["duration_seconds"] = round(time.monotonic() - started, 1)
    report["machine"]["load_average_end"] = list(os.getloadavg())
    report["targets"] = evaluate_targets(report)
    log()
    log(render_table(report))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    log(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
