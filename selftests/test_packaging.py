"""Packaging: the pytest pin that keeps schemathesis' pytest integration working stays while it is needed.

pytest 9.2.0 breaks schemathesis 4.32.x's pytest integration (every generated test gets the same node id and
``schemathesis.pytest.from_fixture`` raises ``AttributeError: _nodeid``; SCHEMATHESIS_NOTES.md pitfall 1). So as
long as pyproject admits a 4.32 schemathesis, it must keep pytest below 9.2.
"""

from __future__ import annotations

import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
BROKEN_PYTEST = "9.2.0"
BUGGY_SCHEMATHESIS = ("4.32.0", "4.32.5", "4.32.99")


def _load_pyproject() -> dict[str, Any]:
    if sys.version_info < (3, 11):
        tomli = pytest.importorskip("tomli", reason="reading pyproject.toml needs tomllib (3.11+) or tomli")
        return dict(tomli.loads(PYPROJECT.read_text(encoding="utf-8")))
    import tomllib

    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))


def requirements() -> dict[str, Requirement]:
    project = _load_pyproject()["project"]
    parsed = (Requirement(line) for line in project["dependencies"])
    return {requirement.name.lower(): requirement for requirement in parsed}


def test_pytest_stays_below_9_2_while_schemathesis_4_32_is_allowed() -> None:
    declared = requirements()
    schemathesis, pytest_req = declared["schemathesis"], declared["pytest"]
    admits_buggy = any(schemathesis.specifier.contains(v) for v in BUGGY_SCHEMATHESIS)
    if not admits_buggy:
        pytest.skip(f"schemathesis is now required as {schemathesis.specifier}: re-check whether pytest<9.2 is needed")
    assert not pytest_req.specifier.contains(BROKEN_PYTEST), (
        f"pyproject allows pytest {BROKEN_PYTEST} ({pytest_req.specifier}) while it allows schemathesis 4.32 "
        f"({schemathesis.specifier}), whose pytest integration 9.2 breaks: keep pytest<9.2"
    )


def test_the_installed_versions_satisfy_the_declared_bounds() -> None:
    declared = requirements()
    for name in ("pytest", "schemathesis", "httpx", "requests"):
        installed = Version(version(name))
        assert declared[name].specifier.contains(installed, prereleases=True), (
            f"{name} {installed} is installed but pyproject requires {declared[name].specifier}"
        )


def test_the_installed_schemathesis_and_pytest_are_a_working_pair() -> None:
    """If the installed schemathesis is a 4.32, the installed pytest must be one that still works with it."""
    installed = Version(version("schemathesis"))
    if (installed.major, installed.minor) != (4, 32):
        pytest.skip(f"schemathesis {installed} installed: the 4.32 / pytest 9.2 incompatibility does not apply")
    assert Version(version("pytest")) < Version(BROKEN_PYTEST)
