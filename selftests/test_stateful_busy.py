"""The lifecycle walk's send tolerates exactly the level's agent-busy answer (SEND-4), and nothing else (issue 19).

A real AgentAPI may still be working on the previous input when the task is active (agentapi's statusLocked is
not ``stable`` while the outbound queue holds the initial prompt or the screen changes); Coder then refuses the
send with 502 "Task app is not ready to accept input." (409 since #23424). The walk sends again; any other answer
still meets the exact check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from coder_tasks_contract.generated.agentbusy import agent_busy, unless_agent_busy
from coder_tasks_contract.generated.linkwalk import exact_status
from coder_tasks_contract.spec import levels
from coder_tasks_contract.spec.vocabulary import APP_NOT_READY

OLD_BUSY = levels.get("82f").send_app_not_ready
NEW_BUSY = levels.get("newest").send_app_not_ready


@dataclass
class FakeResponse:
    status_code: int
    payload: Any = None

    def json(self) -> Any:
        if self.payload is None:
            raise ValueError("no JSON body")
        return self.payload


@dataclass
class FakeCase:
    method: str = "POST"
    formatted_path: str = "/api/experimental/tasks/me/t/send"


BUSY_BODY = {"message": APP_NOT_READY, "detail": "Status: running"}


def test_the_levels_busy_answers_are_502_before_newest_and_409_at_newest() -> None:
    assert (OLD_BUSY.status, NEW_BUSY.status) == (502, 409)


@pytest.mark.parametrize(
    ("refusal", "response", "busy"),
    [
        (OLD_BUSY, FakeResponse(502, BUSY_BODY), True),
        (NEW_BUSY, FakeResponse(409, BUSY_BODY), True),
        (NEW_BUSY, FakeResponse(502, BUSY_BODY), False),  # newest answering like 82f is a fault, not a busy agent
        (OLD_BUSY, FakeResponse(502, {"message": "Failed to reach task app endpoint."}), False),
        (NEW_BUSY, FakeResponse(409, {"message": "Task is paused."}), False),
        (OLD_BUSY, FakeResponse(502), False),  # no JSON body
        (OLD_BUSY, FakeResponse(204), False),
    ],
)
def test_only_the_levels_status_with_coders_message_is_a_busy_agent(
    refusal: levels.Refusal, response: FakeResponse, busy: bool
) -> None:
    assert agent_busy(refusal, response) is busy  # type: ignore[arg-type]


def test_a_busy_answer_passes_the_wrapped_check_and_any_other_still_meets_it() -> None:
    check = unless_agent_busy(NEW_BUSY, exact_status(204, "the task is active"))
    assert check(None, FakeResponse(409, BUSY_BODY), FakeCase()) is None  # type: ignore[arg-type]
    assert check(None, FakeResponse(204), FakeCase()) is None  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match="answered 409, expected 204"):
        check(None, FakeResponse(409, {"message": "Task is initializing."}), FakeCase())  # type: ignore[arg-type]
