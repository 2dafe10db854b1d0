"""Packaging: the pytest pin that keeps schemathesis' pytest integration working stays while it is needed.

pytest 9.2.0 breaks schemathesis 4.32.x's pytest integration (every generated test gets the same node id and
``schemathesis.pytest.from_fixture`` raises ``AttributeError: _nodeid``; SCHEMATHESIS_NOTES.md pitfall 1). So as
long as pyproject admits a 4.32 schemathesis, it must keep pytest below 9.2.

schemathesis and hypothesis are declared twice, with ``python_version`` markers (their newest releases need
Python >= 3.11), so requirements are read per Python version: the ones whose marker holds there.
"""

from __future__ import annotations

import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
BROKEN_PYTEST = "9.2.0"
BUGGY_SCHEMATHESIS = ("4.32.0", "4.32.5", "4.32.99")
# The Pythons the project promises to run on (tox's py310..py313).
SUPPORTED_PYTHONS = ("3.10", "3.11", "3.12", "3.13")


def _load_pyproject() -> dict[str, Any]:
    if sys.version_info < (3, 11):
        tomli = pytest.importorskip("tomli", reason="reading pyproject.toml needs tomllib (3.11+) or tomli")
        return dict(tomli.loads(PYPROJECT.read_text(encoding="utf-8")))
    import tomllib

    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))


def _environment(python: str | None = None) -> dict[str, str]:
    """The marker environment of this interpreter, or of it pretending to be Python ``python`` (e.g. "3.10")."""
    env = default_environment()
    if python is not None:
        env.update(python_version=python, python_full_version=f"{python}.0")
    return env


def requirements(python: str | None = None) -> dict[str, Requirement]:
    """The dependencies that apply on Python ``python`` (default: this interpreter), by lower-cased name."""
    env = _environment(python)
    project = _load_pyproject()["project"]
    applying: dict[str, Requirement] = {}
    for line in project["dependencies"]:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate(env):
            continue
        name = requirement.name.lower()
        assert name not in applying, f"two requirements for {name} apply on Python {env['python_version']}: {line!r}"
        applying[name] = requirement
    return applying


def test_requires_python_covers_the_supported_versions() -> None:
    requires = SpecifierSet(_load_pyproject()["project"]["requires-python"])
    assert all(requires.contains(f"{python}.0") for python in SUPPORTED_PYTHONS), requires


@pytest.mark.parametrize("python", SUPPORTED_PYTHONS)
@pytest.mark.parametrize("name", ["schemathesis", "hypothesis", "pytest"])
def test_each_supported_python_gets_exactly_one_requirement(python: str, name: str) -> None:
    """The marker branches cover every supported Python and never overlap (``requirements`` asserts the latter)."""
    assert name in requirements(python), f"no {name} requirement applies on Python {python}"


@pytest.mark.parametrize("python", SUPPORTED_PYTHONS)
def test_pytest_stays_below_9_2_while_schemathesis_4_32_is_allowed(python: str) -> None:
    declared = requirements(python)
    schemathesis, pytest_req = declared["schemathesis"], declared["pytest"]
    admits_buggy = any(schemathesis.specifier.contains(v) for v in BUGGY_SCHEMATHESIS)
    if not admits_buggy:
        pytest.skip(
            f"schemathesis is now required as {schemathesis.specifier} on Python {python}: "
            "re-check whether pytest<9.2 is needed"
        )
    assert not pytest_req.specifier.contains(BROKEN_PYTEST), (
        f"pyproject allows pytest {BROKEN_PYTEST} ({pytest_req.specifier}) on Python {python} while it allows "
        f"schemathesis 4.32 ({schemathesis.specifier}), whose pytest integration 9.2 breaks: keep pytest<9.2"
    )


def test_the_installed_versions_satisfy_the_declared_bounds() -> None:
    declared = requirements()
    for name in ("pytest", "schemathesis", "hypothesis", "httpx", "requests"):
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
