"""Shared pieces of the reference server's HTTP self-tests: a ManualClock-driven server on a real loopback
socket, clients per seeded user, and helpers that move a task through its lifecycle by stepping the clock."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import httpx

from coder_tasks_contract.server.domain.clock import ManualClock
from coder_tasks_contract.server.runner import ReferenceServer, start_reference_server

TASKS = "/api/experimental/tasks"
STAGE = 0.06  # the fast speed's stage
WORK = 0.15  # the fast speed's reply time
JSON_TYPE = "application/json; charset=utf-8"
NOT_FOUND = {"message": "Resource not found or you do not have access to this resource"}


@dataclass
class Fake:
    """A running reference server with a hand-stepped clock and one client per seeded user."""

    server: ReferenceServer
    clock: ManualClock
    alice: httpx.Client
    bob: httpx.Client
    owner: httpx.Client
    anon: httpx.Client

    @property
    def url(self) -> str:
        return self.server.url

    def token(self, key: str) -> str:
        return self.server.seed.users[key].token

    @property
    def ai_version(self) -> str:
        return self.server.seed.template_versions["ai_task"]

    def create(self, client: httpx.Client | None = None, user: str = "me", **body: Any) -> dict[str, Any]:
        payload: dict[str, Any] = {"template_version_id": self.ai_version, "input": "Fix the bug", "name": new_name()}
        payload.update(body)
        response = (client or self.alice).post(f"{TASKS}/{user}", json=payload)
        assert response.status_code == 201, response.text
        task: dict[str, Any] = response.json()
        return task

    def active(self, client: httpx.Client | None = None, **body: Any) -> dict[str, Any]:
        """A new task that is active and whose agent has finished the initial prompt."""
        task = self.create(client, **body)
        self.clock.advance(5 * STAGE + WORK + 0.001)
        return self.get(task, client)

    def get(self, task: dict[str, Any], client: httpx.Client | None = None) -> dict[str, Any]:
        response = (client or self.alice).get(f"{TASKS}/{task['owner_name']}/{task['id']}")
        assert response.status_code == 200, response.text
        fresh: dict[str, Any] = response.json()
        return fresh

    def build(self, task: dict[str, Any], transition: str, client: httpx.Client | None = None) -> httpx.Response:
        return (client or self.alice).post(
            f"/api/v2/workspaces/{task['workspace_id']}/builds", json={"transition": transition}
        )

    def paused(self, client: httpx.Client | None = None, **body: Any) -> dict[str, Any]:
        task = self.active(client, **body)
        assert self.build(task, "stop", client).status_code == 201
        self.clock.advance(2 * STAGE)
        return self.get(task, client)


def new_name() -> str:
    return "t-" + uuid.uuid4().hex[:12]


def start_fake(**kwargs: Any) -> Iterator[Fake]:
    clock = ManualClock(datetime.now(timezone.utc))
    with start_reference_server(clock=clock, **kwargs) as server:
        clients = {
            key: httpx.Client(base_url=server.url, headers={"Coder-Session-Token": server.seed.users[key].token})
            for key in ("alice", "bob", "owner")
        }
        anon = httpx.Client(base_url=server.url)
        try:
            yield Fake(server, clock, clients["alice"], clients["bob"], clients["owner"], anon)
        finally:
            for client in (*clients.values(), anon):
                client.close()
