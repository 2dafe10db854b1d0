"""What a contract run costs on a deployment: wall time against the floor the builds and the rate limit set.

    .venv/bin/python benchmarks/bench_realistic.py [--speeds realistic,slow] [--profile default]
        [--coder-version LEVEL] [--no-embedded] [--json PATH] [-- PYTEST_ARGS...]

For each speed the default contract suite (``pytest tests``, or PYTEST_ARGS) runs as a child process against the
reference server at that speed (``--speed realistic``: create to active 10 s; ``slow``: 55 s, Coder-like), aimed at
it like at a deployment: the suite keeps its own pacing (400 requests a minute per route) and lifecycle timeout.
The server counts every request per (user, path), the key of Coder's rate limit, and the workspaces and builds the
run made. The report sets the wall time against the floor: one create-to-active, one stop and one start build at
that speed (``floor_builds``), or the rate limit's floor when that is longer. Unless ``--no-embedded``, the ci
profile also runs against the embedded server (the CI target: under 30 s). Figures are printed and written as JSON
(default reports/benchmark-realistic.json), never asserted by a test.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from bench_report import machine_info
from bench_run import PROJECT_ROOT, run_suite
from bench_server import CountedServer, counted_server

from coder_tasks_contract.server.domain import lifecycle
from coder_tasks_contract.server.domain.entities import SPEEDS, Build

DEFAULT_JSON = PROJECT_ROOT / "reports" / "benchmark-realistic.json"
CODER_RATE_LIMIT = 512  # requests per minute per user and path: Coder's default --api-rate-limit (RATE-1)
WINDOW_SECONDS = 60.0
# The targets: wall time within 3x the floor at minute-long builds, at most 8 tasks, ci embedded < 30 s.
MAX_FLOOR_RATIO = 3.0
MAX_TASKS = 8
MAX_CI_EMBEDDED_SECONDS = 30.0


def build_seconds(speed: str) -> dict[str, float]:
    """Seconds from queuing a build to its end at ``speed``, from the server's own timeline (``lifecycle``): a
    start build until the task is active, a stop build until its job succeeded (the task is paused)."""
    queued = datetime(2026, 1, 1, tzinfo=timezone.utc)
    build = Build("b", "j", "w", 1, "start", "v", "u", queued, SPEEDS[speed].stage)
    completed = lifecycle.job_completed_at(build, queued + timedelta(days=1))
    assert completed is not None
    start = (lifecycle.app_healthy_at(build) - queued).total_seconds()
    return {"create_to_active": start, "stop": (completed - queued).total_seconds(), "start": start}


def rate_floor_seconds(requests: int, per_minute: int = CODER_RATE_LIMIT) -> float:
    """The shortest time ``requests`` requests to one rate-limit key can take: at most ``per_minute`` in any 60 s
    window, so the (per_minute + 1)-th comes a full window after the first."""
    return WINDOW_SECONDS * ((requests - 1) // per_minute) if requests > 0 else 0.0


def peak_per_window(times: list[float], window: float = WINDOW_SECONDS) -> int:
    """The most of ``times`` (sorted arrival times) that fall in any ``window`` seconds: what a sliding-window rate
    limit sees at its busiest."""
    peak, first = 0, 0
    for last, arrived in enumerate(times):
        while arrived - times[first] >= window:
            first += 1
        peak = max(peak, last - first + 1)
    return peak


def endpoint_figures(arrivals: dict[tuple[str, str], list[float]]) -> dict[str, Any]:
    """The busiest rate-limit keys (each path with its ids is its own key), their busiest minute against Coder's
    512, and the floor the busiest sets."""
    counts = Counter({key: len(times) for key, times in arrivals.items()})
    peaks = {key: peak_per_window(sorted(times)) for key, times in arrivals.items()}
    top = max(counts.values(), default=0)
    peak = max(peaks.values(), default=0)
    return {
        "keys": len(counts),
        "busiest": [
            {"user": user, "path": path, "requests": n, "peak_per_minute": peaks[(user, path)]}
            for (user, path), n in counts.most_common(5)
        ],
        "busiest_requests": top,
        "peak_per_minute": peak,
        "peak_share_of_limit": round(peak / CODER_RATE_LIMIT, 2),
        "rate_floor_seconds": rate_floor_seconds(top),
    }


def world_figures(server: CountedServer) -> dict[str, int]:
    """Tasks and workspace builds the run made (the seeded world has neither)."""
    world = server.server.world
    with world.lock:
        workspaces = [w for w in world.workspaces.values() if w.task_id in world.tasks]
        return {
            "tasks_created": len(world.tasks),
            "builds": sum(len(w.builds) for w in workspaces),
            "tasks_left": sum(1 for t in world.tasks.values() if t.deleted_at is None),
        }


def measure_speed(speed: str, profile: str, level: str | None, pytest_args: list[str]) -> dict[str, Any]:
    """One run of the suite against a counted reference server at ``speed``, and its floor."""
    builds = build_seconds(speed)
    floor_builds = sum(builds.values())
    with counted_server(speed=speed, coder_version=level) as server:
        server.counter.reset()
        suite = run_suite(
            pytest_args,
            profile=profile,
            suite_args=server.suite_args(paced=True),
            tokens=server.tokens(),
            timeout=4 * 3600.0,
        )
        endpoints = endpoint_figures(server.counter.endpoints())
        made = world_figures(server)
        tally = server.counter.snapshot()
    floor = max(floor_builds, endpoints["rate_floor_seconds"])
    wall = suite.process.wall_seconds
    by_route = sorted(suite.recorded_by_route.items(), key=lambda item: -item[1])[:8]
    return {
        "speed": speed,
        "build_seconds": builds,
        "floor_builds_seconds": floor_builds,
        "floor_seconds": floor,
        "wall_seconds": round(wall, 1),
        "ratio_wall_to_floor": round(wall / floor, 2),
        "requests": tally.requests,
        "requests_by_group": {name: group.requests for name, group in sorted(tally.groups.items())},
        "requests_by_route_template": dict(by_route),
        "rate_limit": endpoints,
        **made,
        "suite": suite.to_json(),
    }


def verdicts(rows: list[dict[str, Any]], embedded: dict[str, Any] | None) -> list[dict[str, str]]:
    """The issue's targets, each PASS or MISS with its figures (SKIP when the run that measures it was not made)."""
    slow = next((row for row in rows if row["speed"] == "slow"), None)
    out = []
    if slow is None:
        out.append({"target": f"wall <= {MAX_FLOOR_RATIO:g}x floor at slow", "status": "SKIP", "detail": "no slow run"})
    else:
        ok = slow["ratio_wall_to_floor"] <= MAX_FLOOR_RATIO
        detail = f"{slow['wall_seconds']}s / {slow['floor_seconds']:g}s = {slow['ratio_wall_to_floor']}x"
        out.append({"target": f"wall <= {MAX_FLOOR_RATIO:g}x floor at slow", "status": _pf(ok), "detail": detail})
    if rows:
        most = max(row["tasks_created"] for row in rows)
        out.append({"target": f"tasks <= {MAX_TASKS}", "status": _pf(most <= MAX_TASKS), "detail": f"{most} tasks"})
    if embedded is not None:
        wall = embedded["wall_seconds"]
        ok = wall < MAX_CI_EMBEDDED_SECONDS and embedded["exit_code"] == 0
        detail = f"{wall}s, exit {embedded['exit_code']}"
        out.append({"target": f"ci embedded < {MAX_CI_EMBEDDED_SECONDS:g}s", "status": _pf(ok), "detail": detail})
    return out


def _pf(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def render(rows: list[dict[str, Any]], embedded: dict[str, Any] | None, targets: list[dict[str, str]]) -> str:
    lines = [
        "| speed | wall s | floor s (builds; rate) | wall/floor | tasks | builds | requests | busiest key "
        "| its peak/min (of 512) | exit |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        rate = row["rate_limit"]
        lines.append(
            f"| {row['speed']} | {row['wall_seconds']} | {row['floor_seconds']:g} ({row['floor_builds_seconds']:g}; "
            f"{rate['rate_floor_seconds']:g}) | {row['ratio_wall_to_floor']} | {row['tasks_created']} | "
            f"{row['builds']} | {row['requests']} | {rate['busiest_requests']} | {rate['peak_per_minute']} "
            f"({rate['peak_share_of_limit']}) | {row['suite']['exit_code']} |"
        )
    for row in rows:
        slowest = row["suite"].get("slowest_tests", [])[:6]
        if slowest:
            lines.append(f"\nslowest tests at {row['speed']} (setup + call + teardown):")
            lines += [f"  {test['seconds']:>7.1f}s {test['test']}" for test in slowest]
    if embedded is not None:
        lines.append(
            f"\nci profile, embedded server: {embedded['wall_seconds']}s wall, {embedded['cpu_seconds']}s CPU, "
            f"{embedded['recorded_requests']} requests, exit {embedded['exit_code']}"
        )
    lines.append("")
    lines += [f"{t['status']:<4} {t['target']}: {t['detail']}" for t in targets]
    return "\n".join(lines)


def _speeds(raw: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in raw.split(",") if name.strip())
    unknown = [name for name in names if name not in SPEEDS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown speed(s) {', '.join(unknown)}; use some of: {', '.join(SPEEDS)}")
    return names


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--speeds", type=_speeds, default=("realistic", "slow"), help="default realistic,slow")
    parser.add_argument("--profile", default="default", help="Hypothesis profile of the runs (default: default)")
    parser.add_argument("--coder-version", default=None, metavar="LEVEL", help="the level the server emulates")
    parser.add_argument("--no-embedded", action="store_true", help="skip the ci run against the embedded server")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, metavar="PATH", help=f"default {DEFAULT_JSON}")
    parser.add_argument("pytest_args", nargs="*", help="what the suite runs (default: tests)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    pytest_args = list(args.pytest_args) or ["tests"]
    if args.coder_version:
        pytest_args += ["--coder-version", args.coder_version]
    started = time.monotonic()
    report: dict[str, Any] = {
        "format": "coder-tasks-contract realistic benchmark v1",
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "profile": args.profile,
        "pytest_args": pytest_args,
    }
    rows = []
    for speed in args.speeds:
        print(f"{speed}: {' '.join(pytest_args)} against the reference server at --speed {speed} ...", flush=True)
        row = measure_speed(speed, args.profile, args.coder_version, pytest_args)
        rows.append(row)
        print(
            f"  {row['wall_seconds']}s wall, floor {row['floor_seconds']:g}s, {row['tasks_created']} tasks", flush=True
        )
    embedded = None
    if not args.no_embedded:
        print("ci profile against the embedded server ...", flush=True)
        run = run_suite(pytest_args, profile="ci")
        embedded = {**run.to_json(), "recorded_requests": run.recorded_requests}
    report.update(runs=rows, ci_embedded=embedded, duration_seconds=round(time.monotonic() - started, 1))
    report["machine"]["load_average_end"] = list(os.getloadavg())
    report["targets"] = verdicts(rows, embedded)
    print("\n" + render(rows, embedded, report["targets"]))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
