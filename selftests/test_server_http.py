"""The reference server over a real socket: the seven task endpoints (ERR clauses and those of each operation).

Routing, headers and path resolution are in test_server_routing.py; authentication, list/q and the /api/v2 helpers in
test_server_http_auth.py and test_server_http_more.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from coder_tasks_contract.server.domain.agentapi import GREETING

from .server_http_support import JSON_TYPE, NOT_FOUND, STAGE, TASKS, WORK, Fake, new_name, start_fake


@pytest.fixture(scope="module")
def fake() -> Iterator[Fake]:
    yield from start_fake()


# ---- create (CREATE-1) ----------------------------------------------------------------------------------------------


def test_create_answers_201_with_a_fresh_task(fake: Fake) -> None:
    """CREATE-9 success and typical contents right after creation; SCHEMA-1 field rules."""
    name = new_name()
    response = fake.alice.post(
        f"{TASKS}/me", json={"template_version_id": fake.ai_version, "input": "Write tests", "name": name}
    )
    assert response.status_code == 201
    assert response.headers["content-type"] == JSON_TYPE
    task = response.json()
    assert task["name"] == name
    assert task["owner_name"] == "alice"
    assert task["initial_prompt"] == "Write tests"
    assert task["status"] == "initializing"
    assert task["workspace_status"] == "pending"
    assert task["workspace_build_number"] == 1
    assert task["workspace_name"] == name
    assert isinstance(task["workspace_id"], str)
    for field in ("workspace_agent_id", "workspace_app_id", "workspace_agent_lifecycle", "workspace_agent_health"):
        assert task[field] is None
    assert "owner_avatar_url" not in task  # omitempty, and the seeded users have no avatar
    assert task["current_state"] == {
        "state": "working",
        "message": "Workspace is pending",
        "timestamp": task["created_at"],
        "uri": "",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", task["created_at"])


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        pytest.param(b"", "EOF", id="empty-body"),
        pytest.param(b"{nope", "invalid character 'n' looking for beginning of object key string", id="syntax"),
        pytest.param(
            b'{"input": 7}',
            "json: cannot unmarshal number into Go struct field CreateTaskRequest.input of type string",
            id="wrong-type",
        ),
        pytest.param(b'{"template_version_id": "abc"}', "invalid UUID length: 3", id="bad-uuid"),
        pytest.param(b'{"template_version_preset_id": ""}', "invalid UUID length: 0", id="empty-preset"),
    ],
)
def test_create_bad_json(fake: Fake, content: bytes, detail: str) -> None:
    """ERR-3: 400 "Request body must be valid JSON." with Go's decoder error as detail."""
    response = fake.alice.post(f"{TASKS}/me", content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"message": "Request body must be valid JSON.", "detail": detail}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            {"template_version_id": "6ba7b810-9dad-11d1-80b4-00c04fd430c8"},
            {"message": "Template version not found or you do not have access to this resource"},
            id="unknown-version",
        ),
        pytest.param(
            {},
            {"message": "Template version not found or you do not have access to this resource"},
            id="missing-version-is-nil-uuid",
        ),
        pytest.param(
            {"name": "new"},
            {"message": "Unable to create a Task with the provided name.", "detail": 'cannot use "new" as a name'},
            id="reserved-name",
        ),
        pytest.param(
            {"name": "a" * 33},
            {"message": "Unable to create a Task with the provided name.", "detail": "must be <= 32 characters"},
            id="long-name",
        ),
        pytest.param(
            {"name": " padded"},
            {
                "message": "Unable to create a Task with the provided name.",
                "detail": "must be alphanumeric with hyphens",
            },
            id="untrimmed-name",
        ),
        pytest.param(
            {"name": "a--b"},
            {
                "message": "Unable to create a Task with the provided name.",
                "detail": "must be alphanumeric with hyphens",
            },
            id="double-hyphen",
        ),
    ],
)
def test_create_refusals(fake: Fake, body: dict[str, Any], expected: dict[str, Any]) -> None:
    """CREATE-3 and NAME-1: unknown template version and NameValid failures are 400 with exact bodies."""
    payload = {"template_version_id": fake.ai_version, "input": "x", **body}
    if body == {}:
        del payload["template_version_id"]
    response = fake.alice.post(f"{TASKS}/me", json=payload)
    assert response.status_code == 400
    assert response.json() == expected


def test_create_from_template_without_ai_task(fake: Fake) -> None:
    """CREATE-4."""
    version = fake.server.seed.template_versions["no_ai_task"]
    response = fake.alice.post(f"{TASKS}/me", json={"template_version_id": version, "input": "x"})
    assert response.status_code == 400
    assert response.json() == {"message": 'Template does not have a valid "coder_ai_task" resource.'}


def test_create_without_name_generates_one(fake: Fake) -> None:
    """NAME-3: empty name → task-<docker-style>-<4 hex>."""
    task = fake.create(name="")
    assert re.fullmatch(r"task-[a-z]+(-[a-z]+)*-[0-9a-f]{4}", task["name"]), task["name"]


def test_duplicate_name_any_case_is_409(fake: Fake) -> None:
    """CREATE-6: 409 with the exact message and validations."""
    name = new_name()
    fake.create(name=name)
    response = fake.alice.post(
        f"{TASKS}/me", json={"template_version_id": fake.ai_version, "input": "x", "name": name.upper()}
    )
    assert response.status_code == 409
    assert response.json() == {
        "message": f'Workspace "{name.upper()}" already exists.',
        "validations": [{"field": "name", "detail": "This value is already in use and should be unique."}],
    }


def test_owner_creates_for_a_member(fake: Fake) -> None:
    """CREATE-2, RBAC-6: the site owner may create a task owned by alice."""
    task = fake.create(fake.owner, user="alice")
    assert task["owner_name"] == "alice"
    assert fake.get(task)["id"] == task["id"]


# ---- delete (DELETE-1) ----------------------------------------------------------------------------------------------


def test_delete_during_first_build_is_409(fake: Fake) -> None:
    """DELETE-2: 409 while the create build's job is pending or running."""
    task = fake.create()
    response = fake.alice.delete(f"{TASKS}/me/{task['id']}")
    assert response.status_code == 409
    assert response.json() == {
        "message": "A workspace build is already active.",
        "detail": "A workspace build is already active.",
    }


def test_delete_is_202_empty_and_then_404_everywhere(fake: Fake) -> None:
    """DELETE-1: 202 with no body and no content type; TASKREF-4: deleted tasks are 404 on every endpoint."""
    task = fake.active()
    response = fake.alice.delete(f"{TASKS}/me/{task['id']}")
    assert response.status_code == 202
    assert response.content == b""
    assert "content-type" not in response.headers
    path = f"{TASKS}/me/{task['id']}"
    assert fake.alice.get(path).json() == NOT_FOUND
    assert fake.alice.delete(path).status_code == 404
    assert fake.alice.patch(path + "/input", json={"input": "x"}).status_code == 404
    assert fake.alice.post(path + "/send", json={"input": "x"}).status_code == 404
    assert fake.alice.get(path + "/logs").status_code == 404
    assert fake.alice.get(f"{TASKS}/me/{task['name']}").status_code == 404
    assert task["id"] not in [t["id"] for t in fake.alice.get(TASKS).json()["tasks"]]


# ---- input (INPUT-1) -----------------------------------------------------------------------------------------------


def test_update_input_rules(fake: Fake) -> None:
    """INPUT-3, INPUT-4, ROUTE-10: blank after trim → 400; not paused → 409; paused → 204 with the JSON content type and
    no body."""
    task = fake.active()
    path = f"{TASKS}/me/{task['id']}/input"
    blank = fake.alice.patch(path, json={"input": "  \n"})
    assert (blank.status_code, blank.json()) == (400, {"message": "Task input is required."})
    busy = fake.alice.patch(path, json={"input": "new"})
    assert busy.status_code == 409
    assert busy.json() == {
        "message": "Unable to update task input, task must be paused.",
        "detail": "Please stop the task's workspace before updating the input.",
    }
    assert fake.build(task, "stop").status_code == 201
    fake.clock.advance(2 * STAGE)
    done = fake.alice.patch(path, json={"input": "new prompt"})
    assert done.status_code == 204
    assert done.content == b""
    assert done.headers["content-type"] == JSON_TYPE
    assert fake.get(task)["initial_prompt"] == "new prompt"


# ---- send and logs (SEND-1, LOGS-1, AGENT-1) -------------------------------------------------------------------------


def test_send_and_logs_round_trip(fake: Fake) -> None:
    """SEND-1: 204 with no body or content type; LOGS-1: the message is input, the reply output, ids are integers."""
    task = fake.active(input="")
    path = f"{TASKS}/me/{task['id']}"
    sent = fake.alice.post(path + "/send", json={"input": "Add a README"})
    assert sent.status_code == 204
    assert sent.content == b""
    assert "content-type" not in sent.headers
    busy = fake.alice.post(path + "/send", json={"input": "again"})
    assert busy.status_code == 502
    assert busy.json() == {"message": "Task app is not ready to accept input.", "detail": "Status: running"}
    fake.clock.advance(WORK)
    logs = fake.alice.get(path + "/logs")
    assert logs.status_code == 200
    entries = logs.json()["logs"]
    assert (entries[0]["id"], entries[0]["type"]) == (0, "output")  # AgentAPI's conversation opens with the agent
    assert (entries[1]["type"], entries[1]["content"]) == ("input", "Add a README")
    assert entries[2]["type"] == "output"
    assert all(isinstance(e["id"], int) and e["time"].endswith("Z") for e in entries)


def test_send_empty_input_is_400_but_whitespace_reaches_the_app(fake: Fake) -> None:
    """SEND-3, SEND-5: the comparison is exact, so whitespace reaches the app, which refuses it as AgentAPI does
    (502 with the client's error as detail); padded text is relayed trimmed."""
    task = fake.active()
    path = f"{TASKS}/me/{task['id']}/send"
    empty = fake.alice.post(path, json={"input": ""})
    assert (empty.status_code, empty.json()) == (400, {"message": "Task input is required."})
    blank = fake.alice.post(path, json={"input": " \t"})
    assert blank.status_code == 502
    assert blank.json()["message"] == "Task app rejected the message."
    assert blank.json()["detail"]
    assert fake.alice.post(path, json={"input": "  hi  "}).status_code == 204


@pytest.mark.parametrize("suffix", ["/send", "/logs"])
def test_send_and_logs_need_an_active_task(fake: Fake, suffix: str) -> None:
    """AGENT-1: 400 with the task's status in the detail."""
    task = fake.paused()
    path = f"{TASKS}/me/{task['id']}{suffix}"
    response = fake.alice.post(path, json={"input": "x"}) if suffix == "/send" else fake.alice.get(path)
    assert response.status_code == 400
    assert response.json() == {
        "message": "Task status must be active.",
        "detail": 'Task status is "paused", it must be "active" to interact with the task.',
    }


def test_logs_open_with_the_agents_first_screen(fake: Fake) -> None:
    """LOGS-1: with no prompt, the logs hold only the agent's first screen, as coder/agentapi's conversation opens
    with an agent message (id 0)."""
    task = fake.active(input="")
    logs = fake.alice.get(f"{TASKS}/me/{task['id']}/logs").json()["logs"]
    assert [(entry["id"], entry["type"], entry["content"]) for entry in logs] == [(0, "output", GREETING)]


# ---- Task JSON (SCHEMA-1) --------------------------------------------------------------------------------------------


def test_active_task_json_fields(fake: Fake) -> None:
    """SCHEMA-2, SCHEMA-5: nullable UUIDs are plain strings once set; agent health object; updated_at is the
    workspace's."""
    task = fake.active()
    assert task["status"] == "active"
    assert task["workspace_agent_lifecycle"] == "ready"
    assert task["workspace_agent_health"] == {"healthy": True}
    for field in ("workspace_id", "workspace_agent_id", "workspace_app_id"):
        assert re.fullmatch(r"[0-9a-f-]{36}", task[field])
    workspace = fake.alice.get(f"/api/v2/workspaces/{task['workspace_id']}").json()
    assert task["updated_at"] == workspace["updated_at"]
    assert task["template_display_name"] == "AI Coder"


def test_resume_goes_back_to_active(fake: Fake) -> None:
    """STATUS-2 and STATE-5: start after stop → initializing (stale status dropped) → active."""
    task = fake.paused()
    assert task["status"] == "paused"
    assert fake.build(task, "start").status_code == 201
    resumed = fake.get(task)
    assert resumed["status"] == "initializing"
    assert resumed["current_state"]["message"] == "Workspace is pending"
    fake.clock.advance(5 * STAGE)
    assert fake.get(task)["status"] == "active"
