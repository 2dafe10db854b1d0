"""Hypothesis profiles for the generated tests, registered in one place and chosen by ``HYPOTHESIS_PROFILE``.

Three profiles:

- ``default``: a quick local run. Random generation (a fresh seed per run, printed on failure), few examples.
- ``ci``: deterministic. Built on the ``ci`` profile Hypothesis itself registers (derandomized, no example
  database, no deadline, failure blobs printed), because Hypothesis loads that profile on its own when the ``CI``
  variable is set (CI sets ``CI=true``): ours must extend it, not be silently replaced by it or replace it.
- ``thorough``: the nightly run. Random, many more examples and longer stateful scenarios.

Tests never hard-code ``max_examples``: everything a profile decides lives here, including the request budget of
the schemathesis and stateful tests (:class:`Budget`), so a profile is the one knob for how hard a run pushes a
deployment (each created task starts a real workspace; Coder allows 512 requests a minute per endpoint).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from hypothesis import HealthCheck, settings

from coder_tasks_contract.generated.compat import is_in_ci

ENV = "HYPOTHESIS_PROFILE"
NAMES = ("default", "ci", "thorough")

# Network calls make every example slow and a shared server makes timings noisy: health checks about speed or
# filtering say nothing about the API, and a deadline would only turn a slow deployment into flaky failures.
_QUIET_HEALTH_CHECKS = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]

_REGISTERED: list[str] = []

# The profiles as Hypothesis registered them, captured at import so that registering ours again (a second
# pytest session in one process, e.g. pytester) still builds on Hypothesis' originals, not on our own.
_HYPOTHESIS_DEFAULT = settings.get_profile("default")
_HYPOTHESIS_CI = settings.get_profile("ci")


@dataclass(frozen=True)
class Budget:
    """How much traffic one run of the generated tests may cause, per profile."""

    # Fuzzing-phase examples per operation (the examples and coverage phases add their own, fixed, cases).
    max_examples: int
    # Scenarios of schemathesis' state machine, and the most steps in one.
    stateful_scenarios: int
    stateful_steps: int
    # Workspace builds one scenario may start beyond its create (pauses and resumes; None: no limit).
    stateful_builds: int | None
    # Lifecycle walks through the links (each creates one task and pauses it once).
    walks: int
    # Tasks the generated createTask cases of test_conformance may create (each starts a real workspace).
    generated_creates: int


# A quick or CI run sends one valid generated create: on a deployment each is a real workspace build, and the
# statuses and bodies of a create are the same for the next one; the nightly profile sends more. For the same reason
# a quick or CI run has one state machine scenario (one task) that starts at most one build (a pause or a stop), with
# more steps than before: the link walk already takes a task through its whole life (docs/performance.md).
_QUICK = Budget(
    max_examples=8, stateful_scenarios=1, stateful_steps=24, stateful_builds=1, walks=1, generated_creates=1
)
BUDGETS: dict[str, Budget] = {
    "default": _QUICK,
    "ci": _QUICK,
    "thorough": Budget(
        max_examples=100, stateful_scenarios=15, stateful_steps=30, stateful_builds=None, walks=3, generated_creates=12
    ),
}


def register() -> None:
    """Register the three profiles (idempotent) and load the one ``HYPOTHESIS_PROFILE`` names.

    Without ``HYPOTHESIS_PROFILE``, the ``ci`` profile is loaded when Hypothesis detects CI (as it would itself),
    else ``default``. An unknown name raises ``ValueError`` with a sentence naming the valid ones.
    """
    name = selected_name()
    parents = {"default": _HYPOTHESIS_DEFAULT, "ci": _HYPOTHESIS_CI, "thorough": _HYPOTHESIS_DEFAULT}
    for profile, parent in parents.items():
        plan = BUDGETS[profile]
        extra = {} if parent is _HYPOTHESIS_CI else {"deadline": None, "print_blob": True}
        settings.register_profile(
            profile,
            parent,
            max_examples=plan.max_examples,
            stateful_step_count=plan.stateful_steps,
            suppress_health_check=_QUIET_HEALTH_CHECKS,
            **extra,
        )
    settings.load_profile(name)
    _REGISTERED.append(name)


def ensure_registered() -> None:
    """:func:`register`, unless it already ran in this process (the plugin calls it at configure time)."""
    if not _REGISTERED:
        register()


def selected_name() -> str:
    """The profile this run uses: ``HYPOTHESIS_PROFILE``, else ``ci`` under CI, else ``default``."""
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return "ci" if is_in_ci() else "default"
    if raw not in NAMES:
        raise ValueError(f"{ENV}={raw!r} is not a profile of this suite; use one of: {', '.join(NAMES)}")
    return raw


def current_name() -> str:
    """Name of the loaded profile."""
    return settings.get_current_profile_name()


def budget() -> Budget:
    """The request budget of the loaded profile (``default``'s if a profile of someone else's is loaded)."""
    return BUDGETS.get(current_name(), BUDGETS["default"])


def is_deterministic() -> bool:
    """True when the loaded profile derandomizes generation (the same cases on every run)."""
    return bool(settings.default is not None and settings.default.derandomize)
