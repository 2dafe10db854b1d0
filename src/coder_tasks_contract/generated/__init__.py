"""The property-based and stateful tests that schemathesis generates from the document.

- ``loader``: loads the level's document into schemathesis and configures it for the target.
- ``checks_table``: which checks run where, with which statuses, and why; ``checks_doc`` renders it.
- ``checks``: this suite's own checks, and the one place a generated case is sent and validated.
- ``aiming``: aims generated cases at real users, this run's tasks and the target's template version.
- ``stages``: when in a task's life each operation can succeed, and bringing a task there.
- ``linkwalk``: the deterministic walk over every link of one task's life.
- ``stateful``: schemathesis' state machine, made safe for a deployment; ``steptrail`` keeps a scenario's steps.
- ``buildbudget``: the workspace builds one state machine scenario may start.
- ``agentbusy``: sending to an agent that may still be busy.
- ``compat``: every use of schemathesis and Hypothesis internals, and version shims.
"""
