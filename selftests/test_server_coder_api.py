"""The API around the task routes (``server/coder_api.py``): what a task client calls to find its user, organization,
template, version, presets and workspace, with Coder's shapes and error answers, at every level."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from coder_tasks_contract.server.domain.query import QueryError
from coder_tasks_contract.server.domain.user_query import parse_user_query
from coder_tasks_contract.spec import levels

from .server_http_support import NOT_FOUND, TASKS, Fake, start_fake

MISSING = "6f1d0f4e-6c52-4b53-9a3c-2f1e8d1c0a77"


@pytest.fixture(scope="module", params=[level.name for level in levels.LEVELS])
def fake(request: pytest.FixtureRequest) -> Iterator[Fake]:
    yield from start_fake(coder_version=request.param)


def names(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [user["username"] for user in response.json()["users"]]


# ---- users -----------------------------------------------------------------------------------------------------


def test_users_found_by_github_id(fake: Fake) -> None:
    """The seeded GitHub link: q=github_com_user_id:12345 finds alice alone; the count is the number of users."""
    response = fake.owner.get("/api/v2/users", params={"q": "github_com_user_id:12345"})
    assert names(response) == ["alice"]
    assert response.json()["count"] == 1
    assert names(fake.owner.get("/api/v2/users", params={"q": "github_com_user_id:999"})) == []
    # codersdk.User has no github_com_user_id: the link is a filter only.
    assert "github_com_user_id" not in response.json()["users"][0]


def test_users_free_text_matches_username_or_email(fake: Fake) -> None:
    assert names(fake.owner.get("/api/v2/users", params={"q": "ALI"})) == ["alice"]
    assert names(fake.owner.get("/api/v2/users", params={"q": "example.com"})) == ["admin", "alice", "bob"]
    assert names(fake.owner.get("/api/v2/users")) == ["admin", "alice", "bob"]
    assert names(fake.owner.get("/api/v2/users", params={"q": "role:owner"})) == ["admin"]


def test_users_list_shows_only_readable_users(fake: Fake) -> None:
    """A member reads only themself (as ``GET /users/{user}`` does in the fake): bob is not found by alice."""
    assert names(fake.alice.get("/api/v2/users")) == ["alice"]
    assert names(fake.alice.get("/api/v2/users", params={"q": "github_com_user_id:67890"})) == []


@pytest.mark.parametrize(
    ("q", "field", "detail"),
    [
        ("username:alice", "username", '"username" is not a valid query param'),
        ("email:alice@example.com", "email", '"email" is not a valid query param'),
        ("status:gone", "status", 'Query param "status" has invalid values: gone'),
        ("a:b:c", "q", "Query element \"a:b:c\" can only contain 1 ':'"),
    ],
)
def test_users_bad_query_is_400(fake: Fake, q: str, field: str, detail: str) -> None:
    response = fake.owner.get("/api/v2/users", params={"q": q})
    assert response.status_code == 400
    assert response.json() == {
        "message": "Invalid user search query.",
        "validations": [{"field": field, "detail": detail}],
    }


def test_user_query_parser() -> None:
    found = parse_user_query('github_com_user_id:42 status:active,dormant "Ali ce"')
    assert (found.github_com_user_id, found.status, found.search) == (42, ("active", "dormant"), "ali ce")
    with pytest.raises(QueryError) as raised:
        parse_user_query("github_com_user_id:x created_after:yesterday")
    assert [field for field, _ in raised.value.validations] == ["github_com_user_id", "created_after"]


def test_surrounding_routes_need_the_api_key(fake: Fake) -> None:
    for path in ("/api/v2/users", "/api/v2/organizations", "/api/v2/templates", f"/api/v2/templateversions/{MISSING}"):
        assert fake.anon.get(path).status_code == 401, path


# ---- organizations and templates -------------------------------------------------------------------------------


def test_organization_by_name_id_and_default(fake: Fake) -> None:
    org_id = fake.server.seed.organization_id
    listed = fake.alice.get("/api/v2/organizations").json()
    assert [(o["id"], o["name"], o["is_default"]) for o in listed] == [(org_id, "coder", True)]
    for ref in ("coder", org_id, "default"):
        assert fake.alice.get(f"/api/v2/organizations/{ref}").json()["id"] == org_id
    response = fake.alice.get("/api/v2/organizations/nope")
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_template_by_organization_and_name(fake: Fake) -> None:
    seeded = fake.server.seed.templates["ai-coder"]
    template = fake.alice.get("/api/v2/organizations/coder/templates/ai-coder").json()
    assert (template["id"], template["active_version_id"]) == (seeded.id, fake.ai_version)
    assert template["organization_id"] == fake.server.seed.organization_id
    assert fake.alice.get(f"/api/v2/templates/{seeded.id}").json() == template
    assert [t["name"] for t in fake.alice.get("/api/v2/organizations/coder/templates").json()] == ["ai-coder", "docker"]
    assert [t["name"] for t in fake.alice.get("/api/v2/templates").json()] == ["ai-coder", "docker"]
    missing = fake.alice.get("/api/v2/organizations/coder/templates/nope")
    assert (missing.status_code, missing.json()) == (404, NOT_FOUND)
    assert fake.alice.get(f"/api/v2/templates/{MISSING}").status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/api/v2/templates/{bad}", "/api/v2/templateversions/{bad}", "/api/v2/templateversions/{bad}/presets"],
)
def test_non_uuid_path_segment_is_400(fake: Fake, path: str) -> None:
    response = fake.alice.get(path.format(bad="nope"))
    assert response.status_code == 400
    assert response.json() == {"message": 'Invalid UUID "nope".', "detail": "invalid UUID length: 4"}


def test_template_version_presets_and_parameters(fake: Fake) -> None:
    version = fake.alice.get(f"/api/v2/templateversions/{fake.ai_version}").json()
    assert (version["id"], version["template_id"]) == (fake.ai_version, fake.server.seed.templates["ai-coder"].id)
    presets = fake.alice.get(f"/api/v2/templateversions/{fake.ai_version}/presets").json()
    # codersdk.Preset has no json tags: Go's field names are the keys.
    assert [(p["Name"], p["Default"]) for p in presets] == [("Sonnet", True), ("Opus", False)]
    assert presets[0]["ID"] == fake.server.seed.templates["ai-coder"].default_preset_id
    assert presets[0]["Parameters"] == [{"Name": "model", "Value": "sonnet"}]
    parameters = fake.alice.get(f"/api/v2/templateversions/{fake.ai_version}/rich-parameters").json()
    assert [p["name"] for p in parameters] == ["model", "system_prompt"]
    plain = fake.server.seed.template_versions["no_ai_task"]
    assert fake.alice.get(f"/api/v2/templateversions/{plain}/presets").json() == []
    missing = fake.alice.get(f"/api/v2/templateversions/{MISSING}/presets")
    assert (missing.status_code, missing.json()) == (404, NOT_FOUND)


# ---- workspaces and builds -------------------------------------------------------------------------------------


def test_workspace_by_owner_and_name_and_its_build(fake: Fake) -> None:
    task = fake.active()
    workspace = fake.alice.get(f"/api/v2/users/me/workspace/{task['workspace_name'].upper()}").json()
    assert workspace["id"] == task["workspace_id"]
    build_id = workspace["latest_build"]["id"]
    build = fake.alice.get(f"/api/v2/workspacebuilds/{build_id}").json()
    assert (build["id"], build["workspace_id"], build["transition"]) == (build_id, task["workspace_id"], "start")
    # Another member sees neither.
    assert fake.bob.get(f"/api/v2/workspacebuilds/{build_id}").status_code == 404
    assert fake.alice.get("/api/v2/users/me/workspace/nope").status_code == 404
    # Deleted: gone unless include_deleted=true.
    assert fake.alice.delete(f"{TASKS}/me/{task['id']}").status_code == 202
    fake.clock.advance(1)
    path = f"/api/v2/users/alice/workspace/{task['workspace_name']}"
    assert fake.alice.get(path).status_code == 404
    assert fake.alice.get(path, params={"include_deleted": "true"}).json()["id"] == task["workspace_id"]
