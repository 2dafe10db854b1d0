"""The step trail of a stateful scenario: what a failure of the state machine needs to be understood and replayed.

Each request the machine sends is kept with its answer (a body excerpt, or the task's status and workspace status),
each time a task was brought into the state a step needs, and the state each task was last seen in. On failure the
trail is added to the exception as a note (PEP 678), so pytest prints it with the failure, together with the
command that replays the scenario (issue 19: a stateful failure must carry its whole step sequence and its seed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from schemathesis.core.transport import Response
from schemathesis.generation.case import Case

from coder_tasks_contract.generated.checks import add_note

#: Most characters of a request or answer body shown in a step of the trail.
TRAIL_EXCERPT = 160


def _excerpt(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=True, default=str)
    return text if len(text) <= TRAIL_EXCERPT else text[: TRAIL_EXCERPT - 3] + "..."


def _task_state(task: dict[str, Any]) -> str:
    return f"status {task.get('status')!r}, workspace {task.get('workspace_status')!r}"


@dataclass
class StepTrail:
    """What a failed scenario needs to be understood and replayed (issue 19): every request the state machine sent
    with its answer, where each task was brought before a step, the state each task was last seen in, and the
    command that replays the scenario. Added to the failure as a note, so it is printed with it."""

    replay: str = ""
    lines: list[str] = field(default_factory=list)
    seen: dict[str, str] = field(default_factory=dict)  # task id -> its state as last seen

    def saw(self, task: Any) -> None:
        if isinstance(task, dict) and "id" in task and "status" in task:
            self.seen[str(task["id"]).lower()] = _task_state(task)

    def request(self, case: Case[Any], response: Response) -> None:
        sent = f" {_excerpt(case.body)}" if isinstance(case.body, (dict, list, str)) else ""
        try:
            body: Any = response.json() if response.content else None
        except ValueError:
            body = response.content[:TRAIL_EXCERPT].decode("utf-8", "replace")
        if isinstance(body, dict) and "status" in body and "id" in body:
            answer = f"task {_task_state(body)}"
            self.saw(body)
        elif isinstance(body, dict) and "tasks" in body:
            answer = f"{len(body.get('tasks') or [])} task(s)"
        else:
            answer = _excerpt(body) if body not in (None, "") else ""
        if case.method.upper() == "DELETE" and 200 <= response.status_code < 300:
            self.seen[str((case.path_parameters or {}).get("task", "")).lower()] = f"deleted ({response.status_code})"
        step = len([line for line in self.lines if not line.startswith(" ")]) + 1
        self.lines.append(
            f"{step}. {case.method} {case.formatted_path}{sent} -> {response.status_code} {answer}".rstrip()
        )

    def failed(self, case: Case[Any]) -> None:
        """The request whose answer failed a check (the failure itself shows the answer)."""
        step = len([line for line in self.lines if not line.startswith(" ")]) + 1
        self.lines.append(f"{step}. {case.method} {case.formatted_path} -> failed: the failure above shows the answer")

    def brought(self, task: dict[str, Any], wanted: str) -> None:
        self.saw(task)
        self.lines.append(f"   (task {task.get('name') or task.get('id')} brought to {wanted}: {_task_state(task)})")

    def note(self) -> str:
        steps = len([line for line in self.lines if not line.startswith(" ")])
        lines = [f"Steps of the failing scenario ({steps} requests):", *self.lines]
        if self.seen:
            lines.append("Tasks as the run last saw them:")
            lines += [f"  {task_id}: {state}" for task_id, state in self.seen.items()]
        if self.replay:
            lines.append(f"Replay: {self.replay}")
        return "\n".join(lines)

    def attach(self, exc: BaseException) -> None:
        """Add the trail to ``exc`` once (the same exception may pass several handlers)."""
        if not getattr(exc, "_ctc_step_trail", False):
            add_note(exc, self.note())
            exc._ctc_step_trail = True  # type: ignore[attr-defined]
