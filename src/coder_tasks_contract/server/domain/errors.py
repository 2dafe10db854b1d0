"""Domain errors: what went wrong, in Coder's words. The HTTP layer maps each class to its status code.

Each error carries the fields of Coder's error body (``codersdk.Response``): ``message``, optional ``detail`` and
optional ``validations``. The classes name the kind of failure; ``app.STATUS_BY_ERROR`` picks the status.
"""

from __future__ import annotations

from typing import Any

from coder_tasks_contract.spec.levels import Refusal

NOT_FOUND_MESSAGE = "Resource not found or you do not have access to this resource"


class CoderError(Exception):
    """Base: a refusal with Coder's message, detail and validations."""

    def __init__(self, message: str, detail: str = "", validations: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.validations = validations or []

    def body(self) -> dict[str, Any]:
        """Coder's error body: ``detail`` and ``validations`` are omitted when empty (omitempty)."""
        body: dict[str, Any] = {"message": self.message}
        if self.detail:
            body["detail"] = self.detail
        if self.validations:
            body["validations"] = [{"field": field, "detail": detail} for field, detail in self.validations]
        return body


class BadRequest(CoderError):
    """The request itself is wrong (400)."""


class NotFound(CoderError):
    """Unknown, deleted or invisible to the caller (404): RBAC refusals look like this so existence does not leak."""

    def __init__(self, message: str = NOT_FOUND_MESSAGE, detail: str = "") -> None:
        super().__init__(message, detail)


class Forbidden(CoderError):
    """Visible but not allowed (403)."""


class Conflict(CoderError):
    """The resource is in the wrong state for this request (409)."""


class Gone(CoderError):
    """The resource was deleted and Coder says so explicitly (410)."""


class UpstreamFailure(CoderError):
    """The in-workspace app could not do what was asked (502)."""


class InternalError(CoderError):
    """A failure Coder reports as 500 with a fixed message (e.g. a database error)."""


_BY_STATUS: dict[int, type[CoderError]] = {400: BadRequest, 409: Conflict, 502: UpstreamFailure}


def refusal(answer: Refusal, detail: str | None = None) -> CoderError:
    """The domain error for a level's ``Refusal`` (``levels.py``). ``detail``, when given, is the detail to send
    (the server's own wording where the level's detail is a template or not stated)."""
    if detail is None:
        detail = answer.detail if answer.detail_stated and answer.detail else ""
    if answer.status == 404:
        return NotFound(answer.message, detail)
    return _BY_STATUS[answer.status](answer.message, detail)
