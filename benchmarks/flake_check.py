"""Does the contract suite pass every time against a healthy server? Run it N times per level and count.

    .venv/bin/python benchmarks/flake_check.py [--runs N] [--levels 82f,2.29,newest] [--speed fast|realistic]
        [--load K] [--workers W] [--budget SECONDS] [--keep] [-k EXPR] [-- PYTEST_ARGS...]

Each run is a child ``python -m pytest tests`` against a fresh reference server of the level, with a fresh random
``--hypothesis-seed`` (printed; ``--hypothesis-seed S`` fixes it for every run, to replay one). At the ``fast`` speed
the suite starts its own embedded server (``--coder-version LEVEL``, exactly as a plain ``pytest`` run does); at
``realistic`` (builds and agent replies take seconds) this script serves one per run
(``python -m coder_tasks_contract.server --speed realistic``) and aims the suite at it like at a deployment.
``--load K`` keeps K CPU-hog processes busy for the whole check, so timing windows show up as they would on a busy
CI machine; the hogs stop with the script (also on Ctrl-C, and on their own if the script dies).

Prints per level the pass count and every distinct failure (test id and the first line of its message) with the
seeds it failed with and the command that replays it. Every run writes its output and reports to its own folder
under a temporary directory; a passing run's folder is removed at once (unless ``--keep``), a failing run's folder
is kept and named. Exit status: 0 if every run passed, 1 if any failed, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LEVELS = ("82f", "2.29", "newest")
SPEEDS = ("fast", "realistic")
# Environment that would aim the suite elsewhere or change its settings behind the check's back.
_FOREIGN_ENV = ("CODER_", "PYTEST_", "HYPOTHESIS_")
# pytest's short test summary: "FAILED tests/x.py::test_y[param] - first line of the message" (SUBFAILED: a subtest).
# A test id may hold spaces inside its brackets (schemathesis' subtests: test_conformance[POST /api/...]).
_SUMMARY = re.compile(r"^(FAILED|SUBFAILED|ERROR) ([^\s\[]+(?:\[[^\]]*\])?)(?: - (.*))?$")
# In a test's failure section, the line that says what failed: a schemathesis check's title ("- ST202 ..." inside
# an exception group) or pytest's first "E   " line. The short summary only has the group's "+ Exception Group".
_FIRST_MESSAGE = (re.compile(r"^\s*\|?\s*- (ST\d+ .+)$"), re.compile(r"^E\s+(\S.*)$"))
_SECTION = re.compile(r"^_{3,} (.+?) _{3,}$")
# Parts of a failure message that differ from run to run although the failure is the same one.
_VOLATILE = (
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I), "<uuid>"),
    (re.compile(r"(127\.0\.0\.1|localhost|\[::1\]):\d+"), r"\1:<port>"),
    (re.compile(r"\bctc-[a-z0-9]+-\d+\b"), "ctc-<run>-<n>"),
    (re.compile(r"\b\d+(\.\d+)?s\b"), "<n>s"),
)
# A CPU hog: spins until its parent (this script) is gone, so it cannot outlive a killed check.
_HOG = """
import os, time
parent = os.getppid()
while os.getppid() == parent:
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        pass
"""


@dataclass
class Failure:
    """One distinct failure: a test id and the first line of its message, and the runs it happened in."""

    test: str
    message: str
    seeds: list[int] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)


@dataclass
class LevelTally:
    level: str
    runs: int = 0
    passed: int = 0
    failures: dict[tuple[str, str], Failure] = field(default_factory=dict)


@dataclass
class RunResult:
    exit_code: int
    output: str
    seconds: float
    timed_out: bool = False


def normalise(message: str) -> str:
    """The message with ids, ports, task names and durations replaced, so repeats of one failure group together."""
    for pattern, replacement in _VOLATILE:
        message = pattern.sub(replacement, message)
    return message.strip()


def first_message(output: str, test: str) -> str | None:
    """The first line saying what failed in ``test``'s section of the FAILURES/ERRORS block, if there is one."""
    name = test.rsplit("::", 1)[-1]
    inside = False
    for line in output.splitlines():
        header = _SECTION.match(line)
        if header:
            inside = header.group(1).strip() in (name, f"ERROR at setup of {name}", f"ERROR at teardown of {name}")
            continue
        if inside and line.startswith("="):
            inside = False
        if inside:
            for pattern in _FIRST_MESSAGE:
                found = pattern.match(line)
                if found:
                    return found.group(1).strip()
    return None


def failures_in(output: str, exit_code: int) -> list[tuple[str, str]]:
    """(test id, first message line) of every failed or erroring test in a pytest run's output.

    A run that failed without naming a test (a crash, a usage error, a timeout) is one failure named ``<run>``."""
    found: list[tuple[str, str]] = []
    for line in output.splitlines():
        match = _SUMMARY.match(line.rstrip())
        if match:
            kind, test, message = match.groups()
            text = first_message(output, test) or (message or "").strip() or kind.lower()
            found.append((test, normalise(text if kind != "ERROR" else f"error: {text}")))
    if not found and exit_code != 0:
        last = next((line for line in reversed(output.strip().splitlines()) if line.strip()), "no output")
        found.append(("<run>", normalise(f"exit code {exit_code}: {last.strip()}")))
    return found


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(_FOREIGN_ENV)}
    env["COLUMNS"] = "400"  # the short summary keeps whole message lines instead of cutting them at 80 columns
    env.update(extra)
    return env


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # the group this script started for the child, by its id
    proc.wait()


def run_child(args: list[str], *, env: dict[str, str], log: Path, timeout: float) -> RunResult:
    """Run ``args`` in its own process group, output to ``log``; the group is killed on timeout or interrupt."""
    started = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            args, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        timed_out = False
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
        except BaseException:
            _kill_group(proc)
            raise
    output = log.read_text(encoding="utf-8", errors="replace")
    if timed_out:
        output += f"\n(killed by flake_check after {timeout:g}s)\n"
    return RunResult(proc.returncode if not timed_out else -9, output, time.monotonic() - started, timed_out)


@contextlib.contextmanager
def cpu_load(hogs: int) -> Iterator[None]:
    """``hogs`` busy processes for the duration of the block; stopped on exit, however the block ends."""
    procs = [subprocess.Popen([sys.executable, "-c", _HOG]) for _ in range(hogs)]
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()  # only the hogs this block started
        for proc in procs:
            proc.wait()


@contextlib.contextmanager
def realistic_server(level: str, folder: Path) -> Iterator[dict[str, str]]:
    """A reference server of ``level`` at the realistic speed in a child process; yields the CODER_* variables."""
    command = [sys.executable, "-m", "coder_tasks_contract.server", "--port", "0", "--speed", "realistic"]
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen(
        [*command, "--coder-version", level],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=log,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode("utf-8")
        if not line.strip():
            raise RuntimeError(f"the reference server did not start; see {folder / 'server.log'}")
        seed = json.loads(line)
        yield {
            "CODER_URL": seed["url"],
            "CODER_SESSION_TOKEN": seed["users"]["alice"]["token"],
            "CODER_SECOND_SESSION_TOKEN": seed["users"]["bob"]["token"],
            "CODER_TEMPLATE_VERSION_ID": seed["template_versions"]["ai_task"],
            "CODER_NON_TASK_TEMPLATE_VERSION_ID": seed["template_versions"]["no_ai_task"],
        }
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
        log.close()


def pytest_args(options: argparse.Namespace, level: str, seed: int, folder: Path) -> list[str]:
    """The suite's arguments for one run (without the interpreter), as the replay command shows them too."""
    args = [*(options.pytest_args or ["tests"]), "-p", "no:cacheprovider", "-q", "-rfE"]
    args += ["--coder-version", level, "--hypothesis-seed", str(seed), f"--reports-dir={folder / 'reports'}"]
    if options.k:
        args += ["-k", options.k]
    if options.workers:
        args += ["-n", str(options.workers)]
    return args


def replay_command(options: argparse.Namespace, level: str, seed: int, test: str) -> str:
    """One command that sends the failing test's generated cases again (same level, speed and seed)."""
    selection = [test] if test != "<run>" else list(options.pytest_args or [])
    if options.speed == "fast":
        words = ["python", "-m", "pytest", *(selection or ["tests"]), "-p", "no:cacheprovider"]
        words += ["--coder-version", level, "--hypothesis-seed", str(seed)]
        return f"HYPOTHESIS_PROFILE={options.profile} " + shlex.join(words)
    words = ["python", "benchmarks/flake_check.py", "--runs", "1", "--levels", level, "--speed", options.speed]
    words += ["--hypothesis-seed", str(seed), "--profile", options.profile]
    if test == "<run>" and options.k:
        words += ["-k", options.k]
    return shlex.join([*words, "--", *selection] if selection else words)


def one_run(options: argparse.Namespace, level: str, seed: int, folder: Path) -> RunResult:
    folder.mkdir(parents=True)
    env = {"HYPOTHESIS_PROFILE": options.profile}
    args = [sys.executable, "-m", "pytest", *pytest_args(options, level, seed, folder)]
    if options.speed == "fast":
        return run_child(args, env=clean_env(env), log=folder / "output.txt", timeout=options.run_timeout)
    with realistic_server(level, folder) as target:
        return run_child(args, env=clean_env({**env, **target}), log=folder / "output.txt", timeout=options.run_timeout)


def report(tallies: Sequence[LevelTally], options: argparse.Namespace) -> list[str]:
    lines = []
    for tally in tallies:
        lines.append(f"{tally.level} ({options.speed}): {tally.passed}/{tally.runs} runs passed")
        for failure in sorted(tally.failures.values(), key=lambda f: (-len(f.seeds), f.test)):
            lines.append(f"  FAILED {failure.test} ({len(failure.seeds)}x): {failure.message}")
            lines.append(f"    seeds: {', '.join(str(seed) for seed in failure.seeds)}")
            lines.append(f"    replay: {replay_command(options, tally.level, failure.seeds[0], failure.test)}")
            lines.append(f"    output: {', '.join(str(folder / 'output.txt') for folder in failure.folders)}")
    return lines


def check(options: argparse.Namespace) -> int:
    levels = [level.strip() for level in options.levels.split(",") if level.strip()]
    seeds = random.Random(options.seed)
    tallies = {level: LevelTally(level) for level in levels}
    scratch = Path(tempfile.mkdtemp(prefix="ctc-flake-"))
    deadline = time.monotonic() + options.budget if options.budget else None
    print(
        f"flake check: {options.runs} run(s) x {', '.join(levels)}; speed {options.speed}, load {options.load}, "
        f"workers {options.workers or 'none'}, profile {options.profile}; run folders under {scratch}",
        flush=True,
    )
    cut_short = False
    with cpu_load(options.load):
        for number in range(1, options.runs + 1):  # run i of every level before run i+1: a budget cut stays even
            for level in levels:
                if deadline is not None and time.monotonic() > deadline:
                    cut_short = True
                    break
                seed = options.hypothesis_seed if options.hypothesis_seed is not None else seeds.getrandbits(32)
                folder = scratch / f"{level}-{number}"
                result = one_run(options, level, seed, folder)
                tally = tallies[level]
                tally.runs += 1
                found = failures_in(result.output, result.exit_code)
                verdict = "passed" if not found else f"FAILED ({len(found)})"
                last = result.output.strip().splitlines()[-1:] or [""]
                print(
                    f"[{level} {number}/{options.runs}] seed {seed}: {verdict} in {result.seconds:.0f}s  {last[0]}",
                    flush=True,
                )
                if not found:
                    tally.passed += 1
                    if not options.keep:
                        shutil.rmtree(folder, ignore_errors=True)
                    continue
                for test, message in found:
                    failure = tally.failures.setdefault((test, message), Failure(test, message))
                    failure.seeds.append(seed)
                    failure.folders.append(folder)
            if cut_short:
                break
    print("\n".join(["", *report(list(tallies.values()), options)]))
    failed = any(tally.passed < tally.runs for tally in tallies.values())
    if cut_short:
        done = sum(tally.runs for tally in tallies.values())
        print(f"time budget of {options.budget:g}s reached after {done} of {options.runs * len(levels)} runs")
    if not failed and not options.keep:
        shutil.rmtree(scratch, ignore_errors=True)
    else:
        print(f"run folders kept in {scratch}")
    return 1 if failed else 0


def _positive(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def _levels(raw: str) -> str:
    unknown = [level for level in raw.split(",") if level.strip() and level.strip() not in LEVELS]
    if unknown or not raw.strip():
        raise argparse.ArgumentTypeError(f"unknown level(s) {unknown}: pick from {', '.join(LEVELS)}")
    return raw


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flake_check.py",
        description="Run the contract suite N times per level against a healthy reference server and report every "
        "failure with its seed: a healthy server must pass every time.",
    )
    parser.add_argument("--runs", type=_positive, default=5, help="runs per level (default: 5)")
    parser.add_argument("--levels", type=_levels, default=",".join(LEVELS), help="comma-separated (default: all)")
    parser.add_argument("--speed", choices=SPEEDS, default="fast", help="reference server speed (default: fast)")
    parser.add_argument("--load", type=int, default=0, metavar="K", help="CPU-hog processes meanwhile (default: 0)")
    parser.add_argument("--workers", type=_positive, default=None, metavar="W", help="pass -n W to pytest (xdist)")
    parser.add_argument(
        "--hypothesis-seed", type=int, default=None, metavar="S", help="the same seed for every run (default: random)"
    )
    parser.add_argument("--seed", type=int, default=None, help="seed of the random per-run seeds (default: random)")
    parser.add_argument(
        "--profile", default="default", help="HYPOTHESIS_PROFILE of the runs (default: default, i.e. random)"
    )
    parser.add_argument("-k", default=None, metavar="EXPR", help="only tests matching EXPR (pytest -k)")
    parser.add_argument(
        "--budget",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="start no new run after this long; 0: no limit (default: 3600)",
    )
    parser.add_argument(
        "--run-timeout", type=float, default=1800.0, metavar="SECONDS", help="kill a run after (default: 1800)"
    )
    parser.add_argument("--keep", action="store_true", help="keep every run's folder, passing ones too")
    parser.add_argument("pytest_args", nargs="*", help="after --: test paths/ids instead of tests/")
    return parser


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    options = build_parser().parse_args(argv)
    if options.load < 0:
        build_parser().error("--load must be 0 or more")
    # SIGTERM ends the check like Ctrl-C: the finally blocks stop the hogs and the running child. SIGINT is set too:
    # a shell starts a background job with SIGINT ignored, and Python then never turns it into KeyboardInterrupt.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        return check(options)
    except KeyboardInterrupt:
        print("flake check interrupted (the run folders so far stay where the first line says)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
