"""Per-process state of a contract run: settings, run id, registry, traffic, guard, target, clients, cleanup.

One :class:`RunState` lives on ``config.stash`` from configure to unconfigure; fixtures and hooks read it.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, NoReturn

import httpx
import pytest
import requests

from coder_tasks_contract.plugin import exitcodes
from coder_tasks_contract.plugin.options import Settings
from coder_tasks_contract.spec import levels
from coder_tasks_contract.target import preflight
from coder_tasks_contract.target.model import Target, User
from coder_tasks_contract.target.secret import Secret
from coder_tasks_contract.transport import cleanup
from coder_tasks_contract.transport.clients import build_client, build_session
from coder_tasks_contract.transport.guard import Guard
from coder_tasks_contract.transport.task_registry import TaskRegistry
from coder_tasks_contract.transport.throttle import RateLimiter
from coder_tasks_contract.transport.traffic import Traffic

DEPLOYMENT_LIFECYCLE_TIMEOUT = 600.0
EMBEDDED_LIFECYCLE_TIMEOUT = 30.0
DEPLOYMENT_RATE_LIMIT = 400  # per minute and route; Coder's default limit is 512 (RATE-1)


class TargetUnusable(Exception):
    """The target cannot be tested (raised in an xdist worker, where pytest.exit cannot be used)."""


class RunState:
    """Everything one pytest process of the run holds about the target (see module docstring)."""

    def __init__(self, settings: Settings, *, run_id: str, worker: str | None = None, workers: int = 1) -> None:
        self.settings = settings
        self.run_id = run_id
        self.worker = worker
        self.workers = max(workers, 1)
        self.traffic = Traffic()
        # Under xdist the budget and the rate limit are shared out among the workers.
        self.registry = TaskRegistry(run_id, max_tasks=max(settings.max_tasks // self.workers, 1), worker=worker)
        self.target: Target | None = None
        self.target_error: str | None = None
        self.pytest_session: pytest.Session | None = None  # set at session start (to stop an xdist worker)
        self.guard: Guard | None = None
        self.server: Any = None  # the embedded ReferenceServer, when there is one
        self.cleanup_report: cleanup.CleanupReport | None = None
        self.cleanup_summary: str | None = None
        self.worker_reports: list[dict[str, Any]] = []
        self._clients: list[httpx.Client | requests.Session] = []
        self._user_clients: dict[str, httpx.Client] = {}
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"<RunState run={self.run_id} target={self.target.base_url if self.target else None}>"

    # -- the target ---------------------------------------------------------------------------------------
    def rate_limit(self, embedded: bool) -> int | None:
        per_minute = self.settings.rate_limit
        if per_minute is None and not embedded:
            per_minute = DEPLOYMENT_RATE_LIMIT
        if per_minute is None:
            return None
        return max(per_minute // self.workers, 1)

    def _make_guard(self, base_url: str, embedded: bool, template_version_id: str | None) -> Guard:
        def create_refused(status: int, message: str) -> None:
            assert template_version_id is not None
            problem = preflight.template_problem(status, message, template_version_id, base_url)
            if problem is not None:
                self.fatal(problem)

        return Guard(
            base_url=base_url,
            registry=self.registry,
            traffic=self.traffic,
            limiter=RateLimiter(self.rate_limit(embedded)),
            read_only=self.settings.read_only,
            template_version_id=template_version_id,
            on_create_refused=create_refused,
        )

    def adopt_target(self, target: Target) -> Target:
        """Use a target resolved elsewhere (the xdist controller's preflight)."""
        self.target = target
        self.guard = self._make_guard(target.base_url, target.embedded, target.template_version_id)
        self.guard.set_users(target.users)
        return target

    def guard_for(self, target: Target) -> Guard:
        """The guard of ``target``: the run's own for the target it resolved; for another one (a conftest overrode
        the ``target`` fixture) the run adopts that target, so its guard, clients and cleanup all address it."""
        with self._lock:
            if target is not self.target or self.guard is None:
                self.adopt_target(target)
            assert self.guard is not None
            return self.guard

    def fatal(self, message: str) -> NoReturn:
        """End the run because the target is unusable: exit 10 with ``message`` as its one line.

        In an xdist worker ``pytest.exit`` would be an INTERNALERROR on the controller, so the worker stops
        after this test instead (``shouldstop``), fails it with :class:`TargetUnusable`, and hands the message to
        the controller (``workeroutput``), which exits 10 with it.
        """
        __tracebackhide__ = True
        self.target_error = message
        if self.worker is None:
            pytest.exit(message, returncode=exitcodes.TARGET_UNUSABLE)
        if self.pytest_session is not None:
            self.pytest_session.shouldstop = message
        raise TargetUnusable(message)

    def ensure_target(self) -> Target:
        """Resolve the target once (start the embedded server if needed, run preflight); PreflightError if unusable."""
        with self._lock:
            if self.target is not None:
                return self.target
            if self.target_error is not None:
                raise preflight.PreflightError(self.target_error)
            try:
                return self._resolve()
            except preflight.PreflightError as exc:
                self.target_error = str(exc)
                self.stop_server()
                raise

    def _resolve(self) -> Target:
        s = self.settings
        template, non_task = s.template_version_id, s.non_task_template_version_id
        token_a, token_b = s.session_token, s.second_session_token
        if s.base_url is None:
            self.server = _start_embedded(s.coder_version or levels.DEFAULT.name)
            seed = self.server.seed
            base_url = str(self.server.url)
            token_a = Secret(seed.users["alice"].token)
            token_b = Secret(seed.users["bob"].token)
            template = str(seed.template_versions["ai_task"])
            non_task = str(seed.template_versions["no_ai_task"])
        else:
            base_url = s.base_url
        embedded = s.base_url is None
        guard = self._make_guard(base_url, embedded, template)
        self.guard = guard
        timeout = s.request_timeout
        anonymous = self.track(build_client(guard, base_url, timeout=timeout))
        version = preflight.check_buildinfo(anonymous, base_url, timeout)
        try:
            detection = levels.forced(s.coder_version) if s.coder_version else levels.detect(version)
        except levels.LevelError as exc:
            raise preflight.PreflightError(f"{base_url}: {exc}") from None

        def client_for(token: Secret) -> httpx.Client:
            probe = User("", "", token)
            probe_client: httpx.Client = self.track(build_client(guard, base_url, user=probe, timeout=timeout))
            return probe_client

        user_a, user_b = preflight.check_users(client_for, base_url, token_a, token_b, timeout)
        guard.set_users([user for user in (user_a, user_b) if user is not None])
        lifecycle = s.lifecycle_timeout or (EMBEDDED_LIFECYCLE_TIMEOUT if embedded else DEPLOYMENT_LIFECYCLE_TIMEOUT)
        self.target = Target(
            base_url=base_url,
            embedded=embedded,
            user_a=user_a,
            user_b=user_b,
            template_version_id=template,
            non_task_template_version_id=non_task,
            server_version=version,
            read_only=s.read_only,
            lifecycle_timeout=lifecycle,
            request_timeout=timeout,
            flavour=detection.level.flavour,
            coder_version=detection.level.name,
            level_reason=detection.reason,
        )
        return self.target

    # -- clients ------------------------------------------------------------------------------------------
    def track(self, client: Any) -> Any:
        """Close ``client`` (an httpx client or requests session) when the run ends; returns it."""
        with self._lock:
            self._clients.append(client)
        return client

    def client(self, user: User | None = None, **httpx_kwargs: Any) -> httpx.Client:
        """A new guarded httpx client for the target, authenticated as ``user`` (None: no credentials)."""
        target = self.ensure_target()
        assert self.guard is not None
        httpx_kwargs.setdefault("timeout", target.request_timeout)
        client: httpx.Client = self.track(build_client(self.guard, target.base_url, user=user, **httpx_kwargs))
        return client

    def user_client(self, user: User) -> httpx.Client:
        """The shared client of ``user`` (client_a / client_b, and the cleanup)."""
        if user.username not in self._user_clients:
            self._user_clients[user.username] = self.client(user)
        return self._user_clients[user.username]

    def session(self, user: User | None = None) -> requests.Session:
        target = self.ensure_target()
        assert self.guard is not None
        session: requests.Session = self.track(build_session(self.guard, user=user, timeout=target.request_timeout))
        return session

    # -- the end ------------------------------------------------------------------------------------------
    def clean_up(self, *, sweep: bool = False) -> cleanup.CleanupReport | None:
        """Delete what this process created and look for leftovers (once); None if there was nothing to do.

        ``sweep`` (the xdist controller, which creates nothing itself): look for tasks of the run's prefix that a
        worker left behind (it crashed, or was stopped), and delete them when the run id is random.
        """
        if self.cleanup_report is not None:
            return self.cleanup_report
        if self.target is None or not (sweep or self.registry.entries()):
            return None
        clients = {user.username: self.user_client(user) for user in self.target.users}
        self.cleanup_report = cleanup.clean_up(
            self.registry,
            clients,
            timeout=self.target.lifecycle_timeout,
            adopt_prefixed=self.settings.run_label is None,
        )
        if sweep and not self.cleanup_report.deleted and self.cleanup_report.ok and self.cleanup_report.list_ok:
            self.cleanup_report = None  # nothing was left behind: no line to print
        return self.cleanup_report

    def close(self) -> None:
        for client in self._clients:
            with contextlib.suppress(Exception):  # closing is best effort at shutdown
                client.close()
        self._clients.clear()
        self._user_clients.clear()
        self.stop_server()

    def stop_server(self) -> None:
        if self.server is not None:
            server, self.server = self.server, None
            server.stop()


def _start_embedded(level: str) -> Any:
    # Imported here: the suite itself never depends on the reference server, only the embedded default does.
    try:
        from coder_tasks_contract.server.runner import start_reference_server  # type: ignore[import-untyped,unused-ignore]
    except ImportError as exc:  # pragma: no cover - the server ships with the package
        raise preflight.PreflightError(
            f"the embedded reference server is unavailable ({exc}): pass --base-url of a Coder deployment"
        ) from None
    try:
        return start_reference_server(speed="fast", coder_version=level)
    except Exception as exc:
        raise preflight.PreflightError(
            f"could not start the embedded reference server ({type(exc).__name__}: {exc}): pass --base-url"
        ) from None


STATE_KEY = pytest.StashKey[RunState]()
#: The run's :class:`Traffic` on ``config.stash`` (the same object as ``run_state(config).traffic``), for the ledger.
TRAFFIC_KEY = pytest.StashKey[Traffic]()


def run_state(config: pytest.Config) -> RunState:
    """The run's :class:`RunState` (set up by the plugin at configure time)."""
    return config.stash[STATE_KEY]
