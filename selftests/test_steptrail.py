"""The step trail a failed state-machine scenario carries (issue 19): each request with its answer, where tasks
were brought, the state each task was last seen in, and the replay command, added once as a note."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from coder_tasks_contract.generated.steptrail import TRAIL_EXCERPT, StepTrail


@dataclass
class FakeCase:
    method: str
    formatted_path: str
    body: Any = None
    path_parameters: dict[str, str] | None = None


@dataclass
class FakeResponse:
    status_code: int
    payload: Any = None

    @property
    def content(self) -> bytes:
        return b"" if self.payload is None else json.dumps(self.payload).encode()

    def json(self) -> Any:
        return self.payload


TASK = {"id": "AB-1", "name": "ctc-x-1", "status": "active", "workspace_status": "running"}


def _trail() -> StepTrail:
    trail = StepTrail(replay="pytest 'tests/test_stateful.py::test_links_state_machine' --hypothesis-seed=7")
    trail.request(FakeCase("POST", "/api/experimental/tasks/me", {"input": "hi"}), FakeResponse(201, TASK))  # type: ignore[arg-type]
    trail.brought({**TASK, "status": "paused", "workspace_status": "stopped"}, "paused")
    trail.request(FakeCase("GET", "/api/experimental/tasks"), FakeResponse(200, {"tasks": [TASK], "count": 1}))  # type: ignore[arg-type]
    trail.request(FakeCase("DELETE", "/api/experimental/tasks/me/AB-1"), FakeResponse(409, {"message": "busy"}))  # type: ignore[arg-type]
    return trail


def test_the_note_lists_every_request_with_its_answer_in_order() -> None:
    lines = _trail().note().splitlines()
    assert lines[0] == "Steps of the failing scenario (3 requests):"
    assert lines[1] == (
        "1. POST /api/experimental/tasks/me {\"input\": \"hi\"} -> 201 task status 'active', workspace 'running'"
    )
    assert lines[2] == "   (task ctc-x-1 brought to paused: status 'paused', workspace 'stopped')"
    assert lines[3] == "2. GET /api/experimental/tasks -> 200 1 task(s)"
    assert lines[4] == '3. DELETE /api/experimental/tasks/me/AB-1 -> 409 {"message": "busy"}'


def test_the_note_ends_with_each_tasks_last_seen_state_and_the_replay_command() -> None:
    note = _trail().note()
    # The task was last seen paused (when it was brought there), not active as the create answered.
    assert "Tasks as the run last saw them:\n  ab-1: status 'paused', workspace 'stopped'" in note
    assert note.endswith("Replay: pytest 'tests/test_stateful.py::test_links_state_machine' --hypothesis-seed=7")


def test_a_task_deleted_in_the_scenario_is_last_seen_deleted() -> None:
    trail = _trail()
    deleted = FakeCase("DELETE", "/api/experimental/tasks/me/AB-1", path_parameters={"task": "AB-1"})
    trail.request(deleted, FakeResponse(202))  # type: ignore[arg-type]
    assert trail.lines[-1] == "4. DELETE /api/experimental/tasks/me/AB-1 -> 202"
    assert "  ab-1: deleted (202)" in trail.note()


def test_long_bodies_are_cut() -> None:
    trail = StepTrail()
    trail.request(FakeCase("POST", "/x", {"input": "a" * 1000}), FakeResponse(400, {"message": "b" * 1000}))  # type: ignore[arg-type]
    (line,) = trail.lines
    assert line.count("...") == 2
    assert len(line) < 2 * TRAIL_EXCERPT + 40


def test_the_trail_is_attached_to_an_exception_once() -> None:
    error = AssertionError("boom")
    trail = _trail()
    trail.attach(error)
    trail.attach(error)  # the same exception passing a second handler
    assert getattr(error, "__notes__", []) == [trail.note()]
