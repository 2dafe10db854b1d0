"""Safety and cleanup: the run never touches a task it did not create, and deletes every task it did create.

Proven against the reference server on a real socket, holding tasks of the same user that no run created
(``preexisting_tasks``): the guarded clients refuse every write to them, and a whole run of the real suite leaves
them exactly as they were. Cleanup is checked after failing tests, on Ctrl-C, with pytest-xdist, through 409s
while a build runs, and when a task cannot be deleted (exit 11, each leftover named).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from coder_tasks_contract.plugin.exitcodes import TASKS_LEFT_BEHIND
from coder_tasks_contract.plugin.runstate import RunState
from coder_tasks_contract.transport import paths
from coder_tasks_contract.transport.guard import GuardRefused

from .support import all_tasks, clean_env, live_tasks, run_pytest, settings_for, target_args


def snapshot(server: Any) -> dict[str, tuple[str, str, Any]]:
    """Id → (name, prompt, deleted_at) of every task on the server."""
    with server.world.lock:
        return {t.id: (t.name, t.prompt, t.deleted_at) for t in server.world.tasks.values()}


# -- the guard against someone else's tasks ------------------------------------------------------------------------
def test_deliberate_writes_to_tasks_the_run_did_not_create_are_refused(
    reference_server_factory: Callable[..., Any],
) -> None:
    server = reference_server_factory(preexisting_tasks=5)
    before = snapshot(server)
    state = RunState(settings_for(server), run_id="proof1")
    try:
        target = state.ensure_target()
        client = state.user_client(target.user_a)
        session = state.session(target.user_a)
        anonymous = state.client(None)
        token = target.user_a.token.reveal()
        listed = client.get(paths.TASKS, params={"q": "owner:me"}).json()["tasks"]
        assert len(listed) == 5
        for task in listed:
            tid, name, workspace = task["id"], task["name"], task["workspace_id"]
            attempts: list[Callable[[], Any]] = [
                lambda t=tid: client.delete(paths.task_path("me", t)),
                lambda n=name: client.delete(paths.task_path("alice", n)),
                lambda n=name: client.delete(paths.task_path(target.user_a.id, n.upper())),
                lambda n=name: client.delete(paths.task_path("me", n) + "/"),
                lambda t=tid: client.patch(paths.task_path("me", t, "/input"), json={"input": "changed"}),
                lambda n=name: client.post(paths.task_path("me", n, "/send"), json={"input": "hello"}),
                lambda w=workspace: client.post(paths.workspace_path(w, "/builds"), json={"transition": "stop"}),
                lambda t=tid: session.delete(target.base_url + paths.task_path("me", t)),
                lambda n=name: session.patch(target.base_url + paths.task_path("me", n, "/input"), json={"input": "x"}),
                lambda t=tid: anonymous.delete(paths.task_path("me", t), headers={"Coder-Session-Token": token}),
                lambda n=name: anonymous.delete(paths.task_path("me", n), params={"coder_session_token": token}),
            ]
            for attempt in attempts:
                with pytest.raises(GuardRefused, match="write guard refused"):
                    attempt()
        # Still there, unchanged; and the guard is not simply refusing everything: our own task can be deleted.
        assert snapshot(server) == before
        for task in listed:
            assert client.get(paths.task_path("me", task["id"])).status_code == 200
        own = client.post(
            paths.task_path("me"),
            json={
                "template_version_id": target.template_version_id,
                "input": "own",
                "name": state.registry.next_name(),
            },
        ).json()
        deadline = time.monotonic() + 30
        while (answer := client.delete(paths.task_path("me", own["id"]))).status_code == 409:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert answer.status_code == 202
        assert snapshot(server).keys() - before.keys() == {own["id"]}
    finally:
        state.close()


# -- cleanup at the end of a run -----------------------------------------------------------------------------------
def test_a_409_while_the_first_build_runs_is_waited_out(reference_server_factory: Callable[..., Any]) -> None:
    server = reference_server_factory(speed="realistic")  # builds take seconds: DELETE answers 409 at first (DELETE-2)
    state = RunState(settings_for(server), run_id="wait409")
    try:
        target = state.ensure_target()
        client = state.user_client(target.user_a)
        name = state.registry.next_name()
        created = client.post(
            paths.task_path("me"), json={"template_version_id": target.template_version_id, "input": "x", "name": name}
        )
        assert created.status_code == 201
        report = state.clean_up()
        assert report is not None
        assert report.ok, report.summary()
        statuses = [e.status for e in state.traffic if e.method == "DELETE"]
        assert statuses[0] == 409
        assert statuses[-1] == 202
        assert live_tasks(server, name) == []
    finally:
        state.close()


CREATES_THEN_FAILS = """
    def test_creates_then_fails(make_task, registry):
        make_task()
        make_task(wait=None)
        assert len(registry.tasks) == 3, "this test fails on purpose"
"""


def test_tasks_are_deleted_when_tests_fail(reference_server: Any, mini_suite: Callable[..., Path]) -> None:
    run = run_pytest(*target_args(reference_server, "--run-label", "failrun"), cwd=mini_suite(CREATES_THEN_FAILS))
    assert run.ret == pytest.ExitCode.TESTS_FAILED, run.output
    assert "cleanup: deleted 2 task(s) this run created; none left" in run.output
    assert len(all_tasks(reference_server, "ctc-failrun-")) == 2
    assert live_tasks(reference_server, "ctc-failrun-") == []


HANGS_AFTER_CREATING = """
    import time

    def test_hangs(make_task):
        make_task(wait=None)
        time.sleep(120)
"""


def test_tasks_are_deleted_on_ctrl_c(reference_server: Any, mini_suite: Callable[..., Path]) -> None:
    project = mini_suite(HANGS_AFTER_CREATING)
    args = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        *target_args(reference_server, "--run-label", "ctrlc"),
    ]
    process = subprocess.Popen(
        args, cwd=project, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while not live_tasks(reference_server, "ctc-ctrlc-"):
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "the task was never created"
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == pytest.ExitCode.INTERRUPTED, output
    assert "cleanup: deleted 1 task(s) this run created; none left" in output
    assert live_tasks(reference_server, "ctc-ctrlc-") == []


TWO_WORKERS = """
    import pytest

    @pytest.mark.parametrize("n", range(4))
    def test_creates(make_task, n):
        make_task()
"""


def test_xdist_workers_share_the_run_id_and_each_cleans_its_own(
    reference_server: Any, mini_suite: Callable[..., Path]
) -> None:
    run = run_pytest("-n", "2", *target_args(reference_server, "--run-label", "xdist"), cwd=mini_suite(TWO_WORKERS))
    assert run.ret == 0, run.output
    names = sorted(t.name for t in all_tasks(reference_server, "ctc-xdist-"))
    assert len(names) == 4
    assert {name.rsplit("-", 1)[0] for name in names} == {"ctc-xdist-gw0", "ctc-xdist-gw1"}
    assert live_tasks(reference_server, "ctc-xdist-") == []
    assert len(run.lines_with("none left")) == 2  # one cleanup line per worker


class RefuseDeletes:
    """A fault: every DELETE answers 500, so no task can be removed (the cleanup must say so, by name)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "DELETE":
            body = json.dumps({"message": "Failed to delete task"}).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 500, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def test_a_task_that_cannot_be_deleted_fails_the_run_loudly(
    reference_server_factory: Callable[..., Any], mini_suite: Callable[..., Path]
) -> None:
    from coder_tasks_contract.server.api.app import create_app

    server = reference_server_factory(app_factory=lambda world: RefuseDeletes(create_app(world)))
    project = mini_suite("def test_creates(make_task):\n    make_task()\n")
    run = run_pytest(*target_args(server, "--run-label", "stuck"), cwd=project)
    assert run.ret == TASKS_LEFT_BEHIND, run.output
    (line,) = run.lines_with("cleanup FAILED")
    (left,) = live_tasks(server, "ctc-stuck-")
    assert f"{left.name} ({left.id}, owner alice)" in line
    assert "answered 500" in line


def test_nothing_is_left_and_nothing_else_is_touched_after_a_full_run(full_suite_run: Any) -> None:
    """The real suite, run whole against a server holding 5 tasks of user A that no run created (see conftest)."""
    server = full_suite_run.server
    assert "cleanup: deleted" in full_suite_run.run.output
    assert live_tasks(server, "ctc-") == []
    assert all_tasks(server, "ctc-"), "the suite created no task at all: the check above would prove nothing"
    assert snapshot(server) | full_suite_run.preexisting == snapshot(server)  # preexisting: unchanged, not deleted
    assert all(deleted_at is None for _, _, deleted_at in full_suite_run.preexisting.values())


def test_read_only_mode_sends_only_gets(reference_server: Any, mini_suite: Callable[..., Path]) -> None:
    source = """
        import pytest
        from coder_tasks_contract.transport.guard import GuardRefused
        from coder_tasks_contract.transport.paths import task_path

        @pytest.mark.writes
        def test_marked_writes():
            raise AssertionError("must be skipped")

        def test_uses_make_task(make_task):
            raise AssertionError("must be skipped")

        def test_a_write_is_refused(client_a, registry):
            assert client_a.get(task_path("me", registry.phantom_id())).status_code == 404
            with pytest.raises(GuardRefused, match="read-only"):
                client_a.delete(task_path("me", registry.phantom_id()))
    """
    run = run_pytest("-rs", *target_args(reference_server, "--read-only"), cwd=mini_suite(source))
    assert run.ret == 0, run.output
    assert "1 passed, 2 skipped" in run.output
    assert len(run.lines_with("read-only mode (--read-only)")) == 2


def _stray(server: Any, name: str) -> Any:
    """A task with the run's name prefix that the suite never heard of (as if its create answer was lost)."""
    from datetime import timedelta

    world = server.world
    alice = world.users[server.seed.users["alice"].id]
    with world.lock:
        version = str(server.seed.template_versions["ai_task"])
        # Created a minute ago, so its first build has finished and DELETE does not answer 409.
        return world.create_task(
            alice, alice, template_version_id=version, prompt="stray", name=name, at=world.now() - timedelta(minutes=1)
        )


def test_a_task_with_the_random_run_prefix_is_found_and_deleted_even_if_unregistered(reference_server: Any) -> None:
    stray = _stray(reference_server, "ctc-lost1-7")
    state = RunState(settings_for(reference_server), run_id="lost1")
    try:
        state.ensure_target()
        report = state.clean_up(sweep=True)  # what the xdist controller does after its workers
        assert report is not None
        assert report.ok, report.summary()
        assert report.deleted == [f"ctc-lost1-7 ({stray.id})"]
        assert live_tasks(reference_server, "ctc-lost1-") == []
    finally:
        state.close()


def test_with_a_run_label_an_unregistered_prefixed_task_is_reported_not_deleted(reference_server: Any) -> None:
    # The label may be an earlier run's: its tasks were not created by this run, so the guard keeps them safe.
    stray = _stray(reference_server, "ctc-nightly-7")
    state = RunState(settings_for(reference_server, run_label="nightly"), run_id="nightly")
    try:
        state.ensure_target()
        report = state.clean_up(sweep=True)
        assert report is not None
        assert not report.ok
        assert report.remaining == [f"ctc-nightly-7 ({stray.id}, owner alice)"]
        assert [t.id for t in live_tasks(reference_server, "ctc-nightly-")] == [stray.id]
    finally:
        state.close()


def test_a_list_that_keeps_deleted_tasks_is_a_contract_failure_not_a_leak(
    reference_server_factory: Callable[..., Any], mini_suite: Callable[..., Path]
) -> None:
    """LIST-2: a task the list still shows after its DELETE, but whose GET answers 404, is gone: the run says the list
    broke its contract (exit 1) instead of asking an operator to delete a task that no longer exists (exit 11)."""
    from coder_tasks_contract.server.api.app import create_app
    from coder_tasks_contract.server.domain.world import World

    class ListsDeletedTasks(World):
        def list_tasks(self, actor: Any, task_filter: Any) -> list[Any]:
            live = super().list_tasks(actor, task_filter)
            gone = [t for t in self.tasks.values() if t.deleted_at is not None and t.owner_id == actor.id]
            return live + gone

    def app(world: World) -> ASGIApp:
        world.__class__ = ListsDeletedTasks
        return create_app(world)

    server = reference_server_factory(app_factory=app)
    project = mini_suite("def test_creates(make_task):\n    make_task()\n")
    run = run_pytest(*target_args(server, "--run-label", "ghost"), cwd=project)
    assert run.ret == 1, run.output
    (line,) = run.lines_with("contract failure (LIST-2)")
    assert "ctc-ghost-" in line
    assert not run.lines_with("cleanup FAILED")
    assert live_tasks(server, "ctc-ghost-") == []
