"""The control surface (``control=True`` / ``--control``): every state a task client must cope with, produced on demand
and shown on the wire (issue 17)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from coder_tasks_contract.server.runner import start_reference_server
from coder_tasks_contract.spec import levels

from .server_http_support import STAGE, TASKS, Fake, start_fake

#: The app-status states each level emits: ``failure`` until #22203 mapped it to ``failed``.
EMITTED = {"82f": ("working", "idle", "complete", "failure"), "2.29": ("working", "idle", "complete", "failure")}
EMITTED["newest"] = ("working", "idle", "complete", "failed")


@pytest.fixture(scope="module", params=[level.name for level in levels.LEVELS])
def fake(request: pytest.FixtureRequest) -> Iterator[Fake]:
    yield from start_fake(coder_version=request.param, control=True)


def control(fake: Fake, endpoint: str, **body: object) -> httpx.Response:
    return fake.anon.post(f"/__control/{endpoint}", json=body)


def status(fake: Fake, task: dict[str, object]) -> str:
    return str(fake.get(task)["status"])


@pytest.mark.parametrize("state", ["working", "idle", "complete", "failure", "failed"])
def test_agent_state_on_demand(fake: Fake, state: str) -> None:
    """Each state the level emits becomes the task's current_state; one it does not emit is refused."""
    level = fake.server.world.level.name
    task = fake.active()
    response = control(fake, f"tasks/{task['id']}/state", state=state, message="Tests failed")
    if state not in EMITTED[level] and state not in levels.get(level).task_states:
        assert response.status_code == 400
        return
    assert response.status_code == 200, response.text
    current = fake.get(task)["current_state"]
    assert (current["state"], current["message"]) == (state, "Tests failed")
    # It stays: the agent's earlier schedule does not overwrite it.
    fake.clock.advance(10)
    assert fake.get(task)["current_state"]["state"] == state


def test_newest_never_emits_failure() -> None:
    assert "failure" not in levels.get("newest").task_states  # so the state control refuses it there


def test_next_build_fails_and_the_task_is_error(fake: Fake) -> None:
    task = fake.active()
    assert control(fake, f"tasks/{task['id']}/stop").status_code == 200
    fake.clock.advance(2 * STAGE + 0.001)
    assert status(fake, task) == "paused"
    assert control(fake, f"tasks/{task['id']}/fail-next-build").status_code == 200
    assert control(fake, f"tasks/{task['id']}/start").json()["transition"] == "start"
    fake.clock.advance(5 * STAGE + 0.001)
    seen = fake.get(task)
    assert (seen["status"], seen["workspace_status"]) == ("error", "failed")
    fake.clock.advance(60)
    assert status(fake, task) == "error"  # settled until another build (STATUS-3)
    assert control(fake, f"tasks/{task['id']}/start").status_code == 200
    fake.clock.advance(5 * STAGE + 0.001)
    assert status(fake, task) == "active"


def test_stop_and_start_the_workspace(fake: Fake) -> None:
    task = fake.active()
    assert control(fake, f"tasks/{task['id']}/stop").json()["transition"] == "stop"
    # A second build while the first runs: Coder's own 409.
    assert control(fake, f"tasks/{task['id']}/start").status_code == 409
    fake.clock.advance(2 * STAGE + 0.001)
    assert status(fake, task) == "paused"
    control(fake, f"tasks/{task['id']}/start")
    fake.clock.advance(STAGE)
    assert status(fake, task) == "initializing"
    fake.clock.advance(4 * STAGE + 0.001)
    assert status(fake, task) == "active"


def test_busy_app_makes_send_answer_not_ready(fake: Fake) -> None:
    task = fake.active()
    answer = fake.server.world.level.send_app_not_ready
    assert control(fake, f"tasks/{task['id']}/app-ready", ready=False).status_code == 200
    refused = fake.alice.post(f"{TASKS}/me/{task['id']}/send", json={"input": "hi"})
    assert (refused.status_code, refused.json()["message"]) == (answer.status, answer.message)
    control(fake, f"tasks/{task['id']}/app-ready", ready=True)
    assert fake.alice.post(f"{TASKS}/me/{task['id']}/send", json={"input": "hi"}).status_code == 204


def test_injected_429_for_n_requests_then_normal(fake: Fake) -> None:
    injected = control(fake, "faults", status=429, count=2, method="GET", path="/api/v2/users/me")
    assert injected.json()["count"] == 2
    for _ in range(2):
        limited = fake.alice.get("/api/v2/users/me")
        assert limited.status_code == 429
        assert limited.json()["message"].startswith("You've been rate limited")
        assert limited.headers["X-Ratelimit-Remaining"] == "0"
        assert int(limited.headers["Retry-After"]) >= 1
        assert limited.headers["X-Coder-Build-Version"] == fake.server.world.level.build_version
    assert fake.alice.get(TASKS).status_code == 200  # another path is untouched
    assert fake.alice.get("/api/v2/users/me").status_code == 200


def test_injected_500_once(fake: Fake) -> None:
    control(fake, "faults", status=500, path=TASKS)
    failed = fake.alice.get(TASKS)
    assert (failed.status_code, failed.json()) == (500, {"message": "An internal server error occurred."})
    assert fake.alice.get(TASKS).status_code == 200


def test_bad_control_requests(fake: Fake) -> None:
    assert control(fake, "tasks/nope/state", state="idle").status_code == 404
    assert control(fake, "faults", status=200).status_code == 400
    assert control(fake, "clock/advance", seconds=-1).status_code == 400
    assert control(fake, "nothing").status_code == 404
    assert fake.anon.get("/__control/faults").status_code == 405


def test_clock_advance_moves_a_wall_clock_server_on() -> None:
    """At realistic speed a task takes 10 s to be active; advancing the clock gets it there at once."""
    with start_reference_server(speed="realistic", control=True) as server:
        headers = {"Coder-Session-Token": server.seed.users["alice"].token}
        with httpx.Client(base_url=server.url, headers=headers) as alice:
            body = {"template_version_id": server.seed.template_versions["ai_task"], "input": "go", "name": "slow"}
            alice.post(f"{TASKS}/me", json=body)
            assert alice.get(f"{TASKS}/me/slow").json()["status"] == "initializing"
            moved = httpx.post(server.url + "/__control/clock/advance", json={"seconds": 11})
            assert moved.status_code == 200
            assert alice.get(f"{TASKS}/me/slow").json()["status"] == "active"


def test_python_methods_match_the_endpoints() -> None:
    with start_reference_server(coder_version="newest", control=True) as server:
        headers = {"Coder-Session-Token": server.seed.users["alice"].token}
        with httpx.Client(base_url=server.url, headers=headers) as alice:
            body = {"template_version_id": server.seed.template_versions["ai_task"], "input": "go", "name": "py"}
            task = alice.post(f"{TASKS}/me", json=body).json()
            server.control.advance(60)
            server.control.set_state(task["id"], "failed", "Gave up")
            assert alice.get(f"{TASKS}/me/py").json()["current_state"]["state"] == "failed"
            server.control.inject(503, path="/api/v2/buildinfo")
            assert httpx.get(server.url + "/api/v2/buildinfo").status_code == 503


def test_control_is_off_by_default() -> None:
    with start_reference_server() as server:
        with pytest.raises(RuntimeError, match="control=True"):
            server.control  # noqa: B018 (the property is what is tested)
        response = httpx.post(server.url + "/__control/clock/advance", json={"seconds": 1})
        assert (response.status_code, response.json()) == (404, {"message": "Route not found."})


def test_hold_keeps_a_task_initializing_until_released(fake: Fake) -> None:
    task = fake.create(input="Fix the bug")
    assert control(fake, f"tasks/{task['id']}/hold").json()["held"] is True
    fake.clock.advance(600)
    seen = fake.get(task)
    assert (seen["status"], seen["workspace_status"]) == ("initializing", "pending")
    assert seen["current_state"]["message"] == "Workspace is pending"
    assert control(fake, f"tasks/{task['id']}/release").json()["held"] is False
    fake.clock.advance(STAGE)
    assert status(fake, task) == "initializing"
    fake.clock.advance(4 * STAGE + 0.2)
    seen = fake.get(task)
    assert (seen["status"], seen["current_state"]["state"]) == ("active", "idle")
    logs = fake.alice.get(f"{TASKS}/me/{task['id']}/logs").json()["logs"]
    assert [entry["content"] for entry in logs][1:2] == ["Fix the bug"]  # the prompt reached the agent after all
    # Holding an active task is refused: nothing is queued to hold.
    assert control(fake, f"tasks/{task['id']}/hold").status_code == 400
