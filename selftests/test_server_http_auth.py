"""The reference server's authentication and CSRF over a real socket (AUTH and CSRF clauses)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from coder_tasks_contract.server.domain.auth import CSRF_MISMATCH_TEXT, CSRF_TEXT

from .server_http_support import JSON_TYPE, TASKS, Fake, start_fake

SIGNED_OUT = "You are signed out or your session has expired. Please sign in again to continue."


@pytest.fixture(scope="module")
def fake() -> Iterator[Fake]:
    yield from start_fake()


def assert_401(fake: Fake, response: httpx.Response, detail: str) -> None:
    assert response.status_code == 401
    assert response.headers["content-type"] == JSON_TYPE
    assert response.json() == {"message": SIGNED_OUT, "detail": detail}
    assert response.headers["www-authenticate"] == (
        'Bearer realm="coder", error="invalid_token", error_description="The access token is invalid", '
        f'resource_metadata="{fake.url}/.well-known/oauth-protected-resource"'
    )


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(TASKS, id="list"),
        pytest.param(f"{TASKS}/me/x/logs", id="logs"),
        pytest.param(f"{TASKS}/me/x/y/z", id="unknown-path-under-tasks"),
        pytest.param("/api/v2/users/me", id="users-me"),
    ],
)
def test_no_token_is_401(fake: Fake, path: str) -> None:
    """AUTH-6, AUTH-10: no token anywhere → 401 with the exact detail and WWW-Authenticate; the tasks group checks the
    key before routing, so an unknown path under it is 401 too."""
    assert_401(fake, fake.anon.get(path), 'Cookie "coder_session_token" or query parameter must be provided.')


def test_buildinfo_needs_no_token(fake: Fake) -> None:
    """Coder serves /api/v2/buildinfo without authentication."""
    info = fake.anon.get("/api/v2/buildinfo")
    assert info.status_code == 200
    assert info.json()["version"] == info.headers["x-coder-build-version"]
    assert info.json()["dashboard_url"] == fake.url


@pytest.mark.parametrize(
    ("token", "detail"),
    [
        pytest.param(
            "garbage", "Invalid API key format: incorrect amount of API key parts, expected 2 got 1", id="parts"
        ),
        pytest.param(
            "abc-" + "x" * 22, "Invalid API key format: invalid API key ID length, expected 10 got 3", id="id"
        ),
        pytest.param(
            "abcdefghij-x", "Invalid API key format: invalid API key secret length, expected 22 got 1", id="sec"
        ),
        pytest.param("abcdefghij-" + "x" * 22, "API key is invalid.", id="unknown-key"),
    ],
)
def test_bad_tokens_are_401(fake: Fake, token: str, detail: str) -> None:
    """AUTH-5/AUTH-7: format errors fail before lookup; an unknown key id is "API key is invalid."."""
    assert_401(fake, fake.anon.get(TASKS, headers={"Coder-Session-Token": token}), detail)


def test_wrong_secret_is_401(fake: Fake) -> None:
    """AUTH-8: right key id, wrong secret."""
    key_id = fake.token("alice").split("-")[0]
    response = fake.anon.get(TASKS, headers={"Coder-Session-Token": f"{key_id}-{'z' * 22}"})
    assert_401(fake, response, "API key secret is invalid.")


@pytest.mark.parametrize("transport", ["cookie", "query", "header", "bearer", "access_token"])
def test_each_transport_authenticates(fake: Fake, transport: str) -> None:
    """AUTH-1: the five places a token is read from."""
    token = fake.token("alice")
    kwargs: dict[str, object] = {
        "cookie": {"headers": {"Cookie": f"coder_session_token={token}"}},
        "query": {"params": {"coder_session_token": token}},
        "header": {"headers": {"Coder-Session-Token": token}},
        "bearer": {"headers": {"Authorization": f"Bearer {token}"}},
        "access_token": {"params": {"access_token": token}},
    }[transport]
    response = fake.anon.get("/api/v2/users/me", **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 200
    assert response.json()["username"] == "alice"


def test_cookie_wins_over_header(fake: Fake) -> None:
    """AUTH-4: an invalid cookie plus a valid header gives 401."""
    response = fake.anon.get(
        TASKS, headers={"Cookie": "coder_session_token=bad", "Coder-Session-Token": fake.token("alice")}
    )
    assert response.status_code == 401


def test_query_wins_over_header(fake: Fake) -> None:
    """AUTH-1: the coder_session_token query parameter is read before the header."""
    response = fake.anon.get(
        "/api/v2/users/me",
        params={"coder_session_token": fake.token("bob")},
        headers={"Coder-Session-Token": fake.token("alice")},
    )
    assert response.json()["username"] == "bob"


def test_cookie_write_without_csrf_token_is_400_text(fake: Fake) -> None:
    """CSRF-1: a cookie-authenticated POST with nothing else is refused in plain text."""
    response = fake.anon.post(f"{TASKS}/me", json={}, headers={"Cookie": f"coder_session_token={fake.token('alice')}"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == CSRF_TEXT + "\n"


def test_cookie_and_other_header_is_the_mismatch_text(fake: Fake) -> None:
    """CSRF-3: cookie and Coder-Session-Token header disagree."""
    response = fake.anon.delete(
        f"{TASKS}/me/x",
        headers={"Cookie": f"coder_session_token={fake.token('alice')}", "Coder-Session-Token": fake.token("bob")},
    )
    assert response.status_code == 400
    assert response.text.startswith("CSRF error encountered.")
    assert response.text == CSRF_MISMATCH_TEXT + "\n"


def test_cookie_with_matching_header_passes_csrf(fake: Fake) -> None:
    """CSRF-2: a matching header exempts the request; it then fails on the body, not on CSRF."""
    token = fake.token("alice")
    response = fake.anon.post(
        f"{TASKS}/me", content=b"", headers={"Cookie": f"coder_session_token={token}", "Coder-Session-Token": token}
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "EOF"


def test_cookie_get_needs_no_csrf(fake: Fake) -> None:
    """CSRF-1, CSRF-2: only POST, PATCH and DELETE are checked."""
    response = fake.anon.get(TASKS, headers={"Cookie": f"coder_session_token={fake.token('alice')}"})
    assert response.status_code == 200


def test_refusals_before_routing_carry_coders_headers(fake: Fake) -> None:
    """ROUTE-5: the version and nosniff headers are set by the outer stack, so 401 and CSRF 400 have them too."""
    unauthorized = fake.anon.get(TASKS)
    csrf = fake.anon.post(TASKS + "/me", headers={"Cookie": "coder_session_token=x"})
    for response in (unauthorized, csrf):
        assert response.headers["x-coder-build-version"].startswith("v2.")
        assert response.headers.get_list("x-content-type-options") == ["nosniff"]


def test_a_crash_is_coders_500_and_the_server_survives() -> None:
    """ERR-7 Panic: the recover middleware answers 500 "An internal server error occurred." (fault injected
    through app_factory: the world's list operation raises)."""
    from coder_tasks_contract.server.api.app import create_app
    from coder_tasks_contract.server.domain.world import World
    from coder_tasks_contract.server.runner import start_reference_server

    def broken(world: World):  # type: ignore[no-untyped-def]
        def explode(*args: object) -> None:
            raise RuntimeError("injected fault")

        world.list_tasks = explode  # type: ignore[method-assign]
        return create_app(world)

    with start_reference_server(app_factory=broken) as server:
        headers = {"Coder-Session-Token": server.seed.users["alice"].token}
        response = httpx.get(server.url + TASKS, headers=headers)
        assert response.status_code == 500
        assert response.json() == {"message": "An internal server error occurred."}
        assert response.headers["x-coder-build-version"].startswith("v2.")
        assert httpx.get(server.url + "/api/v2/users/me", headers=headers).status_code == 200
