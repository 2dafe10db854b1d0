"""Compatibility shims for the oldest dependency versions this project supports, all in one place.

On Python 3.10 pip can only install schemathesis <= 4.30.x and hypothesis <= 6.168.x (their newer releases need
Python >= 3.11; see pyproject.toml). The rest of the package calls the helpers here instead of the newer APIs, so
the difference lives in this module alone. Each shim detects the feature, not the version, and says which release
brought it, so it can be deleted once the floor moves past that release.
"""

from __future__ import annotations

from typing import Any

from hypothesis.stateful import RULE_MARKER
from schemathesis.core.parameters import ParameterLocation
from schemathesis.engine.recorder import ScenarioRecorder
from schemathesis.generation.case import Case


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
