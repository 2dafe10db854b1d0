"""The reference server's domain model, driven by a ManualClock: lifecycle, status and current_state (§4),
creation checks (§3.2), delete/input/send/logs rules (§3.4-§3.8). No HTTP here."""

from __future__ import annotations

from datetime import timedelta

import pytest

from coder_tasks_contract.server import lifecycle
from coder_tasks_contract.server.clock import ManualClock
from coder_tasks_contract.server.entities import Task
from coder_tasks_contract.server.errors import BadRequest, Conflict, InternalError, NotFound, UpstreamFailure
from coder_tasks_contract.server.model import World
from coder_tasks_contract.server.render import task_json
from coder_tasks_contract.server.seed import SeedInfo, seed_world

STAGE = 0.06  # the "fast" speed's stage length, seconds
WORK = 0.15  # the "fast" speed's reply time


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def world(clock: ManualClock) -> World:
    return World(clock, speed="fast")


@pytest.fixture
def seed(world: World) -> SeedInfo:
    return seed_world(world, "http://127.0.0.1:1")


def user(world: World, seed: SeedInfo, key: str):  # type: ignore[no-untyped-def]
    return world.users[seed.users[key].id]


def create(world: World, seed: SeedInfo, key: str = "alice", **kwargs: str) -> Task:
    actor = user(world, seed, key)
    args = {"template_version_id": seed.template_versions["ai_task"], "prompt": "Fix the bug", "name": ""}
    args.update(kwargs)
    return world.create_task(actor, actor, **args)  # type: ignore[arg-type]


def status(world: World, task: Task) -> str:
    return world.task_status(task)


def make_active(world: World, seed: SeedInfo, clock: ManualClock, **kwargs: str) -> Task:
    task = create(world, seed, **kwargs)
    clock.advance(5 * STAGE + WORK + 0.001)  # active, and the agent has answered the initial prompt
    assert status(world, task) == "active"
    return task


def stop(world: World, seed: SeedInfo, task: Task, key: str = "alice") -> None:
    actor = user(world, seed, key)
    workspace = world.workspace(actor, task.workspace_id or "")
    world.create_build(actor, workspace, "stop")


# ---- lifecycle and status (§4.1) --------------------------------------------------------------------------------


def test_status_walks_initializing_then_active(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """§4.1: start job pending/running and agent created/starting and app initializing are all initializing;
    healthy app is active."""
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
    """§4.1: a stop build whose job is not finished is "anything else" (unknown); succeeded stop is paused."""
    task = make_active(world, seed, clock)
    stop(world, seed, task)
    assert status(world, task) == "unknown"
    clock.advance(STAGE)
    assert status(world, task) == "unknown"
    clock.advance(STAGE)
    assert status(world, task) == "paused"


def test_start_after_stop_goes_initializing_then_active(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """§4.1/§4.2: resuming queues a start build; the task is initializing again and the stale app status from
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
    """§4.2 rule 1: when the latest build is not a start, the latest app status is the current state."""
    task = make_active(world, seed, clock)
    stop(world, seed, task)
    clock.advance(2 * STAGE)
    state = task_json(world, task, clock.now())["current_state"]
    assert state["state"] == "idle"
    assert state["message"] == "Waiting for input"


# ---- current_state (§4.2) ---------------------------------------------------------------------------------------


def test_synthesised_messages_follow_the_build_and_agent(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """§4.2 rule 2: while initializing, the message says what is happening, the state is working, the
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
    """§4.2 rule 1 with the fake agent: working on the prompt right after becoming active, idle after replying."""
    task = create(world, seed, prompt="Refactor the parser")
    clock.advance(5 * STAGE)
    state = task_json(world, task, clock.now())["current_state"]
    assert (state["state"], state["message"]) == ("working", "Refactor the parser")
    clock.advance(WORK)
    assert task_json(world, task, clock.now())["current_state"]["state"] == "idle"


def test_current_state_is_null_when_no_rule_applies(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """§4.2: null unless rule 1 or 2 applies: an error-free active task with no app status newer than its
    start build has no state. Built by removing the statuses the fake agent reports."""
    task = create(world, seed)
    workspace = world.workspace_of(task)
    assert workspace is not None
    workspace.app_statuses.clear()
    clock.advance(5 * STAGE)
    assert task_json(world, task, clock.now())["current_state"] is None


# ---- create (§3.2) ----------------------------------------------------------------------------------------------


def test_create_checks_template_version_then_ai_task_then_name(world: World, seed: SeedInfo) -> None:
    """§3.2 order of checks: unknown version (400) beats a bad name; a template without AI task (400) too."""
    with pytest.raises(BadRequest, match="Template version not found"):
        create(world, seed, template_version_id="7f1d9c3e-0000-4000-8000-000000000000", name="bad name")
    with pytest.raises(BadRequest, match="coder_ai_task"):
        create(world, seed, template_version_id=seed.template_versions["no_ai_task"], name="bad name")
    with pytest.raises(BadRequest) as bad:
        create(world, seed, name="bad name")
    assert bad.value.body() == {
        "message": "Unable to create a Task with the provided name.",
        "detail": "must be alphanumeric with hyphens",
    }


def test_duplicate_name_is_case_insensitive_conflict(world: World, seed: SeedInfo) -> None:
    """§3.2: a live workspace with the same name (any case) gives 409 with the exact body."""
    create(world, seed, name="my-task")
    with pytest.raises(Conflict) as conflict:
        create(world, seed, name="My-Task")
    assert conflict.value.body() == {
        "message": 'Workspace "My-Task" already exists.',
        "validations": [{"field": "name", "detail": "This value is already in use and should be unique."}],
    }


def test_same_name_for_another_owner_is_fine(world: World, seed: SeedInfo) -> None:
    """§3.2: uniqueness is per owner."""
    create(world, seed, "alice", name="shared")
    assert create(world, seed, "bob", name="shared").name == "shared"


def test_generated_name_when_none_given(world: World, seed: SeedInfo) -> None:
    """§3.2: an empty name gets task-<docker-style, <= 22 chars>-<4 hex>, which passes NameValid."""
    name = create(world, seed).name
    assert name.startswith("task-")
    assert len(name) <= 32
    suffix = name.rsplit("-", 1)[1]
    assert len(suffix) == 4
    int(suffix, 16)


def test_empty_input_is_accepted(world: World, seed: SeedInfo) -> None:
    """§3.2: input is not validated."""
    assert create(world, seed, prompt="").prompt == ""


def test_nul_in_input_is_a_database_error(world: World, seed: SeedInfo) -> None:
    """§3.2 (500 "Internal error creating task."): Postgres rejects NUL in text."""
    with pytest.raises(InternalError, match=r"Internal error creating task\."):
        create(world, seed, prompt="a\x00b")


def test_new_task_is_initializing_with_build_one(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """§3.2 typical contents right after creation."""
    body = task_json(world, create(world, seed), clock.now())
    assert body["status"] == "initializing"
    assert body["workspace_build_number"] == 1
    assert body["workspace_status"] == "pending"
    for field in ("workspace_agent_id", "workspace_app_id", "workspace_agent_lifecycle", "workspace_agent_health"):
        assert body[field] is None
    assert body["current_state"]["message"] == "Workspace is pending"


# ---- resolution (§2) --------------------------------------------------------------------------------------------


def test_task_by_uuid_ignores_the_user_segment_for_the_owner(world: World, seed: SeedInfo) -> None:
    """§2.2: a UUID lookup is not checked against {user}: the site owner finds alice's task under "me"."""
    task = create(world, seed)
    owner = user(world, seed, "owner")
    assert world.resolve_task(owner, owner, task.id) is task


def test_member_cannot_see_another_members_task(world: World, seed: SeedInfo) -> None:
    """§7.5: bob gets 404 for alice's task by UUID; and bob cannot address alice at all (§2.1 step 5)."""
    task = create(world, seed)
    bob = user(world, seed, "bob")
    with pytest.raises(NotFound):
        world.resolve_task(bob, bob, task.id)
    with pytest.raises(NotFound):
        world.resolve_user(bob, "alice")


def test_unknown_user_is_400_with_queried_value(world: World, seed: SeedInfo) -> None:
    """§2.1: unknown username or UUID → 400 with the exact message and the queried value."""
    alice = user(world, seed, "alice")
    with pytest.raises(BadRequest) as bad:
        world.resolve_user(alice, "nobody")
    assert bad.value.body() == {
        "message": '"user" must be an existing uuid or username.',
        "detail": 'queried user="nobody"',
    }


def test_username_is_case_insensitive_and_me_is_not(world: World, seed: SeedInfo) -> None:
    """§2.1: usernames compare lower-cased; only exactly "me" means the caller."""
    alice = user(world, seed, "alice")
    assert world.resolve_user(alice, "ALICE") is alice
    with pytest.raises(BadRequest):
        world.resolve_user(alice, "ME")


def test_workspace_id_is_not_a_task_id(world: World, seed: SeedInfo) -> None:
    """§2.2 step 5."""
    task = create(world, seed)
    alice = user(world, seed, "alice")
    with pytest.raises(NotFound):
        world.resolve_task(alice, alice, task.workspace_id or "")


# ---- delete (§3.4) ----------------------------------------------------------------------------------------------


def test_delete_conflicts_while_the_build_runs(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """§3.4: 409 while the create build's job is pending or running; allowed once it succeeded."""
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
    """§3.2 409 is about a non-deleted workspace: the delete build must finish before the name is free."""
    task = make_active(world, seed, clock, name="again")
    world.delete_task(user(world, seed, "alice"), task)
    with pytest.raises(Conflict):
        create(world, seed, name="again")
    clock.advance(2 * STAGE)
    assert create(world, seed, name="again").name == "again"


def test_deleting_the_workspace_deletes_the_task(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """§3.4: a delete build through the workspace API also deletes the task."""
    task = make_active(world, seed, clock)
    alice = user(world, seed, "alice")
    world.create_build(alice, world.workspace(alice, task.workspace_id or ""), "delete")
    with pytest.raises(NotFound):
        world.resolve_task(alice, alice, task.id)


# ---- input (§3.5) -----------------------------------------------------------------------------------------------


def test_update_input_needs_paused(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """§3.5: 409 unless paused; blank after trimming is 400 first; paused → prompt replaced."""
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
    """§3.5: strings.TrimSpace does not trim \\x1f (Python's strip would), so it is not blank."""
    task = make_active(world, seed, clock)
    stop(world, seed, task)
    clock.advance(2 * STAGE)
    world.update_input(user(world, seed, "alice"), task, "\x1f")
    assert task.prompt == "\x1f"


# ---- send and logs (§3.6-§3.8) ----------------------------------------------------------------------------------


def test_send_requires_active(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """§3.8 check 1: 400 with the task's status quoted in the detail."""
    task = create(world, seed)
    with pytest.raises(BadRequest) as bad:
        world.send(user(world, seed, "alice"), task, "hi")
    assert bad.value.body() == {
        "message": "Task status must be active.",
        "detail": 'Task status is "initializing", it must be "active" to interact with the task.',
    }


def test_send_while_agent_works_is_502(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """§3.6 step 4: the AgentAPI is running (still on the initial prompt) → 502 with "Status: running"."""
    task = create(world, seed)
    clock.advance(5 * STAGE)
    with pytest.raises(UpstreamFailure) as upstream:
        world.send(user(world, seed, "alice"), task, "hi")
    assert upstream.value.body() == {"message": "Task app is not ready to accept input.", "detail": "Status: running"}


def test_send_then_logs_show_the_exchange(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """§3.6/§3.7: the message is logged as input at once; the agent's output appears once it answered."""
    task = make_active(world, seed, clock, prompt="")
    alice = user(world, seed, "alice")
    world.send(alice, task, "  ")  # whitespace passes send's exact "" check
    assert [(m.role, m.content) for m in world.logs(alice, task)] == [("user", "  ")]
    clock.advance(WORK)
    roles = [m.role for m in world.logs(alice, task)]
    assert roles == ["user", "agent"]
    with pytest.raises(BadRequest, match=r"Task input is required\."):
        world.send(alice, task, "")


def test_stop_cancels_what_the_agent_had_not_done(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """The fake agent's future reply disappears when the workspace stops before it."""
    task = make_active(world, seed, clock, prompt="")
    alice = user(world, seed, "alice")
    world.send(alice, task, "long job")
    stop(world, seed, task)
    clock.advance(timedelta(seconds=10).total_seconds())
    assert [m.role for m in task.agentapi.messages(clock.now())] == ["user"]


# ---- list (§3.1) ------------------------------------------------------------------------------------------------


def test_list_newest_first_and_visibility(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """§3.1: newest first; members see only their own tasks; the owner sees everyone's."""
    first = create(world, seed, "alice")
    clock.advance(0.001)
    second = create(world, seed, "alice")
    clock.advance(0.001)
    bobs = create(world, seed, "bob")
    alice, owner = user(world, seed, "alice"), user(world, seed, "owner")
    assert world.list_tasks(alice, world.parse_query(alice, "")) == [second, first]
    assert world.list_tasks(owner, world.parse_query(owner, "")) == [bobs, second, first]


def test_list_unknown_status_is_500(world: World, seed: SeedInfo) -> None:
    """§3.1/§6: a status outside the enum is a database error (inferred)."""
    alice = user(world, seed, "alice")
    with pytest.raises(InternalError) as internal:
        world.list_tasks(alice, world.parse_query(alice, "status:running"))
    assert internal.value.message == "Internal error fetching tasks."


def test_list_filters_by_status(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """§6: status filters on the computed status."""
    active = make_active(world, seed, clock)
    fresh = create(world, seed)
    alice = user(world, seed, "alice")
    assert world.list_tasks(alice, world.parse_query(alice, "status:active")) == [active]
    assert world.list_tasks(alice, world.parse_query(alice, 'status:"initializing"')) == [fresh]


def test_realistic_speed_takes_seconds(clock: ManualClock) -> None:
    """Speeds: realistic stages are 2 s, so create → active takes 10 s of (simulated) time."""
    world = World(clock, speed="realistic")
    seed = seed_world(world, "http://127.0.0.1:1")
    task = create(world, seed)
    clock.advance(9.9)
    assert status(world, task) == "initializing"
    clock.advance(0.1)
    assert status(world, task) == "active"
