"""The ``Fault`` record and the one registry of the catalogue: each fault is a factory of a broken reference server.

A fault is registered by decorating its factory with :func:`fault`. The factory takes the reference server's
``World`` and returns the ASGI app to serve (``start_reference_server(app_factory=...)``); its docstring names the
contract clause it breaks, citing the behaviour note's section, and becomes the fault's ``clause``.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp

from coder_tasks_contract.server.model import World

Factory = Callable[[World], ASGIApp]

AREAS = ("status", "headers", "schema", "auth", "paths", "errors", "isolation", "lifecycle", "query")
_SECTION = re.compile(r"§\d+(?:\.\d+)*")
_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Fault:
    """One broken variant of the reference server: exactly one contract clause no longer holds."""

    name: str  # slug, e.g. "create-answers-200"
    area: str  # one of AREAS
    clause: str  # the clause it breaks, in words, with the behaviour note's § reference(s)
    factory: Factory
    # Substrings of "<test id> <failure message>" that may name the first failure: the tests (or, for a fault the
    # shared fixtures meet first, the fixture's message) that are meant to catch this fault, and why they would.
    expected_catchers: tuple[str, ...]
    # Part of the representative subset the CI runs (the whole catalogue runs with CODER_FAULTS_FULL=1 / tox).
    ci: bool = False
    # A fault the suite is known not to catch yet: which test should, and why it would. The self-test expects
    # such a fault to survive (strict xfail), so it flips to a failure the day the suite catches it.
    known_gap: str | None = None

    @property
    def sections(self) -> tuple[str, ...]:
        """The behaviour-note sections the clause cites, e.g. ("§3.2",)."""
        return tuple(dict.fromkeys(_SECTION.findall(self.clause)))

    def caught_by(self, test_id: str, message: str) -> bool:
        """Whether a first failure (test id and its message line) is one this fault's catchers account for."""
        text = f"{test_id} {message}"
        return any(catcher in text for catcher in self.expected_catchers)


REGISTRY: dict[str, Fault] = {}


def fault(
    area: str, *expected_catchers: str, ci: bool = False, known_gap: str | None = None
) -> Callable[[Factory], Factory]:
    """Register the decorated factory as a fault named after it (underscores become hyphens).

    Raises ``ValueError`` at import for a fault without a § reference, catchers, a known area or a unique name,
    so the catalogue cannot hold an entry that does not say what it breaks.
    """

    def register(factory: Factory) -> Factory:
        name = factory.__name__.replace("_", "-")
        doc = inspect.getdoc(factory) or ""
        clause = " ".join(doc.split("\n\n", 1)[0].split())
        problems = []
        if area not in AREAS:
            problems.append(f"area {area!r} is not one of {', '.join(AREAS)}")
        if not _NAME.match(name):
            problems.append("its name is not a lower-case slug")
        if name in REGISTRY:
            problems.append("the name is already registered")
        if not _SECTION.search(clause):
            problems.append("the first paragraph of its docstring cites no § of the behaviour note")
        if not expected_catchers:
            problems.append("it names no expected catcher")
        if ci and known_gap:
            problems.append("a known gap cannot be part of the CI subset")
        if problems:
            raise ValueError(f"fault {name}: " + "; ".join(problems))
        REGISTRY[name] = Fault(name, area, clause, factory, tuple(expected_catchers), ci, known_gap)
        return factory

    return register
