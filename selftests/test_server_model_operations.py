"""The reference server's domain model: the delete, input, send and logs rules (DELETE, INPUT, SEND, LOGS and AGENT
clauses), driven by a
ManualClock. No HTTP here."""

from __future__ import annotations

from datetime import timedelta

import pytest

from coder_tasks_contract.server.api.render import task_json
from coder_tasks_contract.server.domain.clock import ManualClock
from coder_tasks_contract.server.domain.errors import BadRequest, Conflict, NotFound, UpstreamFailure
from coder_tasks_contract.server.domain.seed import SeedInfo
from coder_tasks_contract.server.domain.world import World

from .server_model_support import STAGE, WORK, create, make_active, stop, user

# ---- delete (DELETE-1) ----------------------------------------------------------------------------------------------


def test_delete_conflicts_while_the_build_runs(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """DELETE-2: 409 while the create build's job is pending or running; allowed once it succeeded."""
    task = create(world, seed)
    alice = user(world, seed, "alice")
    with pytest.raises(Conflict) as conflict:
        world.delete_task(alice, task)
    assert conflict.value.body() == {
        "message": "A workspace build is already active.",
        "detail": "A workspace build is already active.",
    }
    clock.advance(2 * STAGE)
    world.delete_task(alice, task)
    with pytest.raises(NotFound):
        world.resolve_task(alice, alice, task.id)


def test_deleted_name_stays_taken_until_the_workspace_is_gone(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """CREATE-7: the 409 is about a non-deleted workspace: the delete build must finish before the name is free."""
    task = make_active(world, seed, clock, name="again")
    world.delete_task(user(world, seed, "alice"), task)
    with pytest.raises(Conflict):
        create(world, seed, name="again")
    clock.advance(2 * STAGE)
    assert create(world, seed, name="again").name == "again"


def test_deleting_the_workspace_deletes_the_task(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """DELETE-5: a delete build through the workspace API also deletes the task."""
    task = make_active(world, seed, clock)
    alice = user(world, seed, "alice")
    world.create_build(alice, world.workspace(alice, task.workspace_id or ""), "delete")
    with pytest.raises(NotFound):
        world.resolve_task(alice, alice, task.id)


# ---- input (INPUT-1) -----------------------------------------------------------------------------------------------


def test_update_input_needs_paused(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """INPUT-4: 409 unless paused; blank after trimming is 400 first; paused → prompt replaced."""
    task = make_active(world, seed, clock)
    alice = user(world, seed, "alice")
    with pytest.raises(BadRequest, match=r"Task input is required\."):
        world.update_input(alice, task, " \t\n")
    with pytest.raises(Conflict) as conflict:
        world.update_input(alice, task, "new prompt")
    assert conflict.value.detail == "Please stop the task's workspace before updating the input."
    stop(world, seed, task)
    clock.advance(2 * STAGE)
    world.update_input(alice, task, "new prompt")
    assert task_json(world, task, clock.now())["initial_prompt"] == "new prompt"


def test_trim_follows_go_not_python(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """INPUT-3: strings.TrimSpace does not trim \\x1f (Python's strip would), so it is not blank."""
    task = make_active(world, seed, clock)
    stop(world, seed, task)
    clock.advance(2 * STAGE)
    world.update_input(user(world, seed, "alice"), task, "\x1f")
    assert task.prompt == "\x1f"


# ---- send and logs (SEND-1, LOGS-1, AGENT-1) -------------------------------------------------------------------------


def test_send_requires_active(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """AGENT-1: 400 with the task's status quoted in the detail."""
    task = create(world, seed)
    with pytest.raises(BadRequest) as bad:
        world.send(user(world, seed, "alice"), task, "hi")
    assert bad.value.body() == {
        "message": "Task status must be active.",
        "detail": 'Task status is "initializing", it must be "active" to interact with the task.',
    }


def test_send_while_agent_works_is_502(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """SEND-4: the AgentAPI is running (still on the initial prompt) → 502 with "Status: running"."""
    task = create(world, seed)
    clock.advance(5 * STAGE)
    with pytest.raises(UpstreamFailure) as upstream:
        world.send(user(world, seed, "alice"), task, "hi")
    assert upstream.value.body() == {"message": "Task app is not ready to accept input.", "detail": "Status: running"}


def test_send_then_logs_show_the_exchange(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """SEND-1/LOGS-1: the message is logged as input at once; the agent's output appears once it answered."""
    task = make_active(world, seed, clock, prompt="")
    alice = user(world, seed, "alice")
    with pytest.raises(UpstreamFailure, match=r"Task app rejected the message\."):
        world.send(alice, task, "  ")  # passes send's exact "" check; the app refuses it once trimmed (SEND-5)
    assert [m.role for m in world.logs(alice, task)] == ["agent"]  # only the agent's first screen
    world.send(alice, task, " hi\n\u00a0")
    # AgentAPI keeps it trimmed of ASCII whitespace only (msgfmt.TrimWhitespace)
    assert [(m.role, m.content) for m in world.logs(alice, task)][1:] == [("user", "hi\n\u00a0")]
    clock.advance(WORK)
    roles = [m.role for m in world.logs(alice, task)]
    assert roles == ["agent", "user", "agent"]
    with pytest.raises(BadRequest, match=r"Task input is required\."):
        world.send(alice, task, "")


def test_stop_cancels_what_the_agent_had_not_done(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """The fake agent's future reply disappears when the workspace stops before it."""
    task = make_active(world, seed, clock, prompt="")
    alice = user(world, seed, "alice")
    world.send(alice, task, "long job")
    stop(world, seed, task)
    clock.advance(timedelta(seconds=10).total_seconds())
    assert [m.role for m in task.agentapi.messages(clock.now())] == ["agent", "user"]
