"""The fault catalogue: broken variants of the reference server, one contract clause broken in each, and the tools
that prove the contract suite catches every one.

- ``base``: the ``Fault`` record and the registry; ``asgi``: how a variant is built (a request or response rewrite
  around the reference app, or a ``World`` subclass changing one domain rule).
- One module per area: ``status``, ``headers``, ``schema``, ``auth``, ``paths``, ``errors``, ``isolation``,
  ``lifecycle``, ``query``; ``routing``: the order of routing and resolving under a task mount (area ``paths``);
  and ``levels``: faults only at some contract levels. Each factory's docstring says what is broken, citing the
  ids of the contract clauses it breaks (``spec/clauses.yaml``), and its registration names the test(s) of the
  suite that must catch it.
- ``runner``: serve one variant and run the real suite against it (``-x``), naming the first failing test.
- ``report``: the kill-rate command, ``coder-tasks-killrate`` / ``python -m coder_tasks_contract.faults.report``.

How to run:

- ``pytest selftests/test_faults.py -n 2``: the representative CI subset (faults marked ``ci``) and the faithful
  server under three seeds; ``CODER_FAULTS_FULL=1`` (or ``tox -e faults``) runs the whole catalogue.
- ``python -m coder_tasks_contract.faults.report -n 2 [--only NAME ...] [--ci]``: table, kill rate, false alarms,
  ``reports/killrate.json``; exit code 1 if a fault survives, is caught by a test it does not name (a wrong
  catcher) or the faithful server fails.

Importing the package registers every fault; :func:`catalogue` lists them in a stable order.
"""

from __future__ import annotations

from coder_tasks_contract.faults import (  # noqa: F401  (imported to register their faults)
    auth,
    errors,
    headers,
    isolation,
    levels,
    lifecycle,
    paths,
    query,
    routing,
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
