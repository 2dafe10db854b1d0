"""The ``Fault`` record and the one registry of the catalogue: each fault is a factory of a broken reference server.

A fault is registered by decorating its factory with :func:`fault`, naming the test(s) that must catch it. The
factory takes the reference server's ``World`` and returns the ASGI app to serve
(``start_reference_server(app_factory=...)``); the first paragraph of its docstring says what is broken, citing the
ids of the contract clauses it breaks (``spec/clauses.yaml``, e.g. ``CREATE-1``), and becomes the fault's
``clause``.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp

from coder_tasks_contract.server.domain.world import World
from coder_tasks_contract.spec import clauses as clause_registry

Factory = Callable[[World], ASGIApp]

AREAS = ("status", "headers", "schema", "auth", "paths", "errors", "isolation", "lifecycle", "query")
_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# A pytest node id of the suite, as the runner reads it from the JUnit report: "tests/test_x.py::test_name", with
# "[parameters]" when one parametrization is meant.
_NODE_ID = re.compile(r"^tests/test_\w+\.py::test_\w+(?:\[.+\])?$")


@dataclass(frozen=True)
class Catcher:
    """A first failure the catalogue expects of a fault: a test of the suite and, optionally, a message pattern.

    ``test`` is a node id: without ``[...]`` it stands for every parametrization of the test, with it for that one
    only. ``message`` is a regular expression searched (``re.search``) in the failure's first message line. A
    catcher with only a message is for a fault that a shared fixture meets first, whichever test asked for it.
    """

    test: str | None = None
    message: str | None = None

    def __post_init__(self) -> None:
        if self.test is None and self.message is None:
            raise ValueError("a catcher names a test, a message pattern, or both")
        if self.test is not None and not _NODE_ID.match(self.test):
            raise ValueError(f"catcher {self.test!r} is not a node id such as tests/test_auth.py::test_name[param]")
        if self.message is not None:
            try:
                re.compile(self.message)  # refused at import, not at the first verdict
            except re.error as exc:
                raise ValueError(f"catcher message {self.message!r} is not a regular expression: {exc}") from None

    def matches(self, test_id: str, message: str) -> bool:
        """Whether a first failure (the failing test's node id and its message line) is this one."""
        if self.test is not None and self.test not in (test_id, test_id.split("[", 1)[0]):
            return False
        return self.message is None or re.search(self.message, message) is not None

    def __str__(self) -> str:
        if self.message is None:
            return str(self.test)
        return f"{self.test or '<any test>'} /{self.message}/"


@dataclass(frozen=True)
class Fault:
    """One broken variant of the reference server: exactly one contract clause no longer holds."""

    name: str  # slug, e.g. "create-answers-200"
    area: str  # one of AREAS
    clause: str  # what is broken, in words, citing the ids of the clauses it breaks
    factory: Factory
    # The first failures that count as catching this fault: the tests meant to catch it (read them to see why).
    catchers: tuple[Catcher, ...]
    # Part of the representative subset the CI runs (the whole catalogue runs with CODER_FAULTS_FULL=1 / tox).
    ci: bool = False
    # A fault the suite is known not to catch yet: which test should, and why it would. The self-test expects
    # such a fault to survive (strict xfail), so it flips to a failure the day the suite catches it.
    known_gap: str | None = None

    @property
    def clauses(self) -> tuple[str, ...]:
        """The ids of the contract clauses this fault breaks, as its description cites them, e.g. ("CREATE-1",)."""
        return clause_registry.cited(self.clause)

    @property
    def expected(self) -> tuple[str, ...]:
        """The catchers as text, for tables and messages."""
        return tuple(str(catcher) for catcher in self.catchers)

    def caught_by(self, test_id: str, message: str) -> bool:
        """Whether a first failure (test id and its message line) is one this fault's catchers name."""
        return any(catcher.matches(test_id, message) for catcher in self.catchers)


REGISTRY: dict[str, Fault] = {}


def fault(
    area: str, *catchers: str | Catcher, ci: bool = False, known_gap: str | None = None
) -> Callable[[Factory], Factory]:
    """Register the decorated factory as a fault named after it (underscores become hyphens).

    ``catchers`` are node ids (``"tests/test_auth.py::test_name"``) or :class:`Catcher` s (to add a message
    pattern). Raises ``ValueError`` at import for a fault that cites no clause id or an unknown one, names no catcher
    or a malformed one, or lacks a known area or a unique name, so the catalogue cannot hold an entry that does not
    say what it breaks and what must catch it.
    """

    def register(factory: Factory) -> Factory:
        name = factory.__name__.replace("_", "-")
        doc = inspect.getdoc(factory) or ""
        clause = " ".join(doc.split("\n\n", 1)[0].split())
        problems = []
        expected: list[Catcher] = []
        for catcher in catchers:
            try:
                expected.append(Catcher(test=catcher) if isinstance(catcher, str) else catcher)
            except ValueError as exc:
                problems.append(str(exc))
        if area not in AREAS:
            problems.append(f"area {area!r} is not one of {', '.join(AREAS)}")
        if not _NAME.match(name):
            problems.append("its name is not a lower-case slug")
        if name in REGISTRY:
            problems.append("the name is already registered")
        cited = clause_registry.cited(clause)
        if not cited:
            problems.append("the first paragraph of its docstring cites no clause id (spec/clauses.yaml)")
        unknown = [clause_id for clause_id in cited if clause_id not in clause_registry.registry()]
        if unknown:
            problems.append(f"it cites unknown clause id(s) {', '.join(unknown)}")
        if not catchers:
            problems.append("it names no expected catcher")
        if ci and known_gap:
            problems.append("a known gap cannot be part of the CI subset")
        if problems:
            raise ValueError(f"fault {name}: " + "; ".join(problems))
        REGISTRY[name] = Fault(name, area, clause, factory, tuple(expected), ci, known_gap)
        return factory

    return register
