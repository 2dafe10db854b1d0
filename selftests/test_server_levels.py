"""The reference server at each contract level, over HTTP with a hand-stepped clock: what changed after 82f525baf3
(LEVEL-2, LEVEL-3). Expected values are written out from the clauses, not read from the
level table, so a wrong table cannot make the server and the suite agree on a wrong answer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .server_http_support import NOT_FOUND, STAGE, TASKS, WORK, Fake, new_name, start_fake

V2 = "/api/v2/tasks"
UNKNOWN_USER_400 = {"message": '"user" must be an existing uuid or username.', "detail": 'queried user="nobody"'}
MUST_BE_ACTIVE_PAUSED = {
    "message": "Task status must be active.",
    "detail": 'Task status is "paused", it must be "active" to interact with the task.',
}


@pytest.fixture(scope="module")
def at_82f() -> Iterator[Fake]:
    yield from start_fake(coder_version="82f")


@pytest.fixture(scope="module")
def at_229() -> Iterator[Fake]:
    yield from start_fake(coder_version="2.29")


@pytest.fixture(scope="module")
def at_newest() -> Iterator[Fake]:
    yield from start_fake(coder_version="newest")


def _path(prefix: str, task: dict[str, Any], suffix: str = "") -> str:
    return f"{prefix}/me/{task['id']}{suffix}"


# ---- 82f: the base -------------------------------------------------------------------------------------------------


def test_82f_reports_its_commit_and_serves_only_the_experimental_mount(at_82f: Fake) -> None:
    info = at_82f.anon.get("/api/v2/buildinfo")
    assert info.json()["version"] == "v2.28.1-devel+82f525b"
    assert info.headers["x-coder-build-version"] == "v2.28.1-devel+82f525b"
    assert at_82f.alice.get(V2).json() == {"message": "Route not found."}
    assert at_82f.anon.get(V2).status_code == 404  # no such group, so no API key check before "Route not found."
    task = at_82f.active()
    assert at_82f.alice.post(_path(TASKS, task, "/pause")).json() == {"message": "Route not found."}


def test_82f_ignores_display_name_and_prefixes_generated_names(at_82f: Fake) -> None:
    task = at_82f.create(name="", display_name="x" * 100)  # an unknown field at 82f (ERR-5)
    assert "display_name" not in task
    assert task["name"].startswith("task-")


def test_82f_refusals(at_82f: Fake) -> None:
    assert at_82f.alice.get(f"{TASKS}/nobody/{new_name()}").json() == UNKNOWN_USER_400
    paused = at_82f.paused()
    for method, suffix in (("POST", "/send"), ("GET", "/logs")):
        kwargs: dict[str, Any] = {"json": {"input": "x"}} if method == "POST" else {}
        response = at_82f.alice.request(method, _path(TASKS, paused, suffix), **kwargs)
        assert (response.status_code, response.json()) == (400, MUST_BE_ACTIVE_PAUSED)
    busy = at_82f.active()
    assert at_82f.alice.post(_path(TASKS, busy, "/send"), json={"input": "one"}).status_code == 204
    second = at_82f.alice.post(_path(TASKS, busy, "/send"), json={"input": "two"})
    assert (second.status_code, second.json()["message"]) == (502, "Task app is not ready to accept input.")


# ---- 2.29: /api/v2/tasks and display_name --------------------------------------------------------------------------


def test_229_serves_the_same_tasks_at_both_mounts(at_229: Fake) -> None:
    assert at_229.anon.get("/api/v2/buildinfo").json()["version"] == "v2.29.0"
    assert at_229.anon.get(V2).status_code == 401  # the group's API key check runs first (ROUTE-2)
    created = at_229.alice.post(
        f"{V2}/me", json={"template_version_id": at_229.ai_version, "input": "Fix it", "name": new_name()}
    )
    assert created.status_code == 201
    task = created.json()
    for prefix in (TASKS, V2):
        assert at_229.alice.get(_path(prefix, task)).json()["id"] == task["id"]
        assert task["id"] in {t["id"] for t in at_229.alice.get(prefix).json()["tasks"]}
    assert at_229.alice.post(_path(V2, task, "/pause")).json() == {"message": "Route not found."}


def test_229_display_name_is_trimmed_limited_to_64_bytes_and_generated(at_229: Fake) -> None:
    task = at_229.create(display_name="  Fix the login loop  ")
    assert task["display_name"] == "Fix the login loop"
    assert list(task)[list(task).index("name") + 1] == "display_name"  # after name, as in the Go struct
    assert at_229.create(display_name="é" * 32)["display_name"] == "é" * 32  # 64 bytes
    for too_long in ("d" * 65, "é" * 33):
        payload = {"template_version_id": at_229.ai_version, "input": "x", "name": new_name(), "display_name": too_long}
        response = at_229.alice.post(f"{TASKS}/me", json=payload)
        assert (response.status_code, response.json()) == (
            400,
            {"message": "Display name must be 64 characters or less."},
        )
    generated = at_229.create(name="")
    assert not generated["name"].startswith("task-")
    assert generated["display_name"]


def test_229_keeps_the_82f_refusals(at_229: Fake) -> None:
    assert at_229.alice.get(f"{V2}/nobody/{new_name()}").json() == UNKNOWN_USER_400
    paused = at_229.paused()
    response = at_229.alice.get(_path(V2, paused, "/logs"))
    assert (response.status_code, response.json()) == (400, MUST_BE_ACTIVE_PAUSED)


# ---- newest: pause/resume, snapshots, 409s, 404 ---------------------------------------------------------------------


def test_newest_reports_its_commit_and_answers_404_for_an_unknown_user(at_newest: Fake) -> None:
    assert at_newest.anon.get("/api/v2/buildinfo").json()["version"] == "v2.34.1-devel+a12b051"
    for prefix in (TASKS, V2):
        response = at_newest.alice.get(f"{prefix}/nobody/{new_name()}")
        assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_newest_pause_and_resume(at_newest: Fake) -> None:
    task = at_newest.active()
    paused = at_newest.alice.post(_path(V2, task, "/pause"))
    assert paused.status_code == 202
    build = paused.json()["workspace_build"]
    assert (build["transition"], build["workspace_id"], build["build_number"]) == ("stop", task["workspace_id"], 2)
    busy = at_newest.alice.post(_path(TASKS, task, "/resume"))  # the stop build still runs
    assert busy.json()["message"] == "A workspace build is already active."
    at_newest.clock.advance(2 * STAGE)
    assert at_newest.get(task)["status"] == "paused"
    resumed = at_newest.alice.post(_path(TASKS, task, "/resume"))
    assert (resumed.status_code, resumed.json()["workspace_build"]["transition"]) == (202, "start")
    at_newest.clock.advance(5 * STAGE)
    assert at_newest.get(task)["status"] == "active"
    again = at_newest.alice.post(_path(V2, task, "/resume"))
    assert (again.status_code, again.json()["message"]) == (409, "Task workspace is already running.")
    assert at_newest.bob.post(_path(V2, task, "/pause")).status_code == 404  # another member (RBAC-3)


def test_newest_paused_task_logs_are_the_snapshot_and_send_is_409(at_newest: Fake) -> None:
    paused = at_newest.paused(input="Remember this prompt")
    logs = at_newest.alice.get(_path(V2, paused, "/logs"))
    assert logs.status_code == 200
    body = logs.json()
    assert body["snapshot"] is True
    assert "snapshot_at" in body
    # the conversation opens with the agent's first screen; the prompt is the first input after it
    assert next(log["content"] for log in body["logs"] if log["type"] == "input") == "Remember this prompt"
    send = at_newest.alice.post(_path(TASKS, paused, "/send"), json={"input": "x"})
    assert (send.status_code, send.json()) == (
        409,
        {"message": "Task is paused.", "detail": "Resume the task to send messages."},
    )


def test_newest_initializing_task_logs_are_an_empty_snapshot_and_send_is_409(at_newest: Fake) -> None:
    task = at_newest.create()
    at_newest.clock.advance(STAGE)  # build running: initializing
    assert at_newest.get(task)["status"] == "initializing"
    assert at_newest.alice.get(_path(TASKS, task, "/logs")).json() == {"logs": [], "snapshot": True}
    send = at_newest.alice.post(_path(TASKS, task, "/send"), json={"input": "x"})
    assert send.status_code == 409
    assert send.json() == {
        "message": "Task is initializing.",
        "detail": "The task is resuming. Wait for the task to become active before sending messages.",
    }


def test_newest_busy_agent_is_409_and_live_logs_are_no_snapshot(at_newest: Fake) -> None:
    task = at_newest.active()
    assert "snapshot" not in at_newest.alice.get(_path(TASKS, task, "/logs")).json()
    assert at_newest.alice.post(_path(TASKS, task, "/send"), json={"input": "one"}).status_code == 204
    second = at_newest.alice.post(_path(TASKS, task, "/send"), json={"input": "two"})
    assert (second.status_code, second.json()["message"]) == (409, "Task app is not ready to accept input.")
    at_newest.clock.advance(WORK)
