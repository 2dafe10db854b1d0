"""loader.load's memo of schemathesis' merged configuration: the same answers as schemathesis computes, once per
(operation, phase), forgotten when the configuration is updated."""

from __future__ import annotations

import pytest
import requests

from coder_tasks_contract import resources
from coder_tasks_contract.generated import loader
from coder_tasks_contract.spec import levels


@pytest.fixture(scope="module")
def schema() -> object:
    with requests.Session() as session:
        return loader.load(
            resources.base_spec(),
            level=levels.get("newest"),
            base_url="http://127.0.0.1:9",
            request_timeout=5,
            probe_session=session,
        )


def test_lookups_are_remembered_per_operation_and_phase(schema: object) -> None:
    config = schema.config  # type: ignore[attr-defined]
    send = schema.find_operation_by_id("sendTaskInputV2")  # type: ignore[attr-defined]
    pause = schema.find_operation_by_id("pauseTask")  # type: ignore[attr-defined]
    assert config.checks_config_for(operation=send, phase="fuzzing") is config.checks_config_for(
        operation=send, phase="fuzzing"
    )
    assert config.generation_for(operation=send, phase="coverage") is config.generation_for(
        operation=send, phase="coverage"
    )
    assert config.generation_for(operation=send, phase="coverage") is not config.generation_for(
        operation=send, phase="fuzzing"
    )
    # The per-operation statuses of checks_table still reach each operation (level newest: send's busy 409).
    accepted = config.checks_config_for(operation=send).positive_data_acceptance.expected_statuses
    assert {"204", "404", "409"} <= {str(status) for status in accepted}
    assert "409" in {
        str(s) for s in config.checks_config_for(operation=pause).positive_data_acceptance.expected_statuses
    }
    assert config.checks_config_for(operation=send) is not config.checks_config_for(operation=pause)


def test_an_update_forgets_what_was_remembered(schema: object) -> None:
    config = schema.config  # type: ignore[attr-defined]
    send = schema.find_operation_by_id("sendTaskInput")  # type: ignore[attr-defined]
    first = config.generation_for(operation=send, phase="fuzzing")
    assert config.generation_for(operation=send, phase="fuzzing") is first
    config.update(request_timeout=6)
    assert config.generation_for(operation=send, phase="fuzzing") is not first
    assert config.request_timeout_for() == 6


def test_docs_checks_md_is_the_rendering_of_the_check_table(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/checks.md is rendered from checks_table.py: --check passes on the committed file."""
    from coder_tasks_contract.generated import checks_doc

    assert checks_doc.main(["--check"]) == 0, capsys.readouterr().err
