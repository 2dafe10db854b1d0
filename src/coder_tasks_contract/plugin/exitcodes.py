"""Exit codes of a contract run, beyond pytest's own 0-5 (chosen outside pytest's range so they cannot be confused).

- 0-5: pytest's (0 passed, 1 tests failed, 2 interrupted, 3 internal error, 4 usage error incl. a bad option value,
  5 no tests collected).
- 10 TARGET_UNUSABLE: preflight stopped the run before any test: target unreachable, TLS failure, not a Coder
  server, a token missing or rejected, both tokens of one user, or (at the first create) an unusable
  --template-version-id.
- 11 TASKS_LEFT_BEHIND: tests ran, but a task this run created could not be deleted at the end; the run prints
  each one by name. Takes precedence over 1 and 2: it needs an operator.
- 12 COVERAGE_BELOW_MINIMUM: every test passed, but the run reached a lower Test Coverage Level than
  ``--min-coverage-level`` asks for (or the ledger that measures it could not be built). Only replaces 0.
"""

from __future__ import annotations

TARGET_UNUSABLE = 10
TASKS_LEFT_BEHIND = 11
COVERAGE_BELOW_MINIMUM = 12
