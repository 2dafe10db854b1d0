"""The write guard: the one gate every request of the suite passes through.

Policy (so the suite cannot damage a deployment it is pointed at):

- only the target's origin is contacted;
- reads (GET, HEAD, OPTIONS) go to the task routes, ``/api/v2/buildinfo``, ``/api/v2/users/me`` and
  ``GET /api/v2/workspaces/{id}`` only; in read-only mode nothing but GET is sent;
- a write (any other method) to ``/api/experimental/tasks/{user}/{task}[/...]`` (or the same under
  ``/api/v2/tasks``, ROUTE-1) needs a ``{task}`` this run created (its id, or its live name under its owner) or a
  registry phantom id;
- a create (``POST /api/experimental/tasks/{user}`` or ``/api/v2/tasks/{user}``) needs ``{user}`` to be ``me``
  or suite user A or B, and a free slot of the --max-tasks budget; a created task is registered from the response,
  whoever sent it (schemathesis included), so it is cleaned up at the end;
- ``POST /api/v2/workspaces/{id}/builds`` needs the workspace of a live task this run created and a body of
  exactly ``{"transition": "start" | "stop"}``;
- anything else is refused with :class:`GuardRefused` before it leaves the process.

Around the send it applies the per-route rate limit, retries a 429 after its Retry-After (bounded), and records
every response in :class:`~coder_tasks_contract.transport.traffic.Traffic`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qs, urlsplit

from coder_tasks_contract.spec.vocabulary import SAFE_METHODS, parses_as_uuid
from coder_tasks_contract.target.model import User
from coder_tasks_contract.transport import paths, repro
from coder_tasks_contract.transport.task_registry import OwnedTask, TaskRegistry
from coder_tasks_contract.transport.throttle import RateLimiter, parse_retry_after
from coder_tasks_contract.transport.traffic import Traffic, body_facts, media_type, query_pairs

BUILD_TRANSITIONS = frozenset({"start", "stop"})
# Reads outside the task routes that a contract test may legitimately make (all answer 404 or are documented):
# unknown paths under /api/experimental (ROUTE-3 "Route not found."), the GA alias /api/v2/tasks (ROUTE-1) and the
# doubled prefix the 82f docs print (DOCS-1).
_READ_PREFIXES = ("/api/experimental/", "/api/v2/tasks", "/api/v2/api/experimental")

T = TypeVar("T")


class GuardRefused(Exception):
    """The write guard refused to send a request; the message says which and why."""


@dataclass(frozen=True)
class Outgoing:
    """A request about to be sent, as the guard sees it (header names lower-case)."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes = b""

    @property
    def describe(self) -> str:
        parts = urlsplit(self.url)
        return f"{self.method.upper()} {parts.path or '/'}"

    def __repr__(self) -> str:
        # Tracebacks show locals (pytest -l, GuardRefused frames): headers, cookies and the query string can
        # carry a session token, so the repr names only the method and path.
        return f"Outgoing({self.describe}, {len(self.headers)} headers and the query string hidden)"


class Received(Protocol):
    """What the guard needs from a response, whichever HTTP library produced it."""

    @property
    def status(self) -> int: ...

    def header(self, name: str) -> str | None: ...

    def content(self) -> bytes: ...

    def discard(self) -> None: ...


@dataclass(frozen=True)
class Admission:
    """An allowed request: its route template, who sends it, and whether it holds a create slot."""

    route: str
    identity: User | None
    create: bool = False
    task: OwnedTask | None = None


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = (parts.scheme or "").lower()
    default_port = 443 if scheme == "https" else 80
    return scheme, (parts.hostname or "").lower(), parts.port or default_port


def request_token(headers: Mapping[str, str], query: str) -> str | None:
    """The session token Coder would authenticate this request with, in its precedence order (AUTH-4)."""
    cookie_header = headers.get("cookie")
    if cookie_header:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(cookie_header)
        except CookieError:
            jar = SimpleCookie()
        morsel = jar.get("coder_session_token")
        if morsel is not None and morsel.value:
            return morsel.value
    params = parse_qs(query, keep_blank_values=True)
    if params.get("coder_session_token", [""])[0]:
        return params["coder_session_token"][0]
    if headers.get("coder-session-token"):
        return headers["coder-session-token"]
    authorization = headers.get("authorization", "").strip()
    if authorization[:7].lower() == "bearer " and authorization[7:].strip():
        return authorization[7:].strip()
    if params.get("access_token", [""])[0]:
        return params["access_token"][0]
    return None


class Guard:
    """Policy plus the send loop around it (rate limit, 429 retries, traffic, registering creates)."""

    def __init__(
        self,
        *,
        base_url: str,
        registry: TaskRegistry,
        traffic: Traffic,
        limiter: RateLimiter | None = None,
        read_only: bool = False,
        users: Sequence[User] = (),
        max_retries_429: int = 3,
        max_retry_after: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        template_version_id: str | None = None,
        on_create_refused: Callable[[int, str], None] | None = None,
    ) -> None:
        self.base_url = base_url
        self.origin = _origin(base_url)
        self.registry = registry
        self.traffic = traffic
        self.limiter = limiter or RateLimiter(None)
        self.read_only = read_only
        self.max_retries_429 = max_retries_429
        self.max_retry_after = max_retry_after
        self._sleep = sleep
        # Creates with the target's own template version that the server refuses: the hook may end the run
        # (the template version can only be checked by creating, preflight.template_problem).
        self.template_version_id = template_version_id
        self.on_create_refused = on_create_refused
        self._lock = threading.Lock()
        self._users: tuple[User, ...] = tuple(users)

    # -- who is who ---------------------------------------------------------------------------------------
    def set_users(self, users: Iterable[User]) -> None:
        """The suite users (known after preflight); their tokens identify who sends a request."""
        with self._lock:
            self._users = tuple(users)

    @property
    def users(self) -> tuple[User, ...]:
        with self._lock:
            return self._users

    def identify(self, request: Outgoing) -> User | None:
        token = request_token(request.headers, urlsplit(request.url).query)
        if token is None:
            return None
        for user in self.users:
            if user.token.reveal() == token:
                return user
        return None

    def _designates(self, segment: str, user: User) -> bool:
        """Whether a ``{user}`` path segment names this suite user (by username, case-insensitive, or id)."""
        return bool(
            (user.username and segment.lower() == user.username.lower())
            or (user.id and segment.lower() == user.id.lower())
        )

    # -- the policy ---------------------------------------------------------------------------------------
    def check(self, request: Outgoing) -> Admission:
        """Admit ``request`` or raise :class:`GuardRefused`; a create takes a budget slot (see :meth:`observe`)."""
        method = request.method.upper()
        parts = urlsplit(request.url)
        if _origin(request.url) != self.origin:
            raise self._refuse(request, f"it is addressed to {parts.scheme}://{parts.netloc}, not the target")
        path = paths.normalize(parts.path)
        route = paths.match(path)
        template = paths.route_template(path)
        identity = self.identify(request)
        if self.read_only and method != "GET":
            raise self._refuse(request, "read-only mode (--read-only) sends only GET requests")
        if method in SAFE_METHODS:
            workspace_route = route is not None and route.template.startswith(paths.WORKSPACES)
            if workspace_route and template == paths.ROUTE_WORKSPACE:
                return Admission(template, identity)
            if not workspace_route and (route is not None or path.startswith(_READ_PREFIXES)):
                return Admission(template, identity)
            raise self._refuse(
                request,
                "the suite reads only the task routes, /api/v2/buildinfo, /api/v2/users/me and /api/v2/workspaces/{id}",
            )
        if paths.has_dot_segment(parts.path):
            raise self._refuse(request, "the path has a '.', '..' or encoded '/' segment that could resolve elsewhere")
        if route is None:
            raise self._refuse(request, "it is not a task route; the suite writes only to tasks it created")
        if route.canonical == paths.ROUTE_TASKS:
            # Nothing at the collection root changes a task (ROUTE-6: only GET is routed there).
            return Admission(template, identity)
        if route.canonical == paths.ROUTE_USER_TASKS:
            if method != "POST":
                return Admission(template, identity)  # unrouted (ROUTE-4): answers 405, touches nothing
            return self._admit_create(request, route.params["user"], template, identity)
        if route.template == paths.ROUTE_WORKSPACE_BUILDS and method == "POST":
            return self._admit_build(request, route.params["workspace"], template, identity)
        if "task" in route.params:
            return self._admit_task_write(request, route.params["user"], route.params["task"], template, identity)
        raise self._refuse(request, "the suite writes to a workspace only through POST .../builds")

    def _admit_create(self, request: Outgoing, segment: str, template: str, identity: User | None) -> Admission:
        allowed = segment == "me" or any(self._designates(segment, user) for user in self.users)
        if not allowed:
            names = ", ".join(["me", *(u.username for u in self.users if u.username)])
            raise self._refuse(request, f"tasks are created only for {names}, not for {segment!r}")
        if not self.registry.reserve_create():
            raise self._refuse(
                request,
                f"the budget of {self.registry.max_tasks} tasks for this run is used up (raise --max-tasks)",
            )
        return Admission(template, identity, create=True)

    def _admit_build(self, request: Outgoing, workspace: str, template: str, identity: User | None) -> Admission:
        owned = self.registry.owns_workspace(workspace)
        if owned is None:
            raise self._refuse(request, f"workspace {workspace} does not belong to a live task this run created")
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            body = None
        if not (isinstance(body, dict) and set(body) == {"transition"} and body["transition"] in BUILD_TRANSITIONS):
            raise self._refuse(request, 'a workspace build body must be exactly {"transition": "start" | "stop"}')
        return Admission(template, identity, task=owned)

    def _admit_task_write(
        self, request: Outgoing, segment: str, task: str, template: str, identity: User | None
    ) -> Admission:
        if parses_as_uuid(task):
            if self.registry.is_phantom(task):
                return Admission(template, identity)
            # A UUID is looked up by id whatever {user} says (TASKREF-1); if no task has it, the name lookup that
            # follows cannot match either (names are at most 32 characters, a UUID is 36).
            owned = self.registry.get(task)
            if owned is not None and owned.id == task.lower():
                return Admission(template, identity, task=owned)
            raise self._refuse(request, f"task {task} was not created by this run")
        owned = self.registry.get(task)
        if owned is None or owned.deleted:
            raise self._refuse(request, f"no live task named {task!r} was created by this run")
        # A name is resolved under the {user} segment's owner (TASKREF-2): it must be the owner of our task.
        if segment == "me":
            owner_matches = identity is not None and (
                (owned.owner_id is not None and identity.id.lower() == owned.owner_id)
                or (owned.creator is not None and identity.username == owned.creator)
            )
        else:
            owner_matches = (owned.owner_id is not None and segment.lower() == owned.owner_id) or (
                segment.lower() == str(owned.data.get("owner_name", "")).lower() != ""
            )
        if not owner_matches:
            raise self._refuse(
                request, f"{segment!r}/{task!r} may name another user's task, not the one this run created"
            )
        return Admission(template, identity, task=owned)

    def _uses_target_template(self, request: Outgoing) -> bool:
        try:
            body = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            return False
        if not isinstance(body, dict) or self.template_version_id is None:
            return False
        return str(body.get("template_version_id", "")).lower() == self.template_version_id.lower()

    def _sample(self, request: Outgoing, received: Received) -> repro.Sample:
        """A redacted copy of the exchange for the test's failure report (``repro.py``)."""
        return repro.capture(
            method=request.method,
            url=request.url,
            headers=request.headers,
            body=request.body,
            status=received.status,
            response_header=received.header,
            response_body=received.content(),
            redact=repro.Redactor.for_users(self.users),
        )

    def _refuse(self, request: Outgoing, reason: str) -> GuardRefused:
        return GuardRefused(f"write guard refused {request.describe}: {reason}")

    # -- around the send ----------------------------------------------------------------------------------
    def exchange(self, request: Outgoing, send: Callable[[], tuple[T, Received]]) -> T:
        """Check, pace, send (retrying a 429 after its Retry-After), then observe; returns the library response."""
        admission = self.check(request)
        observed = False
        try:
            attempt = 0
            while True:
                self.limiter.acquire(admission.route)
                response, received = send()
                if received.status != 429 or attempt >= self.max_retries_429:
                    break
                delay = parse_retry_after(received.header("retry-after"))
                if delay is None:
                    delay = float(2**attempt)
                if delay > self.max_retry_after:
                    break
                received.discard()
                self._sleep(delay)
                attempt += 1
            observed = True
            self.observe(request, admission, received)
        finally:
            if admission.create and not observed:
                # Interrupted or the connection broke: the server may have created the task; keep the slot.
                self.registry.settle_create(created=True)
        return response

    def observe(self, request: Outgoing, admission: Admission, received: Received) -> None:
        """Record the exchange; register what a create made; note deletes and fresh workspace ids."""
        method = request.method.upper()
        status = received.status
        self.traffic.record(
            method,
            admission.route,
            status,
            sample=lambda: self._sample(request, received),
            details=lambda: _details(request, received),
        )
        if admission.create:
            self._observe_create(request, admission, received)
        elif method == "DELETE" and admission.task is not None and 200 <= status < 300:
            self.registry.mark_deleted(admission.task.id)
        elif method == "GET" and status == 200:
            self._observe_read(admission.route, received)

    def _observe_create(self, request: Outgoing, admission: Admission, received: Received) -> None:
        status = received.status
        # 4xx: refused before anything was made (CREATE-2). 5xx: the task row may exist; keep the slot.
        self.registry.settle_create(created=not (400 <= status < 500))
        if 200 <= status < 300:
            task = _json_object(received)
            if task is not None and "id" in task:
                creator = admission.identity.username if admission.identity else None
                self.registry.add(task, creator=creator)
        elif status == 400 and self.on_create_refused is not None and self._uses_target_template(request):
            answer = _json_object(received) or {}
            self.on_create_refused(status, str(answer.get("message", "")))

    def _observe_read(self, route: str, received: Received) -> None:
        """A task or the task list as read: refresh what the registry knows (fresh workspace ids)."""
        canonical = paths.canonical_template(route)  # whichever mount the request used (ROUTE-1)
        if not canonical.startswith(paths.TASKS):
            return
        body = _json_object(received)
        if body is None:
            return
        if canonical == paths.ROUTE_TASK and "id" in body:
            self.registry.refresh(body)
        elif canonical == paths.ROUTE_TASKS and isinstance(body.get("tasks"), list):
            for task in body["tasks"]:
                if isinstance(task, dict):
                    self.registry.refresh(task)


def _details(request: Outgoing, received: Received) -> tuple[tuple[tuple[str, str], ...], str, str, frozenset[str]]:
    """What the coverage criteria need of an exchange: query, request and response media types, body facts."""
    content = received.content()
    request_type = media_type(request.headers.get("content-type")) if request.body else ""
    response_type = media_type(received.header("content-type")) if content else ""
    return query_pairs(request.url), request_type, response_type, body_facts(content, response_type)


def _json_object(received: Received) -> dict[str, Any] | None:
    try:
        body = json.loads(received.content() or b"null")
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None
