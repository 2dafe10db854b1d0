"""The reference server over a real socket: routing, Coder's headers on every answer, how paths resolve to users and
tasks, and methods outside the routes (ROUTE, USER, TASKREF, CSRF clauses).

The seven task endpoints are in test_server_http.py; authentication in test_server_http_auth.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server_http_support import JSON_TYPE, NOT_FOUND, TASKS, Fake, start_fake


@pytest.fixture(scope="module")
def fake() -> Iterator[Fake]:
    yield from start_fake()


# ---- routing and headers (ROUTE-1) -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("GET", TASKS, id="ok"),
        pytest.param("GET", "/api/experimental/nope", id="route-not-found"),
        pytest.param("GET", f"{TASKS}/me", id="method-not-allowed"),
    ],
)
def test_every_response_has_version_and_nosniff(fake: Fake, method: str, path: str) -> None:
    """ROUTE-5: X-Coder-Build-Version and X-Content-Type-Options: nosniff on every response."""
    response = fake.alice.request(method, path)
    assert response.headers["x-coder-build-version"].startswith("v2.")
    assert response.headers.get_list("x-content-type-options") == ["nosniff"]


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/v2/api/experimental/tasks", id="doubled-prefix-from-docs"),
        pytest.param("/api/experimental/other", id="experimental"),
        pytest.param("/api/v2/nothing-here", id="v2"),
    ],
)
def test_unknown_routes_are_route_not_found(fake: Fake, path: str) -> None:
    """ROUTE-3 and DOCS-1: unknown paths under /api/experimental and /api/v2, including the docs' doubled prefix."""
    response = fake.alice.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == JSON_TYPE
    assert response.json() == {"message": "Route not found."}


def test_wrong_method_is_405_with_empty_body_and_allow(fake: Fake) -> None:
    """ROUTE-4: once the resolvers pass, chi's default 405: empty body, an Allow header per registered method."""
    task = fake.create()
    response = fake.alice.post(f"{TASKS}/me/{task['id']}")
    assert response.status_code == 405
    assert response.content == b""
    assert sorted(response.headers.get_list("allow")) == ["DELETE", "GET"]
    assert fake.alice.get(f"{TASKS}/me").status_code == 405


@pytest.mark.parametrize(
    ("method", "path", "status", "message"),
    [
        pytest.param("POST", "/me/no-such-task", 404, NOT_FOUND["message"], id="wrong-method-on-unknown-task"),
        pytest.param("POST", "/me/no-such-task/pause", 404, NOT_FOUND["message"], id="no-route-under-unknown-task"),
        pytest.param("POST", "/me/{task}/pause", 404, "Route not found.", id="no-route-under-live-task"),
        pytest.param("GET", "/nobody", 400, '"user" must be an existing uuid or username.', id="get-on-unknown-user"),
        pytest.param("PUT", "/nobody/x/y", 400, '"user" must be an existing uuid or username.', id="deep-unknown-user"),
    ],
)
def test_resolvers_answer_before_routing(fake: Fake, method: str, path: str, status: int, message: str) -> None:
    """ROUTE-2, ROUTE-3: the {user} and {task} resolvers are middleware of nested sub-routers, so they answer before
    a route or a method is matched; "Route not found." comes only after both passed (82f has no /pause)."""
    task = fake.create()
    response = fake.alice.request(method, TASKS + path.replace("{task}", task["name"]))
    assert response.status_code == status
    assert response.json()["message"] == message


def test_double_slashes_are_collapsed(fake: Fake) -> None:
    """ROUTE-12: the outer stack collapses double slashes before routing."""
    response = fake.alice.get("/api//experimental///tasks")
    assert response.status_code == 200
    assert "tasks" in response.json()


def test_trailing_slash_on_list_is_the_list(fake: Fake) -> None:
    """ROUTE-6: the list is GET / inside the /tasks group, so /tasks/ lists too."""
    assert fake.alice.get(TASKS + "/").status_code == 200


# ---- path resolution (USER-1, TASKREF-2) -----------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["me", "alice", "ALICE", "uuid"])
def test_user_segment_forms(fake: Fake, user: str) -> None:
    """USER-1: me, username (case-insensitive) or user UUID."""
    task = fake.create()
    segment = fake.server.seed.users["alice"].id if user == "uuid" else user
    response = fake.alice.get(f"{TASKS}/{segment}/{task['name'].upper()}")
    assert response.status_code == 200
    assert response.json()["id"] == task["id"]


@pytest.mark.parametrize("user", ["nobody", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"])
def test_unknown_user_is_400(fake: Fake, user: str) -> None:
    """USER-2: unknown username or UUID → 400 with the queried value (at 82f; 404 at newest)."""
    response = fake.alice.get(f"{TASKS}/{user}/anything")
    assert response.status_code == 400
    assert response.json() == {
        "message": '"user" must be an existing uuid or username.',
        "detail": f'queried user="{user}"',
    }


def test_member_addressing_another_member_is_404(fake: Fake) -> None:
    """USER-3 and RBAC-4: alice cannot address bob at all; not even to create."""
    bobs = fake.create(fake.bob)
    assert fake.alice.get(f"{TASKS}/bob/{bobs['name']}").json() == NOT_FOUND
    assert fake.alice.post(f"{TASKS}/bob", json={"template_version_id": fake.ai_version}).status_code == 404
    assert fake.alice.get(f"{TASKS}/me/{bobs['id']}").status_code == 404


def test_owner_reads_any_task_by_uuid_under_me(fake: Fake) -> None:
    """TASKREF-1: the UUID lookup is not checked against {user}."""
    task = fake.create()
    response = fake.owner.get(f"{TASKS}/me/{task['id']}")
    assert response.status_code == 200
    assert response.json()["owner_name"] == "alice"


def test_workspace_uuid_is_not_a_task_id(fake: Fake) -> None:
    """TASKREF-5."""
    task = fake.create()
    assert fake.alice.get(f"{TASKS}/me/{task['workspace_id']}").status_code == 404


# ---- methods outside the routes (ROUTE-13, CSRF-1) -------------------------------------------------------------------


def test_a_method_chi_does_not_know_answers_405_before_auth_and_routing(fake: Fake) -> None:
    """ROUTE-13: chi's root router answers a method outside its set with 405 (no body, no Allow) before any route
    group's rate limit or API key check, and before routing: no token and an unknown path alike."""
    for client, path in ((fake.anon, TASKS), (fake.alice, "/api/experimental/taskz"), (fake.alice, TASKS + "/me")):
        response = client.request("FOO", path)
        assert response.status_code == 405, (path, response.text)
        assert response.content == b""
        assert "allow" not in response.headers


def test_csrf_checks_every_method_but_the_safe_ones(fake: Fake) -> None:
    """CSRF-1: nosurf checks every method except GET, HEAD, OPTIONS and TRACE: a cookie-only FOO gets the CSRF 400
    (root middleware), not the root router's 405."""
    token = fake.alice.headers["Coder-Session-Token"]
    cookie_only = {"Cookie": f"coder_session_token={token}"}
    response = fake.anon.request("FOO", TASKS, headers=cookie_only)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert fake.anon.request("TRACE", TASKS, headers=cookie_only).status_code == 405  # safe: routed, then 405
