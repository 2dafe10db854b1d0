"""The contract suite judged by levels, end to end: it passes against the reference server at every level (the level
detected from the server's version), and it fails, naming the test, when a server of one level is judged by the
contract of another where the two differ. The real suite runs in a subprocess, aimed at a reference server on a
loopback socket like at a deployment (tokens in CODER_* variables, never on the command line)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from coder_tasks_contract.server.runner import start_reference_server
from coder_tasks_contract.spec import levels

from .support import Run, clean_env, run_pytest

LEVEL_NAMES = [level.name for level in levels.LEVELS]
# The tests where the levels differ on reads and on the routes served (cheap: one shared task per run).
DIFFERENCES = "unknown_user_segment or each_mount_of_the_level or the_level_lacks"


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, Any]]:
    """One reference server per level, for the whole module."""
    started = {name: start_reference_server(coder_version=name) for name in LEVEL_NAMES}
    yield started
    for server in started.values():
        server.stop()


def _env(server: Any) -> dict[str, str]:
    seed = server.seed
    return clean_env(
        CODER_URL=seed.url,
        CODER_SESSION_TOKEN=seed.users["alice"].token,
        CODER_SECOND_SESSION_TOKEN=seed.users["bob"].token,
        CODER_TEMPLATE_VERSION_ID=str(seed.template_versions["ai_task"]),
        CODER_NON_TASK_TEMPLATE_VERSION_ID=str(seed.template_versions["no_ai_task"]),
    )


def _suite(server: Any, tmp_path: Path, *args: str) -> Run:
    return run_pytest("tests", "-rfEs", f"--reports-dir={tmp_path}", *args, env=_env(server), timeout=600)


def _failed(run: Run) -> list[str]:
    """Tests that failed, or errored in a fixture (a lifecycle wait judges every poll by the level's Task schema, so a
    wrong level can show first in a shared task's setup)."""
    return [line.split()[1] for line in run.output.splitlines() if line.startswith(("FAILED ", "ERROR "))]


@pytest.mark.parametrize("name", LEVEL_NAMES)
def test_the_suite_passes_against_the_reference_server_at_every_level(
    servers: dict[str, Any], tmp_path: Path, name: str
) -> None:
    """No --coder-version: the level comes from the server's buildinfo version, and the header says so. The whole
    suite runs, the generated tests included (they load the level's document, levels.build_spec)."""
    run = _suite(servers[name], tmp_path, "-x")
    assert run.ret == 0, run.output[-3000:]
    header = next(line for line in run.output.splitlines() if line.startswith("coder contract level:"))
    assert f"judged as {name} ({levels.get(name).build_version}" in header, header
    assert "passed" in run.output.splitlines()[-1]


# (server level, judged as, a test that must fail, why)
MISJUDGED = [
    ("82f", "2.29", "test_each_mount_of_the_level_serves_the_same_tasks[v2]", "no /api/v2/tasks at 82f"),
    ("82f", "newest", "test_unknown_user_segment_answers_404_not_found", "82f answers 400 for an unknown user"),
    ("2.29", "82f", "test_mounts_and_routes_the_level_lacks_are_not_routed", "2.29 serves /api/v2/tasks"),
    ("2.29", "newest", "test_unknown_user_segment_answers_404_not_found", "2.29 answers 400 for an unknown user"),
    ("newest", "82f", "test_unknown_user_segment_answers_400_with_user_message", "newest answers 404"),
    ("newest", "2.29", "test_mounts_and_routes_the_level_lacks_are_not_routed", "newest serves pause and resume"),
]


@pytest.mark.parametrize(
    ("server_level", "judged_as", "failing", "why"),
    [pytest.param(*case, id=f"{case[0]}-judged-as-{case[1]}") for case in MISJUDGED],
)
def test_a_server_judged_by_another_levels_contract_fails(
    servers: dict[str, Any], tmp_path: Path, server_level: str, judged_as: str, failing: str, why: str
) -> None:
    run = _suite(servers[server_level], tmp_path, "-k", DIFFERENCES, "--coder-version", judged_as)
    assert run.ret == 1, f"{why}, yet the run did not fail:\n{run.output[-3000:]}"
    assert any(failing in test for test in _failed(run)), (why, _failed(run))
    assert f"judged as {judged_as} (forced by --coder-version)" in run.output


@pytest.mark.parametrize("name", LEVEL_NAMES)
def test_the_difference_slice_passes_when_the_level_is_right(
    servers: dict[str, Any], tmp_path: Path, name: str
) -> None:
    """The control of the test above: the same slice, judged by the server's own level, passes."""
    run = _suite(servers[name], tmp_path, "-k", DIFFERENCES, "--coder-version", name)
    assert run.ret == 0, run.output[-3000:]


def test_an_unknown_coder_version_is_a_usage_error_naming_the_levels(servers: dict[str, Any], tmp_path: Path) -> None:
    run = _suite(servers["82f"], tmp_path, "--coder-version", "v2.27.0")
    assert run.ret == 4, run.output  # pytest's usage error
    assert "--coder-version='v2.27.0': is not a contract level: pass one of 82f, 2.29, newest" in run.output
    assert "Traceback" not in run.output


def test_the_embedded_server_emulates_the_chosen_level() -> None:
    """Without --base-url, --coder-version also picks what the embedded reference server emulates."""
    run = run_pytest("tests", "-k", "nothing_matches_this", "--coder-version", "newest")
    assert run.ret == 5, run.output  # nothing selected
    assert f"server version {levels.LEVEL_NEWEST.build_version}" in run.output
    assert "/api/experimental/tasks, /api/v2/tasks" in run.output
    assert "judged as newest (forced by --coder-version)" in run.output
