"""The write guard's policy: which requests may leave the process, checked by calling ``Guard.check`` directly
with the requests a test would send (the guard inside real clients: ``test_guard_transport``)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from coder_tasks_contract.target.model import User
from coder_tasks_contract.transport.guard import Guard, GuardRefused, Outgoing, request_token
from coder_tasks_contract.transport.paths import task_path, workspace_path
from coder_tasks_contract.transport.task_registry import TaskRegistry
from coder_tasks_contract.transport.traffic import Traffic

from .guard_support import ALICE, BASE, BOB, FOREIGN_ID, OURS, req, task_json


@pytest.fixture
def registry() -> TaskRegistry:
    registry = TaskRegistry("run1", max_tasks=3)
    registry.add(OURS, creator="alice")
    return registry


@pytest.fixture
def guard(registry: TaskRegistry) -> Guard:
    return Guard(base_url=BASE, registry=registry, traffic=Traffic(), users=[ALICE, BOB])


# -- reads ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/experimental/tasks?q=owner:me", id="list"),
        pytest.param(task_path("bob", FOREIGN_ID), id="foreign-task"),
        pytest.param(task_path("me", FOREIGN_ID, "/logs"), id="foreign-logs"),
        pytest.param("/api/experimental/nothing-here", id="unknown-experimental-path"),
        pytest.param("/api/v2/buildinfo", id="buildinfo"),
        pytest.param("/api/v2/users/me", id="users-me"),
        pytest.param(workspace_path(FOREIGN_ID), id="workspace"),
    ],
)
def test_reads_of_the_allowed_endpoints_pass(guard: Guard, path: str) -> None:
    assert guard.check(req("GET", path)).route


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/v2/users", id="users"),
        pytest.param("/api/v2/templateversions/" + FOREIGN_ID, id="templateversions"),
        pytest.param(workspace_path(FOREIGN_ID, "/builds"), id="workspace-builds-list"),
        pytest.param("/", id="root"),
    ],
)
def test_reads_outside_the_allowed_endpoints_are_refused(guard: Guard, path: str) -> None:
    with pytest.raises(GuardRefused, match="reads only"):
        guard.check(req("GET", path))


def test_other_origins_are_refused_even_for_reads(guard: Guard) -> None:
    outgoing = Outgoing("GET", "http://127.0.0.1:3001/api/v2/buildinfo", {})
    with pytest.raises(GuardRefused, match="not the target"):
        guard.check(outgoing)


# -- writes to tasks --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["DELETE", "PATCH", "POST", "PUT"])
@pytest.mark.parametrize("suffix", ["", "/input", "/send"])
def test_writes_to_a_task_this_run_did_not_create_are_refused(guard: Guard, method: str, suffix: str) -> None:
    with pytest.raises(GuardRefused, match="not created by this run"):
        guard.check(req(method, task_path("me", FOREIGN_ID, suffix), body={"input": "x"}))


@pytest.mark.parametrize("suffix", ["", "/input", "/send"])
def test_writes_to_our_task_by_id_pass_whatever_the_user_segment(guard: Guard, suffix: str) -> None:
    # TASKREF-1: a UUID is looked up by id regardless of {user}; ours is ours under any segment.
    for segment in ("me", "bob", "nobody"):
        admission = guard.check(req("DELETE", task_path(segment, OURS["id"], suffix)))
        assert admission.task is not None
        assert admission.task.id == OURS["id"]


def test_writes_to_a_phantom_id_pass(guard: Guard, registry: TaskRegistry) -> None:
    phantom = registry.phantom_id()
    assert guard.check(req("DELETE", task_path("me", phantom))).task is None
    with pytest.raises(GuardRefused):
        guard.check(req("DELETE", task_path("me", FOREIGN_ID)))


@pytest.mark.parametrize(
    ("segment", "user"),
    [
        pytest.param("me", ALICE, id="me-as-owner"),
        pytest.param("alice", BOB, id="owner-username"),
        pytest.param("ALICE", None, id="owner-username-upper"),
        pytest.param(ALICE.id, BOB, id="owner-id"),
    ],
)
def test_writes_by_name_pass_when_the_user_segment_is_the_owner(guard: Guard, segment: str, user: User | None) -> None:
    assert guard.check(req("DELETE", task_path(segment, "CTC-RUN1-1"), user=user)).task is not None


@pytest.mark.parametrize(
    ("segment", "user"),
    [
        pytest.param("me", BOB, id="me-as-someone-else"),
        pytest.param("me", None, id="me-unauthenticated"),
        pytest.param("bob", ALICE, id="other-username"),
    ],
)
def test_writes_by_name_are_refused_when_the_name_may_be_someone_elses(
    guard: Guard, segment: str, user: User | None
) -> None:
    # /tasks/me/<name> sent with B's token resolves to B's task of that name (TASKREF-2), not ours.
    with pytest.raises(GuardRefused, match="another user's task"):
        guard.check(req("DELETE", task_path(segment, "ctc-run1-1"), user=user))


def test_a_deleted_tasks_name_is_no_longer_ours_but_its_id_is(guard: Guard, registry: TaskRegistry) -> None:
    registry.mark_deleted(OURS["id"])
    with pytest.raises(GuardRefused, match="no live task named"):
        guard.check(req("DELETE", task_path("me", "ctc-run1-1")))
    assert guard.check(req("DELETE", task_path("me", OURS["id"]))).task is not None


def test_identity_follows_coders_token_precedence() -> None:
    # AUTH-1: cookie, then query coder_session_token, then the header, then Bearer, then access_token.
    headers = {"cookie": "coder_session_token=COOKIE", "coder-session-token": "HEADER", "authorization": "Bearer B"}
    assert request_token(headers, "coder_session_token=QUERY") == "COOKIE"
    assert request_token({"coder-session-token": "HEADER"}, "coder_session_token=QUERY") == "QUERY"
    assert request_token({"coder-session-token": "HEADER", "authorization": "Bearer B"}, "") == "HEADER"
    assert request_token({"authorization": "bearer  B "}, "access_token=A") == "B"
    assert request_token({}, "access_token=A") == "A"
    assert request_token({}, "") is None


def test_a_cookie_token_decides_whose_task_a_name_means(guard: Guard) -> None:
    # Header says alice, but Coder authenticates by the cookie (bob): /tasks/me/<name> would be bob's task.
    outgoing = req("DELETE", task_path("me", "ctc-run1-1"), cookie=f"coder_session_token={BOB.token.reveal()}")
    with pytest.raises(GuardRefused):
        guard.check(outgoing)


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/experimental/tasks/me/x/../" + FOREIGN_ID, id="dot-dot"),
        pytest.param("/api/experimental/tasks/me/%2e%2e/" + FOREIGN_ID, id="encoded-dot-dot"),
        pytest.param("/api/experimental/tasks/me/" + OURS["id"] + "%2F..%2F" + FOREIGN_ID, id="encoded-slash"),
    ],
)
def test_paths_that_may_resolve_elsewhere_are_refused_for_writes(guard: Guard, path: str) -> None:
    with pytest.raises(GuardRefused):
        guard.check(req("DELETE", path))


def test_repeated_slashes_are_collapsed_before_matching(guard: Guard) -> None:
    # Coder collapses double slashes (ROUTE-12); the guard must see the same route.
    with pytest.raises(GuardRefused, match="not created by this run"):
        guard.check(req("DELETE", "//api//experimental/tasks//me//" + FOREIGN_ID + "/"))


def test_writes_outside_the_task_routes_are_refused(guard: Guard) -> None:
    for method, path in [
        ("DELETE", "/api/v2/users/me"),
        ("POST", "/api/v2/users"),
        ("PUT", workspace_path(FOREIGN_ID)),
    ]:
        with pytest.raises(GuardRefused):
            guard.check(req(method, path))


# -- creates ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("segment", ["me", "alice", "Bob", BOB.id])
def test_creates_for_the_suite_users_pass(guard: Guard, segment: str) -> None:
    assert guard.check(req("POST", task_path(segment), body={"input": "x"})).create


@pytest.mark.parametrize("segment", ["carol", "ME", "00000000-0000-4000-8000-000000000000"])
def test_creates_for_anyone_else_are_refused(guard: Guard, segment: str) -> None:
    with pytest.raises(GuardRefused, match="created only for me, alice, bob"):
        guard.check(req("POST", task_path(segment), body={"input": "x"}))


class FakeReceived:
    """A response as the guard reads it (for observe(): no network involved in this policy check)."""

    def __init__(self, status: int, body: Any = None, **headers: str) -> None:
        self.status = status
        self._body = b"" if body is None else json.dumps(body).encode()
        self._headers = {k.replace("_", "-").lower(): v for k, v in headers.items()}

    def header(self, name: str) -> str | None:
        return self._headers.get(name.lower())

    def content(self) -> bytes:
        return self._body

    def discard(self) -> None:
        return None


def test_the_budget_counts_creates_and_returns_refused_ones(guard: Guard, registry: TaskRegistry) -> None:
    # max_tasks=3: a 400 create gives its slot back, a 201 and a 500 keep theirs.
    create = req("POST", task_path("me"), body={"input": "x"})
    guard.observe(create, guard.check(create), FakeReceived(400, {"message": "bad"}))
    created = task_json("ctc-run1-2", ALICE, task_id="33333333-3333-4333-8333-333333333333", workspace_id="")
    guard.observe(create, guard.check(create), FakeReceived(201, created))
    guard.observe(create, guard.check(create), FakeReceived(500, {"message": "Internal error creating task."}))
    in_flight = guard.check(create)
    assert in_flight.create
    with pytest.raises(GuardRefused, match="budget of 3 tasks"):
        guard.check(create)
    assert registry.owns(created["id"])
    assert registry.get(created["id"]).creator == "alice"  # type: ignore[union-attr]


def test_a_created_task_is_registered_from_the_answer_so_it_can_be_changed_and_cleaned(guard: Guard) -> None:
    new = task_json("from-schemathesis", BOB, task_id="44444444-4444-4444-8444-444444444444", workspace_id="")
    with pytest.raises(GuardRefused):
        guard.check(req("DELETE", task_path("me", new["id"]), user=BOB))
    create = req("POST", task_path("me"), user=BOB, body={"input": "x"})
    guard.observe(create, guard.check(create), FakeReceived(201, new))
    assert guard.check(req("DELETE", task_path("me", "from-schemathesis"), user=BOB)).task is not None


# -- workspace builds -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("transition", ["stop", "start"])
def test_start_and_stop_builds_of_our_workspaces_pass(guard: Guard, transition: str) -> None:
    path = workspace_path(OURS["workspace_id"], "/builds")
    assert guard.check(req("POST", path, body={"transition": transition})).task is not None


@pytest.mark.parametrize(
    ("workspace", "body"),
    [
        pytest.param(FOREIGN_ID, {"transition": "stop"}, id="foreign-workspace"),
        pytest.param(OURS["workspace_id"], {"transition": "delete"}, id="delete-transition"),
        pytest.param(OURS["workspace_id"], {"transition": "start", "template_version_id": FOREIGN_ID}, id="extra-key"),
        pytest.param(OURS["workspace_id"], None, id="no-body"),
    ],
)
def test_other_builds_are_refused(guard: Guard, workspace: str, body: Any) -> None:
    with pytest.raises(GuardRefused):
        guard.check(req("POST", workspace_path(workspace, "/builds"), body=body))


# -- read-only --------------------------------------------------------------------------------------------------
def test_read_only_sends_nothing_but_get(registry: TaskRegistry) -> None:
    guard = Guard(base_url=BASE, registry=registry, traffic=Traffic(), users=[ALICE], read_only=True)
    assert guard.check(req("GET", task_path("me", OURS["id"])))
    for method, path in [
        ("DELETE", task_path("me", OURS["id"])),
        ("POST", task_path("me")),
        ("HEAD", "/api/v2/buildinfo"),
    ]:
        with pytest.raises(GuardRefused, match=r"read-only mode \(--read-only\)"):
            guard.check(req(method, path))
