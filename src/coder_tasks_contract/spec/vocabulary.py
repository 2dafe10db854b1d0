"""The suite's vocabulary: each fact about Coder's task API that more than one module of the suite uses, written once.

Operation ids and their routes, the write set, task statuses, HTTP method lists, Coder's fixed messages, the UUID
tests and the skip texts live here; URL paths and route templates live in ``transport/paths.py`` (next to the
functions that build and match them), and level differences in ``levels.py``. Where the OpenAPI document states a
fact too (operation ids, methods, routes, statuses), ``selftests/test_vocabulary.py`` compares this module with
every level's document, so the two cannot drift apart; it also fails when a fact listed there is written again
elsewhere on the suite side. The reference server (``server/``) keeps its own copy of Coder's wire text on purpose:
it is the other side of the contract.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from coder_tasks_contract.transport import paths

# ---- operations (ROUTE-6) ----------------------------------------------------------------------------------------

# The stable operationIds of the document (clients and reports key on them), as served at /api/experimental/tasks;
# the same operation at /api/v2/tasks carries the suffix V2 (:func:`operation_id`).
LIST, CREATE, GET, DELETE, UPDATE_INPUT, LOGS, SEND = (
    "listTasks",
    "createTask",
    "getTask",
    "deleteTask",
    "updateTaskInput",
    "getTaskLogs",
    "sendTaskInput",
)
PAUSE, RESUME = "pauseTask", "resumeTask"  # newest level only (PAUSE-1)
#: The operations every level serves, in the order reports list them.
BASE_OPERATIONS = (LIST, CREATE, GET, DELETE, UPDATE_INPUT, LOGS, SEND)
PAUSE_OPERATIONS = (PAUSE, RESUME)

#: Each operation's method and route template at /api/experimental/tasks (ROUTE-6; the route table of chi in
#: coderd/coderd.go).
OPERATION_ROUTES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        LIST: ("GET", paths.ROUTE_TASKS),
        CREATE: ("POST", paths.ROUTE_USER_TASKS),
        GET: ("GET", paths.ROUTE_TASK),
        DELETE: ("DELETE", paths.ROUTE_TASK),
        UPDATE_INPUT: ("PATCH", paths.ROUTE_TASK_INPUT),
        LOGS: ("GET", paths.ROUTE_TASK_LOGS),
        SEND: ("POST", paths.ROUTE_TASK_SEND),
        PAUSE: ("POST", paths.ROUTE_TASK_PAUSE),
        RESUME: ("POST", paths.ROUTE_TASK_RESUME),
    }
)

#: Where the task operations are mounted, and the suffix their operationIds get there in a level's document (the
#: base document's ids belong to ``/api/experimental/tasks``, the mount every level serves).
MOUNT_SUFFIXES: Mapping[str, str] = MappingProxyType({paths.TASKS: "", paths.TASKS_V2: "V2"})
#: Short names of the mounts, for test ids and messages.
MOUNT_IDS: Mapping[str, str] = MappingProxyType({paths.TASKS: "experimental", paths.TASKS_V2: "v2"})


def operation_id(base_id: str, prefix: str) -> str:
    """The operationId of operation ``base_id`` served at mount ``prefix`` (``getTask`` at /api/v2/tasks:
    ``getTaskV2``)."""
    return base_id + MOUNT_SUFFIXES[prefix]


def canonical_operation_id(op_id: str) -> str:
    """The base operationId of any mount's operationId (``getTaskV2`` -> ``getTask``)."""
    for suffix in MOUNT_SUFFIXES.values():
        if suffix and op_id.endswith(suffix) and op_id[: -len(suffix)] in OPERATION_ROUTES:
            return op_id[: -len(suffix)]
    return op_id


# ---- HTTP methods ------------------------------------------------------------------------------------------------

#: The methods that read: the guard lets them reach the task routes without a task of this run, and a coverage
#: probe with one may address any shared task (nothing it does can change a task).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: The operation keys of an OpenAPI path item (3.1, section 4.8.9), lower-case as the document spells them.
OPENAPI_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

#: The operations that change something (any method but a safe one): a write needs a task of this run.
WRITE_OPERATIONS = frozenset(op for op, (method, _) in OPERATION_ROUTES.items() if method not in SAFE_METHODS)

# ---- task statuses (STATUS-1, the TaskStatus enum) ---------------------------------------------------------------

TASK_STATUSES = ("pending", "initializing", "active", "paused", "unknown", "error")
#: The task statuses other than ``active``: send and logs refuse them (AGENT-1), or answer a snapshot (LOGS-3).
NOT_ACTIVE = tuple(status for status in TASK_STATUSES if status != "active")

# ---- Coder's fixed messages (ERR, USER, CREATE, INPUT, SEND, QUERY, AUTH, CSRF clauses) -------------------------

NOT_FOUND_MESSAGE = "Resource not found or you do not have access to this resource"
ROUTE_NOT_FOUND_MESSAGE = "Route not found."
BAD_JSON = "Request body must be valid JSON."
SIGNED_OUT = "You are signed out or your session has expired. Please sign in again to continue."
NO_TOKEN_DETAIL = 'Cookie "coder_session_token" or query parameter must be provided.'
UNKNOWN_USER = '"user" must be an existing uuid or username.'
BAD_NAME = "Unable to create a Task with the provided name."
TEMPLATE_VERSION_NOT_FOUND = "Template version not found or you do not have access to this resource"
NOT_AN_AI_TEMPLATE = 'Template does not have a valid "coder_ai_task" resource.'
DISPLAY_NAME_TOO_LONG = "Display name must be 64 characters or less."
INPUT_REQUIRED = "Task input is required."
APP_REJECTED = "Task app rejected the message."
APP_NOT_READY = "Task app is not ready to accept input."
MUST_BE_PAUSED = "Unable to update task input, task must be paused."
MUST_BE_PAUSED_DETAIL = "Please stop the task's workspace before updating the input."
MUST_BE_ACTIVE = "Task status must be active."
BUILD_ACTIVE = "A workspace build is already active."
ALREADY_RUNNING = "Task workspace is already running."
BAD_QUERY = "Invalid task search query."
LIST_FAILED = "Internal error fetching tasks."
CSRF_MISSING = (
    "Something is wrong with your CSRF token. Please refresh the page. "
    "If this error persists, try clearing your cookies."
)
CSRF_MISMATCH_PREFIX = (
    'CSRF error encountered. Authentication via "coder_session_token" cookie and "Coder-Session-Token" header '
    "detected, but the values do not match."
)
DUPLICATE_NAME_DETAIL = "This value is already in use and should be unique."

# ---- UUIDs -------------------------------------------------------------------------------------------------------

_HEX = frozenset(b"0123456789abcdefABCDEF")
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_uuid(value: object) -> bool:
    """A UUID as Coder writes one (``uuid.UUID`` marshals to its ``String()``: lower-case hex, 8-4-4-4-12)."""
    return isinstance(value, str) and _CANONICAL_UUID.fullmatch(value) is not None


def parses_as_uuid(value: object) -> bool:
    """Whether Coder reads ``value`` as a UUID: google/uuid's ``Parse``, which Coder applies to ``{task}``
    (TASKREF-1), ids in ``q`` and UUIDs in request bodies. It takes 36 characters with hyphens at 8, 13, 18 and
    23, the same after ``urn:uuid:`` or between any two characters (the braces are not checked), or 32 hex
    digits; lengths are in bytes and hex digits in either case."""
    if not isinstance(value, str):
        return False
    raw = value.encode("utf-8", "surrogatepass")
    if len(raw) == 32:
        return all(byte in _HEX for byte in raw)
    if len(raw) == 45 and raw[:9].lower() == b"urn:uuid:":
        raw = raw[9:]
    elif len(raw) == 38:
        raw = raw[1:37]
    elif len(raw) != 36:
        return False
    groups = raw.split(b"-")
    return [len(group) for group in groups] == [8, 4, 4, 4, 12] and all(byte in _HEX for byte in b"".join(groups))


# ---- why a test does not run -------------------------------------------------------------------------------------

NEEDS_SECOND_USER = "needs --second-session-token (a second ordinary member of the same organization)"
NEEDS_TEMPLATE = "needs --template-version-id (a template version whose template has a coder_ai_task resource)"
READ_ONLY = "read-only mode (--read-only)"
SKIP_NO_SECOND_USER = f"{NEEDS_SECOND_USER} to check isolation between users"
SKIP_NO_TEMPLATE = f"{NEEDS_TEMPLATE} to create tasks"
SKIP_READ_ONLY = f"{READ_ONLY}: this test creates or changes tasks"
