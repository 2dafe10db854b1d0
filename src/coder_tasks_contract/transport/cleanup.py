"""End of session: delete every task this run created (retrying 409 while a build runs) and check none is left.

A DELETE answers 409 while a workspace build is queued or running (DELETE clauses), e.g. right after a create:
those are retried with growing pauses until the lifecycle timeout. Afterwards each user's task list
(``q=owner:me``) is read back, and each task of this run still in it is read by id before it is called a leak: a
task the list shows but a GET says is gone (404) was deleted, and the list is what breaks its contract (deleted tasks
are never listed, LIST-2); only a task that is still there is reported by name for an operator to remove.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from coder_tasks_contract.transport import paths
from coder_tasks_contract.transport.guard import GuardRefused
from coder_tasks_contract.transport.task_registry import OwnedTask, TaskRegistry

DONE_STATUSES = frozenset({200, 202, 204, 404})  # 404: already gone (deleted by its test, or soft-deleted)


@dataclass
class CleanupReport:
    """Outcome of the cleanup: what was deleted, what is still there, and what went wrong on the way."""

    deleted: list[str] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # Tasks of this run the list still shows although a GET by id answers 404: not a leak, a contract failure.
    listed_after_delete: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing this run created is left on the target (a wrong list is judged apart: ``list_ok``)."""
        return not self.remaining and not self.problems

    @property
    def list_ok(self) -> bool:
        return not self.listed_after_delete

    def summary(self) -> str:
        lines = []
        if self.ok:
            lines.append(f"cleanup: deleted {len(self.deleted)} task(s) this run created; none left")
        else:
            left = ", ".join(self.remaining) or "(unknown)"
            lines.append(
                (
                    f"cleanup FAILED: task(s) this run created are still on the target: {left}; "
                    f"delete them by hand (coder task delete / the web UI). " + " ".join(self.problems)
                ).strip()
            )
        if self.listed_after_delete:
            lines.append(
                "contract failure (LIST-2): the task list still shows deleted task(s) whose GET answers 404: "
                + ", ".join(self.listed_after_delete)
                + "; they are gone, not left behind (a deleted task must not be listed)"
            )
        return "\n".join(lines)


def _label(entry: OwnedTask) -> str:
    return f"{entry.name or '?'} ({entry.id})"


def delete_all(
    registry: TaskRegistry,
    client_for: Callable[[OwnedTask], httpx.Client | None],
    *,
    timeout: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> CleanupReport:
    """DELETE every live task in ``registry`` with its creator's client; retry 409s until ``timeout``."""
    report = CleanupReport()
    pending = registry.entries(live_only=True)
    deadline = clock() + timeout
    pause = 0.1
    while pending:
        busy: list[OwnedTask] = []
        for entry in pending:
            client = client_for(entry)
            if client is None:
                report.problems.append(
                    f"no client holds the token of {entry.creator or 'the creator'} of {_label(entry)}."
                )
                continue
            try:
                response = client.delete(paths.task_path("me", entry.id))
            except (httpx.HTTPError, GuardRefused) as exc:
                report.problems.append(f"DELETE {_label(entry)} failed: {type(exc).__name__}: {exc}.")
                continue
            if response.status_code in DONE_STATUSES:
                registry.mark_deleted(entry.id)
                report.deleted.append(_label(entry))
            elif response.status_code == 409:
                busy.append(entry)
            else:
                report.problems.append(f"DELETE {_label(entry)} answered {response.status_code}.")
        pending = busy
        if pending:
            if clock() >= deadline:
                report.problems.append(
                    f"{len(pending)} task(s) still had an active build after {timeout:g}s (--lifecycle-timeout)."
                )
                break
            sleep(min(pause, max(deadline - clock(), 0.0)))
            pause = min(pause * 1.6, 3.0)
    return report


def find_leftovers(
    registry: TaskRegistry, clients: Mapping[str, httpx.Client]
) -> tuple[list[tuple[dict[str, Any], str]], list[str]]:
    """(task, username) of this run's tasks (by id, or by this process's name prefix) still listed for any user;
    and the problems met reading the lists."""
    prefix = registry.prefix.lower()
    ours = {entry.id for entry in registry.entries()}
    leftovers: list[tuple[dict[str, Any], str]] = []
    problems: list[str] = []
    for username, client in clients.items():
        try:
            response = client.get(paths.TASKS, params={"q": "owner:me"})
        except (httpx.HTTPError, GuardRefused) as exc:
            problems.append(f"could not list the tasks of {username}: {type(exc).__name__}: {exc}.")
            continue
        if response.status_code != 200:
            problems.append(f"listing the tasks of {username} answered {response.status_code}.")
            continue
        try:
            tasks = response.json().get("tasks") or []
        except (ValueError, AttributeError):
            problems.append(f"listing the tasks of {username} did not answer the TasksListResponse JSON.")
            continue
        for task in tasks:
            if not isinstance(task, dict):
                continue
            task_id = str(task.get("id", "")).lower()
            name = str(task.get("name", ""))
            if task_id in ours or name.lower().startswith(prefix):
                leftovers.append((task, username))
    return leftovers, problems


def _describe(task: dict[str, Any], username: str) -> str:
    return f"{task.get('name', '?')} ({str(task.get('id', '?')).lower()}, owner {username})"


def clean_up(
    registry: TaskRegistry,
    clients: Mapping[str, httpx.Client],
    *,
    timeout: float,
    adopt_prefixed: bool = False,
) -> CleanupReport:
    """Delete what the run created, then read every user's task list back; ``clients`` maps username → client.

    ``adopt_prefixed``: a listed task carrying this process's name prefix that the registry does not know (its
    create answer was lost, or an xdist worker died) is ours by construction when the run id is random, so it is
    registered and deleted too. With a --run-label the prefix may be an earlier run's, so it is only reported.
    """
    fallback = next(iter(clients.values()), None)

    def client_for(entry: OwnedTask) -> httpx.Client | None:
        if entry.creator is not None and entry.creator in clients:
            return clients[entry.creator]
        return fallback

    report = delete_all(registry, client_for, timeout=timeout)
    leftovers, problems = find_leftovers(registry, clients)
    strays = [(task, user) for task, user in leftovers if task.get("id") and not registry.owns(str(task["id"]))]
    if adopt_prefixed and strays:
        for task, username in strays:
            registry.add(task, creator=username)
        second = delete_all(registry, client_for, timeout=timeout)
        report.deleted.extend(second.deleted)
        report.problems.extend(second.problems)
        leftovers, problems = find_leftovers(registry, clients)
    for task, username in leftovers:
        gone = _reads_as_gone(clients[username], task)
        (report.listed_after_delete if gone else report.remaining).append(_describe(task, username))
    report.problems.extend(problems)
    return report


def _reads_as_gone(client: httpx.Client, task: dict[str, Any]) -> bool:
    """Whether a GET of the listed ``task`` by id answers 404 (it was deleted); anything else counts as still there."""
    task_id = str(task.get("id") or "")
    if not task_id:
        return False
    try:
        return client.get(paths.task_path("me", task_id)).status_code == 404
    except (httpx.HTTPError, GuardRefused):
        return False
