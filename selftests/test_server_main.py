"""The standalone reference server command (``python -m coder_tasks_contract.server``), run as a subprocess."""

from __future__ import annotations

import socket
import subprocess
import sys

import httpx

from coder_tasks_contract.server.runner import start_reference_server

from .support import fake_command


def test_prints_seed_json_on_one_line_then_serves() -> None:
    """The first stdout line is the SeedInfo JSON; the URL it names answers with the tokens it names."""
    with fake_command("--preexisting-tasks", "2") as seed:
        assert set(seed) == {"url", "organization_id", "users", "template_versions", "organization_name", "templates"}
        assert seed["users"]["alice"]["github_com_user_id"] == 12345
        assert seed["templates"]["ai-coder"]["active_version_id"] == seed["template_versions"]["ai_task"]
        assert set(seed["users"]) == {"alice", "bob", "owner"}
        assert set(seed["template_versions"]) == {"ai_task", "no_ai_task"}
        token = seed["users"]["alice"]["token"]
        response = httpx.get(seed["url"] + "/api/experimental/tasks", headers={"Coder-Session-Token": token})
        assert response.json()["count"] == 2


def test_port_in_use_is_a_one_line_error() -> None:
    """A busy port: exit status 2 and one clear line on stderr, no traceback."""
    with start_reference_server() as server:
        port = server.url.rsplit(":", 1)[1]
        completed = subprocess.run(
            [sys.executable, "-m", "coder_tasks_contract.server", "--port", port],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == [
        f"coder-tasks-fake: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


def test_seed_tokens_have_coders_shape_and_differ_per_world() -> None:
    """Seed: <10 alphanumerics>-<22 alphanumerics>, random per world; the repr of a seed user hides it."""
    with start_reference_server() as first, start_reference_server() as second:
        token = first.seed.users["alice"].token
        key_id, secret = token.split("-")
        assert (len(key_id), len(secret)) == (10, 22)
        assert (key_id + secret).isalnum()
        assert token != second.seed.users["alice"].token
        assert token not in repr(first.seed)


def test_stop_closes_the_socket() -> None:
    """stop() ends the server: the port no longer accepts connections."""
    server = start_reference_server()
    port = int(server.url.rsplit(":", 1)[1])
    server.stop()
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0
