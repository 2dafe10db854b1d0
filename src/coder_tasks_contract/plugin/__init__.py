"""The pytest plugin: how a contract run is configured, wired and judged.

- ``hooks``: the pytest hooks (options, markers, target resolution, report header, session-end safety net).
- ``options``: every option, its env variable, ini key and default, declared in one table.
- ``runstate``: the per-process state of a run (settings, registry, traffic, guard, target, clients, cleanup).
- ``fixtures``: the fixtures tests use, each built from the one before it.
- ``profiles``: the Hypothesis profiles.
- ``ordering``: the order the tests run in (``--test-order``), so their workspace builds overlap.
- ``progress``: progress lines of long lifecycle waits (stderr, uncaptured), and the polls' pace.
- ``verdicts``: a failure that rests on inferred clauses only becomes a contract warning.
- ``exitcodes``: the exit codes beyond pytest's own.
"""
