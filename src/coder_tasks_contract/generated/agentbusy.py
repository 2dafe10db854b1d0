"""Sending to a task's agent while it may still be busy: what the lifecycle walk waits out before a send (SEND-4).

An active task's AgentAPI may still be working on the previous input (its initial prompt, straight after the task
became active). Coder then refuses a send with the level's busy answer: coderd/aitasks.go taskSend answers 502
"Task app is not ready to accept input." unless the AgentAPI status is ``stable`` (409 since #23424). That answer,
and only it, is a transitional state the walk accepts and waits out (issue 19).
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from schemathesis.core.transport import Response
from schemathesis.generation.case import Case

from coder_tasks_contract.generated.checks import CheckFunction
from coder_tasks_contract.spec import levels
from coder_tasks_contract.transport import paths


def agent_busy(refusal: levels.Refusal, response: Response) -> bool:
    """Whether ``response`` is the level's answer to a send while the task's AgentAPI is not ``stable`` (SEND-4:
    coderd/aitasks.go taskSend answers 502 "Task app is not ready to accept input.", 409 since #23424)."""
    if response.status_code != refusal.status:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("message") == refusal.message


def unless_agent_busy(refusal: levels.Refusal, check: CheckFunction) -> CheckFunction:
    """``check``, except that the level's agent-busy answer to a send passes (the walk then sends again)."""

    def check_unless_agent_busy(ctx: Any, response: Response, case: Case[Any]) -> bool | None:
        if agent_busy(refusal, response):
            return None
        return check(ctx, response, case)

    return check_unless_agent_busy


def wait_agent_idle(client: httpx.Client, task: dict[str, Any], timeout: float) -> None:
    """Poll the task's logs until the agent has answered the last input (its AgentAPI is ``stable`` again, SEND-4).

    A send while the agent still works answers the level's busy status; the walk wants the 204. Only a hint: a real
    AgentAPI starts with an empty agent message and rewrites the last agent message in place while it works
    (agentapi lib/screentracker/pty_conversation.go, updateLastAgentMessageLocked and statusLocked), so "the last
    entry is output" does not mean ``stable``; :meth:`linkwalk.LinkWalk.follow` waits for the send itself
    (``until_idle``).
    Gives up silently at the deadline (the send then shows what the server says).
    """
    deadline = time.monotonic() + timeout
    pause = 0.05
    url = paths.task_path("me", str(task["id"]), "/logs")
    while time.monotonic() < deadline:
        response = client.get(url)
        logs = response.json().get("logs", []) if response.status_code == 200 else []
        if response.status_code != 200 or not logs or logs[-1].get("type") == "output":
            return
        time.sleep(pause)
        pause = min(pause * 2, 2.0)
