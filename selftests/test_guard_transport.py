"""The write guard in the traffic path: pacing (per-route rate limit, Retry-After), and what actually reaches a
loopback server through real guarded httpx clients and requests sessions, what traffic records and what a
refused request shows."""

from __future__ import annotations

from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest

from coder_tasks_contract.transport.clients import build_client, build_session
from coder_tasks_contract.transport.guard import Guard, GuardRefused, Outgoing
from coder_tasks_contract.transport.paths import task_path
from coder_tasks_contract.transport.task_registry import TaskRegistry
from coder_tasks_contract.transport.throttle import RateLimiter, parse_retry_after
from coder_tasks_contract.transport.traffic import Traffic

from .guard_support import ALICE, BASE, FOREIGN_ID
from .support import LoopbackServer, reply, run_pytest


# -- pacing -----------------------------------------------------------------------------------------------------
def test_rate_limiter_spreads_requests_per_route_over_a_minute() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(2, clock=lambda: now[0], sleep=sleep)
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("b") == 0.0  # another route has its own budget
    assert limiter.acquire("a") == pytest.approx(60.0)
    assert slept == [pytest.approx(60.0)]


def test_retry_after_reads_seconds_and_http_dates() -> None:
    from datetime import datetime, timezone

    now = datetime(2025, 11, 25, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Tue, 25 Nov 2025 12:00:07 GMT", now=now) == pytest.approx(7.0)
    assert parse_retry_after("Tue, 25 Nov 2025 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


# -- through real clients ---------------------------------------------------------------------------------------
@pytest.fixture
def counting_server(loopback_server: Callable[[Any], LoopbackServer]) -> LoopbackServer:
    def handler(h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        h.rfile.read(length)
        reply(h, 202 if h.command == "DELETE" else 200, b"{}")

    return loopback_server(handler)


def test_refused_requests_never_reach_the_server(counting_server: LoopbackServer) -> None:
    registry = TaskRegistry("run1")
    guard = Guard(base_url=counting_server.url, registry=registry, traffic=Traffic(), users=[ALICE])
    phantom = registry.phantom_id()
    with build_client(guard, counting_server.url, user=ALICE) as client:
        with pytest.raises(GuardRefused):
            client.delete(task_path("me", FOREIGN_ID))
        assert client.delete(task_path("me", phantom)).status_code == 202
    session = build_session(guard, user=ALICE)
    with pytest.raises(GuardRefused):
        session.patch(counting_server.url + task_path("me", FOREIGN_ID, "/input"), json={"input": "x"})
    assert session.get(counting_server.url + "/api/v2/buildinfo").status_code == 200
    assert counting_server.requests == [("DELETE", task_path("me", phantom)), ("GET", "/api/v2/buildinfo")]


def test_a_redirect_off_the_target_is_refused(loopback_server: Callable[[Any], LoopbackServer]) -> None:
    elsewhere = loopback_server(lambda h: reply(h, 200, b"{}"))
    redirecting = loopback_server(lambda h: reply(h, 307, b"", Location=elsewhere.url + "/api/v2/buildinfo"))
    guard = Guard(base_url=redirecting.url, registry=TaskRegistry("run1"), traffic=Traffic(), users=[ALICE])
    session = build_session(guard, user=ALICE)  # requests follows redirects; each hop passes the guard
    with pytest.raises(GuardRefused, match="not the target"):
        session.get(redirecting.url + "/api/v2/buildinfo")
    assert elsewhere.requests == []


def test_traffic_records_method_route_status_and_test(counting_server: LoopbackServer) -> None:
    traffic = Traffic()
    registry = TaskRegistry("run1")
    guard = Guard(base_url=counting_server.url, registry=registry, traffic=traffic, users=[ALICE])
    traffic.current_nodeid = "tests/test_x.py::test_y"
    with build_client(guard, counting_server.url, user=ALICE) as client:
        client.get(task_path("me", FOREIGN_ID, "/logs"))
        client.delete(task_path("me", registry.phantom_id()))
    recorded = [(e.method, e.route, e.status, e.nodeid) for e in traffic]
    assert recorded == [
        ("GET", "/api/experimental/tasks/{user}/{task}/logs", 200, "tests/test_x.py::test_y"),
        ("DELETE", "/api/experimental/tasks/{user}/{task}", 202, "tests/test_x.py::test_y"),
    ]


def test_a_429_is_retried_after_retry_after(loopback_server: Callable[[Any], LoopbackServer]) -> None:
    answers = iter([429, 429, 200])

    def handler(h: BaseHTTPRequestHandler) -> None:
        status = next(answers)
        reply(h, status, b'{"message":"rate limited"}' if status == 429 else b'{"version":"v2"}', Retry_After="0")

    server = loopback_server(handler)
    slept: list[float] = []
    traffic = Traffic()
    guard = Guard(base_url=server.url, registry=TaskRegistry("run1"), traffic=traffic, sleep=slept.append)
    with build_client(guard, server.url) as client:
        assert client.get("/api/v2/buildinfo").status_code == 200
    assert len(server.requests) == 3
    assert slept == [0.0, 0.0]
    assert [e.status for e in traffic] == [200]


def test_a_429_with_a_long_retry_after_is_returned_not_waited_for(
    loopback_server: Callable[[Any], LoopbackServer],
) -> None:
    server = loopback_server(lambda h: reply(h, 429, b'{"message":"slow down"}', Retry_After="3600"))
    slept: list[float] = []
    guard = Guard(base_url=server.url, registry=TaskRegistry("run1"), traffic=Traffic(), sleep=slept.append)
    with build_client(guard, server.url) as client:
        assert client.get("/api/v2/buildinfo").status_code == 429
    assert slept == []
    assert len(server.requests) == 1


def test_client_headers_do_not_hold_the_token() -> None:
    guard = Guard(base_url=BASE, registry=TaskRegistry("run1"), traffic=Traffic())
    with build_client(guard, BASE, user=ALICE) as client:
        assert ALICE.token.reveal() not in repr(client.headers)
        assert ALICE.token.reveal() not in repr(vars(client))
    assert isinstance(client, httpx.Client)


def test_traffic_is_attributed_to_the_running_test_in_a_real_run(mini_suite: Callable[..., Any]) -> None:
    source = """
        from coder_tasks_contract.plugin.runstate import TRAFFIC_KEY

        def test_one(client_a):
            client_a.get("/api/v2/users/me")

        def test_two(client_a, request, traffic):
            assert request.config.stash[TRAFFIC_KEY] is traffic
            client_a.get("/api/experimental/tasks")
            seen = lambda nodeid: [(e.method, e.route, e.status) for e in traffic.for_test(nodeid)]
            assert seen(request.node.nodeid) == [("GET", "/api/experimental/tasks", 200)]
            assert seen("test_mini.py::test_one") == [("GET", "/api/v2/users/me", 200)]
            # preflight (during the first test's session-fixture setup) belongs to no test
            assert [e.route for e in traffic if e.nodeid is None][:1] == ["/api/v2/buildinfo"]
    """
    run = run_pytest("-q", cwd=mini_suite(source))
    assert run.ret == 0, run.output
    assert "2 passed" in run.output


def test_a_create_whose_answer_is_lost_keeps_its_budget_slot(hostile_server: Callable[[str], LoopbackServer]) -> None:
    # The connection broke after the request was sent: the server may have created the task, so it counts.
    server = hostile_server("reset")
    registry = TaskRegistry("run1", max_tasks=2)
    guard = Guard(base_url=server.url, registry=registry, traffic=Traffic(), users=[ALICE])
    with build_client(guard, server.url, user=ALICE) as client:
        for _ in range(2):
            with pytest.raises(httpx.HTTPError):
                client.post(task_path("me"), json={"input": "x"})
        with pytest.raises(GuardRefused, match="budget of 2 tasks"):
            client.post(task_path("me"), json={"input": "x"})
    assert registry.created_count == 2
    assert len(server.requests) == 2


def test_a_refused_requests_repr_hides_every_token_transport() -> None:
    """A GuardRefused traceback shows the request's locals (pytest -l): its repr must not carry a token."""
    token = ALICE.token.reveal()
    outgoing = Outgoing(
        "DELETE",
        f"{BASE}{task_path('me', FOREIGN_ID)}?coder_session_token={token}&access_token={token}",
        {"coder-session-token": token, "authorization": f"Bearer {token}", "cookie": f"coder_session_token={token}"},
    )
    shown = repr(outgoing)
    assert token not in shown
    assert token.split("-")[1] not in shown
    assert shown.startswith("Outgoing(DELETE /api/experimental/tasks/me/")
