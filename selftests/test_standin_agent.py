"""The template's stand-in agent (examples/coder-template/standin_agent.py) gives the AgentAPI answers that the
reference server models (server/domain/agentapi.py) and that Coder's task endpoints read (coderd/aitasks.go:
``taskSend`` wants ``GET /status`` = ``stable`` before ``POST /message``; ``taskLogs`` maps ``GET /messages`` roles
``user``/``agent`` to log types ``input``/``output``).

Each test runs the script as a real subprocess on a free loopback port and talks to it over HTTP. Where the real
AgentAPI (coder/agentapi 00ff7ffd) does more than the model (a first agent message, trimming the input), the test
says so.
"""

from __future__ import annotations

import select
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from coder_tasks_contract.server.api.render import log_entry_json
from coder_tasks_contract.server.domain.agentapi import AgentAPI, Message, agent_reply

SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "coder-template" / "standin_agent.py"
NOT_STABLE = "failed to send message: message can only be sent when the agent is waiting for user input"

Start = Callable[..., httpx.Client]


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[Start]:
    """Start the stand-in agent with extra arguments (port 0: the OS picks a free one); stopped after the test."""
    processes: list[subprocess.Popen[str]] = []
    clients: list[httpx.Client] = []

    def start(*args: str) -> httpx.Client:
        command = [sys.executable, str(SCRIPT), "--host", "127.0.0.1", "--port", "0", *args]
        process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        processes.append(process)
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 5)
        line = process.stdout.readline() if ready else ""
        assert line.startswith("standin_agent: listening on http://127.0.0.1:"), (line, process.poll())
        client = httpx.Client(base_url=line.split(" on ", 1)[1].strip(), timeout=5)
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.close()
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def status(client: httpx.Client) -> str:
    response = client.get("/status")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"status", "agent_type", "transport"}, body  # agentapi StatusResponse.Body
    return str(body["status"])


def wait_stable(client: httpx.Client, timeout: float = 5) -> float:
    """Poll ``/status`` until ``stable``; the seconds it took. Fails if it never gets there."""
    started = time.monotonic()
    while status(client) != "stable":
        assert time.monotonic() - started < timeout, "the agent never returned to stable"
        time.sleep(0.05)
    return time.monotonic() - started


def messages(client: httpx.Client) -> list[Message]:
    """``GET /messages`` as the model's messages (AgentAPI's Message: id, content, role, RFC 3339 time)."""
    response = client.get("/messages")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["messages"]
    for item in items:
        assert set(item) == {"id", "content", "role", "time"}, item
    return [Message(m["id"], m["role"], m["content"], parse_time(m["time"])) for m in items]


def parse_time(text: str) -> datetime:
    assert text.endswith("Z"), text  # Go's UTC time.Time
    return datetime.fromisoformat(text[:-1] + "+00:00")


def post(client: httpx.Client, content: Any, kind: str = "user") -> httpx.Response:
    return client.post("/message", json={"content": content, "type": kind})


def shape(conversation: list[Message]) -> list[tuple[int, str, str]]:
    return [(m.id, m.role, m.content) for m in conversation]


def modelled(greeting: str, *inputs: str) -> AgentAPI:
    """The model's conversation for the same inputs, with the first agent message a real AgentAPI starts with."""
    model, at = AgentAPI(), datetime.now(timezone.utc)
    model.greet(at, greeting)
    for text in inputs:
        at = model.converse(text, at, timedelta(seconds=1))
    return model


def test_initial_prompt_is_answered_as_the_model_answers(standin: Start) -> None:
    """The initial prompt makes the agent busy (``running``), then ``stable`` with the model's reply quoting it;
    ids count from 0 in order, roles are ``user``/``agent``, times are RFC 3339 in order, and the reply comes no
    sooner than ``--busy`` after the input. Through the reference server's log rendering (taskLogs) the stand-in's
    conversation gives the same log entries as the model's."""
    prompt = "ctc: summarise the README"
    client = standin("--busy", "1", "--initial-prompt", prompt)
    assert status(client) == "running"
    assert [m.role for m in messages(client)] == ["agent", "user"], "the reply must not show while the agent works"
    wait_stable(client)
    conversation = messages(client)
    model = modelled(conversation[0].content, prompt).messages(datetime.now(timezone.utc) + timedelta(hours=1))
    assert shape(conversation) == shape(model)
    assert prompt in conversation[-1].content
    assert conversation[-1].content == agent_reply(prompt)
    times = [m.time for m in conversation]
    assert times == sorted(times)
    assert times[2] - times[1] >= timedelta(seconds=1)
    untimed = [{k: v for k, v in log_entry_json(m).items() if k != "time"} for m in conversation]
    assert untimed == [{k: v for k, v in log_entry_json(m).items() if k != "time"} for m in model]
    assert [entry["type"] for entry in untimed] == ["output", "input", "output"]


def test_a_message_while_busy_is_refused_and_accepted_once_stable(standin: Start) -> None:
    """After a user message the status is ``running`` (as the model's, and Coder's send then refuses); AgentAPI
    itself refuses a second message with its 500 problem; once ``stable`` the next message is accepted and the ids
    go on from there."""
    client = standin("--busy", "1")
    assert status(client) == "stable"
    started = time.monotonic()
    first = post(client, "ctc: first")
    assert (first.status_code, first.json()) == (200, {"ok": True})
    model = modelled("greeting")
    sent_at = datetime.now(timezone.utc)
    model.converse("ctc: first", sent_at, timedelta(seconds=1))
    assert status(client) == model.status(sent_at) == "running"
    refused = post(client, "ctc: too early")
    assert refused.status_code == 500, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["errors"] == [{"message": NOT_STABLE}], refused.json()
    wait_stable(client)
    assert time.monotonic() - started >= 1, "stable again sooner than --busy 1"
    assert model.status(sent_at + timedelta(seconds=1)) == "stable"
    second = post(client, "ctc: second")
    assert second.status_code == 200, second.text
    wait_stable(client)
    conversation = messages(client)
    expected = modelled(conversation[0].content, "ctc: first", "ctc: second")
    assert shape(conversation) == shape(expected.messages(datetime.now(timezone.utc) + timedelta(hours=1)))
    assert [m.id for m in conversation] == [0, 1, 2, 3, 4]


def test_input_is_handled_as_agentapi_handles_it(standin: Start) -> None:
    """As real AgentAPI does (lib/httpapi/claude.go FormatMessage, msgfmt.TrimWhitespace, pty_conversation.go
    Send): the input is trimmed of ASCII whitespace only (a no-break space stays), whitespace-only input is refused
    (500, "message must not be empty"), a ``raw`` message is written to the terminal and not recorded, and a body
    without a valid ``type`` fails validation (422)."""
    client = standin("--busy", "0.1")
    assert post(client, "  ctc: padded \n").status_code == 200
    wait_stable(client)
    assert shape(messages(client))[1:] == [(1, "user", "ctc: padded"), (2, "agent", agent_reply("ctc: padded"))]
    assert post(client, "\u00a0ctc: no-break\u00a0").status_code == 200
    wait_stable(client)
    assert messages(client)[3].content == "\u00a0ctc: no-break\u00a0"
    blank = post(client, " \t\n")
    assert blank.status_code == 500, blank.text
    assert blank.json()["errors"] == [{"message": "failed to send message: message must not be empty"}]
    assert post(client, "\x1b", "raw").json() == {"ok": True}
    assert client.post("/message", json={"content": "ctc: no type"}).status_code == 422
    assert status(client) == "stable"
    assert len(messages(client)) == 5, "only user messages are recorded"


def test_a_restart_keeps_the_conversation_and_does_not_prompt_again(standin: Start, tmp_path: Path) -> None:
    """With ``--state-file`` a restarted agent (a resumed task) shows the conversation it had, like the model,
    whose conversation survives the workspace's stop and whose restarted agent only waits for input."""
    state = tmp_path / "conversation.json"
    first = standin("--busy", "0.1", "--state-file", str(state), "--initial-prompt", "ctc: before the pause")
    wait_stable(first)
    before = messages(first)
    again = standin("--busy", "0.1", "--state-file", str(state), "--initial-prompt", "ctc: after the resume")
    assert status(again) == "stable"
    assert messages(again) == before
    model = modelled(before[0].content, "ctc: before the pause")
    model.stop_at(datetime.now(timezone.utc) + timedelta(hours=1))
    assert shape(before) == shape(model.messages(datetime.now(timezone.utc) + timedelta(hours=1)))
