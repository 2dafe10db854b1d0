"""Options: command line > environment > default, parsed once; a bad value stops the run with one line (exit 4)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from .support import clean_env, run_pytest

SHOW_SETTINGS = """
    import json
    from dataclasses import asdict
    from coder_tasks_contract.plugin.runstate import run_state

    def test_show(request):
        state = run_state(request.config)
        s = state.settings
        values = {k: (None if v is None else str(v)) for k, v in vars(s).items()}
        values["run_id"] = state.run_id
        print("SETTINGS=" + json.dumps(values))
"""


def settings_of(project: Path, *args: str, **env: str) -> dict[str, str | None]:
    run = run_pytest("-s", "-q", *args, cwd=project, env=clean_env(**env))
    assert run.ret == 0, run.output
    (line,) = run.lines_with("SETTINGS=")
    values: dict[str, str | None] = json.loads(line.split("SETTINGS=", 1)[1])
    return values


def test_command_line_beats_environment_beats_default(mini_suite: Callable[[str], Path]) -> None:
    project = mini_suite(SHOW_SETTINGS)
    defaults = settings_of(project)
    assert defaults["max_tasks"] == "60"
    assert defaults["request_timeout"] == "30.0"
    assert defaults["read_only"] == "False"
    assert defaults["base_url"] is None
    from_env = settings_of(project, CODER_TASKS_MAX_TASKS="7", CODER_TASKS_READ_ONLY="yes")
    assert (from_env["max_tasks"], from_env["read_only"]) == ("7", "True")
    both = settings_of(project, "--max-tasks", "3", "--request-timeout", "2.5", CODER_TASKS_MAX_TASKS="7")
    assert (both["max_tasks"], both["request_timeout"]) == ("3", "2.5")


def test_read_only_is_a_switch_and_run_label_names_the_run(mini_suite: Callable[[str], Path]) -> None:
    project = mini_suite(SHOW_SETTINGS)
    values = settings_of(project, "--read-only", "--run-label", "Nightly42")
    assert values["read_only"] == "True"
    assert values["run_id"] == "nightly42"


def test_run_id_is_random_without_a_label(mini_suite: Callable[[str], Path]) -> None:
    project = mini_suite(SHOW_SETTINGS)
    first, second = settings_of(project)["run_id"], settings_of(project)["run_id"]
    assert first != second
    assert first is not None
    assert first.isalnum()
    assert len(first) == 6


def test_tokens_are_held_as_secrets(mini_suite: Callable[[str], Path]) -> None:
    project = mini_suite(SHOW_SETTINGS)
    values = settings_of(
        project, "--base-url", "http://127.0.0.1:9", CODER_SESSION_TOKEN="abcdefghij-0123456789abcdefghijkl"
    )
    assert values["session_token"] == "Secret('****')"
    assert values["base_url"] == "http://127.0.0.1:9"


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        pytest.param(
            ["--max-tasks", "0"], {}, "--max-tasks='0': must be a whole number greater than 0", id="max-tasks-0"
        ),
        pytest.param([], {"CODER_TASKS_MAX_TASKS": "many"}, "CODER_TASKS_MAX_TASKS='many'", id="max-tasks-env"),
        pytest.param(["--request-timeout", "-1"], {}, "--request-timeout='-1': must be greater than 0", id="timeout"),
        pytest.param(["--base-url", "ftp://example.com"], {}, "must be an http:// or https:// URL", id="url-scheme"),
        pytest.param(["--base-url", "https://coder.example.com/api/v2"], {}, "deployment root", id="url-path"),
        pytest.param(["--run-label", "no-hyphens"], {}, "1-12 ASCII letters or digits", id="run-label"),
        pytest.param(
            ["--base-url", "http://127.0.0.1:9", "--template-version-id", "latest"], {}, "must be a UUID", id="tv-id"
        ),
        pytest.param([], {"CODER_TASKS_READ_ONLY": "maybe"}, "CODER_TASKS_READ_ONLY='maybe'", id="read-only-env"),
        pytest.param(
            ["--session-token", "abcdefghij-0123456789abcdefghijkl"], {}, "given without --base-url", id="token-no-url"
        ),
        pytest.param(
            ["--base-url", "http://127.0.0.1:9"],
            {"CODER_SESSION_TOKEN": "two words"},
            "CODER_SESSION_TOKEN=****",
            id="token-hidden",
        ),
    ],
)
def test_bad_value_is_a_one_line_usage_error(
    mini_suite: Callable[[str], Path], args: list[str], env: dict[str, str], expected: str
) -> None:
    project = mini_suite("def test_never():\n    raise AssertionError('must not run')\n")
    run = run_pytest(*args, cwd=project, env=clean_env(**env))
    assert run.ret == pytest.ExitCode.USAGE_ERROR, run.output
    errors = run.lines_with("ERROR:")
    assert len(errors) == 1, run.output
    assert expected in errors[0]
    assert "Traceback" not in run.output
    assert "two words" not in run.output


def test_another_projects_run_keeps_its_own_hypothesis_profile(tmp_path: Path) -> None:
    """The entry point loads the plugin into every pytest run where the package is installed: a project that is not
    a contract suite keeps its own HYPOTHESIS_PROFILE (an unknown name to us is not a usage error there)."""
    (tmp_path / "test_theirs.py").write_text(
        "from hypothesis import settings\n\n"
        "def test_profile():\n"
        "    # Hypothesis' own default or ci profile (it loads ci itself under CI): 100 examples, not our budget\n"
        "    assert settings.default.max_examples == 100\n"
    )
    run = run_pytest(tmp_path.as_posix(), cwd=tmp_path, env=clean_env(HYPOTHESIS_PROFILE="theirs"))
    assert run.ret == 0, run.output
    assert not run.lines_with("coder target:")  # nor does the contract's report header show up there
