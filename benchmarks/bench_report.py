"""The benchmark's verdicts and its printed form: the machine it ran on, the targets (PASS/MISS/SKIP), the tables."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from typing import Any

from bench_run import PROJECT_ROOT

PACKAGES = (
    "coder-tasks-contract",
    "schemathesis",
    "hypothesis",
    "pytest",
    "pytest-xdist",
    "httpx",
    "requests",
    "starlette",
    "uvicorn",
    "jsonschema",
)
# The targets.
RATE_SHARE = 0.5  # the suite's request rate at least half the plain-httpx ceiling
CI_SECONDS = 90.0  # the ci profile against the embedded server, on a 2-core machine
# Growth with pre-existing tasks: requests other than lists may vary this much (lifecycle polls depend on timing),
# and wall time may grow by what the list calls explain plus this much noise (the machine is shared).
OTHER_REQUESTS_SLACK = 0.10
WALL_NOISE = (3.0, 0.15)  # seconds, or this share of the smallest point's wall time, whichever is larger


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return done.stdout.strip() or None


def machine_info() -> dict[str, Any]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cores": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "packages": versions,
        "git_commit": _git_commit(),
        # Without bytecode caching pytest re-rewrites and recompiles every test module and plugin on each run.
        "pythondontwritebytecode": bool(os.environ.get("PYTHONDONTWRITEBYTECODE")),
        "load_average_start": list(os.getloadavg()),
    }


def _target(name: str, status: str, detail: str) -> dict[str, str]:
    return {"target": name, "status": status, "detail": detail}


def _rate(report: dict[str, Any]) -> dict[str, str]:
    point = report["data_growth"][0]
    suite, limit = point["suite_rps"], point["ceiling"]["rps"]
    if not suite or not limit:
        return _target("request rate >= 1/2 ceiling", "SKIP", "no rate measured")
    share = suite / limit
    t = point["time"]
    detail = (
        f"suite {suite:.0f} req/s over its wall time ({t['rps_active']} from first to last request, "
        f"{t['rps_busy']} without idle gaps), plain httpx {limit:.0f} req/s: {share:.2f} of the ceiling"
    )
    return _target("request rate >= 1/2 ceiling", "PASS" if share >= RATE_SHARE else "MISS", detail)


def _ci_time(report: dict[str, Any]) -> dict[str, str]:
    rows = [r for r in report["profiles"] if r["profile"] == "ci" and not r["workers"]]
    if not rows:
        return _target("ci profile < 90 s (embedded)", "SKIP", "no ci run")
    row = rows[0]
    cores = report["machine"]["cores"]
    detail = f"{row['wall_seconds']:.1f}s on {cores} cores, exit {row['exit_code']}"
    if report["mode"] == "quick":
        return _target("ci profile < 90 s (embedded)", "SKIP", f"quick mode runs a subset ({detail})")
    ok = row["wall_seconds"] < CI_SECONDS and row["exit_code"] == 0
    return _target("ci profile < 90 s (embedded)", "PASS" if ok else "MISS", detail)


def data_growth_verdict(rows: list[dict[str, Any]]) -> tuple[str, str]:
    """Compare the largest point with the smallest: other requests flat, wall growth explained by the list calls.

    The list calls' share is what a plain client pays for them: lists sent times the growth of the plain loop's
    mean list latency (request, transfer, JSON parse) between the two points.
    """
    if len(rows) < 2:
        return "SKIP", "one point only"
    low, high = rows[0], rows[-1]
    other_low, other_high = low["server"]["other_requests"], high["server"]["other_requests"]
    lists = high["server"]["list_requests"]
    extra_ms = high["ceiling"]["mean_ms"]["list"] - low["ceiling"]["mean_ms"]["list"]
    explained = lists * max(extra_ms, 0.0) / 1000.0
    grown = high["suite"]["wall_seconds"] - low["suite"]["wall_seconds"]
    noise = max(WALL_NOISE[0], WALL_NOISE[1] * low["suite"]["wall_seconds"])
    other_ok = other_high <= other_low * (1 + OTHER_REQUESTS_SLACK)
    wall_ok = grown <= explained + noise
    detail = (
        f"{low['preexisting_tasks']} -> {high['preexisting_tasks']} tasks: wall {low['suite']['wall_seconds']:.1f}s -> "
        f"{high['suite']['wall_seconds']:.1f}s (+{grown:.1f}s; {lists} list calls explain {explained:.1f}s, "
        f"noise allowance {noise:.1f}s); non-list requests {other_low} -> {other_high}"
    )
    return ("PASS" if other_ok and wall_ok else "MISS"), detail


def _faults(report: dict[str, Any]) -> dict[str, str]:
    faults = report["cli"].get("faults", {})
    if "summary" not in faults:
        return _target("faults found >= CLI", "SKIP", faults.get("skipped", "not run"))
    s = faults["summary"]
    detail = f"suite {s['suite_found']}/{s['faults']}, schemathesis CLI {s['cli_found']}/{s['faults']}"
    if s["only_cli"]:
        detail += f"; only the CLI found: {', '.join(s['only_cli'])}"
    return _target("faults found >= CLI", "PASS" if s["suite_found"] >= s["cli_found"] else "MISS", detail)


def evaluate_targets(report: dict[str, Any]) -> list[dict[str, str]]:
    status, detail = data_growth_verdict(report["data_growth"])
    return [
        _rate(report),
        _ci_time(report),
        _target("no growth with pre-existing tasks beyond lists", status, detail),
        _faults(report),
    ]


def _table(title: str, header: list[str], rows: list[list[Any]]) -> str:
    cells = [header, *[["" if c is None else str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [
        title,
        "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    lines += [
        "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        for row in cells[1:]
    ]
    return "\n".join(lines)


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def render_table(report: dict[str, Any]) -> str:
    m = report["machine"]
    out = [f"machine: {m['cpu_model']}, {m['cores']} cores, Python {m['python']}, load {m['load_average_start']}"]
    data = report["data_growth"]
    out.append(
        _table(
            "\nstartup: one pytest process collecting the suite (no requests)",
            ["run", "wall s", "CPU s", "peak MB"],
            [[r["run"], r["wall_seconds"], r["cpu_seconds"], r["peak_rss_mb"]] for r in report["startup"]],
        )
    )
    out.append(
        _table(
            "\nthroughput and pre-existing tasks (ci profile, server-side counts)",
            ["tasks", "wall s", "CPU s", "startup s", "idle s", "requests", "lists", "other", "list KB"],
            [
                [
                    r["preexisting_tasks"],
                    r["suite"]["wall_seconds"],
                    r["suite"]["cpu_seconds"],
                    r["time"]["startup_seconds"],
                    r["time"]["idle_in_active_seconds"],
                    r["server"]["requests"],
                    r["server"]["list_requests"],
                    r["server"]["other_requests"],
                    r["server"]["list_body_bytes"] // 1024,
                ]
                for r in data
            ],
        )
    )
    out.append(
        _table(
            "",
            ["tasks", "suite req/s", "active req/s", "busy req/s", "ceiling req/s", "ratio", "list ms (plain)"],
            [
                [
                    r["preexisting_tasks"],
                    r["suite_rps"],
                    r["time"]["rps_active"],
                    r["time"]["rps_busy"],
                    r["ceiling"]["rps"],
                    _ratio(r["suite_rps"], r["ceiling"]["rps"]),
                    r["ceiling"]["mean_ms"].get("list"),
                ]
                for r in data
            ],
        )
    )
    out.append(
        _table(
            "\nprofiles against the embedded server (traffic-recorder counts)",
            ["run", "wall s", "CPU s", "peak MB", "requests", "tests", "exit"],
            [
                [
                    r["run"],
                    r["wall_seconds"],
                    r["cpu_seconds"],
                    r["peak_rss_mb"],
                    r["recorded_requests"],
                    r["outcome"]["tests"],
                    r["exit_code"],
                ]
                for r in report["profiles"]
            ],
        )
    )
    out.append(
        _table(
            "\ngrowth with max_examples (test_conformance.py, ci profile)",
            ["max_examples", "wall s", "CPU s", "requests", "wall x", "requests x", "exit"],
            [
                [
                    r["max_examples"],
                    r["suite"]["wall_seconds"],
                    r["suite"]["cpu_seconds"],
                    r["server"]["requests"],
                    r.get("wall_ratio_to_previous"),
                    r.get("requests_ratio_to_previous"),
                    r["suite"]["exit_code"],
                ]
                for r in report["example_growth"]
            ],
        )
    )
    cli = report["cli"]
    first = cli["cli_faithful"][0]
    out.append(
        _table(
            f"\nsuite vs schemathesis CLI (faithful server, max_examples {cli['budget_max_examples']})",
            ["runner", "wall s", "CPU s", "requests", "req/s"],
            [
                [
                    "suite (ci)",
                    cli["suite_wall_seconds"],
                    cli["suite_cpu_seconds"],
                    cli["suite_requests"],
                    data[0]["suite_rps"],
                ],
                ["schemathesis CLI", first["wall_seconds"], first["cpu_seconds"], first["requests"], cli["cli_rps"]],
                ["ratio suite/CLI", cli["wall_ratio_suite_to_cli"], None, cli["requests_ratio_suite_to_cli"], None],
            ],
        )
    )
    faults = cli.get("faults", {})
    if "rows" in faults:
        out.append(
            _table(
                "\nplanted faults (suite: whole suite with -x, ci profile)",
                ["fault", "suite", "to 1st failure s", "CLI", "CLI s"],
                [
                    [
                        r["fault"],
                        "found" if r["suite_found"] else "MISSED",
                        r["to_first_failure_seconds"],
                        "found" if r["cli_found"] else "missed",
                        r["cli_wall_seconds"],
                    ]
                    for r in faults["rows"]
                ],
            )
        )
    elif faults:
        out.append(f"\nplanted faults: skipped ({faults.get('skipped')})")
    targets = [[t["target"], t["status"], t["detail"]] for t in report["targets"]]
    out.append(_table("\ntargets", ["target", "status", "detail"], targets))
    return "\n".join(out)
