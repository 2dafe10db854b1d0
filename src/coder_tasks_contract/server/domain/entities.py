"""The records of the fake Coder's world: plain dataclasses, no behaviour beyond trivial helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from coder_tasks_contract.server.domain.agentapi import AgentAPI, Message


@dataclass(frozen=True)
class Speed:
    """How long simulated work takes: each build/agent/app stage, and the agent's work on one message."""

    name: str
    stage: timedelta
    work: timedelta


SPEEDS = {
    # create -> active in 5 stages (0.3 s); a reply takes 0.15 s.
    "fast": Speed("fast", timedelta(seconds=0.06), timedelta(seconds=0.15)),
    # create -> active in 10 s; a reply takes 4 s: slow enough to watch, fast enough to wait for.
    "realistic": Speed("realistic", timedelta(seconds=2), timedelta(seconds=4)),
    # create -> active in 55 s, a stop or delete build 22 s, a reply 12 s: a Coder deployment's timings with a real
    # provisioner and agent (what the benchmark's slow profile waits through).
    "slow": Speed("slow", timedelta(seconds=11), timedelta(seconds=12)),
}


@dataclass
class User:
    id: str
    username: str
    email: str
    name: str
    created_at: datetime
    is_owner: bool = False
    avatar_url: str = ""
    organization_ids: list[str] = field(default_factory=list)
    # The linked github.com account: a filter of the user search (``github_com_user_id:``), not a codersdk.User field.
    github_com_user_id: int | None = None


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    secret_hash: bytes
    user_id: str


@dataclass(frozen=True)
class Organization:
    id: str
    name: str
    display_name: str
    created_at: datetime


@dataclass(frozen=True)
class Template:
    id: str
    organization_id: str
    name: str
    display_name: str
    icon: str
    description: str
    active_version_id: str
    created_at: datetime
    created_by_id: str = ""


@dataclass(frozen=True)
class RichParameter:
    """A ``coder_parameter`` of a template version (``codersdk.TemplateVersionParameter``, the fields clients read)."""

    name: str
    display_name: str
    description: str
    type: str  # string, number, bool, list(string)
    default_value: str
    mutable: bool = True
    options: tuple[str, ...] = ()  # option values (each also its name)


@dataclass(frozen=True)
class Preset:
    """A ``coder_workspace_preset`` of a template version: parameter values by name."""

    id: str
    name: str
    parameters: tuple[tuple[str, str], ...]
    default: bool = False
    description: str = ""
    icon: str = ""


@dataclass(frozen=True)
class TemplateVersion:
    id: str
    template_id: str
    name: str
    has_ai_task: bool
    created_at: datetime
    created_by_id: str = ""
    parameters: tuple[RichParameter, ...] = ()
    presets: tuple[Preset, ...] = ()


@dataclass
class Build:
    """One workspace build. Its job's progress is a function of time: see ``lifecycle``."""

    id: str
    job_id: str
    workspace_id: str
    number: int
    transition: str  # start, stop, delete
    template_version_id: str
    initiator_id: str
    created_at: datetime
    stage: timedelta  # duration of each simulated stage, fixed when the build is queued
    agent_id: str | None = None  # start builds: the agent and app their resources will have
    app_id: str | None = None
    reason: str = "initiator"
    fails: bool = False  # the job ends "failed" instead of "succeeded" (set by the control surface)
    held: bool = False  # the job stays pending until released (control surface): the task stays initializing


@dataclass(frozen=True)
class AppStatus:
    """A status the agent reported for its app (``workspace_app_statuses``)."""

    id: str
    app_id: str
    state: str  # working, idle, complete, failure
    message: str
    uri: str
    created_at: datetime


@dataclass
class Workspace:
    id: str
    name: str
    owner_id: str
    organization_id: str
    template_id: str
    created_at: datetime
    updated_at: datetime
    builds: list[Build] = field(default_factory=list)
    app_statuses: list[AppStatus] = field(default_factory=list)
    task_id: str | None = None

    @property
    def latest_build(self) -> Build:
        return self.builds[-1]


@dataclass
class Task:
    id: str
    name: str
    owner_id: str
    organization_id: str
    template_version_id: str
    workspace_id: str | None
    prompt: str
    created_at: datetime
    agentapi: AgentAPI
    deleted_at: datetime | None = None
    display_name: str = ""  # levels with display_name (#20856)
    # What the agent stored when its workspace last stopped (#21644/#21771): messages and when, or None.
    snapshot: list[Message] | None = None
    snapshot_at: datetime | None = None
