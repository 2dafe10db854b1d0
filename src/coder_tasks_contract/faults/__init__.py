"""The fault catalogue: broken variants of the reference server, one contract clause broken in each, and the tools
that prove the contract suite catches every one (``runner``, ``report``).

Importing the package registers every fault; :func:`catalogue` lists them in a stable order.
"""

from __future__ import annotations

from coder_tasks_contract.faults import (  # noqa: F401  (imported to register their faults)
    auth,
    errors,
    headers,
    isolation,
    lifecycle,
    paths,
    query,
    schema,
    status,
)
from coder_tasks_contract.faults.base import AREAS, REGISTRY, Fault

__all__ = ["AREAS", "REGISTRY", "Fault", "catalogue", "get"]


def catalogue(*, ci_only: bool = False) -> list[Fault]:
    """Every registered fault, by area (in ``AREAS`` order) then name; ``ci_only``: the representative subset."""
    faults = [f for f in REGISTRY.values() if f.ci or not ci_only]
    return sorted(faults, key=lambda f: (AREAS.index(f.area), f.name))


def get(name: str) -> Fault:
    """The fault called ``name``; ``KeyError`` with the known names if there is none."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"no fault called {name!r}; known: {', '.join(sorted(REGISTRY))}") from None
