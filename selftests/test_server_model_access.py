"""The reference server's domain model: creation checks (CREATE-2), resolving the ``{user}`` and ``{task}`` segments
(USER-1, TASKREF-2) and listing (LIST-1), driven by a ManualClock. No HTTP here."""

from __future__ import annotations

import pytest

from coder_tasks_contract.server.api.render import task_json
from coder_tasks_contract.server.domain.clock import ManualClock
from coder_tasks_contract.server.domain.errors import BadRequest, Conflict, InternalError, NotFound
from coder_tasks_contract.server.domain.seed import SeedInfo
from coder_tasks_contract.server.domain.world import World

from .server_model_support import create, make_active, user

# ---- create (CREATE-1) ----------------------------------------------------------------------------------------------


def test_create_checks_template_version_then_ai_task_then_name(world: World, seed: SeedInfo) -> None:
    """CREATE-2 order of checks: unknown version (400) beats a bad name; a template without AI task (400) too."""
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
    """CREATE-6: a live workspace with the same name (any case) gives 409 with the exact body."""
    create(world, seed, name="my-task")
    with pytest.raises(Conflict) as conflict:
        create(world, seed, name="My-Task")
    assert conflict.value.body() == {
        "message": 'Workspace "My-Task" already exists.',
        "validations": [{"field": "name", "detail": "This value is already in use and should be unique."}],
    }


def test_same_name_for_another_owner_is_fine(world: World, seed: SeedInfo) -> None:
    """CREATE-6: uniqueness is per owner."""
    create(world, seed, "alice", name="shared")
    assert create(world, seed, "bob", name="shared").name == "shared"


def test_generated_name_when_none_given(world: World, seed: SeedInfo) -> None:
    """NAME-3: an empty name gets task-<docker-style, <= 22 chars>-<4 hex>, which passes NameValid."""
    name = create(world, seed).name
    assert name.startswith("task-")
    assert len(name) <= 32
    suffix = name.rsplit("-", 1)[1]
    assert len(suffix) == 4
    int(suffix, 16)


def test_empty_input_is_accepted(world: World, seed: SeedInfo) -> None:
    """CREATE-5: input is not validated."""
    assert create(world, seed, prompt="").prompt == ""


def test_nul_in_input_is_a_database_error(world: World, seed: SeedInfo) -> None:
    """CREATE-11 (500 "Internal error creating task."): Postgres rejects NUL in text."""
    with pytest.raises(InternalError, match=r"Internal error creating task\."):
        create(world, seed, prompt="a\x00b")


def test_new_task_is_initializing_with_build_one(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """CREATE-9 typical contents right after creation."""
    body = task_json(world, create(world, seed), clock.now())
    assert body["status"] == "initializing"
    assert body["workspace_build_number"] == 1
    assert body["workspace_status"] == "pending"
    for field in ("workspace_agent_id", "workspace_app_id", "workspace_agent_lifecycle", "workspace_agent_health"):
        assert body[field] is None
    assert body["current_state"]["message"] == "Workspace is pending"


# ---- resolution (USER-1, TASKREF-2) ----------------------------------------------------------------------------------


def test_task_by_uuid_ignores_the_user_segment_for_the_owner(world: World, seed: SeedInfo) -> None:
    """TASKREF-1: a UUID lookup is not checked against {user}: the site owner finds alice's task under "me"."""
    task = create(world, seed)
    owner = user(world, seed, "owner")
    assert world.resolve_task(owner, owner, task.id) is task


def test_member_cannot_see_another_members_task(world: World, seed: SeedInfo) -> None:
    """RBAC-2: bob gets 404 for alice's task by UUID; and bob cannot address alice at all (USER-3)."""
    task = create(world, seed)
    bob = user(world, seed, "bob")
    with pytest.raises(NotFound):
        world.resolve_task(bob, bob, task.id)
    with pytest.raises(NotFound):
        world.resolve_user(bob, "alice")


def test_unknown_user_is_400_with_queried_value(world: World, seed: SeedInfo) -> None:
    """USER-2: unknown username or UUID → 400 with the exact message and the queried value."""
    alice = user(world, seed, "alice")
    with pytest.raises(BadRequest) as bad:
        world.resolve_user(alice, "nobody")
    assert bad.value.body() == {
        "message": '"user" must be an existing uuid or username.',
        "detail": 'queried user="nobody"',
    }


def test_username_is_case_insensitive_and_me_is_not(world: World, seed: SeedInfo) -> None:
    """USER-1: usernames compare lower-cased; only exactly "me" means the caller."""
    alice = user(world, seed, "alice")
    assert world.resolve_user(alice, "ALICE") is alice
    with pytest.raises(BadRequest):
        world.resolve_user(alice, "ME")


def test_workspace_id_is_not_a_task_id(world: World, seed: SeedInfo) -> None:
    """TASKREF-5."""
    task = create(world, seed)
    alice = user(world, seed, "alice")
    with pytest.raises(NotFound):
        world.resolve_task(alice, alice, task.workspace_id or "")


# ---- list (LIST-1) ------------------------------------------------------------------------------------------------


def test_list_newest_first_and_visibility(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """LIST-3, LIST-4: newest first; members see only their own tasks; the owner sees everyone's."""
    first = create(world, seed, "alice")
    clock.advance(0.001)
    second = create(world, seed, "alice")
    clock.advance(0.001)
    bobs = create(world, seed, "bob")
    alice, owner = user(world, seed, "alice"), user(world, seed, "owner")
    assert world.list_tasks(alice, world.parse_query(alice, "")) == [second, first]
    assert world.list_tasks(owner, world.parse_query(owner, "")) == [bobs, second, first]


def test_list_unknown_status_is_500(world: World, seed: SeedInfo) -> None:
    """QUERY-15: a status outside the enum is a database error (inferred)."""
    alice = user(world, seed, "alice")
    with pytest.raises(InternalError) as internal:
        world.list_tasks(alice, world.parse_query(alice, "status:running"))
    assert internal.value.message == "Internal error fetching tasks."


def test_list_filters_by_status(world: World, seed: SeedInfo, clock: ManualClock) -> None:
    """QUERY-6: status filters on the computed status."""
    active = make_active(world, seed, clock)
    fresh = create(world, seed)
    alice = user(world, seed, "alice")
    assert world.list_tasks(alice, world.parse_query(alice, "status:active")) == [active]
    assert world.list_tasks(alice, world.parse_query(alice, 'status:"initializing"')) == [fresh]
