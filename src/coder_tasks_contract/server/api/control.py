"""Every state on demand: a control surface for tests of task clients, off unless asked for (``control=True``,
``coder-tasks-fake --control``). The same operations are Python methods (``ReferenceServer.control``) and HTTP
endpoints under ``/__control/`` (no API key; the path is no Coder route, so a client under test never reaches it
by accident):

- ``POST /__control/tasks/{task_id}/state`` ``{"state": "failure", "message": "..."}``: the agent reports an app status
  (``working``, ``idle``, ``complete``, ``failure`` at 82f/2.29, ``failed``): the task's ``current_state``.
- ``POST /__control/tasks/{task_id}/fail-next-build``: the next build of the task's workspace fails: the task is
  ``error`` (STATUS-3) until another build replaces it.
- ``POST /__control/tasks/{task_id}/hold`` and ``/release``: keep the task ``initializing`` (its start build's job
  stays pending) right after create or start, until released.
- ``POST /__control/tasks/{task_id}/stop`` and ``/start``: a stop or start build of the task's workspace, as the
  workspace's owner would queue it (the task becomes ``paused``, then ``initializing`` and ``active``).
- ``POST /__control/tasks/{task_id}/app-ready`` ``{"ready": false}``: the app is busy, so send answers the level's
  not-ready refusal (502 before #23424, 409 after); ``{"ready": true}`` ends it.
- ``POST /__control/faults`` ``{"status": 429, "count": 3, "method": "GET", "path": "/api/v2/tasks"}``: the next
  ``count`` requests matching ``method`` and the ``path`` prefix (both optional) answer ``status``: 429 with Coder's
  rate-limit headers and body, any other status with Coder's internal-error body.
- ``POST /__control/clock/advance`` ``{"seconds": 30}``: simulated time moves on (builds, agent replies).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from coder_tasks_contract.server.api.middleware import json_response
from coder_tasks_contract.server.domain.clock import Clock
from coder_tasks_contract.server.domain.entities import AppStatus, Build, Task
from coder_tasks_contract.server.domain.errors import CoderError
from coder_tasks_contract.server.domain.lifecycle import is_build_active
from coder_tasks_contract.server.domain.world import World, new_id

PREFIX = "/__control"
INTERNAL_ERROR = {"message": "An internal server error occurred."}


class ShiftableClock:
    """A clock some seconds ahead of another one: ``advance`` moves simulated time forward on any clock."""

    def __init__(self, base: Clock) -> None:
        self.base = base
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self.base.now() + self._offset

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()


class ControlError(ValueError):
    """A control request that cannot be done: the HTTP surface answers 400 (404 for ``missing``)."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


@dataclass
class Fault:
    """The next ``remaining`` requests matching ``method`` and ``path`` (a prefix) answer ``status``."""

    status: int
    remaining: int
    method: str | None = None
    path: str | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method in (None, method)) and (self.path is None or path.startswith(self.path))


class Control:
    """The control operations on one world. Thread-safe: each holds the world's lock."""

    def __init__(self, world: World, clock: ShiftableClock) -> None:
        self.world = world
        self.clock = clock
        self.faults: list[Fault] = []
        self._faults_lock = threading.Lock()

    def _task(self, task_id: str) -> Task:
        task = self.world.tasks.get(task_id)
        if task is None or task.deleted_at is not None:
            raise ControlError(f"no live task {task_id!r}", missing=True)
        return task

    def set_state(self, task_id: str, state: str, message: str = "") -> AppStatus:
        """The agent reports ``state`` now; what it had scheduled for later (its reply to a prompt) is dropped so the
        state stays until something else changes it."""
        allowed = sorted(self.world.level.task_states)
        if state not in allowed:
            raise ControlError(f"state {state!r} is not one level {self.world.level.name} emits: {', '.join(allowed)}")
        with self.world.lock:
            task = self._task(task_id)
            workspace = self.world._task_workspace(task)
            now = self.world.now()
            workspace.app_statuses = [s for s in workspace.app_statuses if s.created_at <= now]
            status = AppStatus(new_id(), workspace.latest_build.app_id or "", state, message or state, "", now)
            workspace.app_statuses.append(status)
            return status

    def fail_next_build(self, task_id: str) -> None:
        with self.world.lock:
            workspace = self.world._task_workspace(self._task(task_id))
            self.world.fail_next_build.add(workspace.id)

    def hold(self, task_id: str) -> Build:
        """Keep the task ``initializing``: its start build's job stays pending (STATUS-2) until :meth:`release`.
        Only while that build is queued or running (just after create or start); what its agent had scheduled is
        dropped and scheduled again on release."""
        with self.world.lock:
            task = self._task(task_id)
            workspace = self.world._task_workspace(task)
            build, now = workspace.latest_build, self.world.now()
            if build.transition != "start" or not is_build_active(build, now):
                raise ControlError("hold a task while its start build is queued or running (after create or start)")
            build.held = True
            workspace.app_statuses = [s for s in workspace.app_statuses if s.created_at <= now]
            task.agentapi.stop_at(now)
            return build

    def release(self, task_id: str) -> Build:
        """A held build's job starts now: the task goes on through initializing to active at the usual pace."""
        with self.world.lock:
            task = self._task(task_id)
            workspace = self.world._task_workspace(task)
            build = workspace.latest_build
            if not build.held:
                raise ControlError("the task's latest build is not held")
            build.held = False
            build.created_at = self.world.now()
            self.world._schedule_agent_start(task, workspace, build, first=len(workspace.builds) == 1)
            return build

    def build(self, task_id: str, transition: str) -> Build:
        """A ``start`` or ``stop`` build of the task's workspace, queued by its owner (409 rules apply)."""
        if transition not in ("start", "stop"):
            raise ControlError(f"transition {transition!r}: start or stop")
        with self.world.lock:
            task = self._task(task_id)
            workspace = self.world._task_workspace(task)
            return self.world.create_build(self.world.users[task.owner_id], workspace, transition)

    def set_app_ready(self, task_id: str, ready: bool) -> None:
        with self.world.lock:
            task = self._task(task_id)
            if ready:
                self.world.app_not_ready.discard(task.id)
            else:
                self.world.app_not_ready.add(task.id)

    def inject(self, status: int, count: int = 1, *, method: str | None = None, path: str | None = None) -> Fault:
        if not 400 <= status <= 599 or count < 1:
            raise ControlError("status must be 400-599 and count at least 1")
        fault = Fault(status, count, method.upper() if method else None, path)
        with self._faults_lock:
            self.faults.append(fault)
        return fault

    def take_fault(self, method: str, path: str) -> Fault | None:
        """The fault this request meets, if any (counting it down)."""
        with self._faults_lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ControlError("the clock only moves forward")
        return self.clock.advance(seconds)


def fault_response(fault: Fault, world: World) -> Response:
    """429 as Coder's rate limiter answers it (headers and body); other statuses with the recover body. Both carry
    the headers Coder's outer middleware sets on every answer."""
    now = world.now()
    common = {"X-Coder-Build-Version": world.level.build_version, "X-Content-Type-Options": "nosniff"}
    if fault.status != 429:
        return json_response(fault.status, INTERNAL_ERROR, common)
    reset = (int(now.timestamp()) // 60 + 1) * 60
    headers = {
        **common,
        "X-Ratelimit-Limit": "512",
        "X-Ratelimit-Remaining": "0",
        "X-Ratelimit-Reset": str(reset),
        "Retry-After": str(max(reset - int(now.timestamp()), 1)),
    }
    return json_response(
        429, {"message": "You've been rate limited for sending more than 512 requests in 1m0s."}, headers
    )


class ControlMiddleware:
    """Serves ``/__control/...`` and applies injected faults to every other request, before strict mode, the API
    key and routing."""

    def __init__(self, app: ASGIApp, control: Control) -> None:
        self.app = app
        self.control = control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(PREFIX + "/"):
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            response = self.handle(scope["method"], path[len(PREFIX) :], body)
            await response(scope, receive, send)
            return
        fault = self.control.take_fault(scope["method"], path)
        if fault is not None:
            await fault_response(fault, self.control.world)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def handle(self, method: str, path: str, raw: bytes) -> Response:
        if method != "POST":
            return json_response(405, {"message": "control endpoints take POST"})
        try:
            body: dict[str, Any] = json.loads(raw) if raw.strip() else {}
            if not isinstance(body, dict):
                raise ControlError("the body must be a JSON object")
            return json_response(200, self._dispatch(path.strip("/").split("/"), body))
        except ControlError as exc:
            return json_response(404 if exc.missing else 400, {"message": str(exc)})
        except CoderError as exc:  # e.g. a build while another is running: Coder's own answer
            return json_response(409, exc.body())
        except (ValueError, TypeError, KeyError) as exc:
            return json_response(400, {"message": f"bad control request: {exc}"})

    def _dispatch(self, parts: list[str], body: dict[str, Any]) -> dict[str, Any]:
        control = self.control
        if parts[:1] == ["tasks"] and len(parts) == 3:
            task_id, action = parts[1], parts[2]
            if action == "state":
                status = control.set_state(task_id, str(body["state"]), str(body.get("message", "")))
                return {"state": status.state, "message": status.message}
            if action == "fail-next-build":
                control.fail_next_build(task_id)
                return {"fail_next_build": True}
            if action in ("hold", "release"):
                build = control.hold(task_id) if action == "hold" else control.release(task_id)
                return {"build_id": build.id, "held": build.held}
            if action in ("stop", "start"):
                build = control.build(task_id, action)
                return {"build_id": build.id, "transition": build.transition, "build_number": build.number}
            if action == "app-ready":
                control.set_app_ready(task_id, bool(body["ready"]))
                return {"ready": bool(body["ready"])}
        if parts == ["faults"]:
            fault = control.inject(
                int(body["status"]), int(body.get("count", 1)), method=body.get("method"), path=body.get("path")
            )
            return {"status": fault.status, "count": fault.remaining, "method": fault.method, "path": fault.path}
        if parts == ["clock", "advance"]:
            return {"now": control.advance(float(body["seconds"])).isoformat()}
        raise ControlError(f"no control endpoint {PREFIX}/{'/'.join(parts)}", missing=True)
