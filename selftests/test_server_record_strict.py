"""The request record (``record=`` / ``--record FILE``) and strict mode (``strict=`` / ``--strict``) of the fake."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from coder_tasks_contract.server.api.recorder import REDACTED, RecordingMiddleware, RequestLog, redact
from coder_tasks_contract.server.api.strict import STRICT_MESSAGE
from coder_tasks_contract.server.runner import start_reference_server

from .support import fake_command

TASKS = "/api/experimental/tasks"


def test_every_request_is_recorded_with_tokens_redacted(tmp_path: Path) -> None:
    log_file = tmp_path / "requests.jsonl"
    with start_reference_server(record=log_file) as server:
        token = server.seed.users["alice"].token
        version = server.seed.template_versions["ai_task"]
        with httpx.Client(base_url=server.url, headers={"Coder-Session-Token": token}) as alice:
            created = alice.post(f"{TASKS}/me", json={"template_version_id": version, "input": "hello", "name": "t1"})
            assert created.status_code == 201
            alice.get("/api/v2/users/me", params={"coder_session_token": token})
        assert httpx.get(server.url + f"{TASKS}/me/t1").status_code == 401  # no token: recorded too
        records = server.requests
    assert [(r["method"], r["path"], r["status"]) for r in records] == [
        ("POST", f"{TASKS}/me", 201),
        ("GET", "/api/v2/users/me", 200),
        ("GET", f"{TASKS}/me/t1", 401),
    ]
    post = records[0]
    assert json.loads(post["request_body"])["input"] == "hello"
    assert json.loads(post["response_body"])["name"] == "t1"
    assert post["token_via"] == ["header"]
    assert post["duration_ms"] >= 0
    assert records[1]["query"] == f"coder_session_token={REDACTED}"
    assert records[1]["token_via"] == ["header", "query"]
    assert records[2]["token_via"] == []
    # The file holds the same records, one JSON object a line, and no token anywhere.
    text = log_file.read_text()
    assert [json.loads(line) for line in text.splitlines()] == records
    assert token not in text


def test_redact_leaves_other_text_alone() -> None:
    assert redact("a abcdefghij-0123456789012345678901 b") == f"a {REDACTED} b"
    assert redact("workspace-1234 and a uuid 6f1d0f4e-6c52-4b53-9a3c-2f1e8d1c0a77") == (
        "workspace-1234 and a uuid 6f1d0f4e-6c52-4b53-9a3c-2f1e8d1c0a77"
    )


def test_requests_need_recording_on() -> None:
    with start_reference_server() as server, pytest.raises(RuntimeError, match="record=True"):
        server.requests  # noqa: B018 (the property is what is tested)


@pytest.mark.parametrize(
    ("level", "method", "path", "says"),
    [
        # A route a newer level added (pause) and a mount an older one lacks.
        ("82f", "POST", f"{TASKS}/me/t1/pause", "is a route of level newest, not of level 82f (PAUSE-1)"),
        ("82f", "GET", "/api/v2/tasks", "is a route of level 2.29, newest, not of level 82f (ROUTE-1)"),
        ("2.29", "POST", "/api/v2/tasks/me/t1/resume", "is a route of level newest, not of level 2.29 (PAUSE-2)"),
        # A wrong method on a described route.
        ("newest", "PUT", f"{TASKS}/me/t1/input", "the route /api/experimental/tasks/{user}/{task}/input takes PATCH"),
        # Nothing at all.
        ("newest", "GET", "/api/v2/workspaceagents/me/manifest", "is no route of any contract level"),
    ],
)
def test_strict_mode_names_what_is_wrong(level: str, method: str, path: str, says: str) -> None:
    with start_reference_server(coder_version=level, strict=True) as server:
        token = server.seed.users["alice"].token
        response = httpx.request(method, server.url + path, headers={"Coder-Session-Token": token})
    assert response.status_code == 400
    assert response.json()["message"] == STRICT_MESSAGE
    assert says in response.json()["detail"]


def test_strict_mode_passes_what_the_level_describes() -> None:
    with start_reference_server(coder_version="newest", strict=True) as server:
        headers = {"Coder-Session-Token": server.seed.users["alice"].token}
        for path in (TASKS, "/api/v2/tasks", "/api/v2/users/me", "/api/v2/organizations/coder/templates/ai-coder"):
            assert httpx.get(server.url + path, headers=headers).status_code == 200, path
        # Described but unknown task: Coder's own answer, not the strict one.
        assert httpx.post(server.url + "/api/v2/tasks/me/nope/pause", headers=headers).status_code == 404
    # Without strict, the same drift is Coder's bare 404.
    with start_reference_server(coder_version="82f") as server:
        headers = {"Coder-Session-Token": server.seed.users["alice"].token}
        assert httpx.get(server.url + "/api/v2/tasks", headers=headers).json() == {"message": "Route not found."}


def test_command_line_record_and_strict(tmp_path: Path) -> None:
    log_file = tmp_path / "log.jsonl"
    with fake_command("--record", str(log_file), "--strict") as seed:
        headers = {"Coder-Session-Token": seed["users"]["alice"]["token"]}
        assert httpx.get(seed["url"] + "/api/v2/tasks", headers=headers).status_code == 400  # strict, level 82f
    (line,) = log_file.read_text().splitlines()
    assert (json.loads(line)["path"], json.loads(line)["status"]) == ("/api/v2/tasks", 400)


def test_command_line_unwritable_record_file(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "coder_tasks_contract.server", "--port", "0", "--record", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"coder-tasks-fake: cannot write {tmp_path}:")


def test_an_empty_answer_is_recorded_before_its_headers_leave() -> None:
    """The server writes the headers as soon as the app starts its answer, and a client reads an empty answer
    (Content-Length: 0, a 202 DELETE) as complete from them alone: the record must already hold it by then, or a
    test that reads the record right after its request misses it (seen once under CI load)."""
    log = RequestLog()

    async def app(scope: object, receive: object, send: Any) -> None:
        await send({"type": "http.response.start", "status": 202, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    seen_when_sent: list[tuple[str, int]] = []

    async def send(message: dict[str, Any]) -> None:
        seen_when_sent.append((message["type"], len(log.records)))

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "method": "DELETE", "path": "/api/experimental/tasks/me/x", "headers": []}
    asyncio.run(RecordingMiddleware(app, log)(scope, receive, send))  # type: ignore[arg-type]
    assert seen_when_sent == [("http.response.start", 1), ("http.response.body", 1)]
    assert log.records[0]["status"] == 202
