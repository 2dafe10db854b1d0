"""The checkout stays easy to live in: no dead code, no function too complex to read, schemathesis' and Hypothesis'
internals used in one module only, and a self-test run leaves nothing behind in the system's temp dir."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

from radon.complexity import cc_rank, cc_visit
from radon.visitors import Class, Function

from .support import REPO_ROOT, clean_env

SRC = REPO_ROOT / "src" / "coder_tasks_contract"
COMPAT = SRC / "generated" / "compat.py"
# Radon's grade C ends at 20; D and worse are what issue 15 calls hot spots.
MAX_COMPLEXITY = 20


def _vulture(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    """vulture with the checkout's configuration ([tool.vulture] in pyproject.toml, read from ``cwd``)."""
    return subprocess.run(
        [sys.executable, "-m", "vulture", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_vulture_finds_no_dead_code() -> None:
    found = _vulture()
    assert (found.returncode, found.stdout) == (0, ""), found.stdout + found.stderr


def test_the_vulture_configuration_still_reports_an_unused_function(tmp_path: Path) -> None:
    """The ignore lists in pyproject.toml cover what frameworks call by name, not everything."""
    module = tmp_path / "orphan.py"
    module.write_text("def forgotten() -> int:\n    return 1\n\n\ndef pytest_configure(config):\n    return config\n")
    found = _vulture(str(module))
    assert found.returncode == 3, found.stdout + found.stderr
    assert [line.split(": ", 1)[1] for line in found.stdout.splitlines()] == [
        "unused function 'forgotten' (60% confidence)"
    ]


def _blocks(blocks: list[Function | Class]) -> Iterator[Function | Class]:
    for block in blocks:
        yield block
        # radon lists methods beside their class already; closures count here too, as separate functions.
        if isinstance(block, Function):
            yield from _blocks(block.closures)


def test_no_function_in_src_is_above_complexity_grade_c() -> None:
    too_complex = [
        f"{path.relative_to(REPO_ROOT)}:{block.lineno} {block.fullname} {cc_rank(block.complexity)} "
        f"({block.complexity})"
        for path in sorted(SRC.rglob("*.py"))
        for block in _blocks(cc_visit(path.read_text(encoding="utf-8")))
        if block.complexity > MAX_COMPLEXITY
    ]
    assert too_complex == []


def _private_imports(path: Path) -> list[str]:
    """Imports of a private schemathesis or Hypothesis module or name (a part starting with ``_``) in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] in ("schemathesis", "hypothesis") and any(part.startswith("_") for part in parts[1:]):
                found.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno} {name}")
    return found


def test_library_internals_are_imported_in_compat_only() -> None:
    """generated/compat.py is the one module to change on a schemathesis or Hypothesis upgrade."""
    assert _private_imports(COMPAT), "compat.py imports no internal: this check has nothing to compare with"
    roots = [REPO_ROOT / folder for folder in ("src", "tests", "selftests", "benchmarks")]
    elsewhere = [
        found
        for root in roots
        for path in sorted(root.rglob("*.py"))
        if path != COMPAT
        for found in _private_imports(path)
    ]
    assert elsewhere == []


def test_a_selftest_run_under_xdist_leaves_nothing_in_the_temp_dir(tmp_path: Path) -> None:
    """Two self-tests that each run the suite in a subprocess, on two xdist workers, with the system temp dir
    pointed at an empty folder: afterwards it holds pytest's own temp tree and nothing else."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    selection = "selftests/test_options.py"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-n",
            "2",
            selection,
            "-k",
            "url-scheme or url-path",
        ],
        cwd=REPO_ROOT,
        env=clean_env(TMPDIR=str(temp)),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "2 passed" in run.stdout, run.stdout[-3000:]
    left = sorted(entry.name for entry in temp.iterdir() if not entry.name.startswith("pytest-of-"))
    assert left == [], textwrap.shorten(f"{left}", 500)
