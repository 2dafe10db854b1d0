"""The wheel, as a user gets it: built from this checkout, installed into a fresh virtual environment, used from a
directory outside the checkout, with nothing but the installed copy (issue 14).

The wheel is built once per session (``pip wheel --no-deps``, the Dockerfile's command) from a copy of the files it
is made of, so no ``build/`` folder appears in the shared checkout. The virtual environment gets the wheel with
``pip install --no-deps --no-index`` (offline); its dependencies come from the environment running these tests,
through a ``.pth`` file naming that environment's site-packages. A ``.pth`` line only adds a folder to ``sys.path``:
the editable install living there (its own ``.pth`` and import finder) is not activated, so ``coder_tasks_contract``
is found in the new environment's site-packages, from the wheel; a test asserts it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from coder_tasks_contract import resources

from .support import REPO_ROOT, clean_env

# What the wheel is built from (the Dockerfile copies the same).
SOURCES = ("pyproject.toml", "README.md", "src", "spec", "tests")
BUILD_TIMEOUT = 180


def _copy_sources(target: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".pytest_cache", ".hypothesis")
    target.mkdir()
    for name in SOURCES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of this checkout, built as the Dockerfile builds it."""
    root = tmp_path_factory.mktemp("wheel")
    sources = _copy_sources(root / "src-copy")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(root / "dist"), str(sources)],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-3000:]
    (found,) = (root / "dist").glob("coder_tasks_contract-*.whl")
    return found


@dataclass(frozen=True)
class Installed:
    """A fresh virtual environment holding the wheel, and an empty working directory outside the checkout."""

    venv: Path
    work: Path
    env: dict[str, str]

    def bin(self, name: str) -> str:
        return str(self.venv / ("Scripts" if os.name == "nt" else "bin") / name)

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args), cwd=self.work, env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )


@pytest.fixture(scope="session")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("installed")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(purelib) / "ctc-selftest-deps.pth").write_text("\n".join(sorted(deps)) + "\n", encoding="utf-8")
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    work = root / "work"
    work.mkdir()
    env = clean_env(HYPOTHESIS_PROFILE="ci")
    env.pop("PYTHONPATH", None)
    env["PATH"] = str(python.parent) + os.pathsep + env.get("PATH", "")
    return Installed(venv, work, env)


def _checkout_files(folder: str, pattern: str) -> dict[str, bytes]:
    root = REPO_ROOT / folder
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.glob(pattern)) if p.is_file()}


def _wheel_files(wheel: Path, package_dir: str) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as archive:
        prefix = package_dir + "/"
        return {
            name.removeprefix(prefix): archive.read(name)
            for name in archive.namelist()
            if name.startswith(prefix) and not name.endswith("/")
        }


def test_the_wheel_carries_the_spec_and_the_suite_as_they_are_in_the_checkout(wheel: Path) -> None:
    """Byte for byte: the wheel's documents are the top-level spec/, its suite the top-level tests/."""
    spec = _wheel_files(wheel, resources.SPEC_PACKAGE.replace(".", "/"))
    expected_spec = {**_checkout_files("spec", "*.yaml"), **_checkout_files("spec", "levels/*.yaml")}
    assert spec == expected_spec
    assert resources.BASE_SPEC_NAME in spec
    suite = _wheel_files(wheel, resources.SUITE_PACKAGE)
    expected_suite = {**_checkout_files("tests", "*.py"), **_checkout_files("tests", resources.UNREACHABLE_NAME)}
    assert suite == expected_suite
    assert resources.SUITE_INI_NAME in _wheel_files(wheel, "coder_tasks_contract")


def test_the_installed_copy_is_the_wheel_not_the_checkout(installed: Installed) -> None:
    probe = installed.run(
        installed.bin("python"),
        "-c",
        "import coder_tasks_contract as c, coder_tasks_contract.resources as r; "
        "print(c.__file__); print(r.checkout()); print(r.suite_dir()); print(c.__version__)",
    )
    assert probe.returncode == 0, probe.stderr
    package, checkout, suite, version = probe.stdout.split("\n")[:4]
    assert not Path(package).resolve().is_relative_to(REPO_ROOT.resolve())
    assert Path(package).resolve().is_relative_to(installed.venv.resolve())
    assert checkout == "None"
    assert Path(suite).name == resources.SUITE_PACKAGE
    assert version == _pyproject_version()


def _pyproject_version() -> str:
    text = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if line.startswith("version = "))
    return line.split('"')[1]


def test_run_passes_against_the_embedded_server_and_reports_where_it_was_started(installed: Installed) -> None:
    run = installed.run(installed.bin("coder-tasks-contract"), "run", timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    reports = installed.work / "reports"
    assert {"junit.xml", "report.html", "ledger.md", "ledger.json"} <= {p.name for p in reports.iterdir()}
    assert f"coder-tasks-contract: {_pyproject_version()}" in run.stdout  # the report header
    junit = (reports / "junit.xml").read_text(encoding="utf-8")
    assert f'name="coder_tasks_contract_version" value="{_pyproject_version()}"' in junit
    ledger = json.loads((reports / "ledger.json").read_text(encoding="utf-8"))
    assert ledger["run"]["spec"].endswith(resources.BASE_SPEC_NAME)
    assert "PytestAssertRewriteWarning" not in run.stdout + run.stderr


def test_fake_prints_the_seed_and_answers_buildinfo(installed: Installed) -> None:
    with subprocess.Popen(
        [installed.bin("coder-tasks-contract"), "fake", "--port", "0"],
        cwd=installed.work,
        env=installed.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as server:
        try:
            assert server.stdout is not None
            seed = json.loads(server.stdout.readline())
            with urllib.request.urlopen(seed["url"] + "/api/v2/buildinfo", timeout=10) as answer:
                info = json.load(answer)
            assert answer.status == 200
            assert info["version"].startswith("v2.")
            assert {"alice", "bob"} <= set(seed["users"])
        finally:
            server.terminate()
            server.wait(timeout=20)


def test_spec_prints_a_valid_openapi_document(installed: Installed) -> None:
    from openapi_spec_validator import validate

    printed = installed.run(installed.bin("coder-tasks-contract"), "spec", "--level", "newest")
    assert printed.returncode == 0, printed.stderr
    document = yaml.safe_load(printed.stdout)
    validate(document)
    assert "/api/v2/tasks" in document["paths"]  # the newest level's mount, from the packaged overlay
    written = installed.run(installed.bin("coder-tasks-contract"), "spec", "--level", "82f", "--output", "82f.json")
    assert written.returncode == 0, written.stderr
    validate(json.loads((installed.work / "82f.json").read_text(encoding="utf-8")))


def test_pytest_there_knows_the_suites_options(installed: Installed) -> None:
    """The pytest11 entry point: a plain ``pytest --help`` of the environment lists the plugin's options."""
    helped = installed.run(installed.bin("python"), "-m", "pytest", "--help")
    assert helped.returncode == 0, helped.stderr
    assert "Coder Tasks API contract" in helped.stdout
    assert "--base-url" in helped.stdout
    assert "--reports-dir" in helped.stdout


def test_bad_input_is_one_line_and_no_traceback(installed: Installed) -> None:
    bad = installed.run(installed.bin("coder-tasks-contract"), "spec", "--level", "v9")
    assert bad.returncode == 4
    assert bad.stderr.count("\n") == 1
    assert "Traceback" not in bad.stderr
    version = installed.run(installed.bin("coder-tasks-contract"), "--version")
    assert version.stdout.strip() == f"coder-tasks-contract {_pyproject_version()}"
