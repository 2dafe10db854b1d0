"""The same spec and server under the schemathesis command line, and which failures it reports.

The command line has no notion of this contract's fixed statuses, of whose task an id is, or of waiting for a
task to become active, so against the faithful reference server it already reports failures (e.g. "schema-valid
request rejected" for a random ``{user}``). A planted fault counts as found by it only when a run against the
faulty server reports a failure signature (operation, check code) that the faithful runs did not: that is all a
user of the command line could tell apart from its usual noise.

The session token goes on its command line (``-H``), as a user of the command line would pass it: acceptable for a
loopback benchmark against a throwaway server. It is never printed: output is redacted, and schemathesis itself
shows it as ``[Filtered]``.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_run import PROJECT_ROOT, ProcessRun, clean_env, run_process
from bench_server import CountedServer, Tally

SPEC = PROJECT_ROOT / "spec" / "coder-tasks.yaml"
PHASES = "examples,coverage,fuzzing,stateful"
SEED = 20251128


def schemathesis_executable() -> str:
    """``schemathesis`` next to this interpreter (the project's virtualenv), else on PATH."""
    local = Path(sys.executable).with_name("schemathesis")
    if local.exists():
        return str(local)
    found = shutil.which("schemathesis")
    if found is None:
        raise FileNotFoundError("the schemathesis command line is not installed next to this Python or on PATH")
    return found


def command(url: str, token: str, *, max_examples: int, report_dir: Path) -> list[str]:
    """The command line: all checks and phases, the suite's budget and seed, the suite's generation choices for
    credentials (none generated: they would outrank the real header) and NUL bytes (left out, see
    generated/loader.py)."""
    return [
        schemathesis_executable(),
        "run",
        str(SPEC),
        "--url",
        url,
        "-H",
        f"Coder-Session-Token: {token}",
        "--checks",
        "all",
        "--phases",
        PHASES,
        "--max-examples",
        str(max_examples),
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--generation-with-security-parameters",
        "false",
        "--generation-allow-x00",
        "false",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(report_dir),
    ]


@dataclass
class CliRun:
    """One run of the command line: the process, the requests the server saw, and the failure signatures."""

    process: ProcessRun
    tally: Tally
    signatures: set[tuple[str, str]] = field(default_factory=set)  # (operation, check code), e.g. ("GET /x", "ST202")

    def to_json(self) -> dict[str, Any]:
        return {
            **self.process.to_json(),
            "requests": self.tally.requests,
            "failure_signatures": sorted(" ".join(sig) for sig in self.signatures),
        }


def failure_signatures(report_dir: Path) -> set[tuple[str, str]]:
    """(operation, check code) of every failure in the JUnit report(s) schemathesis wrote."""
    found: set[tuple[str, str]] = set()
    for junit in report_dir.glob("*.xml"):
        for case in ET.parse(junit).getroot().iter("testcase"):
            for kind in ("failure", "error"):
                for problem in case.findall(kind):
                    # One <failure> may carry several codes: message="ST105, ST202".
                    for code in (problem.get("message") or kind).split(","):
                        found.add((case.get("name", "?"), code.strip()))
    return found


def run_cli(server: CountedServer, *, max_examples: int, timeout: float = 600.0) -> CliRun:
    """Run the command line once against ``server`` (its counter is reset first)."""
    token = server.tokens()["CODER_SESSION_TOKEN"]
    with tempfile.TemporaryDirectory(prefix="ctc-bench-cli-") as scratch:
        report_dir = Path(scratch) / "report"
        server.counter.reset()
        # cwd is the scratch folder: schemathesis may write its own files (.schemathesis/) where it runs.
        process = run_process(
            command(server.url, token, max_examples=max_examples, report_dir=report_dir),
            env=clean_env(),
            cwd=Path(scratch),
            timeout=timeout,
            secrets=[token],
        )
        tally = server.counter.snapshot()
        return CliRun(process, tally, failure_signatures(report_dir))
