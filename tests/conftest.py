"""Fixtures of the targeted tests: a few tasks shared for the whole run, so that the run starts few workspaces.

Each shared task is created once per session and only read or left in its state by the tests that use it:
- ``active_task``: an active task (reads, send, logs, path resolution, error cases that change nothing).
- ``paused_task``: a task whose workspace was stopped (PATCH /input, send/logs on a non-active task).
- ``deleted_task``: a task deleted right after its first build (DELETE 202, then 404 everywhere).
Tests that must change a task in a way others would notice create their own with ``make_task`` and say why.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from coder_tasks_contract import lifecycle
from coder_tasks_contract.paths import task_path

from .support import DeletedTask, SharedTask, create_task


@pytest.fixture(scope="session")
def active_task(target: Any, registry: Any, client_a: httpx.Client) -> SharedTask:
    """User A's active task, shared by every test that reads it or leaves it active."""
    request, response = create_task(target, registry, client_a, "ctc: shared active task; reply briefly")
    task = lifecycle.wait_for_status(client_a, response.json(), {"active"}, target.lifecycle_timeout)
    return SharedTask(request, response, task)


@pytest.fixture(scope="session")
def paused_task(target: Any, registry: Any, client_a: httpx.Client) -> SharedTask:
    """User A's paused task (workspace stopped), shared by the tests that need a task that is not active."""
    request, response = create_task(target, registry, client_a, "ctc: shared paused task")
    task = lifecycle.wait_for_status(client_a, response.json(), {"active"}, target.lifecycle_timeout)
    task = lifecycle.pause_task(client_a, task, target.lifecycle_timeout)
    return SharedTask(request, response, task)


@pytest.fixture(scope="session")
def deleted_task(target: Any, registry: Any, client_a: httpx.Client) -> DeletedTask:
    """User A's task deleted once its first build finished (§3.4), with the DELETE answer for the 202 test."""
    _, response = create_task(target, registry, client_a, "ctc: task to delete")
    task = lifecycle.wait_build_settled(client_a, response.json(), target.lifecycle_timeout)
    deletion = client_a.delete(task_path("me", str(task["id"])))
    return DeletedTask(task, deletion)


@pytest.fixture(scope="session")
def anonymous_client(make_client: Callable[..., httpx.Client]) -> Iterator[httpx.Client]:
    """A guarded client that sends no credentials; auth tests add their own per request."""
    client = make_client()
    yield client
    client.close()


_QUERY_TOKEN = re.compile(r"((?:coder_session_token|access_token)=)[^&\s\"']+", re.IGNORECASE)


class _RedactQueryTokens(logging.Filter):
    """Replaces token values in query strings with ``****`` in a log record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _QUERY_TOKEN.sub(r"\1****", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


@pytest.fixture(scope="session", autouse=True)
def _redact_query_tokens_in_logs() -> Iterator[None]:
    """httpx logs every request URL at INFO; test_auth.py puts tokens in query strings (§7.1), so with
    ``--log-level=INFO`` they would show in captured logs. Redact them for the whole session."""
    redactor = _RedactQueryTokens()
    logger = logging.getLogger("httpx")
    logger.addFilter(redactor)
    yield
    logger.removeFilter(redactor)
