"""The reference server over a real socket: the list and its q grammar (LIST-1, QUERY-8), the /api/v2 endpoints the
suite uses around tasks, the optional rate limit (RATE-1) and concurrent clients."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from .server_http_support import STAGE, TASKS, Fake, new_name, start_fake


@pytest.fixture(scope="module")
def fake() -> Iterator[Fake]:
    yield from start_fake(preexisting_tasks=3)


# ---- list (LIST-1, QUERY-8) ------------------------------------------------------------------------------------------


def test_list_is_newest_first_with_count(fake: Fake) -> None:
    """LIST-3, LIST-1: created_at descending; count equals len(tasks)."""
    first = fake.create()
    fake.clock.advance(0.001)
    second = fake.create()
    body = fake.alice.get(TASKS).json()
    assert body["count"] == len(body["tasks"])
    ids = [task["id"] for task in body["tasks"]]
    assert ids.index(second["id"]) < ids.index(first["id"])
    created = [task["created_at"] for task in body["tasks"]]
    assert created == sorted(created, reverse=True)


def test_members_see_only_their_own_and_owner_sees_all(fake: Fake) -> None:
    """LIST-4/RBAC-5: RBAC filters the list."""
    bobs = fake.create(fake.bob)
    alice_ids = {task["id"] for task in fake.alice.get(TASKS).json()["tasks"]}
    bob_tasks = fake.bob.get(TASKS).json()["tasks"]
    assert bobs["id"] not in alice_ids
    assert {task["owner_name"] for task in bob_tasks} == {"bob"}
    owner_ids = {task["id"] for task in fake.owner.get(TASKS).json()["tasks"]}
    assert bobs["id"] in owner_ids
    assert alice_ids <= owner_ids


def test_empty_list_is_an_empty_array(fake: Fake) -> None:
    """LIST-1: tasks is [] when empty, never null."""
    response = fake.alice.get(TASKS, params={"q": "status:error"})
    assert response.json() == {"tasks": [], "count": 0}


def test_preexisting_tasks_belong_to_alice_and_are_active(fake: Fake) -> None:
    """The --preexisting-tasks seed: alice's, active, created before the run."""
    old = [t for t in fake.alice.get(TASKS).json()["tasks"] if t["initial_prompt"].startswith("Pre-existing task")]
    assert len(old) == 3
    assert {t["status"] for t in old} == {"active"}


@pytest.mark.parametrize(
    ("q", "field", "detail"),
    [
        pytest.param("owner:", "q", "Query element \"owner:\" cannot start or end with ':'", id="suffix-colon"),
        pytest.param("owner:a:b", "q", "Query element \"owner:a:b\" can only contain 1 ':'", id="extra-colon"),
        pytest.param("color:red", "color", '"color" is not a valid query param', id="unknown-key"),
        pytest.param(
            "owner:bob",
            "owner",
            'Query param "owner" has invalid value: user "bob" either does not exist, or you are unauthorized '
            "to view them",
            id="invisible-user",
        ),
    ],
)
def test_bad_q_is_400_with_validations(fake: Fake, q: str, field: str, detail: str) -> None:
    """QUERY-8: 400 "Invalid task search query." with field/detail validations."""
    response = fake.alice.get(TASKS, params={"q": q})
    assert response.status_code == 400
    assert response.json() == {
        "message": "Invalid task search query.",
        "validations": [{"field": field, "detail": detail}],
    }


def test_unknown_status_value_is_500(fake: Fake) -> None:
    """QUERY-15 (inferred): the enum cast fails in Postgres → 500 "Internal error fetching tasks."."""
    response = fake.alice.get(TASKS, params={"q": "status:sleeping"})
    assert response.status_code == 500
    assert response.json()["message"] == "Internal error fetching tasks."


def test_owner_filter_by_foreign_uuid_is_empty_for_a_member(fake: Fake) -> None:
    """RBAC-5: q=owner:<B-uuid> → 200 with [] for member A (no existence check, RBAC filters)."""
    fake.create(fake.bob)
    response = fake.alice.get(TASKS, params={"q": f"owner:{fake.server.seed.users['bob'].id}"})
    assert response.json() == {"tasks": [], "count": 0}


def test_q_filters_by_owner_for_the_site_owner(fake: Fake) -> None:
    """QUERY-4: the owner can filter by any username."""
    fake.create(fake.bob)
    tasks = fake.owner.get(TASKS, params={"q": 'owner:"BOB"'}).json()["tasks"]
    assert tasks
    assert {task["owner_name"] for task in tasks} == {"bob"}


# ---- /api/v2 helpers --------------------------------------------------------------------------------------------


def test_users_me_and_visibility(fake: Fake) -> None:
    """Users API: me works for everyone; a member cannot read another member (404), the owner can."""
    me = fake.alice.get("/api/v2/users/me").json()
    assert (me["username"], me["id"]) == ("alice", fake.server.seed.users["alice"].id)
    assert me["organization_ids"] == [fake.server.seed.organization_id]
    assert fake.alice.get("/api/v2/users/bob").status_code == 404
    assert fake.owner.get("/api/v2/users/bob").json()["username"] == "bob"
    assert fake.owner.get("/api/v2/users/me").json()["roles"] == [{"name": "owner", "display_name": "Owner"}]


def test_builds_answer_201_and_refuse_while_busy(fake: Fake) -> None:
    """Workspace builds: 201 WorkspaceBuild; 409 while the previous job is pending or running (DELETE-2's rule)."""
    task = fake.create()
    assert fake.build(task, "stop").status_code == 409
    fake.clock.advance(5 * STAGE)
    response = fake.build(task, "stop")
    assert response.status_code == 201
    build = response.json()
    assert (build["build_number"], build["transition"], build["status"]) == (2, "stop", "pending")
    assert build["job"]["status"] == "pending"
    assert build["workspace_id"] == task["workspace_id"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            {"transition": "pause"},
            {
                "message": "Validation failed.",
                "validations": [
                    {"field": "transition", "detail": 'Validation failed for tag "oneof" with value: "pause"'}
                ],
            },
            id="bad-transition",
        ),
        pytest.param(
            {"transition": 1},
            {
                "message": "Request body must be valid JSON.",
                "detail": "json: cannot unmarshal number into Go struct field CreateWorkspaceBuildRequest.transition "
                "of type codersdk.WorkspaceTransition",
            },
            id="wrong-type",
        ),
    ],
)
def test_build_request_validation(fake: Fake, body: dict[str, object], expected: dict[str, object]) -> None:
    """Coder's httpapi.Read: decode errors and validator failures are 400."""
    task = fake.create()
    response = fake.alice.post(f"/api/v2/workspaces/{task['workspace_id']}/builds", json=body)
    assert response.status_code == 400
    assert response.json() == expected


def test_foreign_workspace_is_404_and_bad_uuid_400(fake: Fake) -> None:
    """Workspaces API: another member's workspace is not found; a malformed id is 400 "Invalid UUID"."""
    task = fake.create()
    assert fake.bob.get(f"/api/v2/workspaces/{task['workspace_id']}").status_code == 404
    assert (
        fake.bob.post(f"/api/v2/workspaces/{task['workspace_id']}/builds", json={"transition": "stop"}).status_code
        == 404
    )
    bad = fake.alice.get("/api/v2/workspaces/nope")
    assert (bad.status_code, bad.json()) == (
        400,
        {"message": 'Invalid UUID "nope".', "detail": "invalid UUID length: 4"},
    )


def test_workspace_delete_build_deletes_the_task(fake: Fake) -> None:
    """DELETE-5: deleting the task's workspace through the workspace API deletes the task; the workspace answers
    410 once gone."""
    task = fake.active()
    assert fake.build(task, "delete").status_code == 201
    assert fake.alice.get(f"{TASKS}/me/{task['id']}").status_code == 404
    fake.clock.advance(2 * STAGE)
    assert fake.alice.get(f"/api/v2/workspaces/{task['workspace_id']}").status_code == 410


# ---- concurrency -------------------------------------------------------------------------------------------------


def test_concurrent_clients(fake: Fake) -> None:
    """The world's lock: parallel creates and lists from several clients all succeed and stay consistent."""
    names = [new_name() for _ in range(24)]

    def create(name: str) -> int:
        with httpx.Client(base_url=fake.url, headers={"Coder-Session-Token": fake.token("alice")}) as client:
            client.get(TASKS)
            return client.post(
                f"{TASKS}/me", json={"template_version_id": fake.ai_version, "input": "x", "name": name}
            ).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(create, names))
    assert statuses == [201] * len(names)
    listed = {task["name"] for task in fake.alice.get(TASKS).json()["tasks"]}
    assert set(names) <= listed


# ---- rate limit (RATE-1) ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def limited() -> Iterator[Fake]:
    yield from start_fake(rate_limit=3)


def test_rate_limit_answers_429_after_the_limit(limited: Fake) -> None:
    """RATE-1, RATE-2: per client and endpoint; the exact 429 body and a Retry-After header."""
    statuses = [limited.alice.get(TASKS).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = limited.alice.get(TASKS)
    assert response.json() == {"message": "You've been rate limited for sending more than 3 requests in 1m0s."}
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert limited.alice.get("/api/v2/users/me").status_code == 200  # another endpoint has its own count
    limited.clock.advance(60)
    assert limited.alice.get(TASKS).status_code == 200


def test_owner_may_bypass_the_rate_limit(limited: Fake) -> None:
    """RATE-3: an Owner skips the limit with X-Coder-Bypass-Ratelimit: true; a member cannot."""
    path = "/api/v2/buildinfo"
    for _ in range(3):
        limited.anon.get(path)
    assert limited.alice.get(path, headers={"X-Coder-Bypass-Ratelimit": "true"}).status_code == 429
    assert limited.owner.get(path, headers={"X-Coder-Bypass-Ratelimit": "true"}).status_code == 200
