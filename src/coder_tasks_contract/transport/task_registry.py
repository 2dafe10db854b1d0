"""The tasks this run created: their names, ids and workspaces, the creation budget, and phantom ids.

The write guard allows a write only to what is in here, so this is the definition of "ours". Names carry the
prefix ``ctc-<run_id>-`` so an operator can find and delete leftovers by hand.
"""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

NAME_PREFIX = "ctc"
MAX_NAME_LENGTH = 32
# NameValid (NAME-1): ASCII alphanumerics in groups joined by single hyphens.
_NAME_VALID = re.compile(r"^[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*$")
RUN_LABEL_RE = re.compile(r"^[a-zA-Z0-9]{1,12}$")
_RUN_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def new_run_id() -> str:
    """A short random run id: 6 lower-case alphanumerics (36**6 ≈ 2e9 values)."""
    raw = uuid.uuid4().int
    chars = []
    for _ in range(6):
        raw, index = divmod(raw, len(_RUN_ID_ALPHABET))
        chars.append(_RUN_ID_ALPHABET[index])
    return "".join(chars)


def is_valid_name(name: str) -> bool:
    """Whether Coder's NameValid accepts ``name`` (NAME-1)."""
    return 0 < len(name) <= MAX_NAME_LENGTH and name not in {"new", "create"} and bool(_NAME_VALID.match(name))


@dataclass
class OwnedTask:
    """One task this run created, with the username of the suite user whose token created it."""

    id: str
    name: str
    owner_id: str | None
    creator: str | None
    workspace_id: str | None
    data: dict[str, Any] = field(repr=False)
    deleted: bool = False


class TaskRegistry:
    """Every task this run created (thread-safe), the creation budget, and phantom ids for safe negative tests."""

    def __init__(self, run_id: str, *, max_tasks: int = 60, worker: str | None = None) -> None:
        if not RUN_LABEL_RE.match(run_id):
            raise ValueError(f"run id must be 1-12 ASCII letters or digits, got {run_id!r}")
        self.run_id = run_id
        self.max_tasks = max_tasks
        self.worker = worker
        self._lock = threading.Lock()
        self._by_id: dict[str, OwnedTask] = {}
        self._phantoms: set[str] = set()
        self._counter = 0
        self._created = 0
        self._in_flight = 0

    # -- naming -------------------------------------------------------------------------------------------
    @property
    def prefix(self) -> str:
        """Prefix of every generated name of this run (and of this xdist worker's share of it)."""
        base = f"{NAME_PREFIX}-{self.run_id}-"
        return base + (f"{self.worker}-" if self.worker else "")

    @property
    def run_prefix(self) -> str:
        """Prefix shared by every task of the run, across xdist workers: ``ctc-<run_id>-``."""
        return f"{NAME_PREFIX}-{self.run_id}-"

    def next_name(self) -> str:
        """A fresh task name ``ctc-<run_id>-<n>`` (``ctc-<run_id>-<worker>-<n>`` under xdist), NameValid."""
        with self._lock:
            self._counter += 1
            name = f"{self.prefix}{self._counter}"
        if not is_valid_name(name):  # pragma: no cover - run ids and worker ids are validated
            raise ValueError(f"generated task name {name!r} is not a valid Coder name")
        return name

    # -- phantoms ---------------------------------------------------------------------------------------
    def phantom_id(self) -> str:
        """A fresh uuid4 that matches no real task; the guard allows writes to it (they must answer 404)."""
        phantom = str(uuid.uuid4())
        with self._lock:
            self._phantoms.add(phantom)
        return phantom

    def is_phantom(self, value: str) -> bool:
        with self._lock:
            return value.lower() in self._phantoms

    # -- the creation budget ------------------------------------------------------------------------------
    def reserve_create(self) -> bool:
        """Take one slot of the --max-tasks budget for a create about to be sent; False if none is left."""
        with self._lock:
            if self._created + self._in_flight >= self.max_tasks:
                return False
            self._in_flight += 1
            return True

    def settle_create(self, *, created: bool) -> None:
        """Give the reserved slot back (the create was refused by the server) or keep it (it may have created)."""
        with self._lock:
            self._in_flight = max(self._in_flight - 1, 0)
            if created:
                self._created += 1

    @property
    def created_count(self) -> int:
        with self._lock:
            return self._created

    # -- ownership ----------------------------------------------------------------------------------------
    def add(self, task: dict[str, Any], *, creator: str | None = None) -> OwnedTask:
        """Record a task this run created (idempotent: a second add refreshes the stored JSON)."""
        task_id = str(task["id"]).lower()
        with self._lock:
            entry = self._by_id.get(task_id)
            if entry is None:
                entry = OwnedTask(
                    id=task_id,
                    name=str(task.get("name") or ""),
                    owner_id=_lower(task.get("owner_id")),
                    creator=creator,
                    workspace_id=_lower(task.get("workspace_id")),
                    data=dict(task),
                )
                self._by_id[task_id] = entry
            else:
                entry.data = dict(task)
                entry.workspace_id = _lower(task.get("workspace_id")) or entry.workspace_id
                entry.creator = entry.creator or creator
            return entry

    def refresh(self, task: dict[str, Any]) -> None:
        """Update the stored JSON of a task we own (e.g. its workspace id appears later); ignore others."""
        task_id = str(task.get("id", "")).lower()
        with self._lock:
            entry = self._by_id.get(task_id)
            if entry is None:
                return
            entry.data = dict(task)
            entry.workspace_id = _lower(task.get("workspace_id")) or entry.workspace_id

    def mark_deleted(self, task_id: str) -> None:
        with self._lock:
            entry = self._by_id.get(task_id.lower())
            if entry is not None:
                entry.deleted = True

    def get(self, id_or_name: str) -> OwnedTask | None:
        """The owned task with this id (any state), or the live owned task with this name (case-insensitive).

        A deleted task's name stops being ours: someone may create a task with that name afterwards (CREATE-7).
        """
        key = id_or_name.lower()
        with self._lock:
            entry = self._by_id.get(key)
            if entry is not None:
                return entry
            for candidate in self._by_id.values():
                if not candidate.deleted and candidate.name.lower() == key:
                    return candidate
        return None

    def owns(self, id_or_name: str) -> bool:
        """Whether this run created the task with this id or (live) name."""
        return self.get(id_or_name) is not None

    def owns_workspace(self, workspace_id: str) -> OwnedTask | None:
        """The live owned task whose workspace this is, or None."""
        key = workspace_id.lower()
        with self._lock:
            for entry in self._by_id.values():
                if not entry.deleted and entry.workspace_id == key:
                    return entry
        return None

    @property
    def tasks(self) -> list[dict[str, Any]]:
        """JSON of every task this run created, deleted or not, in creation order."""
        with self._lock:
            return [dict(entry.data) for entry in self._by_id.values()]

    def entries(self, *, live_only: bool = False) -> list[OwnedTask]:
        with self._lock:
            return [entry for entry in self._by_id.values() if not (live_only and entry.deleted)]

    def __repr__(self) -> str:
        with self._lock:
            live = sum(not entry.deleted for entry in self._by_id.values())
            return f"<TaskRegistry run={self.run_id} created={len(self._by_id)} live={live} budget={self.max_tasks}>"


def _lower(value: Any) -> str | None:
    return str(value).lower() if value else None


__all__ = ["MAX_NAME_LENGTH", "OwnedTask", "TaskRegistry", "is_valid_name", "new_run_id"]
