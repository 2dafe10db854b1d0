"""The reference server's domain model over time, driven by a ManualClock: lifecycle and status (STATUS-1),
current_state (STATE-1) and how long the speeds take. No HTTP here."""

from __future__ import annotations

from coder_tasks_contract.server.api.render import task_json
from coder_tasks_contract.server.domain import lifecycle
from coder_tasks_contract.server.domain.clock import ManualClock
from coder_tasks_contract.server.domain.seed import SeedInfo, seed_world
from coder_tasks_contract.server.domain.world import World

from .server_model_support import STAGE, WORK, create, make_active, status, stop, user

# ---- lifecycle and status (STATUS-1) --------------------------------------------------------------------------------


def test_status_walks_initializing_then_active(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """STATUS-2 to STATUS-5: start job pending/running and agent created/starting and app initializing are all
    initializing; healthy app is active."""
    task = create(world, seed)
    seen = []
    for _ in range(6):
        workspace = world.workspace_of(task)
        assert workspace is not None
        agent = lifecycle.agent_view(workspace, clock.now())
        seen.append(
            (
                status(world, task),
                lifecycle.workspace_status(workspace.latest_build, clock.now()),
                agent.lifecycle if agent else None,
                agent.app_health if agent else None,
            )
        )
        clock.advance(STAGE)
    assert seen == [
        ("initializing", "pending", None, None),
        ("initializing", "starting", None, None),
        ("initializing", "running", "created", "initializing"),
        ("initializing", "running", "starting", "initializing"),
        ("initializing", "running", "ready", "initializing"),
        ("active", "running", "ready", "healthy"),
    ]


def test_stop_build_gives_unknown_then_paused(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """STATUS-2: a stop build whose job is not finished is "anything else" (unknown); succeeded stop is paused."""
    task = make_active(world, seed, clock)
    stop(world, seed, task)
    assert status(world, task) == "unknown"
    clock.advance(STAGE)
    assert status(world, task) == "unknown"
    clock.advance(STAGE)
    assert status(world, task) == "paused"


def test_start_after_stop_goes_initializing_then_active(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """STATUS-2/STATE-5: resuming queues a start build; the task is initializing again and the stale app status from
    before the start is replaced by the synthesised state."""
    task = make_active(world, seed, clock)
    stop(world, seed, task)
    clock.advance(2 * STAGE)
    alice = user(world, seed, "alice")
    workspace = world.workspace(alice, task.workspace_id or "")
    world.create_build(alice, workspace, "start")
    body = task_json(world, task, clock.now())
    assert body["status"] == "initializing"
    assert body["workspace_build_number"] == 3
    assert body["current_state"]["message"] == "Workspace is pending"
    clock.advance(5 * STAGE)
    assert status(world, task) == "active"


def test_paused_task_keeps_its_last_app_status(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """STATE-2: when the latest build is not a start, the latest app status is the current state."""
    task = make_active(world, seed, clock)
    stop(world, seed, task)
    clock.advance(2 * STAGE)
    state = task_json(world, task, clock.now())["current_state"]
    assert state["state"] == "idle"
    assert state["message"] == "Waiting for input"


# ---- current_state (STATE-1) ---------------------------------------------------------------------------------------


def test_synthesised_messages_follow_the_build_and_agent(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """STATE-4: while initializing, the message says what is happening, the state is working, the
    timestamp is the build's created_at and uri is empty."""
    task = create(world, seed)
    workspace = world.workspace_of(task)
    assert workspace is not None
    messages = []
    for _ in range(5):
        state = task_json(world, task, clock.now())["current_state"]
        assert state["state"] == "working"
        assert state["uri"] == ""
        assert state["timestamp"] == task_json(world, task, clock.now())["created_at"]
        messages.append(state["message"])
        clock.advance(STAGE)
    assert messages == [
        "Workspace is pending",
        "Workspace is starting",
        "Agent is connecting",
        "Agent is starting",
        "App is initializing",
    ]


def test_active_task_reports_working_then_idle(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """STATE-2 with the fake agent: working on the prompt right after becoming active, idle after replying."""
    task = create(world, seed, prompt="Refactor the parser")
    clock.advance(5 * STAGE)
    state = task_json(world, task, clock.now())["current_state"]
    assert (state["state"], state["message"]) == ("working", "Refactor the parser")
    clock.advance(WORK)
    assert task_json(world, task, clock.now())["current_state"]["state"] == "idle"


def test_current_state_is_null_when_no_rule_applies(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """STATE-1: null unless rule 1 or 2 applies: an error-free active task with no app status newer than its
    start build has no state. Built by removing the statuses the fake agent reports."""
    task = create(world, seed)
    workspace = world.workspace_of(task)
    assert workspace is not None
    workspace.app_statuses.clear()
    clock.advance(5 * STAGE)
    assert task_json(world, task, clock.now())["current_state"] is None


def test_realistic_speed_takes_seconds(clock: ManualClock) -> None:
    """Speeds: realistic stages are 2 s, so create → active takes 10 s of (simulated) time."""
    world = World(clock, speed="realistic")
    seed = seed_world(world, "http://127.0.0.1:1")
    task = create(world, seed)
    clock.advance(9.9)
    assert status(world, task) == "initializing"
    clock.advance(0.1)
    assert status(world, task) == "active"
