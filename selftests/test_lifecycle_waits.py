"""Lifecycle waits end with a verdict as soon as one is due (issue: a server answering ``status: running`` made a run
sit until the 600 s deployment timeout). The target here is a scripted sequence of task answers served through
httpx's transport hook; the code under test is the suite's real ``lifecycle`` module, on a fake clock."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from coder_tasks_contract.spec import task_shape
from coder_tasks_contract.transport import polling

BASE = "http://coder.test"


def _task(status: str, workspace_status: str = "running", **changes: Any) -> dict[str, Any]:
    """A Task body that conforms to the 82f document, in ``status``."""
    task: dict[str, Any] = {
        "id": "6f0b6d4e-3c2a-4f43-9d7e-0a1b2c3d4e5f",
        "organization_id": "0b7c5a11-1111-4222-8333-944455556666",
        "owner_id": "1c7c5a11-1111-4222-8333-944455556666",
        "owner_name": "alice",
        "name": "ctc-run-1",
        "template_id": "2c7c5a11-1111-4222-8333-944455556666",
        "template_version_id": "3c7c5a11-1111-4222-8333-944455556666",
        "template_name": "ai",
        "template_display_name": "AI",
        "template_icon": "",
        "workspace_id": "4c7c5a11-1111-4222-8333-944455556666",
        "workspace_name": "ctc-run-1",
        "workspace_status": workspace_status,
        "workspace_build_number": 1,
        "workspace_agent_id": None,
        "workspace_agent_lifecycle": None,
        "workspace_agent_health": None,
        "workspace_app_id": None,
        "initial_prompt": "hello",
        "status": status,
        "current_state": None,
        "created_at": "2026-12-04T10:00:00Z",
        "updated_at": "2026-12-04T10:00:00Z",
    }
    task.update(changes)
    return task


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _client(answers: list[tuple[int, Any]]) -> httpx.Client:
    """A client whose GETs get ``answers`` in order (the last one repeats)."""
    queue = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        status, body = queue.pop(0) if len(queue) > 1 else queue[0]
        return httpx.Response(status, json=copy.deepcopy(body))

    return httpx.Client(base_url=BASE, transport=httpx.MockTransport(handle))


@pytest.fixture(autouse=True)
def _judge_by_82f() -> Iterator[None]:
    polling.judge_polls_by(task_shape.for_level("82f"))
    yield
    polling.judge_polls_by(None)


def _wait(answers: list[tuple[int, Any]], statuses: set[str], clock: FakeClock, timeout: float = 600) -> Any:
    return polling.poll_task(
        _client(answers),
        _task("initializing"),
        lambda current: current.get("status") in statuses,
        timeout=timeout,
        waiting_for="status " + "/".join(sorted(statuses)),
        hopeless=polling.cannot_become(frozenset(statuses), grace=10),
        clock=clock,
        sleep=clock.sleep,
    )


def test_a_conforming_task_reaching_the_status_ends_the_wait() -> None:
    clock = FakeClock()
    answers = [(200, _task("initializing", "starting")), (200, _task("active"))]
    assert _wait(answers, {"active"}, clock)["status"] == "active"


def test_an_undocumented_status_fails_at_the_first_poll_naming_the_schema() -> None:
    clock = FakeClock()
    with pytest.raises(polling.LifecycleError, match=r"SCHEMA-1.*status: 'running' is not one of"):
        _wait([(200, _task("running"))], {"active"}, clock)
    assert clock.now == 0.0  # no second poll, no sleep: the verdict is immediate


def test_an_undocumented_current_state_fails_at_once() -> None:
    clock = FakeClock()
    state = {"state": "thinking", "message": "", "uri": "", "timestamp": "2026-12-04T10:00:00Z"}
    with pytest.raises(polling.LifecycleError, match="current_state"):
        _wait([(200, _task("active", current_state=state))], {"paused"}, clock)
    assert clock.now == 0.0


def test_unknown_with_no_build_running_fails_after_the_grace() -> None:
    clock = FakeClock()
    with pytest.raises(polling.LifecycleError, match=r"STATUS-6"):
        _wait([(200, _task("unknown", "running"))], {"active"}, clock)
    assert 10 <= clock.now < 15  # given the grace, then no longer: not the 600 s timeout


def test_unknown_while_a_stop_build_runs_is_waited_through() -> None:
    clock = FakeClock()
    answers = [(200, _task("unknown", "stopping"))] * 30 + [(200, _task("paused", "stopped"))]
    assert _wait(answers, {"paused"}, clock)["status"] == "paused"


def test_error_after_a_failed_build_fails_at_once_unless_awaited() -> None:
    clock = FakeClock()
    with pytest.raises(polling.LifecycleError, match=r"build failed.*STATUS-3"):
        _wait([(200, _task("error", "failed"))], {"active"}, clock)
    assert clock.now == 0.0
    assert _wait([(200, _task("error", "failed"))], {"error"}, clock)["status"] == "error"


def test_error_from_an_unhealthy_app_is_waited_through() -> None:
    """STATUS-3/STATUS-5: with the workspace running, error comes from the app stage and turns active again when the
    app recovers: a healthy deployment whose app health flickers must not fail the wait."""
    clock = FakeClock()
    answers = [(200, _task("error", "running"))] * 20 + [(200, _task("active", "running"))]
    assert _wait(answers, {"active"}, clock)["status"] == "active"


def test_a_task_that_disappears_fails_at_once() -> None:
    clock = FakeClock()
    with pytest.raises(polling.LifecycleError, match="GET answered 404"):
        _wait([(404, {"message": "Resource not found or you do not have access to this resource"})], {"active"}, clock)


def test_a_timeout_names_the_last_state_and_how_long_it_held() -> None:
    clock = FakeClock()
    answers = [(200, _task("pending", "pending"))] * 3 + [(200, _task("initializing", "starting"))]
    with pytest.raises(polling.LifecycleError) as caught:
        _wait(answers, {"active"}, clock, timeout=30)
    message = str(caught.value)
    assert "status 'initializing' (workspace 'starting')" in message
    held = float(message.split("for the last ")[1].split("s)")[0])
    assert 0 < held < 30  # the state changed after the first polls, so it held for less than the whole wait
