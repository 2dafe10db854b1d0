"""Faults in the client errors (ERR, CREATE, NAME, INPUT, SEND, AGENT): a check missing, in the wrong order, or
answered with the wrong status or body shape."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from starlette.types import ASGIApp

from coder_tasks_contract.faults.asgi import Reply, is_task_route, map_error, serve
from coder_tasks_contract.faults.base import Catcher, fault
from coder_tasks_contract.server.domain.entities import Task, TemplateVersion, User
from coder_tasks_contract.server.domain.errors import NOT_FOUND_MESSAGE
from coder_tasks_contract.server.domain.names import name_error
from coder_tasks_contract.server.domain.world import World

BAD_JSON = "Request body must be valid JSON."
TEMPLATE_VERSION_NOT_FOUND = "Template version not found or you do not have access to this resource"


# ---- error bodies --------------------------------------------------------------------------------------------


@fault("errors", "tests/test_create_errors.py::test_create_with_invalid_json_answers_400", ci=True)
def invalid_json_answers_500(world: World) -> ASGIApp:
    """A body that is not valid JSON answers 500 "Internal server error" (ERR-3: 400 "Request body
    must be valid JSON." with the decoder's error as detail)."""

    def rewrite(reply: Reply) -> Reply | None:
        if reply.status == 400 and reply.is_json and reply.json().get("message") == BAD_JSON:
            return replace(reply, status=500).with_json({"message": "Internal server error", **_detail(reply)})
        return None

    return serve(world, response=rewrite)


def _detail(reply: Reply) -> dict[str, Any]:
    detail = reply.json().get("detail")
    return {"detail": detail} if detail else {}


@fault(
    "errors",
    Catcher("tests/test_path_resolution.py::test_unknown_user_segment_answers_400_with_user_message", r"message"),
    ci=True,
)
def error_body_uses_error_key(world: World) -> ASGIApp:
    """Error bodies on the task routes say ``{"error": ...}`` instead of ``{"message": ...}`` (ERR-1: every
    non-2xx JSON error is ``{"message", "detail"?, "validations"?}``)."""
    return serve(world, response=lambda reply: map_error(reply, lambda body: {"error": body.pop("message"), **body}))


@fault("errors", "tests/test_path_resolution.py::test_unknown_task_answers_404_not_found")
def not_found_message_with_period(world: World) -> ASGIApp:
    """The not-found body ends with a period (ERR-2: ``{"message":"Resource not found or you do not have access
    to this resource"}``, no trailing period)."""

    def change(body: dict[str, Any]) -> None:
        if body.get("message") == NOT_FOUND_MESSAGE:
            body["message"] += "."

    return serve(world, response=lambda reply: map_error(reply, change))


@fault(
    "errors",
    Catcher("tests/test_path_resolution.py::test_unknown_user_segment_answers_400_with_user_message", r"validations"),
)
def empty_validations_present(world: World) -> ASGIApp:
    """Error bodies carry ``"validations": []`` when there are none (ERR-1: ``validations`` is omitted when
    empty)."""

    def change(body: dict[str, Any]) -> None:
        body.setdefault("validations", [])

    return serve(world, response=lambda reply: map_error(reply, change))


@fault("errors", "tests/test_create_errors.py::test_unknown_template_version_answers_400")
def unknown_template_version_answers_404(world: World) -> ASGIApp:
    """An unknown template version answers 404 (CREATE-3: 400 "Template version not found or you do not have
    access to this resource")."""

    def rewrite(reply: Reply) -> Reply | None:
        if reply.status == 400 and reply.is_json and reply.json().get("message") == TEMPLATE_VERSION_NOT_FOUND:
            return replace(reply, status=404)
        return None

    return serve(world, response=lambda reply: rewrite(reply) if is_task_route(reply.request.path) else None)


# ---- create (CREATE) ----------------------------------------------------------------------------------------


class _NamesNotValidated(World):
    def _check_name(self, name: str) -> None:
        pass


@fault("errors", "tests/test_create_errors.py::test_invalid_task_name_answers_400_with_its_detail")
def name_validation_missing(world: World) -> ASGIApp:
    """Task names are not validated at all (NAME-1: 1-32 bytes, not ``new``/``create``, ASCII
    alphanumerics in groups joined by single hyphens; otherwise 400 "Unable to create a Task with the provided
    name.")."""
    return serve(world, rules=_NamesNotValidated)


class _LongNames(World):
    def _check_name(self, name: str) -> None:
        if name_error(name) != "must be <= 32 characters" or len(name) > 64:
            super()._check_name(name)


@fault("errors", "tests/test_create_errors.py::test_invalid_task_name_answers_400_with_its_detail[33-characters]")
def name_length_limit_64(world: World) -> ASGIApp:
    """Names of up to 64 characters are accepted (NAME-1: at most 32 bytes, else 400 with detail
    ``must be <= 32 characters``)."""
    return serve(world, rules=_LongNames)


class _ReservedNames(World):
    def _check_name(self, name: str) -> None:
        if name not in ("new", "create"):
            super()._check_name(name)


@fault(
    "errors",
    "tests/test_create_errors.py::test_invalid_task_name_answers_400_with_its_detail[new]",
    "tests/test_create_errors.py::test_invalid_task_name_answers_400_with_its_detail[create]",
)
def reserved_names_accepted(world: World) -> ASGIApp:
    """``new`` and ``create`` are accepted as task names (NAME-1: not ``new`` and not ``create``)."""
    return serve(world, rules=_ReservedNames)


class _DuplicatesAccepted(World):
    def _name_in_use(self, owner: User, name: str, now: datetime) -> bool:
        return False


@fault("errors", "tests/test_create_errors.py::test_duplicate_name_answers_409_with_name_validation", ci=True)
def duplicate_name_accepted(world: World) -> ASGIApp:
    """A second task with the name of the owner's live task is created (CREATE-6: 409 ``Workspace "<name>"
    already exists.`` with the ``name`` validation)."""
    return serve(world, rules=_DuplicatesAccepted)


class _DuplicatesCaseSensitive(World):
    def _same_name(self, a: str, b: str) -> bool:
        return a == b


@fault("errors", "tests/test_create_errors.py::test_duplicate_name_is_case_insensitive")
def duplicate_name_case_sensitive(world: World) -> ASGIApp:
    """Names collide only when they match in case: ``TASK`` is created beside ``task`` (CREATE-6: a workspace
    with the same name, case-insensitive, already exists → 409)."""
    return serve(world, rules=_DuplicatesCaseSensitive)


class _NoAICheck(World):
    def _check_ai_task(self, version: TemplateVersion) -> None:
        pass


@fault("errors", "tests/test_create_errors.py::test_template_without_ai_task_answers_400")
def non_ai_template_accepted(world: World) -> ASGIApp:
    """A template version without a ``coder_ai_task`` resource makes a task (CREATE-4: 400 ``Template does not
    have a valid "coder_ai_task" resource.``)."""
    return serve(world, rules=_NoAICheck)


# ---- PATCH /input (INPUT) ----------------------------------------------------------------------------------


class _PatchAnyStatus(World):
    def _check_paused(self, task: Task) -> None:
        pass


@fault("errors", "tests/test_task_state_errors.py::test_update_input_on_a_task_that_is_not_paused_answers_409", ci=True)
def patch_when_not_paused_accepted(world: World) -> ASGIApp:
    """PATCH /input changes the prompt of a task that is not paused (INPUT-4: the task must be ``paused``,
    otherwise 409 "Unable to update task input, task must be paused.")."""
    return serve(world, rules=_PatchAnyStatus)


class _PatchBlankAccepted(World):
    def _prompt_required(self, prompt: str) -> None:
        self._send_input_required(prompt)  # the exact comparison of /send: only "" is refused


@fault(
    "errors",
    "tests/test_task_state_errors.py::test_update_input_blank_answers_400[spaces]",
    "tests/test_task_state_errors.py::test_update_input_blank_answers_400[whitespace]",
)
def patch_blank_input_accepted(world: World) -> ASGIApp:
    """PATCH /input refuses only the empty string: whitespace-only input passes (INPUT-3: input empty *after
    trimming whitespace* → 400 "Task input is required.")."""
    return serve(world, rules=_PatchBlankAccepted)


class _PatchStatusFirst(World):
    def update_input(self, actor: User, task: Task, prompt: str) -> None:
        with self.lock:
            self._check_paused(task)
            super().update_input(actor, task, prompt)


@fault("errors", "tests/test_task_state_errors.py::test_update_input_blank_answers_400")
def patch_checks_status_before_input(world: World) -> ASGIApp:
    """PATCH /input checks the task's status before the input: blank input on an active task answers 409
    (INPUT-3, INPUT-4: blank input → 400 is checked before the status → 409)."""
    return serve(world, rules=_PatchStatusFirst)


# ---- send and logs (SEND, LOGS, AGENT) ----------------------------------------------------------------------------


class _NoStatusCheck(World):
    """The shared checks of send and logs (AGENT) without AGENT-1 (task status) for ``OPERATION``."""

    OPERATION = ""

    def _check_active(self, task: Task, operation: str) -> None:
        if operation != self.OPERATION:
            super()._check_active(task, operation)


class _SendAnyStatus(_NoStatusCheck):
    OPERATION = "send"


@fault(
    "errors",
    "tests/test_task_state_errors.py::test_send_and_logs_on_a_paused_task_answer_400[sendTaskInput-experimental]",
    ci=True,
)
def send_when_not_active_accepted(world: World) -> ASGIApp:
    """POST /send relays input to a task that is not active (AGENT-1: status ≠ ``active`` → 400 "Task status
    must be active.")."""
    return serve(world, rules=_SendAnyStatus)


class _LogsAnyStatus(_NoStatusCheck):
    OPERATION = "logs"


@fault(
    "errors",
    "tests/test_task_state_errors.py::test_send_and_logs_on_a_paused_task_answer_400[getTaskLogs-experimental]",
)
def logs_when_not_active_accepted(world: World) -> ASGIApp:
    """GET /logs answers 200 for a task that is not active (AGENT-1: status ≠ ``active`` → 400 "Task status
    must be active."; the stored-snapshot answer is newer, LOGS-3)."""
    return serve(world, rules=_LogsAnyStatus)


class _SendEmptyAccepted(World):
    def _send_input_required(self, text: str) -> None:
        pass


@fault("errors", "tests/test_task_state_errors.py::test_send_empty_input_answers_400")
def send_empty_input_accepted(world: World) -> ASGIApp:
    """POST /send relays an empty input (SEND-3: ``input == ""`` → 400 "Task input is required.")."""
    return serve(world, rules=_SendEmptyAccepted)


class _SendTrims(World):
    def _send_input_required(self, text: str) -> None:
        self._prompt_required(text)  # the trimming rule of PATCH /input


@fault("errors", "tests/test_task_state_errors.py::test_send_accepts_whitespace_only_input")
def send_whitespace_input_rejected(world: World) -> ASGIApp:
    """POST /send refuses whitespace-only input, as PATCH /input does (SEND-3: the comparison is exact;
    unlike PATCH, a whitespace-only input passes)."""
    return serve(world, rules=_SendTrims)
