"""A task client's whole flow against the fake Coder, at every level, over real HTTP with no stubs (issue 17): the
calls a CI action makes to find a GitHub user's Coder account and the AI template, create a task with the
template's active version and its default preset, wait for it, talk to it, pause and resume it where the level
can, and delete it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from coder_tasks_contract.server.runner import ReferenceServer, start_reference_server
from coder_tasks_contract.spec import levels

DEADLINE = 15.0  # seconds; the fast speed reaches active in 0.3 s


@pytest.fixture(params=[level.name for level in levels.LEVELS])
def server(request: pytest.FixtureRequest) -> Iterator[ReferenceServer]:
    with start_reference_server(coder_version=request.param) as running:
        yield running


def poll(read: Callable[[], Any], done: Callable[[Any], bool], what: str) -> Any:
    """Read until ``done`` holds, as a client polls; fail after the deadline with the last value read."""
    deadline = time.monotonic() + DEADLINE
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: still {value!r} after {DEADLINE} s")
        time.sleep(0.05)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json() if response.content else None


def test_a_client_runs_its_whole_flow(server: ReferenceServer) -> None:
    level = levels.get(server.world.level.name)
    mount = level.documented_prefix
    # The client holds a site owner's token (a CI action's service account) and acts for a GitHub user.
    with httpx.Client(base_url=server.url, headers={"Coder-Session-Token": server.seed.users["owner"].token}) as api:
        # 1. Who is GitHub user 12345 in Coder?
        users = ok(api.get("/api/v2/users", params={"q": "github_com_user_id:12345"}))
        assert users["count"] == 1
        username = users["users"][0]["username"]
        # 2. The AI template by organization and name, its active version and the version's default preset.
        template = ok(api.get("/api/v2/organizations/coder/templates/ai-coder"))
        version_id = template["active_version_id"]
        assert ok(api.get(f"/api/v2/templateversions/{version_id}"))["template_id"] == template["id"]
        presets = ok(api.get(f"/api/v2/templateversions/{version_id}/presets"))
        preset_id = next(p["ID"] for p in presets if p["Default"])
        # 3. Create the task for that user.
        body = {"template_version_id": version_id, "template_version_preset_id": preset_id, "input": "Fix issue 7"}
        task = ok(api.post(f"{mount}/{username}", json=body), 201)
        path = f"{mount}/{username}/{task['id']}"
        assert task["owner_name"] == username
        # 4. Poll until the task is active and its agent has finished the prompt.
        task = poll(
            lambda: ok(api.get(path)),
            lambda t: t["status"] == "active" and (t["current_state"] or {}).get("state") == "idle",
            "task status",
        )
        assert task["current_state"]["state"] in level.task_states
        # 5. Send a message and read the reply in the logs.
        ok(api.post(f"{path}/send", json={"input": "Also add a test"}), 204)
        logs = poll(lambda: ok(api.get(f"{path}/logs"))["logs"], lambda entries: len(entries) >= 5, "logs")
        # The agent's first screen, the prompt and its answer, the message and its answer.
        assert [entry["type"] for entry in logs] == ["output", "input", "output", "input", "output"]
        assert logs[3]["content"] == "Also add a test"
        # 6. Pause and resume where the level has them; elsewhere the routes do not exist.
        if level.pause_resume:
            build = ok(api.post(f"{path}/pause"), 202)["workspace_build"]
            assert build["transition"] == "stop"
            poll(lambda: ok(api.get(path))["status"], lambda status: status == "paused", "paused")
            assert ok(api.post(f"{path}/resume"), 202)["workspace_build"]["transition"] == "start"
            poll(lambda: ok(api.get(path))["status"], lambda status: status == "active", "resumed")
        else:
            assert api.post(f"{path}/pause").status_code == 404
        # 7. Delete it: gone from the task routes.
        assert api.delete(path).status_code == 202
        assert api.get(path).status_code == 404
        # Its workspace goes once the delete build has run.
        by_name = f"/api/v2/users/{username}/workspace/{task['workspace_name']}"
        poll(lambda: api.get(by_name).status_code, lambda status: status == 404, "workspace deleted")
