"""Both task mounts in the plumbing (ROUTE-1: /api/v2/tasks from v2.29 on): paths build and match them, the write guard
applies the same policy under either, the traffic ledger keys each on its own route template, and the reference
server's command line takes the level."""

from __future__ import annotations

import pytest

from coder_tasks_contract.server.__main__ import build_parser
from coder_tasks_contract.transport import paths
from coder_tasks_contract.transport.guard import Guard, GuardRefused
from coder_tasks_contract.transport.paths import TASKS, TASKS_V2, task_path
from coder_tasks_contract.transport.task_registry import TaskRegistry
from coder_tasks_contract.transport.traffic import Traffic

from .guard_support import ALICE, BOB, FOREIGN_ID, OURS, req

MOUNTS = [pytest.param(TASKS, id="experimental"), pytest.param(TASKS_V2, id="v2")]


@pytest.fixture
def guard() -> Guard:
    registry = TaskRegistry("run1", max_tasks=3)
    registry.add(OURS, creator="alice")
    return Guard(base_url="http://127.0.0.1:3000", registry=registry, traffic=Traffic(), users=[ALICE, BOB])


@pytest.mark.parametrize("prefix", MOUNTS)
def test_task_path_and_match_work_under_each_mount(prefix: str) -> None:
    path = task_path("me", "ctc-run1-1", "/pause", prefix=prefix)
    assert path == f"{prefix}/me/ctc-run1-1/pause"
    route = paths.match(path)
    assert route is not None
    assert route.template == prefix + "/{user}/{task}/pause"
    assert route.canonical == paths.ROUTE_TASK_PAUSE
    assert route.params == {"user": "me", "task": "ctc-run1-1"}
    assert paths.route_template(prefix + "//me/x/") == prefix + "/{user}/{task}"


def test_task_path_refuses_an_unknown_mount() -> None:
    with pytest.raises(ValueError, match="prefix must be one of"):
        task_path("me", prefix="/api/v3/tasks")


def test_paths_near_the_mounts_are_not_task_routes() -> None:
    assert paths.match("/api/v2/taskz") is None
    assert paths.match("/api/v2/tasksx/me") is None
    assert paths.canonical_template("/api/v2/tasksx") == "/api/v2/tasksx"


@pytest.mark.parametrize("prefix", MOUNTS)
def test_the_guard_admits_writes_to_our_task_under_each_mount(guard: Guard, prefix: str) -> None:
    for suffix in ("/send", "/pause", "/resume", ""):
        method = "DELETE" if suffix == "" else "POST"
        admission = guard.check(req(method, task_path("me", OURS["id"], suffix, prefix=prefix), body={"input": "x"}))
        assert admission.route == prefix + "/{user}/{task}" + suffix
    create = guard.check(req("POST", task_path("me", prefix=prefix), body={}))
    assert create.create


@pytest.mark.parametrize("prefix", MOUNTS)
def test_the_guard_refuses_writes_to_foreign_tasks_under_each_mount(guard: Guard, prefix: str) -> None:
    with pytest.raises(GuardRefused, match="was not created by this run"):
        guard.check(req("POST", task_path("me", FOREIGN_ID, "/pause", prefix=prefix)))
    with pytest.raises(GuardRefused, match="tasks are created only for"):
        guard.check(req("POST", task_path("someone-else", prefix=prefix), body={}))


def test_the_guard_learns_from_reads_under_the_v2_mount(guard: Guard) -> None:
    """A GET of our task through /api/v2/tasks refreshes the registry like one through /api/experimental/tasks."""

    class Answer:
        status = 200

        def header(self, name: str) -> str | None:
            return None

        def content(self) -> bytes:
            return b'{"id": "%s", "name": "ctc-run1-1", "owner_id": "%s", "status": "paused"}' % (
                OURS["id"].encode(),
                ALICE.id.encode(),
            )

        def discard(self) -> None:
            return None

    request = req("GET", task_path("me", OURS["id"], prefix=TASKS_V2))
    guard.observe(request, guard.check(request), Answer())
    owned = guard.registry.get(OURS["id"])
    assert owned is not None
    assert owned.data.get("status") == "paused"


def test_the_reference_server_command_takes_a_level() -> None:
    assert build_parser().parse_args(["--coder-version", "newest"]).coder_version == "newest"
    assert build_parser().parse_args([]).coder_version == "82f"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--coder-version", "2.30"])
