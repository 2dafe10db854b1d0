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
    versions: dict[str, str | None] = {}
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


RATE = "request rate >= 1/2 ceiling"
CI_TIME = "ci profile < 90 s (embedded)"
DATA = "no growth with pre-existing tasks beyond lists"
FAULTS = "faults found >= CLI"


def _rate(report: dict[str, Any]) -> dict[str, str]:
    if not report.get("data_growth"):
        return _target(RATE, "SKIP", "data section not run")
    point = report["data_growth"][0]
    suite, limit = point["suite_rps"], point["ceiling"]["rps"]
    if not suite or not limit:
        return _target(RATE, "SKIP", "no rate measured")
    share = suite / limit
    t = point["time"]
    detail = (
        f"suite {suite:.0f} req/s over its wall time ({t['rps_active']} from first to last request, "
        f"{t['rps_busy']} without idle gaps), plain httpx {limit:.0f} req/s: {share:.2f} of the ceiling"
    )
    return _target(RATE, "PASS" if share >= RATE_SHARE else "MISS", detail)


def _ci_time(report: dict[str, Any]) -> dict[str, str]:
    rows = [r for r in report.get("profiles", []) if r["profile"] == "ci" and not r["workers"]]
    if not rows:
        return _target(CI_TIME, "SKIP", "no ci run")
    row = rows[0]
    detail = f"{row['wall_seconds']:.1f}s on {report['machine']['cores']} cores, exit {row['exit_code']}"
    if report["mode"] == "quick":
        return _target(CI_TIME, "SKIP", f"quick mode runs a subset ({detail})")
    ok = row["wall_seconds"] < CI_SECONDS and row["exit_code"] == 0
    return _target(CI_TIME, "PASS" if ok else "MISS", detail)


def data_growth_verdict(rows: list[dict[str, Any]]) -> tuple[str, str]:
    """Compare the largest point with the smallest: other requests flat, wall growth explained by the list calls.

    What the list calls explain is what a plain client pays for the extra bytes they carry: the plain loop's list
    latency grows with the bytes of a full list (request, transfer, JSON parse), which gives seconds per byte; the
    suite's list responses grew by so many bytes (filtered lists carry fewer than full ones).
    """
    if len(rows) < 2:
        return "SKIP", "one point only"
    low, high = rows[0], rows[-1]
    if low["suite"]["exit_code"] != 0 or high["suite"]["exit_code"] != 0:
        return "SKIP", "a suite run failed (see its output_tail in the JSON)"
    other_low, other_high = low["server"]["other_requests"], high["server"]["other_requests"]
    extra_ms = high["ceiling"]["mean_ms"]["list"] - low["ceiling"]["mean_ms"]["list"]
    extra_bytes = high["ceiling"]["list_bytes_per_request"] - low["ceiling"]["list_bytes_per_request"]
    per_byte = max(extra_ms, 0.0) / 1000.0 / extra_bytes if extra_bytes > 0 else 0.0
    suite_extra_bytes = high["server"]["list_body_bytes"] - low["server"]["list_body_bytes"]
    explained = suite_extra_bytes * per_byte
    grown = high["suite"]["wall_seconds"] - low["suite"]["wall_seconds"]
    noise = max(WALL_NOISE[0], WALL_NOISE[1] * low["suite"]["wall_seconds"])
    other_ok = other_high <= other_low * (1 + OTHER_REQUESTS_SLACK)
    wall_ok = grown <= explained + noise
    detail = (
        f"{low['preexisting_tasks']} -> {high['preexisting_tasks']} tasks: wall {low['suite']['wall_seconds']:.1f}s "
        f"-> {high['suite']['wall_seconds']:.1f}s (+{grown:.1f}s; {high['server']['list_requests']} list calls "
        f"carrying +{suite_extra_bytes / 1e6:.1f} MB explain {explained:.1f}s at a plain client's "
        f"{per_byte * 1e9:.0f} ms/MB, noise allowance {noise:.1f}s); non-list requests {other_low} -> {other_high}"
    )
    return ("PASS" if other_ok and wall_ok else "MISS"), detail


def _faults(report: dict[str, Any]) -> dict[str, str]:
    faults = report.get("cli", {}).get("faults", {})
    if "summary" not in faults:
        return _target(FAULTS, "SKIP", faults.get("skipped", "cli section not run"))
    s = faults["summary"]
    detail = f"suite {s['suite_found']}/{s['faults']}, schemathesis CLI {s['cli_found']}/{s['faults']}"
    if s["only_cli"]:
        detail += f"; only the CLI found: {', '.join(s['only_cli'])}"
    return _target(FAULTS, "PASS" if s["suite_found"] >= s["cli_found"] else "MISS", detail)


def evaluate_targets(report: dict[str, Any]) -> list[dict[str, str]]:
    if report.get("data_growth"):
        status, detail = data_growth_verdict(report["data_growth"])
    else:
        status, detail = "SKIP", "data section not run"
    return [_rate(report), _ci_time(report), _target(DATA, status, detail), _faults(report)]


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


def _data_tables(data: list[dict[str, Any]]) -> list[str]:
    first = _table(
        "\nthroughput and pre-existing tasks (ci profile, server-side counts)",
        ["tasks", "wall s", "CPU s", "startup s", "idle s", "slept s", "requests", "lists", "other", "list KB"],
        [
            [
                r["preexisting_tasks"],
                r["suite"]["wall_seconds"],
                r["suite"]["cpu_seconds"],
                r["time"]["startup_seconds"],
                r["time"]["idle_in_active_seconds"],
                round(r["suite"]["sleeps"]["poll_sleep_seconds"] + r["suite"]["sleeps"]["other_sleep_seconds"], 2),
                r["server"]["requests"],
                r["server"]["list_requests"],
                r["server"]["other_requests"],
                r["server"]["list_body_bytes"] // 1024,
            ]
            for r in data
        ],
    )
    second = _table(
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
    return [first, second]


def _profile_table(rows: list[dict[str, Any]]) -> str:
    return _table(
        "\nprofiles against the embedded server (traffic-recorder counts)",
        ["run", "wall s", "CPU s", "peak MB", "requests", "slept s", "tests", "exit"],
        [
            [
                r["run"],
                r["wall_seconds"],
                r["cpu_seconds"],
                r["peak_rss_mb"],
                r["recorded_requests"],
                round(r["sleeps"]["poll_sleep_seconds"] + r["sleeps"]["other_sleep_seconds"], 2),
                r["outcome"]["tests"],
                r["exit_code"],
            ]
            for r in rows
        ],
    )


def _examples_table(rows: list[dict[str, Any]]) -> str:
    return _table(
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
            for r in rows
        ],
    )


def _cli_tables(cli: dict[str, Any]) -> list[str]:
    first = cli["cli_faithful"][0]
    rows = []
    if "suite_requests" in cli:
        rows.append(
            ["suite (ci)", cli["suite_wall_seconds"], cli["suite_cpu_seconds"], cli["suite_requests"], cli["suite_rps"]]
        )
    rows.append(["schemathesis CLI", first["wall_seconds"], first["cpu_seconds"], first["requests"], cli["cli_rps"]])
    if "suite_requests" in cli:
        rows.append(["ratio suite/CLI", cli["wall_ratio_suite_to_cli"], None, cli["requests_ratio_suite_to_cli"], None])
    out = [
        _table(
            f"\nsuite vs schemathesis CLI (faithful server, max_examples {cli['budget_max_examples']})",
            ["runner", "wall s", "CPU s", "requests", "req/s"],
            rows,
        )
    ]
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
    return out


def render_table(report: dict[str, Any]) -> str:
    m = report["machine"]
    out = [f"machine: {m['cpu_model']}, {m['cores']} cores, Python {m['python']}, load {m['load_average_start']}"]
    if "startup" in report:
        out.append(
            _table(
                "\nstartup: one pytest process collecting the suite (no requests)",
                ["run", "wall s", "CPU s", "peak MB"],
                [[r["run"], r["wall_seconds"], r["cpu_seconds"], r["peak_rss_mb"]] for r in report["startup"]],
            )
        )
    if "data_growth" in report:
        out += _data_tables(report["data_growth"])
    if "profiles" in report:
        out.append(_profile_table(report["profiles"]))
    if "example_growth" in report:
        out.append(_examples_table(report["example_growth"]))
    if "cli" in report:
        out += _cli_tables(report["cli"])
    targets = [[t["target"], t["status"], t["detail"]] for t in report["targets"]]
    out.append(_table("\ntargets", ["target", "status", "detail"], targets))
    return "\n".join(out)
