"""Every use of a schemathesis or Hypothesis internal, and every shim for the oldest supported versions, in one place.

This is the one module to change on a schemathesis (or Hypothesis) upgrade; the rest of the package uses only the
functions here and the libraries' public API. Works on schemathesis 4.30.1 (the newest pip installs on Python 3.10;
later releases and hypothesis after 6.168.5 need Python >= 3.11, see pyproject.toml) and 4.32.5 or later below 5.

Internals touched, and why:

- ``BaseSchema.transport`` (a property returning the module-level ``REQUESTS_TRANSPORT``) and that transport's
  ``_serializers``: :func:`route_sessionless_requests` swaps the loaded schema's class for a subclass whose
  transport sends requests made without a session (``ignored_auth``'s probes) through the guarded session.
- ``ProjectConfig.generation_for`` / ``checks_config_for`` / ``update`` (a ``__slots__`` class):
  :func:`memoize_config_lookups` swaps the loaded configuration's class for one that remembers the merged answers.
- ``APIStateMachine._transitions``, the link graph a state machine was built from: :func:`link_transitions`.
- Hypothesis' ``RULE_MARKER`` and ``Rule.preconditions`` on a state machine's rule functions, and
  ``RuleBasedStateMachine._rules_strategy``: :func:`limit_root_rules`, :func:`limit_link_rules` (which also
  rebuilds schemathesis' rule names from its links) and :func:`another_rule_possible`.
- ``hypothesis._settings.is_in_ci``: :func:`is_in_ci`, so the suite and Hypothesis agree on what "in CI" means.
- Version shims, each detecting the feature, not the version, and naming the release that brought it so it can go
  once the floor passes it: :func:`is_negative_at`, :func:`record_case`, :func:`root_rules`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar, cast

import requests
from hypothesis._settings import is_in_ci as _hypothesis_is_in_ci
from hypothesis.stateful import RULE_MARKER, Rule
from schemathesis.config import ChecksConfig, GenerationConfig, ProjectConfig
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.transport import Response
from schemathesis.engine.recorder import ScenarioRecorder
from schemathesis.generation import GenerationMode
from schemathesis.generation.case import Case
from schemathesis.schemas import APIOperation
from schemathesis.transport.requests import REQUESTS_TRANSPORT, RequestsTransport

Schema = TypeVar("Schema")

# schemathesis declares GenerationMode a StrEnum, which mypy's Python 3.10 target reads as plain str members.
POSITIVE: Any = GenerationMode.POSITIVE


def is_in_ci() -> bool:
    """Whether Hypothesis sees a CI environment (and so loads its ``ci`` profile on its own)."""
    return _hypothesis_is_in_ci()


def is_negative_at(meta: Any, location: ParameterLocation) -> bool:
    """Whether the case component at ``location`` was generated in negative mode.

    ``CaseMetadata.is_negative_at`` came with schemathesis 4.32; before it, the same answer is read from
    ``CaseMetadata.components`` (a mapping of location to ``ComponentInfo(mode)``), which is what 4.32 does too.
    """
    method = getattr(meta, "is_negative_at", None)
    if method is not None:
        return bool(method(location))
    component = meta.components.get(location)
    return component is not None and bool(component.mode.is_negative)


def record_case(
    recorder: ScenarioRecorder, *, case: Case[Any], parent_id: str | None = None, is_transition_applied: bool = False
) -> None:
    """``ScenarioRecorder.record_case`` with the defaults schemathesis 4.32 gives it.

    Before 4.32 ``parent_id``, ``transition`` and ``is_transition_applied`` had no defaults; passing all of them
    (``transition=None``, as 4.32 defaults it) works on both.
    """
    recorder.record_case(case=case, parent_id=parent_id, transition=None, is_transition_applied=is_transition_applied)


# schemathesis names a state machine's scenario-starting rule after ``RANDOM -> <operation label>`` (normalized to
# an identifier); link rules are named after their source operation's label, which starts with its method.
_ROOT_RULE_PREFIX = "RANDOM_"


def root_rules(machine: type[Any]) -> frozenset[str]:
    """The names of the rules that start a scenario in a schemathesis state machine class.

    schemathesis 4.32 lists them as ``APIStateMachine.root_rules``; before it they are found by name, as the rules
    built from ``RANDOM -> <label>`` (the same set 4.32 reports for this project's spec).
    """
    declared = getattr(machine, "root_rules", None)
    if declared is not None:
        return frozenset(declared)
    return frozenset(
        name
        for name in dir(machine)
        if name.startswith(_ROOT_RULE_PREFIX) and hasattr(getattr(machine, name), RULE_MARKER)
    )


def limit_root_rules(machine: type[Any], allowed: Callable[[Any], bool], *, labels: set[str] | None = None) -> None:
    """Add ``allowed(machine_instance)`` to the preconditions of every scenario-starting rule of ``machine``, or only
    of those that start with the operations ``labels`` name (e.g. "POST /api/v2/tasks/{user}"; schemathesis names
    their rules ``normalize_name("RANDOM -> <label>")``).

    schemathesis builds the rules itself, so the condition is added to the Hypothesis ``Rule`` stored on each rule
    function (the class is built per load, so no other machine is affected).
    """
    names = root_rules(machine)
    if labels is not None:
        names &= {_rule_name(f"RANDOM -> {label}") for label in labels}
    for name in names:
        rule: Rule = getattr(getattr(machine, name), RULE_MARKER)
        rule.preconditions = (*rule.preconditions, allowed)


def _rule_name(link_name: str) -> str:
    # schemathesis' normalize_name (generation/stateful/state_machine.py), which names a link's rule.
    return re.sub(r"\W|^(?=\d)", "_", link_name).replace("__", "_")


def limit_link_rules(machine: type[Any], allowed: Callable[[Any, APIOperation[Any, Any, Any, Any]], bool]) -> None:
    """Add ``allowed(machine_instance, target_operation)`` to the preconditions of every rule that follows a link.

    schemathesis names each such rule after its link (``normalize_name(link.full_name)``, with a numeric suffix when
    two names collide); the target is looked up by that name in the link graph the class was built from. A rule
    whose name matches no link is left alone.
    """
    targets = {
        _rule_name(link.full_name): link.target
        for operation in link_transitions(machine).operations.values()
        for link in operation.incoming
    }
    roots = root_rules(machine)
    for name in dir(machine):
        rule: Rule | None = getattr(getattr(machine, name), RULE_MARKER, None)
        target = targets.get(name) or targets.get(name.rsplit("_", 1)[0])
        if rule is None or name in roots or target is None:
            continue
        rule.preconditions = (*rule.preconditions, lambda instance, target=target: allowed(instance, target))


def link_transitions(machine: type[Any]) -> Any:
    """The link graph a schemathesis state machine class was built from (``ApiTransitions``: ``.operations`` maps a
    source label to its ``.outgoing`` links).

    schemathesis keeps it only as the class attribute ``_transitions``; the self-tests compare it with the document.
    """
    return machine._transitions


def another_rule_possible(machine: Any, *, besides: str) -> bool:
    """Whether any rule of a running state machine other than the one named ``besides`` may run now.

    Hypothesis keeps the rules and their precondition test on the machine's ``_rules_strategy``; it is asked
    instead of re-implementing precondition and bundle checks.
    """
    strategy = machine._rules_strategy
    return any(strategy.is_valid(rule) for rule in strategy.rules if rule.function.__name__ != besides)


class _SessionFallbackTransport(RequestsTransport):
    """schemathesis' requests transport, but a request sent without a session goes through ``fallback``."""

    def __init__(self, fallback: requests.Session) -> None:
        super().__init__()
        # Serializers are registered on schemathesis' module-level transport; share them, do not copy a snapshot.
        self._serializers = REQUESTS_TRANSPORT._serializers
        self._fallback = fallback

    def send(self, case: Case[Any], *, session: requests.Session | None = None, **kwargs: Any) -> Response:
        return super().send(case, session=session if session is not None else self._fallback, **kwargs)


def route_sessionless_requests(schema: Schema, fallback: requests.Session) -> Schema:
    """Make ``schema`` send every request that comes without a session through ``fallback``; returns ``schema``.

    ``ignored_auth`` (and ``object_level_authorization``) re-send a case with ``session`` and ``auth`` dropped: they
    would go out on a fresh, unguarded ``requests.Session``. The transport is a property of the schema class, so a
    per-load subclass overrides it; ``clone()`` (called by the pytest integration for every test) keeps the class.
    """
    transport = _SessionFallbackTransport(fallback)
    schema.__class__ = type(
        f"Guarded{type(schema).__name__}",
        (type(schema),),
        {"transport": property(lambda self: transport), "__module__": __name__},
    )
    return schema


def memoize_config_lookups(project: ProjectConfig) -> None:
    """Make ``generation_for`` and ``checks_config_for`` of a loaded configuration remember their answer per
    (operation, phase).

    schemathesis merges every matching ``[[operations]]`` entry with the phase and project settings anew on each
    call, and calls once per drawn case and once per validated answer: with an entry per operation that was about a
    tenth of a run. The inputs do not change after loading (``update`` forgets), and callers only read the merged
    objects. ``ProjectConfig`` has ``__slots__``, so the memo lives in a closure of a per-load subclass.
    """
    base = type(project)
    memo: dict[tuple[str, str | None, str | None], Any] = {}

    def remembered(
        kind: str, operation: APIOperation[Any, Any, Any, Any] | None, phase: str | None, compute: Callable[[], Any]
    ) -> Any:
        key = (kind, operation.label if operation is not None else None, phase)
        found = memo.get(key)
        if found is None:
            found = memo[key] = compute()
        return found

    def generation_for(
        self: ProjectConfig, *, operation: APIOperation[Any, Any, Any, Any] | None = None, phase: str | None = None
    ) -> GenerationConfig:
        return cast(
            GenerationConfig,
            remembered(
                "generation", operation, phase, lambda: base.generation_for(self, operation=operation, phase=phase)
            ),
        )

    def checks_config_for(
        self: ProjectConfig, *, operation: APIOperation[Any, Any, Any, Any] | None = None, phase: str | None = None
    ) -> ChecksConfig:
        return cast(
            ChecksConfig,
            remembered(
                "checks", operation, phase, lambda: base.checks_config_for(self, operation=operation, phase=phase)
            ),
        )

    def update(self: ProjectConfig, **kwargs: Any) -> None:
        memo.clear()
        base.update(self, **kwargs)

    project.__class__ = type(
        "MemoizedProjectConfig",
        (base,),
        {
            "__slots__": (),
            "__module__": __name__,
            "generation_for": generation_for,
            "checks_config_for": checks_config_for,
            "update": update,
        },
    )
