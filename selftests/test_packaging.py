"""Packaging: the pytest pin that keeps schemathesis' pytest integration working stays while it is needed.

pytest 9.2.0 breaks schemathesis 4.32.x's pytest integration (every generated test gets the same node id and
``schemathesis.pytest.from_fixture`` raises ``AttributeError: _nodeid``; seen with 4.32.5 and pytest 9.2.0). So as
long as pyproject admits a 4.32 schemathesis, it must keep pytest below 9.2.

schemathesis and hypothesis are declared twice, with ``python_version`` markers (their newest releases need
Python >= 3.11), so requirements are read per Python version: the ones whose marker holds there.
"""

from __future__ import annotations

import re
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


# -- what the wheel is built from -------------------------------------------------------------------------------------
REPO = PYPROJECT.parent
SRC = REPO / "src"


def _setuptools() -> dict[str, Any]:
    return dict(_load_pyproject()["tool"]["setuptools"])


def test_every_package_under_src_is_in_the_wheel() -> None:
    """The package list is written by hand (two packages live outside src/): a new subpackage must be added to it."""
    found = {
        ".".join(init.parent.relative_to(SRC).parts) for init in SRC.rglob("__init__.py") if "egg-info" not in str(init)
    }
    missing = found - set(_setuptools()["packages"])
    assert not missing, f"add {sorted(missing)} to [tool.setuptools] packages in pyproject.toml"


def test_the_spec_and_the_suite_are_mapped_from_the_top_level_folders() -> None:
    from coder_tasks_contract import resources

    package_dir = _setuptools()["package-dir"]
    assert package_dir[resources.SPEC_PACKAGE] == "spec"
    assert package_dir[resources.SUITE_PACKAGE] == "tests"
    data = _setuptools()["package-data"]
    assert resources.UNREACHABLE_NAME in data[resources.SUITE_PACKAGE]
    assert {"*.yaml", f"{resources.LEVELS_DIR_NAME}/*.yaml"} <= set(data[resources.SPEC_PACKAGE])
    assert resources.SUITE_INI_NAME in data["coder_tasks_contract"]


def test_the_plugin_entry_point_carries_the_modules_name() -> None:
    """Named like the module, a conftest.py or ``-p`` that names the plugin finds it loaded instead of registering it
    a second time (pluggy refuses one module under two names)."""
    project = _load_pyproject()["project"]
    assert project["entry-points"]["pytest11"] == {
        "coder_tasks_contract.plugin.hooks": "coder_tasks_contract.plugin.hooks"
    }
    assert project["scripts"]["coder-tasks-contract"] == "coder_tasks_contract.cli:main"
    assert {"coder-tasks-fake", "coder-tasks-killrate"} <= set(project["scripts"])  # the old names stay


def test_the_installed_suites_pytest_settings_are_the_checkouts() -> None:
    """suite.ini (a run of the installed suite) says what [tool.pytest.ini_options] says, minus testpaths."""
    import configparser

    ini = configparser.ConfigParser()
    ini.read(SRC / "coder_tasks_contract" / "suite.ini", encoding="utf-8")
    packaged = dict(ini["pytest"])
    checkout = {k: v for k, v in _load_pyproject()["tool"]["pytest"]["ini_options"].items() if k != "testpaths"}
    assert set(packaged) == set(checkout)
    for key, value in checkout.items():
        expected = " ".join(value) if isinstance(value, list) else str(value).lower()
        assert packaged[key] == expected, key


def test_the_root_conftest_registers_nothing() -> None:
    """The plugin comes from the entry point; the root conftest.py must not register it a second way."""
    source = (REPO / "conftest.py").read_text(encoding="utf-8")
    assert "pytest_plugins" not in source.split('"""')[-1]  # after the docstring: no code that registers


# -- the plugin in projects that are not this one ----------------------------------------------------------------------
UNRELATED_TEST = "def test_unrelated():\n    assert True\n"


def _project(tmp_path: Path, *, opt_in: bool) -> Path:
    (tmp_path / "tests").mkdir(parents=True)
    (tmp_path / "tests" / "test_own.py").write_text(UNRELATED_TEST)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    if opt_in:
        (tmp_path / "conftest.py").write_text('pytest_plugins = ["coder_tasks_contract.plugin.hooks"]\n')
    return tmp_path


def test_an_unrelated_projects_tests_are_no_contract_run(tmp_path: Path) -> None:
    """The entry point loads the plugin into every pytest run of the environment: a project's own tests/ must not
    start preflight (the embedded server) or write reports unless the project names the plugin."""
    from .support import clean_env, run_pytest

    reports = tmp_path / "reports-out"
    run = run_pytest(
        "tests", cwd=_project(tmp_path / "p", opt_in=False), env=clean_env(CODER_TASKS_REPORTS_DIR=str(reports))
    )
    assert run.ret == 0, run.output[-2000:]
    assert "coder target:" not in run.stdout  # no preflight ran, and the contract's header stays out
    assert "embedded reference server" not in run.output
    assert not reports.exists()


def test_a_project_that_names_the_plugin_is_a_contract_run_registered_once(tmp_path: Path) -> None:
    from .support import clean_env, run_pytest

    reports = tmp_path / "reports-out"
    run = run_pytest(
        "tests", cwd=_project(tmp_path / "p", opt_in=True), env=clean_env(CODER_TASKS_REPORTS_DIR=str(reports))
    )
    assert run.ret == 0, run.output[-2000:]
    assert "(embedded reference server), server version" in run.stdout  # preflight resolved the target first
    assert (reports / "junit.xml").is_file()


# -- the changelog -----------------------------------------------------------------------------------------------------
def test_the_changelog_has_the_current_version_and_an_unreleased_section() -> None:
    text = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert headings[0] == "Unreleased"
    assert _load_pyproject()["project"]["version"] in headings


def test_an_option_value_that_pytest_took_for_the_rootdir_is_a_usage_error(tmp_path: Path) -> None:
    """pytest chooses the rootdir before plugins' options are known: ``--reports-dir DIR`` (a space) with an existing
    DIR would root the run there and collect the whole current directory. The plugin stops and names the fix."""
    from .support import run_pytest

    spaced = tmp_path / "with space"
    spaced.mkdir()
    refused = run_pytest("--reports-dir", str(spaced), "--collect-only", "-q")
    assert refused.ret == pytest.ExitCode.USAGE_ERROR, refused.output[-2000:]
    assert f"write --reports-dir='{spaced}'" in refused.output
    accepted = run_pytest(f"--reports-dir={spaced}", "--collect-only", "-q")
    assert accepted.ret == 0, accepted.output[-2000:]
    assert "selftests/" not in accepted.stdout  # testpaths of the checkout's pyproject.toml still apply


@pytest.mark.parametrize(
    ("layout", "own"),
    [
        pytest.param({"tests/test_x.py": ""}, False, id="unrelated-project"),
        pytest.param({"tests/unreachable.yaml": "", "spec/coder-tasks.yaml": ""}, True, id="checkout-of-this-project"),
        pytest.param({"tests/test_x.py": "", "conftest.py": ""}, True, id="conftest-names-the-plugin"),
    ],
)
def test_which_tests_folder_is_the_contract_suite(tmp_path: Path, layout: dict[str, str], own: bool) -> None:
    from types import ModuleType, SimpleNamespace

    from coder_tasks_contract import resources

    for name, text in layout.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    plugins: list[object] = []
    if "conftest.py" in layout:  # a registered conftest module, as pytest holds it
        conftest = ModuleType("conftest")
        conftest.__file__ = str(tmp_path / "conftest.py")
        conftest.pytest_plugins = [resources.PLUGIN]  # type: ignore[attr-defined]
        plugins.append(conftest)
    config: Any = SimpleNamespace(rootpath=tmp_path, pluginmanager=SimpleNamespace(get_plugins=lambda: plugins))
    assert resources.suite_dir_of(config) == (tmp_path / "tests" if own else resources.suite_dir())
