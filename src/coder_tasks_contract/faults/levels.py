"""Faults that are faults only at some contract levels: a server that says (in ``/api/v2/buildinfo``) it is one
Coder version but answers one condition the way another version did.

Each variant serves a later level (so the suite detects that level from the build version) with one field of the
level table (``coder_tasks_contract.spec.levels``) taken from an earlier level. The same answer is right at the earlier
level, which the faithful server at that level shows (selftests/test_levels_suite.py).
"""

from __future__ import annotations

from dataclasses import replace

from starlette.types import ASGIApp

from coder_tasks_contract.faults.asgi import serve
from coder_tasks_contract.faults.base import fault
from coder_tasks_contract.server.domain.world import World
from coder_tasks_contract.spec.levels import LEVEL_82F, LEVEL_229, LEVEL_NEWEST


@fault("paths", "tests/test_path_resolution.py::test_unknown_user_segment_answers_404_not_found", ci=True)
def newest_unknown_user_answers_400(world: World) -> ASGIApp:
    """A newest server answers an unknown ``{user}`` with the 82f 400 ``"user" must be an existing uuid or
    username.`` instead of 404 with the not-found body (USER-2, LEVEL-3 #22069)."""
    world.level = replace(LEVEL_NEWEST, unknown_user=LEVEL_82F.unknown_user)
    return serve(world)


@fault("errors", "tests/test_task_state_errors.py::test_send_on_a_paused_task_answers_409")
def newest_send_on_paused_task_answers_400(world: World) -> ASGIApp:
    """A newest server refuses send on a paused task with the 82f 400 ``Task status must be active.`` instead of
    409 ``Task is paused.`` (AGENT-2, LEVEL-3 #21887)."""
    world.level = replace(LEVEL_NEWEST, send_not_active=LEVEL_82F.send_not_active)
    return serve(world)


# The pause/resume test reads the paused task's logs too, so it may meet the missing snapshot first.
@fault(
    "lifecycle",
    "tests/test_pause_resume.py::test_pause_and_resume_answer_202_with_their_builds",
    "tests/test_pause_resume.py::test_logs_of_a_paused_task_answer_the_stored_snapshot",
)
def newest_logs_without_snapshot(world: World) -> ASGIApp:
    """A newest server refuses the logs of a paused task (82f: 400 not active) instead of answering its stored
    snapshot with ``snapshot: true`` (LOGS-3, LEVEL-3 #21771)."""
    world.level = replace(
        LEVEL_NEWEST, log_snapshots=LEVEL_82F.log_snapshots, logs_not_active=LEVEL_82F.logs_not_active
    )
    return serve(world)


# Every test parametrized over the mounts runs its "v2" case against the missing mount.
@fault(
    "paths",
    "tests/test_status_codes.py::test_list_answers_200_with_tasks_and_count[v2]",
    "tests/test_path_resolution.py::test_each_mount_of_the_level_serves_the_same_tasks[v2]",
)
def v229_without_v2_mount(world: World) -> ASGIApp:
    """A v2.29 server serves the tasks only under ``/api/experimental/tasks``, not the stable ``/api/v2/tasks``
    mount that v2.29.0 added (ROUTE-1, LEVEL-2: #20921)."""
    world.level = replace(LEVEL_229, prefixes=LEVEL_82F.prefixes)
    return serve(world)


@fault("paths", "tests/test_path_resolution.py::test_mounts_and_routes_the_level_lacks_are_not_routed")
def v229_serves_pause_resume(world: World) -> ASGIApp:
    """A v2.29 server already routes ``POST .../pause`` and ``.../resume``, which arrived only after v2.31
    (LEVEL-3, PAUSE-5: #21889, #21948, #22544): the contract of v2.29 has no such routes (ROUTE-3: a live task's
    unknown sub-route is 404 ``Route not found.``)."""
    world.level = replace(LEVEL_229, pause_resume=True)
    return serve(world)
