"""Lifecycle waits end with a verdict as soon as one is due (issue: a server answering ``status: running`` made a run
sit until the 600 s deployment timeout). The target here is a scripted sequence of task answers served through
httpx's transport hook; the code under test is the suite's real ``lifecycle`` module, on a fake clock."""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from coder_tasks_contract.spec import task_shape
from coder_tasks_contract.transport import polling

BASE = "http://coder.test"


def _task(status: str, workspace_status: str = "running", **changes: Any) -> dict[str, Any]:
    """A Task body that conforms to the 82f document, in ``status``."""
    task: dict[str, Any] = {
        "id": "6f0b6d4e-3c2a-4f43-9d7e-0a1b2c3d4e5f",
        "organization_id": "0b7c5a11-1111-4222-8333-944455556666",
        "owner_id": "1c7c5a11-1111-4222-8333-944455556666",
        "owner_name": "alice",
        "name": "ctc-run-1",
        "template_id": "2c7c5a11-1111-4222-8333-944455556666",
        "template_version_id": "3c7c5a11-1111-4222-8333-944455556666",
        "template_name": "ai",
        "template_display_name": "AI",
        "template_icon": "",
        "workspace_id": "4c7c5a11-1111-4222-8333-944455556666",
        "workspace_name": "ctc-run-1",
        "workspace_status": workspace_status,
        "workspace_build_number": 1,
        "workspace_agent_id": None,
        "workspace_agent_lifecycle": None,
        "workspace_agent_health": None,
        "workspace_app_id": None,
        "initial_prompt": "hello",
        "status": status,
        "current_state": None,
        "created_at": "2026-12-04T10:00:00Z",
        "updated_at": "2026-12-04T10:00:00Z",
    }
    task.update(changes)
    return task


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _client(answers: list[tuple[int, Any]]) -> httpx.Client:
    """A client whose GETs get ``answers`` in order (the last one repeats)."""
    queue = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        status, body = queue.pop(0) if len(queue) > 1 else queue[0]
        return httpx.Response(status, json=copy.deepcopy(body))

    return httpx.Client(base_url=BASE, transport=httpx.MockTransport(handle))


@pytest.fixture(autouse=True)
def _judge_by_82f() -> Iterator[None]:
    polling.judge_polls_by(task_shape.for_level("82f"))
    yield
    polling.judge_polls_by(None)


def _wait(answers: list[tuple[int, Any]], statuses: set[str], clock: FakeClock, timeout: float = 600) -> Any:
    return polling.poll_task(
        _client(answers),
        _task("initializing"),
        lambda current: current.get("status") in statuses,
        timeout=timeout,
        waiting_for="status " + "/".join(sorted(statuses)),
        hopeless=polling.cannot_become(frozenset(statuses), grace=10),
        clock=clock,
        sleep=clock.sleep,
    )


def test_a_conforming_task_reaching_the_status_ends_the_wait() -> None:
    clock = FakeClock()
    answers = [(200, _task("initializing", "starting")), (200, _task("active"))]
    assert _wait(answers, {"active"}, clock)["status"] == "active"


def test_an_undocumented_status_fails_at_the_first_poll_naming_the_schema() -> None:
    clock = FakeClock()
    with pytest.raises(polling.LifecycleError, match=r"SCHEMA-1.*status: 'running' is not one of"):
        _wait([(200, _task("running"))], {"active"}, clock)
    assert clock.now == 0.0  # no second poll, no sleep: the verdict is immediate


def test_an_undocumented_current_state_fails_at_once() -> None:
    clock = FakeClock()
    state = {"state": "thinking", "message": "", "uri": "", "timestamp": "2026-12-04T10:00:00Z"}
    with pytest.raises(polling.LifecycleError, match="current_state"):
        _wait([(200, _task("active", current_state=state))], {"paused"}, clock)
    assert clock.now == 0.0


def test_unknown_with_no_build_running_fails_after_the_grace() -> None:
    clock = FakeClock()
    with pytest.raises(polling.LifecycleError, match=r"STATUS-6"):
        _wait([(200, _task("unknown", "running"))], {"active"}, clock)
    assert 10 <= clock.now < 15  # given the grace, then no longer: not the 600 s timeout


def test_unknown_while_a_stop_build_runs_is_waited_through() -> None:
    clock = FakeClock()
    answers = [(200, _task("unknown", "stopping"))] * 30 + [(200, _task("paused", "stopped"))]
    assert _wait(answers, {"paused"}, clock)["status"] == "paused"


def test_error_after_a_failed_build_fails_at_once_unless_awaited() -> None:
    clock = FakeClock()
    with pytest.raises(polling.LifecycleError, match=r"build failed.*STATUS-3"):
        _wait([(200, _task("error", "failed"))], {"active"}, clock)
    assert clock.now == 0.0
    assert _wait([(200, _task("error", "failed"))], {"error"}, clock)["status"] == "error"


def test_error_from_an_unhealthy_app_is_waited_through() -> None:
    """STATUS-3/STATUS-5: with the workspace running, error comes from the app stage and turns active again when the
    app recovers: a healthy deployment whose app health flickers must not fail the wait."""
    clock = FakeClock()
    answers = [(200, _task("error", "running"))] * 20 + [(200, _task("active", "running"))]
    assert _wait(answers, {"active"}, clock)["status"] == "active"


def test_a_task_that_disappears_fails_at_once() -> None:
    clock = FakeClock()
    with pytest.raises(polling.LifecycleError, match="GET answered 404"):
        _wait([(404, {"message": "Resource not found or you do not have access to this resource"})], {"active"}, clock)


def test_a_timeout_names_the_last_state_and_how_long_it_held() -> None:
    clock = FakeClock()
    answers = [(200, _task("pending", "pending"))] * 3 + [(200, _task("initializing", "starting"))]
    with pytest.raises(polling.LifecycleError) as caught:
        _wait(answers, {"active"}, clock, timeout=30)
    message = str(caught.value)
    assert "status 'initializing' (workspace 'starting')" in message
    held = float(message.split("for the last ")[1].split("s)")[0])
    assert 0 < held < 30  # the state changed after the first polls, so it held for less than the whole wait


# -- adaptive pauses, the rate limit, 429 and progress (issue 18) ---------------------------------------------------


@pytest.fixture(autouse=True)
def _no_pace_no_progress() -> Iterator[None]:
    polling.pace_polls_by(None)
    polling.report_progress_to(None)
    yield
    polling.pace_polls_by(None)
    polling.report_progress_to(None)


def _timed_client(clock: FakeClock, timeline: list[tuple[float, Any]], gets: list[float]) -> httpx.Client:
    """A client whose GET answers the (status, body) of ``timeline`` (a list of (from, answer)) in force at the fake
    clock's time; every GET's time is noted in ``gets``."""

    def handle(request: httpx.Request) -> httpx.Response:
        gets.append(clock.now)
        status, body, headers = next(answer for since, answer in reversed(timeline) if clock.now >= since)
        return httpx.Response(status, json=copy.deepcopy(body), headers=headers)

    return httpx.Client(base_url=BASE, transport=httpx.MockTransport(handle))


def _ok(status: str, workspace: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    return 200, _task(status, workspace), {}


# A Coder-like first build: queued 5 s, provisioning until 45 s, the agent and app ready at 55 s.
MINUTE_BUILD = [
    (0.0, _ok("pending", "pending")),
    (5.0, _ok("initializing", "starting")),
    (45.0, _ok("initializing", "running")),
    (55.0, _ok("active", "running")),
]


def _wait_on(timeline: list[tuple[float, Any]], clock: FakeClock, gets: list[float], timeout: float = 600) -> Any:
    return polling.poll_task(
        _timed_client(clock, timeline, gets),
        _task("pending", "pending"),
        lambda current: current.get("status") == "active",
        timeout=timeout,
        waiting_for="status active",
        clock=clock,
        sleep=clock.sleep,
    )


def test_the_pause_grows_with_how_long_the_state_has_held_up_to_the_cap() -> None:
    assert polling.next_pause(0, 0) == polling.FIRST_POLL
    assert polling.next_pause(1.0, 1.0) == pytest.approx(0.25)
    assert polling.next_pause(60.0, 60.0) == polling.MAX_POLL
    assert polling.next_pause(600.0, 600.0) == polling.LONG_POLL  # a wait of minutes: fewer GETs


def test_a_new_state_is_polled_sooner_than_one_that_has_held() -> None:
    """A change 20 s into a wait: the next poll comes in under half a second, not the 2 s the old state had."""
    assert polling.next_pause(0.0, 20.0) == pytest.approx(0.4)
    assert polling.next_pause(20.0, 20.0) == polling.MAX_POLL


def test_the_polls_of_concurrent_waits_keep_within_half_the_rate_limit() -> None:
    """RATE-1: at 400 requests a minute per route, eight waits polling the same route together send at most 200."""
    pause = polling.next_pause(0, concurrent=8, per_minute=400)
    assert 8 * 60 / pause <= 400 * polling.POLL_SHARE
    assert polling.next_pause(0, concurrent=1, per_minute=None) == polling.FIRST_POLL


def test_a_minute_long_build_is_seen_active_promptly_with_few_gets() -> None:
    clock, gets = FakeClock(), []
    assert _wait_on(MINUTE_BUILD, clock, gets)["status"] == "active"
    assert clock.now - 55.0 <= polling.MAX_POLL
    assert len(gets) <= 65  # about one a second, with quick follow-ups after each change


def test_a_ten_minute_wait_slows_down_to_the_long_pause() -> None:
    clock, gets = FakeClock(), []
    _wait_on([(0.0, _ok("pending", "pending")), (600.0, _ok("active", "running"))], clock, gets)
    assert clock.now - 600 <= polling.LONG_POLL
    assert len(gets) <= 170  # at MAX_POLL throughout it would be 300
    assert max(b - a for a, b in itertools.pairwise(gets)) == pytest.approx(polling.LONG_POLL)


def test_each_state_change_is_followed_closely() -> None:
    """A 0.3 s build (the embedded server): five stages of 60 ms; active is seen within one FIRST_POLL."""
    clock, gets = FakeClock(), []
    stages = [(0.06 * n, _ok(s, w)) for n, (s, w) in enumerate([("pending", "pending"), ("initializing", "starting")])]
    timeline = [*stages, (0.12, _ok("initializing", "running")), (0.3, _ok("active", "running"))]
    _wait_on(timeline, clock, gets)
    assert clock.now - 0.3 <= polling.FIRST_POLL + 1e-9


def test_the_run_s_rate_limit_slows_the_polls() -> None:
    clock, gets = FakeClock(), []
    polling.pace_polls_by(60)  # one wait may take half: 30 GETs a minute, one each 2 s
    _wait_on(MINUTE_BUILD, clock, gets)
    assert min(b - a for a, b in itertools.pairwise(gets)) >= 2.0 - 1e-9
    assert len(gets) <= 55 / 2 + 2


def test_a_429_is_waited_out_not_a_verdict() -> None:
    """RATE-1: a poll answered 429 (after the guard's own retries) waits its Retry-After and polls again."""
    clock, gets = FakeClock(), []
    limited = (
        429,
        {"message": "You've been rate limited for sending more than 512 requests in 1m0s."},
        {"Retry-After": "7"},
    )
    timeline = [(0.0, limited), (5.0, _ok("active", "running"))]
    assert _wait_on(timeline, clock, gets)["status"] == "active"
    assert gets == [0.0, 7.0]


def test_a_wait_that_is_only_ever_rate_limited_times_out_saying_so() -> None:
    clock, gets = FakeClock(), []
    limited = (
        429,
        {"message": "You've been rate limited for sending more than 512 requests in 1m0s."},
        {"Retry-After": "5"},
    )
    with pytest.raises(polling.LifecycleError, match=r"after 30s waiting.*7 poll\(s\) were answered 429"):
        _wait_on([(0.0, limited)], clock, gets, timeout=30)


def test_a_long_wait_reports_its_progress_and_a_short_one_does_not() -> None:
    lines: list[str] = []
    polling.report_progress_to(lines.append)
    clock, gets = FakeClock(), []
    _wait_on([(0.0, _ok("pending", "pending")), (3.0, _ok("active", "running"))], clock, gets)
    assert lines == []
    _wait_on(MINUTE_BUILD, FakeClock(), [])
    assert len(lines) == 2  # at 5 s, then 30 s later; the build ends at 55 s
    first, second = lines
    # At the first poll after 5 s, then after 35 s: the task, what is awaited, how long so far, the state now.
    assert re.fullmatch(
        r"task ctc-run-1: waiting for status active, [56]s of 600s so far; "
        r"now status 'initializing' \(workspace 'starting'\) for [01]s",
        first,
    )
    assert re.match(r"task ctc-run-1: waiting for status active, 3[5-7]s of 600s so far; now .* for 3[0-2]s$", second)
