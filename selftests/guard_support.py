"""What the write guard's self-tests share (policy in ``test_guard`` and ``test_mounts``, the guard in real clients'
traffic path in ``test_guard_transport``): the users, a task this run created, and outgoing requests as a test
would send them."""

from __future__ import annotations

import json
from typing import Any

from coder_tasks_contract.target.model import User
from coder_tasks_contract.target.secret import Secret
from coder_tasks_contract.transport.guard import Outgoing

BASE = "http://127.0.0.1:3000"
ALICE = User("alice", "0a1b2c3d-0000-4000-8000-00000000000a", Secret("aaaaaaaaaa-aaaaaaaaaaaaaaaaaaaaaa"))
BOB = User("bob", "0a1b2c3d-0000-4000-8000-00000000000b", Secret("bbbbbbbbbb-bbbbbbbbbbbbbbbbbbbbbb"))
FOREIGN_ID = "5f0c1d2e-3a4b-4c5d-8e6f-708192a3b4c5"


def task_json(name: str, owner: User, *, task_id: str, workspace_id: str) -> dict[str, Any]:
    return {
        "id": task_id,
        "name": name,
        "owner_id": owner.id,
        "owner_name": owner.username,
        "workspace_id": workspace_id,
    }


OURS = task_json(
    "ctc-run1-1",
    ALICE,
    task_id="11111111-1111-4111-8111-111111111111",
    workspace_id="2" * 8 + "-2222-4222-8222-" + "2" * 12,
)


def req(method: str, path: str, *, user: User | None = ALICE, body: Any = None, **headers: str) -> Outgoing:
    all_headers = {k.replace("_", "-").lower(): v for k, v in headers.items()}
    if user is not None:
        all_headers.setdefault("coder-session-token", user.token.reveal())
    raw = b"" if body is None else json.dumps(body).encode()
    return Outgoing(method, BASE + path, all_headers, raw)
