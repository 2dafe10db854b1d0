"""Delivery beyond the wheel: the GitHub Action runs the suite and keeps its reports, the container image is built
from exactly the wheel's sources, and the CI examples use the action or the wheel the way the README says."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]

# -- the GitHub Action ------------------------------------------------------------------------------------------------
ACTION = REPO / "action.yml"
SECRET_INPUTS = {"session-token": "CODER_SESSION_TOKEN", "second-session-token": "CODER_SECOND_SESSION_TOKEN"}


def _action() -> dict[str, Any]:
    import yaml

    return dict(yaml.safe_load(ACTION.read_text(encoding="utf-8")))


def _steps() -> dict[str, dict[str, Any]]:
    return {step.get("name", step.get("uses")): step for step in _action()["runs"]["steps"]}


def test_the_action_is_a_complete_composite_action() -> None:
    action = _action()
    assert {"name", "description", "inputs", "outputs", "runs"} <= set(action)
    assert action["runs"]["using"] == "composite"
    for step in action["runs"]["steps"]:
        assert "uses" in step or step.get("shell") == "bash", step  # a composite run step must name its shell
    for name, spec in action["inputs"].items():
        assert spec.get("description"), name
    text = ACTION.read_text(encoding="utf-8").split("\nruns:", 1)[1]
    unused = [name for name in action["inputs"] if not re.search(rf"inputs\.{re.escape(name)}\b(?!-)", text)]
    assert not unused, f"inputs never used: {unused}"


def test_the_action_never_expands_an_input_or_a_token_in_a_script() -> None:
    """Inputs reach scripts only as environment variables (no ${{ }} in a run: script, so nothing is injected), and
    no script mentions a token's variable (so none can print it)."""
    for name, step in _steps().items():
        script = step.get("run")
        if script is None:
            continue
        assert "${{" not in script, name
        for variable in SECRET_INPUTS.values():
            assert variable not in script, f"step {name!r} mentions {variable}"
    env = _steps()["Contract suite"]["env"]
    for name, variable in SECRET_INPUTS.items():
        assert env[variable] == "${{ inputs." + name + " }}"


def test_the_action_keeps_the_reports_and_the_summary_when_the_suite_fails() -> None:
    steps = _steps()
    upload = steps["Keep the reports"]
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["if"] == "${{ !cancelled() }}"
    assert upload["with"]["path"] == "${{ inputs.reports-dir }}"
    summary = steps["Coverage ledger into the job summary"]
    assert summary["if"] == "${{ !cancelled() }}"
    assert "$GITHUB_STEP_SUMMARY" in summary["run"]
    for output in _action()["outputs"].values():
        key = re.fullmatch(r"\$\{\{ steps\.run\.outputs\.([a-z-]+) \}\}", output["value"])
        assert key is not None, output
        assert f"{key[1]}=" in steps["Contract suite"]["run"] or f'"{key[1]}"' in steps["Contract suite"]["run"]


def _run_step(name: str, tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """Run one of the action's bash steps here, as the runner would (GitHub's bash options), with the suite of
    this checkout's environment on PATH; returns the result and the outputs the step wrote."""
    from .support import clean_env

    outputs = tmp_path / "github_output"
    outputs.touch()
    step_env = clean_env(GITHUB_OUTPUT=str(outputs), GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"), **env)
    step_env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + step_env.get("PATH", "")
    script = tmp_path / "step.sh"
    script.write_text(_steps()[name]["run"], encoding="utf-8")
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=tmp_path,
        env=step_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    written = dict(line.split("=", 1) for line in outputs.read_text(encoding="utf-8").splitlines() if "=" in line)
    return done, written


def _step_env(reports: str, **inputs: str) -> dict[str, str]:
    """The run step's environment as the action maps it, for inputs left at their defaults unless given."""
    env = {"CODER_URL": "", "CODER_SESSION_TOKEN": "", "CODER_SECOND_SESSION_TOKEN": "", "HYPOTHESIS_PROFILE": "ci"}
    env.update(CTC_REPORTS_DIR=reports, CTC_PYTEST_ARGS="", CODER_TASKS_READ_ONLY="false", CODER_TASKS_RUN_LABEL="gh1")
    env.update(inputs)
    return env


@pytest.mark.skipif(shutil.which("bash") is None, reason="the action's steps are bash scripts")
def test_the_actions_steps_run_the_suite_and_write_outputs_and_the_summary(tmp_path: Path) -> None:
    args = '-k "test_list_answers_200 or test_invalid_query" -p no:cacheprovider'
    done, outputs = _run_step("Contract suite", tmp_path, **_step_env("out/reports", CTC_PYTEST_ARGS=args))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert outputs["exit-code"] == "0"
    assert int(outputs["tests"]) > 0
    assert outputs["failures"] == outputs["errors"] == "0"
    assert outputs["ledger"] == "out/reports/ledger.md"
    assert (tmp_path / outputs["ledger"]).is_file()
    done, _ = _run_step("Coverage ledger into the job summary", tmp_path, CTC_REPORTS_DIR="out/reports")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "summary.md").read_text(encoding="utf-8").startswith("# API coverage ledger")


@pytest.mark.skipif(shutil.which("bash") is None, reason="the action's steps are bash scripts")
def test_the_actions_run_step_fails_with_the_suites_code_and_still_writes_outputs(tmp_path: Path) -> None:
    from .support import closed_port_url

    token = "sentinel-token-of-the-action-test"
    env = _step_env("reports", CODER_URL=closed_port_url(), CODER_SESSION_TOKEN=token)
    done, outputs = _run_step("Contract suite", tmp_path, **env)
    assert done.returncode == 10, done.stdout[-2000:] + done.stderr[-2000:]  # preflight: target unusable
    assert outputs["exit-code"] == "10"
    assert outputs["errors"] == "1"  # the preflight testcase of junit.xml
    assert token not in done.stdout + done.stderr


# -- the container image -----------------------------------------------------------------------------------------------
def _dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = (REPO / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_the_image_builds_the_wheel_as_the_selftest_does_and_runs_as_a_user_with_a_reports_volume() -> None:
    instructions = _dockerfile()
    runs = [args for kind, args in instructions if kind == "RUN"]
    assert any("python -m pip wheel --no-deps" in run for run in runs)  # as selftests/test_wheel.py builds it
    assert ("ENTRYPOINT", '["coder-tasks-contract"]') in instructions
    assert ("VOLUME", '["/reports"]') in instructions
    users = [args for kind, args in instructions if kind == "USER"]
    assert users
    assert users[-1] not in ("root", "0")
    env = " ".join(args for kind, args in instructions if kind == "ENV")
    assert "CODER_TASKS_REPORTS_DIR=/reports" in env
    # The suite travels inside the wheel (as SUITE_PACKAGE): the final stage copies nothing but the wheel.
    final = instructions[max(i for i, (kind, _) in enumerate(instructions) if kind == "FROM") :]
    assert [args for kind, args in final if kind == "COPY"] == ["--from=wheel /wheels/ /wheels/"]


def _copied_names(instructions: list[tuple[str, str]]) -> set[str]:
    names: set[str] = set()
    for kind, args in instructions:
        if kind == "COPY" and "--from" not in args:
            names.update(part.rstrip("/") for part in args.split()[:-1])
    return names


def test_the_image_copies_exactly_what_the_wheel_is_built_from() -> None:
    from .test_wheel import SOURCES

    assert _copied_names(_dockerfile()) == set(SOURCES)
    allowed = {
        line[1:].rstrip("/")
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.startswith("!")
    }
    assert allowed == set(SOURCES)


# -- the CI examples ---------------------------------------------------------------------------------------------------
EXAMPLES = REPO / "examples" / "ci"


def test_the_github_example_uses_the_action_with_its_inputs_and_the_secrets() -> None:
    import yaml

    workflow = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text(encoding="utf-8"))
    steps = {step.get("name"): step for step in workflow["jobs"]["contract"]["steps"]}
    contract = steps["Contract suite"]
    assert contract["uses"].split("@")[0].endswith("/coder-tasks-contract")
    assert set(contract["with"]) <= set(_action()["inputs"])
    for name, variable in {
        **SECRET_INPUTS,
        "url": "CODER_URL",
        "template-version-id": "CODER_TEMPLATE_VERSION_ID",
    }.items():
        assert contract["with"][name] == "${{ secrets." + variable + " }}"
    assert steps["Publish JUnit results"]["if"] == "${{ !cancelled() }}"
    assert steps["Publish JUnit results"]["with"]["report_paths"] == "reports/junit.xml"
    assert "actions/checkout" not in str(workflow)  # no copy of the suite in the user's repository
    assert "pull_request" not in workflow[True]  # YAML 1.1 reads the key `on` as True


def test_the_gitlab_example_installs_the_wheel_runs_one_command_and_keeps_reports() -> None:
    import yaml

    from coder_tasks_contract.plugin.options import OPTIONS

    job = yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text(encoding="utf-8"))["coder-tasks-contract"]
    assert job["script"] == ['python -m pip install "$SUITE_WHEEL"', "coder-tasks-contract run"]
    assert job["variables"]["SUITE_WHEEL"].endswith(".whl")
    suite_variables = set(job["variables"]) - {"PIP_CACHE_DIR", "SUITE_WHEEL"}
    assert suite_variables <= {option.env for option in OPTIONS} | {"HYPOTHESIS_PROFILE"}
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["paths"] == ["reports/"]
    assert job["artifacts"]["reports"]["junit"] == "reports/junit.xml"
