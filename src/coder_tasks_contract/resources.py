"""Where the files a run needs are: the OpenAPI documents (``spec/``) and the contract suite (``tests/``).

The one place that knows the two ways this package can be installed:

- **from a wheel**: the documents are package data of ``coder_tasks_contract.openapi`` and the suite is the package
  ``coder_tasks_contract_suite`` (pyproject.toml maps both from the top-level ``spec/`` and ``tests/`` at build time);
- **from a checkout** (``pip install -e .``, tox's editable env, or ``PYTHONPATH=src``): this module sits in
  ``src/coder_tasks_contract/`` of the checkout, and the checkout's own ``spec/`` and ``tests/`` are used, so the
  top-level ``spec/`` stays the one file people edit.

Nothing else in the package finds files relative to its own location.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

DISTRIBUTION = "coder-tasks-contract"
SPEC_PACKAGE = "coder_tasks_contract.openapi"
SUITE_PACKAGE = "coder_tasks_contract_suite"
BASE_SPEC_NAME = "coder-tasks.yaml"
LEVELS_DIR_NAME = "levels"
UNREACHABLE_NAME = "unreachable.yaml"
#: pytest settings of an installed suite (package data): the checkout's are in pyproject.toml.
SUITE_INI_NAME = "suite.ini"
PLUGIN = "coder_tasks_contract.plugin.hooks"


class ResourceError(RuntimeError):
    """A file the package needs is missing: a broken install (the message says which file and where it looked)."""


def checkout() -> Path | None:
    """The source checkout this package is imported from, or None when it is installed from a wheel.

    A checkout is recognised by its layout: this file in ``src/coder_tasks_contract/`` below a ``pyproject.toml``
    and the top-level ``spec/``. An installed copy lives in ``site-packages/``, where neither holds.
    """
    package = Path(__file__).resolve().parent
    root = package.parents[1]
    if package.parent.name == "src" and (root / "pyproject.toml").is_file() and (root / "spec").is_dir():
        return root
    return None


def spec_dir() -> Path:
    """The folder holding ``coder-tasks.yaml`` and ``levels/<level>.yaml``."""
    root = checkout()
    if root is not None:
        return root / "spec"
    return _package_dir(SPEC_PACKAGE)


def base_spec() -> Path:
    """The hand-written base OpenAPI document (``spec/coder-tasks.yaml``)."""
    return spec_dir() / BASE_SPEC_NAME


def levels_dir() -> Path:
    """The folder of the level overlays (``spec/levels/``)."""
    return spec_dir() / LEVELS_DIR_NAME


def suite_dir() -> Path:
    """The contract suite: the checkout's ``tests/``, or the installed ``coder_tasks_contract_suite`` package."""
    root = checkout()
    if root is not None:
        return root / "tests"
    return _package_dir(SUITE_PACKAGE)


def suite_dir_of(config: pytest.Config) -> Path | None:
    """The contract suite of a pytest run: :func:`suite_dir`, or the ``tests/`` of the project the run is rooted in
    when that is a checkout of this project (run with a non-editable install) or names the plugin in its root
    ``conftest.py`` (``pytest_plugins``), as a project of contract tests of its own does.

    Only these make a project's ``tests/`` a contract suite: the ``pytest11`` entry point loads the plugin
    into every pytest run where the package is installed, and an unrelated project's tests must not start
    preflight or write reports. None if the installed suite is missing.
    """
    own = config.rootpath / "tests"
    if (own / UNREACHABLE_NAME).is_file() and (config.rootpath / "spec" / BASE_SPEC_NAME).is_file():
        return own
    conftest = (config.rootpath / "conftest.py").resolve()
    for plugin in config.pluginmanager.get_plugins():
        location = getattr(plugin, "__file__", None)
        if location is None or Path(location).resolve() != conftest:
            continue
        named = getattr(plugin, "pytest_plugins", ())
        if PLUGIN in ([named] if isinstance(named, str) else list(named)):
            return own
    try:
        return suite_dir()
    except ResourceError:  # a broken install: then no run is a contract run, and pytest still works
        return None


def default_spec(rootpath: Path) -> Path:
    """The document a run tests when no ``--spec`` is given: ``spec/coder-tasks.yaml`` of the project the run is
    rooted in if it has one, else :func:`base_spec`."""
    rooted = rootpath / "spec" / BASE_SPEC_NAME
    return rooted if rooted.is_file() else base_spec()


@dataclass(frozen=True)
class SuiteRun:
    """How pytest is started on the suite so that it runs the same from any directory.

    ``rootdir`` is what node ids are relative to (``tests/test_auth.py::...`` in a checkout,
    ``coder_tasks_contract_suite/test_auth.py::...`` installed); ``inifile`` is given explicitly so that no
    ``pytest.ini``/``pyproject.toml`` of the caller's directory (or above an installed copy) changes the run.
    """

    directory: Path
    rootdir: Path
    inifile: Path
    installed: bool

    def pytest_args(self) -> list[str]:
        """Options to put before the caller's own (a later ``-c``/``--rootdir`` of theirs wins)."""
        args = ["-c", str(self.inifile), "--rootdir", str(self.rootdir)]
        if self.installed:
            # The rootdir is site-packages then: no .pytest_cache there (it may be read-only, and is shared).
            args += ["-p", "no:cacheprovider"]
        return args


def suite_run() -> SuiteRun:
    root = checkout()
    if root is not None:
        return SuiteRun(root / "tests", root, root / "pyproject.toml", installed=False)
    directory = _package_dir(SUITE_PACKAGE)
    ini = _package_dir("coder_tasks_contract") / SUITE_INI_NAME
    if not ini.is_file():
        raise ResourceError(f"{ini} is missing: reinstall {DISTRIBUTION}")
    return SuiteRun(directory, directory.parent, ini, installed=True)


def _package_dir(package: str) -> Path:
    """The folder of an installed package, found without importing it (importing the suite package would load
    the tests under a second module name)."""
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise ResourceError(f"package {package} is not installed: reinstall {DISTRIBUTION}")
    folder = Path(locations[0])
    if not folder.is_dir():  # e.g. a zipped install: the suite reads its files from the file system
        raise ResourceError(f"{package} is not a folder on disk ({folder}): install {DISTRIBUTION} unzipped")
    return folder
