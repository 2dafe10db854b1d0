"""Preflight: an unusable target stops the real suite before any test, with one line and exit code 10.

Each case runs ``pytest tests/...`` in a subprocess against a real loopback server: closed port, an HTML web
server, TLS spoken to plain HTTP, a server that hangs, resets or fails, a rate-limiting proxy that lets the run
through after Retry-After, and the reference server with missing, rejected or duplicate tokens or an unusable
template version (found at the first create, CREATE-3).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest

from coder_tasks_contract.plugin.exitcodes import TARGET_UNUSABLE

from .support import LoopbackServer, Run, clean_env, closed_port_url, reply, run_pytest, target_args

# A light part of the real suite: preflight happens before collection matters.
SUITE_PART = "tests/test_list.py"
WELL_FORMED_BAD_TOKEN = "abcdefghij-0123456789abcdefghijkl"  # AUTH-5 shape, unknown key id


def assert_stopped(run: Run, *needles: str) -> str:
    """The run ended with exit 10 before any test, explaining itself in one line that contains ``needles``."""
    assert run.ret == TARGET_UNUSABLE, run.output
    assert "Traceback" not in run.output
    assert not re.search(r"^=+ .*\b(passed|failed|errors?)\b.* =+$", run.output, re.MULTILINE), run.output
    lines = run.lines_with("Exit:")
    assert lines, run.output
    line = lines[-1]
    for needle in needles:
        assert needle in line, line
    return line


def env_for(server: Any, **overrides: str) -> dict[str, str]:
    """CODER_* variables aiming the suite at a reference server (the environment route of the options)."""
    seed = server.seed
    values = {
        "CODER_URL": seed.url,
        "CODER_SESSION_TOKEN": seed.users["alice"].token,
        "CODER_SECOND_SESSION_TOKEN": seed.users["bob"].token,
        "CODER_TEMPLATE_VERSION_ID": str(seed.template_versions["ai_task"]),
    }
    values.update(overrides)
    return clean_env(**{k: v for k, v in values.items() if v})


# -- the target is not a usable Coder server ----------------------------------------------------------------------
def test_unreachable_target() -> None:
    url = closed_port_url()
    run = run_pytest(SUITE_PART, "--base-url", url, "--session-token", WELL_FORMED_BAD_TOKEN)
    assert_stopped(run, f"cannot connect to {url}", "--base-url")


def test_a_web_server_that_is_not_coder(hostile_server: Callable[[str], LoopbackServer]) -> None:
    server = hostile_server("html")
    run = run_pytest(SUITE_PART, "--base-url", server.url, "--session-token", WELL_FORMED_BAD_TOKEN)
    assert_stopped(run, f"{server.url} is not a Coder server", "/api/v2/buildinfo", "--base-url")


def test_tls_spoken_to_a_plain_http_server(hostile_server: Callable[[str], LoopbackServer]) -> None:
    server = hostile_server("html")
    https_url = server.url.replace("http://", "https://")
    run = run_pytest(SUITE_PART, "--base-url", https_url, "--session-token", WELL_FORMED_BAD_TOKEN)
    assert_stopped(run, f"TLS handshake with {https_url} failed", "--base-url")


def test_a_server_that_never_answers_is_given_up_after_the_request_timeout(
    hostile_server: Callable[[str], LoopbackServer],
) -> None:
    server = hostile_server("hang")
    started = time.monotonic()
    run = run_pytest(
        SUITE_PART, "--base-url", server.url, "--session-token", WELL_FORMED_BAD_TOKEN, "--request-timeout", "1"
    )
    assert_stopped(run, f"no answer from {server.url} within 1s", "--request-timeout")
    assert time.monotonic() - started < 25


def test_a_server_that_resets_connections(hostile_server: Callable[[str], LoopbackServer]) -> None:
    server = hostile_server("reset")
    run = run_pytest(SUITE_PART, "--base-url", server.url, "--session-token", WELL_FORMED_BAD_TOKEN)
    assert_stopped(run, f"{server.url} broke the connection", "--base-url")


def test_a_failing_server(hostile_server: Callable[[str], LoopbackServer]) -> None:
    server = hostile_server("5xx")
    run = run_pytest(SUITE_PART, "--base-url", server.url, "--session-token", WELL_FORMED_BAD_TOKEN)
    assert_stopped(run, f"{server.url} is failing", "answered 503")


def test_a_429_with_retry_after_is_waited_out_and_the_run_goes_on(
    loopback_server: Callable[[Any], LoopbackServer], reference_server: Any
) -> None:
    """A proxy to the reference server that rate-limits the very first request, with Retry-After: 1."""
    seen: list[float] = []

    def proxy(handler: BaseHTTPRequestHandler) -> None:
        seen.append(time.monotonic())
        if len(seen) == 1:
            reply(handler, 429, b'{"message":"You\'ve been rate limited."}', Retry_After="1")
            return
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in {"host", "content-length"}}
        answer = httpx.request(handler.command, reference_server.url + handler.path, headers=headers, content=body)
        reply(handler, answer.status_code, answer.content, answer.headers.get("content-type", "application/json"))

    server = loopback_server(proxy)
    run = run_pytest(SUITE_PART, "-q", *target_args(reference_server, url=server.url))
    assert "Exit:" not in run.output, run.output
    assert " passed" in run.output, run.output
    assert seen[1] - seen[0] >= 0.9  # the retry waited for Retry-After


# -- tokens -------------------------------------------------------------------------------------------------------
def test_missing_token_on_a_deployment(reference_server: Any) -> None:
    run = run_pytest(SUITE_PART, env=env_for(reference_server, CODER_SESSION_TOKEN="", CODER_SECOND_SESSION_TOKEN=""))
    assert_stopped(run, "no session token", "--session-token")


def test_rejected_token(reference_server: Any) -> None:
    run = run_pytest(SUITE_PART, env=env_for(reference_server, CODER_SESSION_TOKEN=WELL_FORMED_BAD_TOKEN))
    assert_stopped(run, "--session-token was rejected", "401")


def test_rejected_second_token(reference_server: Any) -> None:
    run = run_pytest(SUITE_PART, env=env_for(reference_server, CODER_SECOND_SESSION_TOKEN=WELL_FORMED_BAD_TOKEN))
    assert_stopped(run, "--second-session-token was rejected", "401")


def test_the_same_token_twice(reference_server: Any) -> None:
    token = reference_server.seed.users["alice"].token
    run = run_pytest(SUITE_PART, env=env_for(reference_server, CODER_SECOND_SESSION_TOKEN=token))
    assert_stopped(run, "--second-session-token is the same token as --session-token")


def test_two_tokens_of_the_same_user(reference_server: Any) -> None:
    world = reference_server.world
    alice = world.users[reference_server.seed.users["alice"].id]
    with world.lock:
        second_token = world.issue_token(alice)
    run = run_pytest(SUITE_PART, env=env_for(reference_server, CODER_SECOND_SESSION_TOKEN=second_token))
    assert_stopped(run, "--second-session-token belongs to the same user (alice)")


# -- the template version, checked at the first create ------------------------------------------------------------
@pytest.mark.parametrize(
    ("which", "expected"),
    [
        pytest.param("unknown", "is unknown on", id="unknown"),
        pytest.param("no_ai_task", "has no coder_ai_task resource", id="without-ai-task"),
    ],
)
def test_an_unusable_template_version_stops_the_run_at_the_first_create(
    reference_server: Any, which: str, expected: str
) -> None:
    version = (
        "0b6d1e2c-5f3a-4c1e-9a57-2d8e4f6a7b90" if which == "unknown" else reference_server.seed.template_versions[which]
    )
    run = run_pytest(
        "tests/test_status_codes.py", env=env_for(reference_server, CODER_TEMPLATE_VERSION_ID=str(version))
    )
    assert run.ret == TARGET_UNUSABLE, run.output
    line = run.lines_with("Exit:")[-1]
    assert f"--template-version-id {version} {expected}" in line
    assert "Traceback" not in run.output
    assert len(run.lines_with("FAILED")) == 0


def test_embedded_target_passes_preflight_and_shows_itself_in_the_header() -> None:
    run = run_pytest(SUITE_PART, "-q", "--co")
    assert run.ret == 0, run.output
    run = run_pytest(SUITE_PART, "-k", "nothing_matches_this")
    header = run.output
    assert "(embedded reference server), server version" in header
    assert "coder users: A=alice, B=bob" in header
    assert "API flavour experimental" in header
    assert "hypothesis profile:" in header
    assert "operations)" in header


@pytest.mark.parametrize(
    ("status", "body", "seen"),
    [
        pytest.param(200, b'{"status":"ok"}', "answered JSON without a version", id="json-without-version"),
        pytest.param(404, b'{"message":"Route not found."}', "answered 404", id="no-buildinfo-route"),
    ],
)
def test_a_json_server_without_coder_buildinfo(
    loopback_server: Callable[[Any], LoopbackServer], status: int, body: bytes, seen: str
) -> None:
    server = loopback_server(lambda handler: reply(handler, status, body))
    run = run_pytest(SUITE_PART, "--base-url", server.url, "--session-token", WELL_FORMED_BAD_TOKEN)
    assert_stopped(run, f"{server.url} is not a Coder server (GET /api/v2/buildinfo {seen})")
    assert server.requests == [("GET", "/api/v2/buildinfo")]  # nothing else was sent, no token was offered


def test_an_unusable_template_version_stops_an_xdist_run_too(reference_server: Any) -> None:
    """In a worker pytest.exit would be an INTERNALERROR; the worker stops and the controller exits 10 instead."""
    version = "0b6d1e2c-5f3a-4c1e-9a57-2d8e4f6a7b90"
    env = env_for(reference_server, CODER_TEMPLATE_VERSION_ID=version)
    run = run_pytest("tests/test_status_codes.py", "-n", "2", env=env)
    assert run.ret == TARGET_UNUSABLE, run.output
    assert "INTERNALERROR>" not in run.output
    (line,) = run.lines_with("target unusable:")
    assert f"--template-version-id {version} is unknown on" in line


def test_the_header_warns_when_a_user_is_not_an_ordinary_member(reference_server: Any) -> None:
    owner_token = reference_server.seed.users["owner"].token
    run = run_pytest(
        SUITE_PART, "-k", "nothing_matches_this", env=env_for(reference_server, CODER_SESSION_TOKEN=owner_token)
    )
    (line,) = run.lines_with("coder users:")
    assert "(site roles: owner; expected an ordinary member)" in line
    assert "B=bob;" in line
    assert owner_token not in run.output
