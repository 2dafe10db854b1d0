"""The fake AgentAPI app that runs inside each task's workspace: a conversation and a busy flag.

Like coder/agentapi, it reports ``running`` while the agent works on the last user message and ``stable``
otherwise; ``messages`` returns the conversation (role ``user`` or ``agent``, integer ids, timestamps). Time is
lazy: a message is stored with the instant it appears, which may lie in the future, and is visible from then on.

As in coder/agentapi (read at 0016a60e and 00ff7ffd): the conversation opens with an agent message, the agent's
first screen (``NewPTY``); a user message is trimmed of ASCII whitespace before it is kept (``FormatMessage`` with
``msgfmt.TrimWhitespace``, ``strings.Trim(msg, " \\t\\n\\r\\f\\v")``), and one that is then empty is refused (the app
answers 500: ``ErrMessageValidationEmpty``). Coder relays a whitespace-only send (SEND-3), so this refusal is what
makes it answer 502 "Task app rejected the message." (SEND-5).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

#: What ``msgfmt.TrimWhitespace`` trims: ASCII whitespace only (a no-break space stays).
AGENTAPI_SPACES = " \t\n\r\f\v"
#: The fake agent's first screen, the agent message every conversation opens with.
GREETING = "Ready. What should I work on?"


@dataclass(frozen=True)
class Message:
    """One AgentAPI message."""

    id: int
    role: str  # "user" or "agent"
    content: str
    time: datetime


class MessageRejected(Exception):
    """The app refused a user message (AgentAPI answers a non-200 status): it was empty after trimming."""


def agent_reply(text: str) -> str:
    """What the fake agent answers: deterministic, and it quotes the input so a test can match the pair."""
    summary = " ".join(text.split())
    if len(summary) > 200:
        summary = summary[:197] + "..."
    return f"Done. I worked on your request: {summary}"


class AgentAPI:
    """One conversation. Not thread-safe by itself: the World's lock guards it."""

    def __init__(self) -> None:
        self._messages: list[Message] = []
        self._busy_until: datetime | None = None

    def status(self, now: datetime) -> str:
        """``running`` while a reply is pending, else ``stable``."""
        if self._busy_until is not None and now < self._busy_until:
            return "running"
        return "stable"

    def messages(self, now: datetime) -> list[Message]:
        """The conversation as it stands at ``now``."""
        return [message for message in self._messages if message.time <= now]

    def _next_id(self) -> int:
        return self._messages[-1].id + 1 if self._messages else 0

    def greet(self, at: datetime, text: str) -> None:
        """An agent message with no user message before it (the agent's first screen)."""
        self._messages.append(Message(self._next_id(), "agent", text, at))

    def converse(self, text: str, at: datetime, work: timedelta) -> datetime:
        """Record a user message at ``at``; the agent is busy for ``work`` and then answers. Returns the answer time.

        Raises MessageRejected, recording nothing, for a message that is empty once trimmed."""
        text = text.strip(AGENTAPI_SPACES)
        if not text:
            raise MessageRejected("message must not be empty")
        self._messages.append(Message(self._next_id(), "user", text, at))
        answered = at + work
        self._messages.append(Message(self._next_id(), "agent", agent_reply(text), answered))
        self._busy_until = answered
        return answered

    def stop_at(self, when: datetime) -> None:
        """The app goes away at ``when`` (its workspace stops): anything scheduled after that never happens."""
        self._messages = [message for message in self._messages if message.time <= when]
        if self._busy_until is not None and self._busy_until > when:
            self._busy_until = when
