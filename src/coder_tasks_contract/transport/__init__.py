"""Every request the suite sends, and what it keeps of the answers.

- ``guard``: the write guard, the one gate every request passes (ownership, budget, pacing, traffic).
- ``clients``: httpx clients and requests sessions behind the guard.
- ``throttle``: the per-route request budget and 429 Retry-After.
- ``paths``: the URL paths the suite talks to and the route template each belongs to.
- ``task_registry``: the tasks this run created, the creation budget, phantom ids.
- ``task_pool``: the one task factory, and the tasks shared by state (active, paused, deleted, ...).
- ``polling``: waiting for a task's state to change, with a deadline.
- ``cleanup``: deletes everything the run created and checks nothing is left.
- ``traffic``: what was sent and answered, per test (the ledger's raw material).
- ``repro``: a request/response pair with the tokens taken out, and its curl command.
"""
